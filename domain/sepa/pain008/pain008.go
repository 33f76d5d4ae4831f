package pain008

import (
	"time"

	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa/internal/isoxml"
)

// Profile is the version of pain.008 written.
type Profile int

const (
	V08 Profile = iota // pain.008.001.08, the default
	V02                // pain.008.001.02, legacy
)

// namespace is the XML namespace of p's documents.
func (p Profile) namespace() string {
	if p == V02 {
		return isoxml.Namespace("pain.008", 2)
	}
	return isoxml.Namespace("pain.008", 8)
}

// bicElement is the element of FinInstnId that holds a BIC in p.
func (p Profile) bicElement() string {
	if p == V02 {
		return "BIC"
	}
	return "BICFI"
}

// GroupHeader describes the whole file. NbOfTxs and CtrlSum are declared before the
// transactions are written and must match them.
type GroupHeader struct {
	MsgID           string
	Created         time.Time
	NbOfTxs         int
	CtrlSum         money.Cents
	InitiatingParty string // name of the initiating party (the municipality)
}

// PaymentInfo describes one payment information: the collections of one date, sequence
// type and creditor account. NbOfTxs and CtrlSum are declared before its transactions.
type PaymentInfo struct {
	ID             string
	SequenceType   string // FRST, RCUR, OOFF or FNAL
	CollectionDate date.Date
	CreditorName   string
	CreditorIBAN   string
	CreditorBIC    string // "" is sent as Othr/Id NOTPROVIDED
	CreditorID     string // SEPA creditor identifier (CI)
	NbOfTxs        int
	CtrlSum        money.Cents
}

// Transaction is one collection from a debtor under a mandate.
type Transaction struct {
	EndToEndID     string
	Amount         money.Cents
	MandateID      string
	MandateSigned  date.Date
	DebtorName     string
	DebtorIBAN     string
	DebtorBIC      string // "" is sent as Othr/Id NOTPROVIDED
	RemittanceInfo string // unstructured, up to 140 characters; "" sends no RmtInf
}
