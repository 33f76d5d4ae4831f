package reminders

import (
	"cmp"
	"fmt"
	"strings"

	"incasso/domain/chars"
	"incasso/domain/date"
	"incasso/domain/money"
)

// Steps that send a message. The names are those of the ladder's steps in package workflows;
// its last step, the hand-over to enforced collection, sends none (see EnforcementCSV).
const (
	StepCourtesy     = "courtesy"     // courtesy reminder before the due date
	StepSollecito    = "sollecito"    // formal reminder after the due date
	StepAccertamento = "accertamento" // PEC that notifies the accertamento esecutivo (Letter)
)

// The law behind the accertamento esecutivo, printed in the letter and in its PEC.
const (
	// LegalBasis makes the accertamento an enforceable title without a cartella or ingiunzione.
	LegalBasis = "art. 1, comma 792, della legge 27 dicembre 2019, n. 160"
	// PayOrAppealDays is how long from the notification the debtor has to pay or to appeal,
	// unless the ladder gives more days to pay (Data.PayDays); the days to appeal are the law's.
	PayOrAppealDays = 60
	// HandoverDays is how long after the last day to pay the act is handed over to enforced
	// collection, unless the ladder says otherwise (Data.HandoverDays).
	HandoverDays = 30
	// Appeal says where to appeal, in words that fit tributary and patrimonial revenues alike.
	Appeal = "all'autorità giudiziaria competente: per le entrate tributarie, la Corte di " +
		"giustizia tributaria di primo grado territorialmente competente, secondo il decreto " +
		"legislativo 31 dicembre 1992, n. 546; per le entrate patrimoniali, il giudice ordinario competente"
)

// Data is what the messages and the letter of a step say about one debt.
type Data struct {
	CreditorName       string // the comune, e.g. "Comune di Gallarate"
	CreditorFiscalCode string // 11 digits, which the debtor keys in with the notice code
	Office             string // optional: the issuing office, e.g. "Servizio Tributi"
	Contact            string // optional: where to ask, e.g. "tributi@comune.example.it, tel. 0331 754111"
	Official           string // optional: name of the Funzionario responsabile who signs the letter

	DebtorName       string
	DebtorFiscalCode string   // required for the accertamento
	DebtorAddress    []string // optional: postal address lines of the letter

	Description  string      // what the debt is for, e.g. "TARI 2026"
	Amount       money.Cents // due now
	DueDate      date.Date   // the original due date of the notice
	NoticeNumber string      // NAV, 18 digits

	StepDate  date.Date // the date of the step, printed as the date of the accertamento
	Reference string    // protocol number of the accertamento, required for it
	// PayDays and HandoverDays are the accertamento's days to pay from its notification and
	// then before the hand-over, as its legal clock counts them; zero: the law's.
	PayDays, HandoverDays int
}

func (d Data) payDays() int      { return cmp.Or(d.PayDays, PayOrAppealDays) }
func (d Data) handoverDays() int { return cmp.Or(d.HandoverDays, HandoverDays) }

// validate checks d for the messages of a step, or for the accertamento (its PEC and its
// letter), which needs more.
func (d Data) validate(accertamento bool) error {
	invalid := func(field, problem string) error {
		return fmt.Errorf("reminders: %w: %s %s", ErrInvalid, field, problem)
	}
	fields := []struct {
		name, value string
		required    bool
	}{
		{"CreditorName", d.CreditorName, true},
		{"CreditorFiscalCode", d.CreditorFiscalCode, true},
		{"Office", d.Office, false},
		{"Contact", d.Contact, false},
		{"Official", d.Official, false},
		{"DebtorName", d.DebtorName, true},
		{"DebtorFiscalCode", d.DebtorFiscalCode, accertamento},
		{"Description", d.Description, true},
		{"NoticeNumber", d.NoticeNumber, true},
		{"Reference", d.Reference, accertamento},
	}
	for i, line := range d.DebtorAddress {
		fields = append(fields, struct {
			name, value string
			required    bool
		}{fmt.Sprintf("DebtorAddress[%d]", i), line, false})
	}
	for _, f := range fields {
		switch {
		case f.required && strings.TrimSpace(f.value) == "":
			return invalid(f.name, "is empty")
		case !chars.Printable(f.value):
			return invalid(f.name, "must be one line of printable UTF-8")
		}
	}
	switch {
	case !chars.Digits(d.CreditorFiscalCode, 11):
		return invalid("CreditorFiscalCode", "is not 11 digits")
	case !chars.Digits(d.NoticeNumber, 18):
		return invalid("NoticeNumber", "is not 18 digits")
	case d.Amount < 1:
		return invalid("Amount", "is not positive")
	case d.DueDate.IsZero():
		return invalid("DueDate", "is empty")
	case accertamento && d.StepDate.IsZero():
		return invalid("StepDate", "is empty")
	case d.PayDays < 0:
		return invalid("PayDays", "is negative")
	case d.HandoverDays < 0:
		return invalid("HandoverDays", "is negative")
	}
	return nil
}
