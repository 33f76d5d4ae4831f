package appio

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"incasso/domain/chars"
	"incasso/domain/fiscalcode"
	"incasso/domain/money"
)

// Limits of a message's content in the spec (MessageContentBase).
const (
	MinSubject, MaxSubject   = 10, 120
	MinMarkdown, MaxMarkdown = 80, 10000
)

// Message is a message to one citizen.
type Message struct {
	FiscalCode string // the recipient, 16 characters
	Subject    string // one line, 10 to 120 characters
	Markdown   string // the body, 80 to 10,000 characters
	// DueDate, when set, lets the citizen set a reminder; sent as its UTC instant.
	DueDate time.Time
	// Payment, when set, makes the message a payment request paid in the app.
	Payment *Payment
}

// Payment is the pagoPA notice a message asks to pay.
type Payment struct {
	NoticeNumber    string      // NAV, 18 digits
	Amount          money.Cents // what is due, in cents
	PayeeFiscalCode string      // the creditor, 11 digits
	// InvalidAfterDueDate: the notice cannot be paid after DueDate.
	InvalidAfterDueDate bool
}

// ForPerson tells whether fiscalCode is one IO knows: a person's, 16 characters in capitals.
// A company has no IO profile.
func ForPerson(fiscalCode string) bool {
	kind, err := fiscalcode.Validate(fiscalCode)
	return err == nil && kind == fiscalcode.Person && fiscalcode.Normalize(fiscalCode) == fiscalCode
}

// newMessage is the spec's NewMessage, as incasso fills it.
type newMessage struct {
	FiscalCode string         `json:"fiscal_code"`
	Content    messageContent `json:"content"`
}

type messageContent struct {
	Subject     string       `json:"subject"`
	Markdown    string       `json:"markdown"`
	DueDate     string       `json:"due_date,omitempty"`
	PaymentData *paymentData `json:"payment_data,omitempty"`
}

type paymentData struct {
	Amount              int64  `json:"amount"`
	NoticeNumber        string `json:"notice_number"`
	InvalidAfterDueDate bool   `json:"invalid_after_due_date,omitempty"`
	Payee               payee  `json:"payee"`
}

type payee struct {
	FiscalCode string `json:"fiscal_code"`
}

// Body checks m against the spec and returns the exact bytes to submit: the same m gives
// the same bytes. An error wraps ErrInvalid and names the field, never its value.
func (m Message) Body() ([]byte, error) {
	invalid := func(field, problem string) error {
		return fmt.Errorf("appio: %w: %s %s", ErrInvalid, field, problem)
	}
	subject, markdown := utf8.RuneCountInString(m.Subject), utf8.RuneCountInString(m.Markdown)
	switch {
	case !ForPerson(m.FiscalCode):
		return nil, invalid("FiscalCode", "is not a person's fiscal code in capitals")
	case subject < MinSubject || subject > MaxSubject:
		return nil, invalid("Subject", fmt.Sprintf("must be %d to %d characters", MinSubject, MaxSubject))
	case !chars.Printable(m.Subject):
		return nil, invalid("Subject", "must be one line of printable UTF-8")
	case markdown < MinMarkdown || markdown > MaxMarkdown:
		return nil, invalid("Markdown", fmt.Sprintf("must be %d to %d characters", MinMarkdown, MaxMarkdown))
	case !utf8.ValidString(m.Markdown):
		return nil, invalid("Markdown", "is not UTF-8")
	}
	msg := newMessage{FiscalCode: m.FiscalCode, Content: messageContent{Subject: m.Subject, Markdown: m.Markdown}}
	if !m.DueDate.IsZero() {
		msg.Content.DueDate = m.DueDate.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if p := m.Payment; p != nil {
		switch {
		case !chars.Digits(p.NoticeNumber, 18) || p.NoticeNumber[0] > '3':
			return nil, invalid("Payment.NoticeNumber", "is not a notice number (18 digits, the first 0 to 3)")
		case p.Amount < 1 || p.Amount > 9_999_999_999:
			return nil, invalid("Payment.Amount", "must be 1 to 9999999999 cents")
		case !chars.Digits(p.PayeeFiscalCode, 11):
			return nil, invalid("Payment.PayeeFiscalCode", "is not 11 digits")
		case p.InvalidAfterDueDate && m.DueDate.IsZero():
			return nil, invalid("DueDate", "is needed when the notice is invalid after it")
		}
		msg.Content.PaymentData = &paymentData{
			Amount: int64(p.Amount), NoticeNumber: p.NoticeNumber,
			InvalidAfterDueDate: p.InvalidAfterDueDate, Payee: payee{FiscalCode: p.PayeeFiscalCode},
		}
	}
	return json.Marshal(msg)
}
