// Package camt054 reads the debit notifications (ISO 20022 camt.054) in which the bank
// reports the returns and refunds of SDD collections, and writes them for the bank
// simulator.
//
// A return or refund debits the creditor's account: it is a booked entry (Sts BOOK) with
// CdtDbtInd DBIT and the bank transaction code PMNT / IDDT (issued direct debits) / UPDD or
// PRDD, whose transaction details carry the EndToEndId of the collection and the reason code
// (RtrInf/Rsn/Cd). Parse reads camt.054.001.02 to .001.10 by local element names and keeps
// those entries only: credits, other transaction codes and entries not yet booked (PDNG,
// INFO: the booked entry follows) are not returns.
//
// Return or refund: UPDD is an unpaid (returned) direct debit, PRDD a reversal, which is how
// refunds to the debtor are coded. As many banks book refunds under UPDD too, with reason
// MD06 (the debtor's refund within 8 weeks), Refund is true for PRDD and for MD06 whatever
// the sub-family. An unauthorised-transaction refund (13 months) booked as UPDD with MD01
// reads as a return with reason MD01. Write codes Refund as PRDD, else UPDD, so what it
// writes Parse reads back identically, except that MD06 always reads as a refund.
package camt054

import (
	"fmt"
	"time"

	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa/internal/isoxml"
)

// Notification is a debit notification, reduced to the returns and refunds it reports.
type Notification struct {
	MsgID   string
	Created time.Time
	Returns []Return
}

// Return is the return or refund of one collection.
type Return struct {
	EndToEndID  string      // of the collection
	Amount      money.Cents // debited
	Reason      string      // ISO reason code, e.g. AM04, MD06
	Refund      bool        // a refund to the debtor (PRDD or MD06), else an unpaid return
	BookingDate date.Date
}

const maxAmount money.Cents = 99_999_999_999 // 999999999.99 EUR, the SDD maximum

// checkHeader checks what Parse and Write require of the group header.
func checkHeader(msgID string, created time.Time) error {
	if err := checkID("GrpHdr/MsgId", msgID); err != nil {
		return err
	}
	if !isoxml.ValidTime(created) {
		return &Error{"GrpHdr/CreDtTm", "is not a time of the years 1900 to 9999"}
	}
	return nil
}

// checkReturn checks r, read from or written to the transaction details at path within the
// entry at entry; seen holds the EndToEndIds before it.
func checkReturn(entry, path string, r Return, seen map[string]bool) error {
	if err := checkID(path+"/Refs/EndToEndId", r.EndToEndID); err != nil {
		return err
	}
	if seen[r.EndToEndID] {
		return &Error{path + "/Refs/EndToEndId", fmt.Sprintf("%q is listed twice", r.EndToEndID)}
	}
	seen[r.EndToEndID] = true
	switch {
	case r.Amount < 1 || r.Amount > maxAmount:
		return &Error{path + "/Amt", "must be 0.01 to 999999999.99 EUR"}
	case r.Reason == "":
		return &Error{path + "/RtrInf/Rsn/Cd", "is missing: a return has a reason code"}
	case !isoxml.ReasonCode(r.Reason):
		return &Error{path + "/RtrInf/Rsn/Cd", fmt.Sprintf("%q is not a reason code of 4 capital letters or digits", r.Reason)}
	case !isoxml.ValidDate(r.BookingDate):
		return &Error{entry + "/BookgDt", "is not a valid date"}
	}
	return nil
}

// checkID checks the identifier s of the element at path (see isoxml.IDProblem).
func checkID(path, s string) error {
	if problem := isoxml.IDProblem(s); problem != "" {
		return &Error{path, problem}
	}
	return nil
}
