package reminders_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/mail"
	"incasso/domain/date"
	"incasso/domain/reminders"
	"incasso/workflows"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const groupedNAV = "3022 0115 1398 5741 81"

func sample() reminders.Data {
	return reminders.Data{
		CreditorName:       "Comune di Gallarate",
		CreditorFiscalCode: "00560180128",
		Office:             "Servizio Tributi",
		Contact:            "tributi@comune.gallarate.va.it, tel. 0331 754111",
		Official:           "Dott.ssa Maria Bianchi",
		DebtorName:         "Niccolò Ragù",
		DebtorFiscalCode:   "RGANCC80A01D869X",
		DebtorAddress:      []string{"Via Verdi 3", "21013 Gallarate (VA)"},
		Description:        "TARI 2026 - tassa sui rifiuti, via Verdi 3",
		Amount:             123456,
		DueDate:            date.Date{Year: 2026, Month: time.December, Day: 31},
		NoticeNumber:       "302201151398574181",
		StepDate:           date.Date{Year: 2027, Month: time.March, Day: 1},
		Reference:          "2027/0001234",
	}
}

// renderCases are every step with every channel it can go by.
var renderCases = []struct {
	step    string
	channel reminders.Channel
	subject string
	phrases []string // in the text and in the HTML
}{
	{reminders.StepCourtesy, reminders.ChannelEmail,
		"Promemoria: avviso di pagamento in scadenza il 31/12/2026",
		[]string{"Le ricordiamo che il", "scade l'avviso di pagamento pagoPA", "Se ha già pagato"}},
	{reminders.StepSollecito, reminders.ChannelEmail,
		"Sollecito di pagamento: avviso pagoPA scaduto il 31/12/2026",
		[]string{"non ci risulta ancora pagato", "scaduto il 31/12/2026", "In allegato trova nuovamente l'avviso di pagamento", "pagoPA", "accertamento esecutivo"}},
	{reminders.StepSollecito, reminders.ChannelPEC,
		"Sollecito di pagamento: avviso pagoPA scaduto il 31/12/2026",
		[]string{"non ci risulta ancora pagato", "In allegato trova nuovamente l'avviso di pagamento", "ha valore legale di sollecito di pagamento"}},
	{reminders.StepAccertamento, reminders.ChannelPEC,
		"Notifica avviso di accertamento esecutivo prot. n. 2027/0001234",
		[]string{"Le notifichiamo l'avviso di accertamento esecutivo prot. n. 2027/0001234 del 01/03/2027",
			"art. 1, comma 792, della legge 27 dicembre 2019, n. 160", "Entro 60 giorni dalla notifica",
			"Corte di giustizia tributaria", "giudice ordinario", "titolo esecutivo", "RGANCC80A01D869X",
			"L'atto è allegato in formato PDF", "ricevuta di avvenuta consegna"}},
}

func TestRender(t *testing.T) {
	t.Parallel()
	for _, c := range renderCases {
		t.Run(c.step+"-"+string(c.channel), func(t *testing.T) {
			t.Parallel()
			m, err := reminders.Render(c.step, c.channel, sample())
			require.NoError(t, err)
			require.Equal(t, c.subject, m.Subject)
			// html/template writes an apostrophe that comes from the data as &#39;.
			html := strings.ReplaceAll(m.HTML, "&#39;", "'")
			for _, body := range []string{m.Text, html} {
				for _, want := range append([]string{
					"Gentile Niccolò Ragù", "€ 1.234,56", "31/12/2026", groupedNAV, "00560180128",
					"TARI 2026 - tassa sui rifiuti, via Verdi 3", "Comune di Gallarate", "Servizio Tributi",
					"Per informazioni: tributi@comune.gallarate.va.it, tel. 0331 754111",
				}, c.phrases...) {
					require.Contains(t, body, want)
				}
				pec := strings.Contains(strings.ToLower(body), "comunicazione a mezzo pec con valore legale")
				require.Equal(t, c.channel == reminders.ChannelPEC, pec, "PEC wording only by PEC")
			}
			require.True(t, strings.HasPrefix(m.HTML, "<!DOCTYPE html>\n<html lang=\"it\">"))
			require.Contains(t, m.HTML, "<title>"+c.subject+"</title>")
			require.True(t, strings.HasSuffix(m.Text, "\n") && !strings.HasSuffix(m.Text, "\n\n"))
			require.NotContains(t, m.Text, "\n\n\n")

			again, err := reminders.Render(c.step, c.channel, sample())
			require.NoError(t, err)
			require.Equal(t, m, again)

			golden(t, filepath.Join("testdata", c.step+"-"+string(c.channel)+".golden"),
				"Subject: "+m.Subject+"\n\n"+m.Text+"\n"+m.HTML)
		})
	}
}

