package reminders

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	texttemplate "text/template"

	"incasso/domain/notice"
)

// Message is the content of a step's e-mail or PEC; package mail adds the envelope.
type Message struct {
	Subject string // one line
	Text    string // plain text body
	HTML    string // the same in HTML, a complete document
}

//go:embed templates
var templateFS embed.FS

// The templates of every step: "<step>.subject" and "<step>.txt" in texts, "<step>.html" in
// pages, with the blocks they share in common.txt and common.html. Parsed once; a broken
// template fails every test of the package.
var (
	texts = texttemplate.Must(texttemplate.New("").Option("missingkey=error").ParseFS(templateFS, "templates/*.txt"))
	pages = htmltemplate.Must(htmltemplate.New("").Option("missingkey=error").ParseFS(templateFS, "templates/*.html"))
)

// stepChannels are the channels each step's e-mail or PEC may go by (App IO, SEND and the
// post have messages of their own).
var stepChannels = map[string][]Channel{
	StepCourtesy:     {ChannelEmail},
	StepSollecito:    {ChannelEmail, ChannelPEC},
	StepAccertamento: {ChannelPEC},
}

// view is what the templates see: d formatted the Italian way.
type view struct {
	PEC                bool
	Subject            string
	Creditor           string
	CreditorFiscalCode string
	Office             string
	Contact            string
	Debtor             string
	DebtorFiscalCode   string
	Description        string
	Amount             string // "1.234,56"
	DueDate            string // "31/12/2026"
	NoticeCode         string // "3022 0115 1398 5741 81"
	StepDate           string
	Reference          string
	LegalBasis         string
	Days               int // to pay
	AppealDays         int
	Appeal             string
}

func newView(channel Channel, d Data) view {
	v := view{
		PEC:                channel == ChannelPEC,
		Creditor:           d.CreditorName,
		CreditorFiscalCode: d.CreditorFiscalCode,
		Office:             d.Office,
		Contact:            d.Contact,
		Debtor:             d.DebtorName,
		DebtorFiscalCode:   d.DebtorFiscalCode,
		Description:        d.Description,
		Amount:             d.Amount.Italian(),
		DueDate:            d.DueDate.Italian(),
		NoticeCode:         notice.GroupNoticeNumber(d.NoticeNumber),
		Reference:          d.Reference,
		LegalBasis:         LegalBasis,
		Days:               d.payDays(),
		AppealDays:         PayOrAppealDays,
		Appeal:             Appeal,
	}
	if !d.StepDate.IsZero() {
		v.StepDate = d.StepDate.Italian()
	}
	return v
}

// Render writes the message of a ladder step (StepCourtesy, StepSollecito, StepAccertamento)
// going by channel (ChannelEmail, ChannelPEC). A step the channel does not suit is an error
// wrapping ErrUnsupported; data it cannot render, one wrapping ErrInvalid that names the field.
//
// The sollecito says that the pagoPA notice is attached again, the accertamento's PEC that
// the Letter is attached: the caller attaches them.
func Render(step string, channel Channel, d Data) (Message, error) {
	channels, ok := stepChannels[step]
	if !ok || !slices.Contains(channels, channel) {
		return Message{}, fmt.Errorf("reminders: %w: step %q by channel %q", ErrUnsupported, step, channel)
	}
	if err := d.validate(step == StepAccertamento); err != nil {
		return Message{}, err
	}
	v := newView(channel, d)

	var subject, text, html strings.Builder
	if err := texts.ExecuteTemplate(&subject, step+".subject", v); err != nil {
		return Message{}, fmt.Errorf("reminders: %s subject: %w", step, err)
	}
	v.Subject = strings.TrimSpace(subject.String())
	if err := texts.ExecuteTemplate(&text, step+".txt", v); err != nil {
		return Message{}, fmt.Errorf("reminders: %s text: %w", step, err)
	}
	if err := pages.ExecuteTemplate(&html, step+".html", v); err != nil {
		return Message{}, fmt.Errorf("reminders: %s HTML: %w", step, err)
	}
	return Message{Subject: v.Subject, Text: text.String(), HTML: html.String()}, nil
}
