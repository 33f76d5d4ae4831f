package reminders_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
	"incasso/domain/reminders"
)

// letter is the accertamento's letter for d, sollecitoLetter the sollecito's.
func letter(t *testing.T, d reminders.Data) []byte { return pdf(t, reminders.Letter, d) }
func sollecitoLetter(t *testing.T, d reminders.Data) []byte {
	return pdf(t, reminders.SollecitoLetter, d)
}

func pdf(t *testing.T, write func(io.Writer, reminders.Data) error, d reminders.Data) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, write(&buf, d))
	return buf.Bytes()
}

func TestLetterDeterministic(t *testing.T) {
	t.Parallel()
	a, b := letter(t, sample()), letter(t, sample())
	require.True(t, bytes.HasPrefix(a, []byte("%PDF-")))
	require.Equal(t, a, b)

	later := sample()
	later.StepDate.Day++
	require.NotEqual(t, a, letter(t, later))
}

func TestLetterReadable(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		msg := "pdftotext not on PATH: install the Debian package poppler-utils to check the letter's text"
		if os.Getenv("INCASSO_REQUIRE_E2E") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for _, d := range []reminders.Data{sample(), minimal(), long()} {
		file := filepath.Join(t.TempDir(), "letter.pdf")
		require.NoError(t, os.WriteFile(file, letter(t, d), 0o600))
		out, err := exec.Command("pdftotext", file, "-").Output()
		require.NoError(t, err)
		text := strings.Join(strings.Fields(string(out)), " ") // justified lines space words freely

		for _, want := range []string{
			"AVVISO DI ACCERTAMENTO ESECUTIVO", "€ 1.234,56", "31/12/2026", groupedNAV,
			d.DebtorName, "Codice fiscale " + d.DebtorFiscalCode, d.CreditorName, d.CreditorFiscalCode,
			"Prot. n. " + d.Reference, "Data: 01/03/2027", "INTIMA",
			"art. 1, comma 792, della legge 27 dicembre 2019, n. 160", "entro 60 giorni dalla data di notifica",
			"Corte di giustizia tributaria di primo grado", "giudice ordinario competente",
			"Il Funzionario responsabile", "Firma autografa sostituita a mezzo stampa",
		} {
			require.Contains(t, strings.ToUpper(text), strings.ToUpper(want), "letter text lacks %q", want)
		}
		for _, line := range d.DebtorAddress {
			require.Contains(t, text, line)
		}
		if d.Official != "" {
			require.Contains(t, text, d.Official)
		}
		require.Contains(t, text, "Decorsi ulteriori 30 giorni")
		pages := strings.Count(string(out), "\f")
		require.Contains(t, text, fmt.Sprintf("pagina %d di %d", pages, pages), "footer with page count")
	}
}

// A ladder that gives 90 days to pay and 45 before the hand-over: the letter says so, and keeps
// the law's 60 days to appeal.
func TestLetterStatesTheLaddersDays(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not on PATH (poppler-utils): TestLetterReadable says so under INCASSO_REQUIRE_E2E")
	}
	d := sample()
	d.PayDays, d.HandoverDays = 90, 45
	file := filepath.Join(t.TempDir(), "letter.pdf")
	require.NoError(t, os.WriteFile(file, letter(t, d), 0o600))
	out, err := exec.Command("pdftotext", file, "-").Output()
	require.NoError(t, err)
	text := strings.Join(strings.Fields(string(out)), " ")
	require.Contains(t, text, "entro 90 giorni dalla data di notifica")
	require.Contains(t, text, "Decorsi ulteriori 45 giorni")
	require.Contains(t, text, "ricorso, entro 60 giorni")

	pec, err := reminders.Render(reminders.StepAccertamento, reminders.ChannelPEC, d)
	require.NoError(t, err)
	require.Contains(t, pec.Text, "Entro 90 giorni dalla notifica può pagare l'importo dovuto; entro 60 giorni")
}

