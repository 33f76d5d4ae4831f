// Package camt053 reads the account statement (ISO 20022 camt.053, bank to customer
// statement) of the comune's treasury account, and writes it for the bank simulator.
//
// The statement is what reconciliation matches the money against. Parse keeps the booked
// entries (Sts BOOK) and says of each what it is:
//
//   - a FlowCredit: a credit transfer whose remittance information (RmtInf/Ustrd) is
//     /PUR/LGPE-RIVERSAMENTO/URI/<flow id>, the PSP's transfer of one pagoPA reporting flow
//     (the SACI rule);
//   - an SDDBatch: the credit of an SDD collection file booked in one entry (bank
//     transaction code PMNT / IDDT / ESDD or BBDD), named by its batch (NtryDtls/Btch: the
//     MsgId of the pain.008 and the PmtInfId of its payment information);
//   - an SDDReturn: a debit of returned or refunded collections (PMNT / IDDT / UPDD or PRDD),
//     naming the EndToEndIds of the collections;
//   - Other: anything else (fees, transfers without the pagoPA reference).
//
// Each entry has the bank's reference (AcctSvcrRef, unique in the statement), which
// incasso keys it by. The opening and closing booked balances (OPBD, CLBD) must differ by
// the booked entries, so a statement that lost an entry is refused. Parse reads
// camt.053.001.02 to .001.10 by local element names; Write writes .001.08.
package camt053

import (
	"fmt"
	"strings"
	"time"

	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa"
	"incasso/domain/sepa/internal/isoxml"
)

// Statement is one account statement, reduced to its booked entries.
type Statement struct {
	MsgID   string
	Created time.Time
	ID      string      // Stmt/Id
	IBAN    string      // of the account, Acct/Id/IBAN
	Date    date.Date   // the day of the closing balance
	Opening money.Cents // booked balance at the start (OPBD), negative when debit
	Closing money.Cents // booked balance at the end (CLBD)
	Entries []Entry
}

// Kind is what an entry is, for reconciliation.
type Kind string

// The kinds of entry (see the package documentation).
const (
	FlowCredit Kind = "FLOW_CREDIT"
	SDDBatch   Kind = "SDD_BATCH"
	SDDReturn  Kind = "SDD_RETURN"
	Other      Kind = "OTHER"
)

// Entry is one booked entry.
type Entry struct {
	Ref         string // AcctSvcrRef: the bank's reference of the booking
	Kind        Kind
	Amount      money.Cents // > 0
	Credit      bool        // CRDT, else DBIT
	BookingDate date.Date
	Remittance  string   // RmtInf/Ustrd of its transaction, as booked
	FlowID      string   // of a FlowCredit: the flow id of its remittance information
	BatchMsgID  string   // of an SDDBatch: the MsgId of the collection file
	PmtInfID    string   // of an SDDBatch: the payment information credited
	EndToEndIDs []string // of an SDDReturn: the collections returned
}

// FlowPrefix starts the remittance information of a pagoPA flow's credit transfer.
const FlowPrefix = "/PUR/LGPE-RIVERSAMENTO/URI/"

// FlowIDOf returns the flow id in the remittance information s, "" when s does not start
// with FlowPrefix. The id ends at the first white space.
func FlowIDOf(s string) string {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), FlowPrefix)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, " ")
	return id
}

const maxAmount money.Cents = 99_999_999_999_999 // 999,999,999,999.99 EUR

// checkHeader checks what Parse and Write require of the statement outside its entries.
func checkHeader(s Statement) error {
	if err := checkID("GrpHdr/MsgId", s.MsgID); err != nil {
		return err
	}
	if !isoxml.ValidTime(s.Created) {
		return &Error{"GrpHdr/CreDtTm", "is not a time of the years 1900 to 9999"}
	}
	if err := checkID("Stmt/Id", s.ID); err != nil {
		return err
	}
	if err := sepa.ValidateIBAN(s.IBAN); err != nil {
		return &Error{"Stmt/Acct/Id/IBAN", "is not a valid IBAN"}
	}
	if !isoxml.ValidDate(s.Date) {
		return &Error{"Stmt/Bal/Dt", "is not a valid date"}
	}
	for _, b := range []struct {
		path string
		c    money.Cents
	}{{"Stmt/Bal[OPBD]/Amt", s.Opening}, {"Stmt/Bal[CLBD]/Amt", s.Closing}} {
		if b.c > maxAmount || b.c < -maxAmount {
			return &Error{b.path, "is larger than 999999999999.99 EUR"}
		}
	}
	return nil
}

