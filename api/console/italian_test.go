package console

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/domain/date"
	"incasso/services/debts"
)

// english finds words that only an English message has.
var english = regexp.MustCompile(`\b(the|must|required|not a|unknown|column|row|write|date|amount|check|position|already|used)\b`)

func TestItalianRewordsTheMessages(t *testing.T) {
	t.Parallel()
	for en, it := range map[string]string{
		"the same iupd as row 12": "stesso iupd della riga 12",
		"iupd already used in campaign 3, which has not created that debt yet":                                         "iupd già usato nella campagna 3, che non ha ancora creato quella posizione",
		"not a valid codice fiscale: check character mismatch":                                                         "codice fiscale non valido: il carattere di controllo non corrisponde",
		"not a valid codice fiscale: wrong length 15, want 16 or 11":                                                   "codice fiscale non valido: lunghezza 15, deve essere 16 o 11",
		`missing column "importo"; unknown column "prezzo"; column "iupd" given twice (the columns are iupd, importo)`: `colonna mancante "importo"; colonna sconosciuta "prezzo"; colonna "iupd" presente due volte (le colonne sono iupd, importo)`,
		"must be from 0,01 to 999.999.999,99 euro":                                                                     "deve essere da 0,01 a 999.999.999,99 euro",
		"something new": "something new", // shown as it is
	} {
		require.Equal(t, it, italian(en), en)
	}
}

// TestItalianKnowsEveryRowMessage validates a file with every kind of row error the import
// reports and checks that no message stays in English.
func TestItalianKnowsEveryRowMessage(t *testing.T) {
	t.Parallel()
	today := date.Date{Year: 2026, Month: 11, Day: 20}
	services, err := config.ParseServices(config.DefaultServices)
	require.NoError(t, err)
	creditor := config.Creditor{Name: "Comune", FiscalCode: "00000000000", IBAN: "IT60X0542811101000000123456"}
	var msgs []string
	for _, n := range []debts.New{
		{},
		{IUPD: "bad iupd!", ServiceCode: "XX", Debtor: debts.Debtor{Type: "Z", FiscalCode: "RSSMRA85T10A562X", Email: "x", PEC: "y"}, Amount: -1,
			DueDate: date.Date{Year: 2020, Month: 1, Day: 1}},
		{IUPD: "A", ServiceCode: "TARI", Debtor: debts.Debtor{Type: "F", FiscalCode: "RSSMRA85", FullName: "M", Email: "m@x.it"}, Amount: 1, DueDate: today},
		{Debtor: debts.Debtor{Address: debts.Address{Street: "\n", PostalCode: "1", Province: "x"}}, NAV: "1", GPDStatus: "PAID"},
		{Debtor: debts.Debtor{Email: "m@x.it"}, IUV: "1", GPDStatus: "VALID"},
		{Debtor: debts.Debtor{Email: "m@x.it"}, NAV: "347000000000000001", IUV: "1"},
		{Debtor: debts.Debtor{Email: "m@x.it"}, NAV: "347000000000000124", GPDStatus: "VALID"},
		{Debtor: debts.Debtor{Email: "m@x.it"}, GPDStatus: "VALID"},
	} {
		for _, fe := range n.Validate(today, creditor, services) {
			msgs = append(msgs, fe.Message)
		}
	}
	// The campaign readers' own messages (campaigns/csv.go, json.go, campaigns.go).
	msgs = append(msgs, "required: an amount in euro such as 12,50", "not an amount in euro: write it as 1234,50 or 1.234,50",
		"ambiguous amount: write it with a decimal comma, as 1.234,00 or 1234,00", "not a date: write it as dd/mm/yyyy or yyyy-mm-dd",
		"write the year with four digits: dd/mm/yyyy", "not a date of the calendar", "required: a date as dd/mm/yyyy or yyyy-mm-dd",
		"the row has 3 fields, the header 11", "the file has no data rows", "the file is not UTF-8: save it as CSV UTF-8",
		"must be a JSON integer", "unknown field", "malformed JSON at byte 7", "iupd already used by an existing debt",
		"required unless the debtor has a PEC or a postal address (columns indirizzo, cap, comune, provincia), where notices then go by post",
		"the same notice number as row 2", "notice number already used by an existing debt",
		"notice number already used in campaign 3, which has not created that debt yet")
	require.Greater(t, len(msgs), 40)
	for _, want := range []string{"not of this comune's segregation code", "must be the nav without its first digit, or left out",
		"only with the nav of a position taken over from the previous platform", "required: the CAP, 5 digits"} {
		require.Contains(t, msgs, want)
	}
	for _, m := range msgs {
		it := italian(m)
		require.False(t, english.MatchString(strings.ToLower(it)), "%q stays English: %q", m, it)
	}
}