// minimal is sample without the optional fields.
func minimal() reminders.Data {
	d := sample()
	d.Office, d.Contact, d.Official, d.DebtorAddress = "", "", "", nil
	return d
}

// long is sample with a description and a name long enough to push the letter to a second page.
func long() reminders.Data {
	d := sample()
	d.DebtorName = "Società Cooperativa Sociale di Servizi Integrati per l'Ambiente e il Territorio a r.l."
	d.Description = strings.Repeat("TARI 2026, unità immobiliare di via Verdi 3, ", 12)
	return d
}

func TestLetterValidation(t *testing.T) {
	t.Parallel()
	for _, c := range validationCases {
		d := sample()
		c.change(&d)
		var buf bytes.Buffer
		err := reminders.Letter(&buf, d)
		require.ErrorIs(t, err, reminders.ErrInvalid, c.field)
		require.Contains(t, err.Error(), c.field)
		require.NotContains(t, err.Error(), secret)
		require.Zero(t, buf.Len(), "nothing written")
	}
}

// The sollecito by post says what its e-mail says, with the notice's code to pay by in place
// of the notice the e-mail attaches; it is not an act (no demand, no appeal).
func TestSollecitoLetter(t *testing.T) {
	t.Parallel()
	a := sollecitoLetter(t, sample())
	require.True(t, bytes.HasPrefix(a, []byte("%PDF-")))
	require.Equal(t, a, sollecitoLetter(t, sample()), "the same data, the same bytes")
	require.NotEqual(t, a, letter(t, sample()))
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not on PATH (poppler-utils): TestLetterReadable says so under INCASSO_REQUIRE_E2E")
	}
	for _, d := range []reminders.Data{sample(), minimal(), long()} {
		file := filepath.Join(t.TempDir(), "sollecito.pdf")
		require.NoError(t, os.WriteFile(file, sollecitoLetter(t, d), 0o600))
		out, err := exec.Command("pdftotext", file, "-").Output()
		require.NoError(t, err)
		text := strings.Join(strings.Fields(string(out)), " ")
		for _, want := range []string{
			"OGGETTO: Sollecito di pagamento", "€ 1.234,56", "scaduto il 31/12/2026", groupedNAV, "COME PAGARE",
			d.DebtorName, d.CreditorName, d.CreditorFiscalCode, "Prot. n. " + d.Reference, "Data: 01/03/2027",
			"l'ente emetterà l'avviso di accertamento esecutivo", "Se ha già pagato", "Il Funzionario responsabile",
		} {
			require.Contains(t, text, want, "sollecito letter lacks %q", want)
		}
		for _, line := range d.DebtorAddress {
			require.Contains(t, text, line)
		}
		require.NotContains(t, text, d.DebtorFiscalCode, "no fiscal code in the window of an ordinary envelope")
		for _, act := range []string{"INTIMA", "TITOLO ESECUTIVO", "ricorso"} {
			require.NotContains(t, text, act, "a sollecito is not an act")
		}
		pages := strings.Count(string(out), "\f")
		require.Contains(t, text, fmt.Sprintf("Sollecito di pagamento prot. n. %s del 01/03/2027 - pagina %d di %d", d.Reference, pages, pages))
	}
}

func TestSollecitoLetterValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		field  string
		change func(*reminders.Data)
	}{
		{"Reference", func(d *reminders.Data) { d.Reference = "" }},
		{"StepDate", func(d *reminders.Data) { d.StepDate = date.Date{} }},
	}
	for _, c := range validationCases {
		if !c.accertamento {
			cases = append(cases, struct {
				field  string
				change func(*reminders.Data)
			}{c.field, c.change})
		}
	}
	for _, c := range cases {
		d := sample()
		c.change(&d)
		var buf bytes.Buffer
		err := reminders.SollecitoLetter(&buf, d)
		require.ErrorIs(t, err, reminders.ErrInvalid, c.field)
		require.Contains(t, err.Error(), c.field)
		require.NotContains(t, err.Error(), secret)
		require.Zero(t, buf.Len(), "nothing written")
	}
}