// checkEntry checks e, the entry at path; refs holds the references before it.
func checkEntry(path string, e Entry, refs map[string]bool) error {
	if err := checkID(path+"/AcctSvcrRef", e.Ref); err != nil {
		return err
	}
	if refs[e.Ref] {
		return &Error{path + "/AcctSvcrRef", fmt.Sprintf("%q is listed twice", e.Ref)}
	}
	refs[e.Ref] = true
	if e.Amount < 1 || e.Amount > maxAmount {
		return &Error{path + "/Amt", "must be 0.01 to 999999999999.99 EUR"}
	}
	if !isoxml.ValidDate(e.BookingDate) {
		return &Error{path + "/BookgDt", "is not a valid date"}
	}
	if len(e.Remittance) > 140 {
		return &Error{path + "/NtryDtls/TxDtls[1]/RmtInf/Ustrd", "is longer than 140 characters"}
	}
	flowID := FlowIDOf(e.Remittance)
	switch e.Kind {
	case FlowCredit:
		if !e.Credit {
			return &Error{path + "/CdtDbtInd", "is DBIT: a flow's transfer is a credit"}
		}
		if err := checkID(path+"/NtryDtls/TxDtls[1]/RmtInf/Ustrd", flowID); err != nil {
			return &Error{path + "/NtryDtls/TxDtls[1]/RmtInf/Ustrd", "does not name a flow after " + FlowPrefix}
		}
		if flowID != e.FlowID {
			return &Error{path + "/NtryDtls/TxDtls[1]/RmtInf/Ustrd", fmt.Sprintf("names flow %q, not %q", flowID, e.FlowID)}
		}
	case SDDBatch:
		if !e.Credit {
			return &Error{path + "/CdtDbtInd", "is DBIT: a collection file is credited"}
		}
		if err := checkID(path+"/NtryDtls/Btch/MsgId", e.BatchMsgID); err != nil {
			return err
		}
		if e.PmtInfID != "" {
			if err := checkID(path+"/NtryDtls/Btch/PmtInfId", e.PmtInfID); err != nil {
				return err
			}
		}
	case SDDReturn:
		if e.Credit {
			return &Error{path + "/CdtDbtInd", "is CRDT: a return is a debit"}
		}
		if len(e.EndToEndIDs) == 0 {
			return &Error{path + "/NtryDtls/TxDtls", "is missing: a return names its collections"}
		}
		for k, id := range e.EndToEndIDs {
			if err := checkID(fmt.Sprintf("%s/NtryDtls/TxDtls[%d]/Refs/EndToEndId", path, k+1), id); err != nil {
				return err
			}
		}
	case Other:
		if e.Credit && flowID != "" {
			return &Error{path + "/NtryDtls/TxDtls[1]/RmtInf/Ustrd", "names a flow: the entry is a flow's credit"}
		}
	default:
		return &Error{path, fmt.Sprintf("is of kind %q, not one of the package", e.Kind)}
	}
	if e.Kind != FlowCredit && e.FlowID != "" || e.Kind != SDDBatch && (e.BatchMsgID != "" || e.PmtInfID != "") ||
		e.Kind != SDDReturn && len(e.EndToEndIDs) > 0 {
		return &Error{path, "has references of another kind of entry"}
	}
	return nil
}

// checkBalances checks that the closing balance is the opening one moved by the entries.
func checkBalances(s Statement) error {
	sum := s.Opening
	for _, e := range s.Entries {
		if e.Credit {
			sum += e.Amount
		} else {
			sum -= e.Amount
		}
	}
	if sum != s.Closing {
		return &Error{"Stmt/Bal[CLBD]/Amt", fmt.Sprintf("is %s EUR but the opening balance and the booked entries make %s EUR",
			signed(s.Closing), signed(sum))}
	}
	return nil
}

// signed writes c as a decimal with a minus sign when negative.
func signed(c money.Cents) string {
	if c < 0 {
		return "-" + (-c).Decimal()
	}
	return c.Decimal()
}

// checkID checks the identifier s of the element at path (see isoxml.IDProblem).
func checkID(path, s string) error {
	if problem := isoxml.IDProblem(s); problem != "" {
		return &Error{path, problem}
	}
	return nil
}
