package reminders

import (
	"fmt"
	"io"
	"strings"
	"time"

	"incasso/domain/chars"
	"incasso/domain/csvsafe"
	"incasso/domain/date"
	"incasso/domain/money"
)

// Handover is one debt handed over to the collection agent for enforced collection (the
// ladder's last step), a row of EnforcementCSV.
type Handover struct {
	IUPD             string // the debt position's identifier at pagoPA
	NoticeNumber     string // NAV, 18 digits
	DebtorFiscalCode string
	DebtorName       string
	Amount           money.Cents // handed over
	DueDate          date.Date   // the original due date
	HandedOverAt     time.Time   // printed as its date in Rome
	ServiceCode      string      // the service the debt belongs to, e.g. "TARI"
}

// EnforcementHeader is the header row of EnforcementCSV, in the order of Handover's fields.
var EnforcementHeader = []string{
	"iupd", "codice_avviso", "codice_fiscale_debitore", "denominazione_debitore",
	"importo", "data_scadenza", "data_affidamento", "codice_servizio",
}

// EnforcementCSV writes the hand-over file for the collection agent: UTF-8 CSV separated by
// semicolons, CRLF line endings, the EnforcementHeader row and then one row per hand-over,
// amounts as "1234,56" and dates as "31/12/2026", quoted as RFC 4180 wants, every cell that a
// spreadsheet would take for a formula made text (csvsafe). It checks every row before writing
// any; an error names the row and the field, never the value.
func EnforcementCSV(w io.Writer, rows []Handover) error {
	for i, h := range rows {
		if field, problem := h.problem(); field != "" {
			return fmt.Errorf("reminders: %w: hand-over %d: %s %s", ErrInvalid, i+1, field, problem)
		}
	}
	cw := csvsafe.NewWriter(w, ';', true)
	if err := cw.Write(EnforcementHeader); err != nil {
		return fmt.Errorf("reminders: write hand-over header: %w", err)
	}
	for i, h := range rows {
		record := []string{
			h.IUPD,
			h.NoticeNumber,
			h.DebtorFiscalCode,
			h.DebtorName,
			strings.ReplaceAll(h.Amount.Decimal(), ".", ","),
			h.DueDate.Italian(),
			date.InRome(h.HandedOverAt).Italian(),
			h.ServiceCode,
		}
		if err := cw.Write(record); err != nil {
			return fmt.Errorf("reminders: write hand-over %d: %w", i+1, err)
		}
	}
	if err := cw.Flush(); err != nil {
		return fmt.Errorf("reminders: write hand-overs: %w", err)
	}
	return nil
}

// problem names the field of h that is wrong and what is wrong with it, never its value;
// it is empty for a good hand-over.
func (h Handover) problem() (field, problem string) {
	for _, f := range []struct{ name, value string }{
		{"IUPD", h.IUPD},
		{"DebtorFiscalCode", h.DebtorFiscalCode},
		{"DebtorName", h.DebtorName},
		{"ServiceCode", h.ServiceCode},
	} {
		switch {
		case strings.TrimSpace(f.value) == "":
			return f.name, "is empty"
		case !chars.Printable(f.value):
			return f.name, "must be one line of printable UTF-8"
		}
	}
	switch {
	case !chars.Digits(h.NoticeNumber, 18):
		return "NoticeNumber", "is not 18 digits"
	case h.Amount < 1:
		return "Amount", "is not positive"
	case h.DueDate.IsZero():
		return "DueDate", "is empty"
	case h.HandedOverAt.IsZero():
		return "HandedOverAt", "is empty"
	}
	return "", ""
}