// golden compares got with the file, or rewrites the file with -update.
func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(file, []byte(got), 0o644))
	}
	want, err := os.ReadFile(file)
	require.NoError(t, err, "run go test ./reminders -update to write the golden files")
	require.Equal(t, string(want), got, "the rendered message changed: review it, then go test ./reminders -update")
}

func TestRenderOptionalFields(t *testing.T) {
	t.Parallel()
	d := sample()
	d.Office, d.Contact, d.Official, d.DebtorAddress = "", "", "", nil
	d.DebtorFiscalCode, d.Reference, d.StepDate = "", "", date.Date{} // only the accertamento needs them
	for _, step := range []string{reminders.StepCourtesy, reminders.StepSollecito} {
		m, err := reminders.Render(step, reminders.ChannelEmail, d)
		require.NoError(t, err)
		require.NotContains(t, m.Text, "Per informazioni")
		require.True(t, strings.HasSuffix(m.Text, "Cordiali saluti\n\nComune di Gallarate\n"), m.Text)
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	t.Parallel()
	d := sample()
	d.DebtorName = `Mario <script>alert("x")</script> & figli`
	d.Description = `TARI <img src=x onerror=alert(1)>`
	for _, c := range renderCases {
		m, err := reminders.Render(c.step, c.channel, d)
		require.NoError(t, err)
		require.NotContains(t, m.HTML, "<script>")
		require.NotContains(t, m.HTML, "<img")
		require.Contains(t, m.HTML, "Mario &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; figli")
		require.Contains(t, m.Text, d.DebtorName, "the plain text is not escaped")
	}
}

func TestRenderUnsupported(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		step    string
		channel reminders.Channel
	}{
		{reminders.StepCourtesy, reminders.ChannelPEC},
		{reminders.StepAccertamento, reminders.ChannelEmail},
		{workflows.StepEnforcement, workflows.ChannelRecord},
		{reminders.StepSollecito, workflows.ChannelPECOrMail}, // resolve the ladder's channel first
		{reminders.StepAccertamento, workflows.ChannelPECOrPost},
		{reminders.StepCourtesy, reminders.ChannelIO}, // App IO has its own message
		{reminders.StepAccertamento, reminders.ChannelPost},
		{"", reminders.ChannelEmail},
		{"diffida", reminders.ChannelEmail},
		{reminders.StepCourtesy, "sms"},
	} {
		_, err := reminders.Render(c.step, c.channel, sample())
		require.ErrorIs(t, err, reminders.ErrUnsupported, "%s by %s", c.step, c.channel)
	}
}

// TestStepNames keeps the step names those of the ladder in package workflows.
func TestStepNames(t *testing.T) {
	t.Parallel()
	require.Equal(t, workflows.StepCourtesy, reminders.StepCourtesy)
	require.Equal(t, workflows.StepSollecito, reminders.StepSollecito)
	require.Equal(t, workflows.StepAccertamento, reminders.StepAccertamento)
	require.Equal(t, workflows.ChannelEmail, string(reminders.ChannelEmail))
	for _, s := range workflows.DefaultSteps {
		if s.Name == workflows.StepEnforcement {
			continue
		}
		_, errEmail := reminders.Render(s.Name, reminders.ChannelEmail, sample())
		_, errPEC := reminders.Render(s.Name, reminders.ChannelPEC, sample())
		require.True(t, errEmail == nil || errPEC == nil, "step %s renders by no channel", s.Name)
	}
}

const secret = "Zorzettig"

// validationCases change one field of sample to something that cannot be rendered, with the
// secret in it where the field is text, which the error must not repeat.
var validationCases = []struct {
	field        string
	accertamento bool // only the accertamento refuses it
	change       func(*reminders.Data)
}{
	{"CreditorName", false, func(d *reminders.Data) { d.CreditorName = " " }},
	{"CreditorFiscalCode", false, func(d *reminders.Data) { d.CreditorFiscalCode = "" }},
	{"CreditorFiscalCode", false, func(d *reminders.Data) { d.CreditorFiscalCode = "0056018012X" }},
	{"Office", false, func(d *reminders.Data) { d.Office = secret + "\nBcc: x" }},
	{"Contact", false, func(d *reminders.Data) { d.Contact = secret + "\x00" }},
	{"Official", false, func(d *reminders.Data) { d.Official = secret + "\xff" }},
	{"DebtorName", false, func(d *reminders.Data) { d.DebtorName = "" }},
	{"DebtorName", false, func(d *reminders.Data) { d.DebtorName = secret + "\r\n" }},
	{"DebtorFiscalCode", true, func(d *reminders.Data) { d.DebtorFiscalCode = "" }},
	{"DebtorAddress[1]", false, func(d *reminders.Data) { d.DebtorAddress = []string{"Via Verdi 3", secret + "\n"} }},
	{"Description", false, func(d *reminders.Data) { d.Description = "\t" }},
	{"NoticeNumber", false, func(d *reminders.Data) { d.NoticeNumber = "" }},
	{"NoticeNumber", false, func(d *reminders.Data) { d.NoticeNumber = groupedNAV }},
	{"Amount", false, func(d *reminders.Data) { d.Amount = 0 }},
	{"DueDate", false, func(d *reminders.Data) { d.DueDate = date.Date{} }},
	{"StepDate", true, func(d *reminders.Data) { d.StepDate = date.Date{} }},
	{"Reference", true, func(d *reminders.Data) { d.Reference = "" }},
	{"Reference", false, func(d *reminders.Data) { d.Reference = "2027/" + secret + "\n" }},
}

func TestRenderValidation(t *testing.T) {
	t.Parallel()
	for _, c := range validationCases {
		d := sample()
		c.change(&d)
		for _, rc := range renderCases {
			_, err := reminders.Render(rc.step, rc.channel, d)
			if c.accertamento && rc.step != reminders.StepAccertamento {
				require.NoError(t, err, "%s: %s", rc.step, c.field)
				continue
			}
			require.ErrorIs(t, err, reminders.ErrInvalid, "%s: %s", rc.step, c.field)
			require.Contains(t, err.Error(), c.field)
			require.NotContains(t, err.Error(), secret)
		}
	}
}

// TestRenderMakesMail sends the accertamento's PEC the way the ladder does: Render's message
// with the Letter attached, through mail.Message.
func TestRenderMakesMail(t *testing.T) {
	t.Parallel()
	m, err := reminders.Render(reminders.StepAccertamento, reminders.ChannelPEC, sample())
	require.NoError(t, err)
	var letter strings.Builder
	require.NoError(t, reminders.Letter(&letter, sample()))
	raw, err := mail.Message{
		From:        `"Comune di Gallarate" <protocollo@pec.comune.gallarate.va.it>`,
		To:          "niccolo.ragu@pec.example.it",
		Subject:     m.Subject,
		MessageID:   "debt-42-accertamento@incasso.local",
		Date:        time.Date(2027, time.March, 1, 9, 0, 0, 0, date.Rome),
		Text:        m.Text,
		HTML:        m.HTML,
		Attachments: []mail.Attachment{{Filename: "accertamento-2027-0001234.pdf", ContentType: "application/pdf", Data: []byte(letter.String())}},
	}.Bytes()
	require.NoError(t, err)
	require.Contains(t, string(raw), "multipart/alternative")
}
