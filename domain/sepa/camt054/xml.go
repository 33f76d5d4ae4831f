package camt054

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa/internal/isoxml"
)

// MaxSize is the largest notification Parse reads, 64 MiB. Callers reading from the network
// should stop there.
const MaxSize = isoxml.MaxSize

// notification is the message Parse reads.
var notification = isoxml.Message{Name: "camt.054", Noun: "notification", First: 2, Last: 10}

// Bank transaction codes of the entries that are returns or refunds.
const (
	domain   = "PMNT" // payments
	family   = "IDDT" // issued direct debits
	unpaid   = "UPDD" // unpaid (returned) direct debit
	reversal = "PRDD" // reversal: a refund to the debtor
	md06     = "MD06" // reason: refund requested by the debtor
)

// Parse reads the returns and refunds of a camt.054.001.02 to .001.10 notification (see the
// package documentation). Leading and trailing white space of values is ignored. A
// transaction's amount is its Amt, else AmtDtls/TxAmt/Amt (.02 has no Amt), else the entry's
// when it is the entry's only one; the amounts of an entry's transactions must add up to the
// entry's. An EndToEndId is returned once at most.
func Parse(data []byte) (Notification, error) {
	var doc xDocument
	if err := notification.Decode(data, &doc); err != nil {
		return Notification{}, fmt.Errorf("camt054: %w", err)
	}
	x := doc.Ntfctn
	if x == nil {
		return Notification{}, &Error{"Document/BkToCstmrDbtCdtNtfctn", "is missing"}
	}
	n := Notification{MsgID: trim(x.MsgId)}
	var err error
	if n.Created, err = isoxml.ParseDateTime(trim(x.CreDtTm)); err != nil {
		return Notification{}, &Error{"GrpHdr/CreDtTm", "is not an ISO date and time"}
	}
	if err := checkHeader(n.MsgID, n.Created); err != nil {
		return Notification{}, err
	}
	seen := make(map[string]bool)
	for i, acct := range x.Accounts {
		for j, e := range acct.Entries {
			path := fmt.Sprintf("Ntfctn[%d]/Ntry[%d]", i+1, j+1)
			returns, err := e.returns(path, seen)
			if err != nil {
				return Notification{}, err
			}
			n.Returns = append(n.Returns, returns...)
		}
	}
	return n, nil
}

// returns reads the returns of the entry e at path, none if it is not a booked return.
func (e xEntry) returns(path string, seen map[string]bool) ([]Return, error) {
	status := trim(e.Sts.Cd)
	if status == "" {
		status = trim(e.Sts.Text) // .02 to .03: a code, not a choice
	}
	sub := trim(e.SubFamily)
	if trim(e.Domain) != domain || trim(e.Family) != family || sub != unpaid && sub != reversal || status != "BOOK" {
		return nil, nil
	}
	if ind := trim(e.CdtDbtInd); ind != "DBIT" {
		return nil, &Error{path + "/CdtDbtInd", fmt.Sprintf("is %q: a return or refund is DBIT", ind)}
	}
	total, err := cents(e.Amt, path+"/Amt")
	if err != nil {
		return nil, err
	}
	booked, err := day(e.BookgDt, path+"/BookgDt")
	if err != nil {
		return nil, err
	}
	if len(e.Txs) == 0 {
		return nil, &Error{path + "/NtryDtls/TxDtls", "is missing: a return names its collection's EndToEndId"}
	}
	var returns []Return
	var sum money.Cents
	for k, t := range e.Txs {
		tpath := fmt.Sprintf("%s/NtryDtls/TxDtls[%d]", path, k+1)
		if ind := trim(t.CdtDbtInd); ind != "" && ind != "DBIT" {
			return nil, &Error{tpath + "/CdtDbtInd", fmt.Sprintf("is %q: a return or refund is DBIT", ind)}
		}
		amount := total
		switch {
		case t.Amt != nil:
			amount, err = cents(*t.Amt, tpath+"/Amt")
		case t.TxAmt != nil:
			amount, err = cents(*t.TxAmt, tpath+"/AmtDtls/TxAmt/Amt")
		case len(e.Txs) > 1:
			err = &Error{tpath + "/Amt", "is missing, and the entry has several transactions"}
		}
		if err != nil {
			return nil, err
		}
		r := Return{EndToEndID: trim(t.EndToEndId), Amount: amount, Reason: trim(t.Reason), BookingDate: booked}
		r.Refund = sub == reversal || r.Reason == md06
		if err := checkReturn(path, tpath, r, seen); err != nil {
			return nil, err
		}
		returns = append(returns, r)
		sum += amount
	}
	if sum != total {
		return nil, &Error{path + "/Amt", fmt.Sprintf("is %s EUR but its transactions add up to %s EUR", total.Decimal(), sum.Decimal())}
	}
	return returns, nil
}

// Write checks n and writes it as camt.054.001.08: one notification, of an account given as
// Othr/Id NOTPROVIDED (Notification does not hold it), with one booked entry per return.
// CreDtTm is written to the second in Rome time.
func Write(w io.Writer, n Notification) error {
	if err := checkHeader(n.MsgID, n.Created); err != nil {
		return err
	}
	acct := xAccount{Id: n.MsgID, Acct: "NOTPROVIDED"}
	seen := make(map[string]bool)
	for i, r := range n.Returns {
		path := fmt.Sprintf("Ntfctn[1]/Ntry[%d]", i+1)
		if err := checkReturn(path, path+"/NtryDtls/TxDtls[1]", r, seen); err != nil {
			return err
		}
		sub := unpaid
		if r.Refund {
			sub = reversal
		}
		amount := isoxml.Euro(r.Amount)
		acct.Entries = append(acct.Entries, xEntry{
			Amt: amount, CdtDbtInd: "DBIT", Sts: xStatus{Cd: "BOOK"}, BookgDt: isoxml.Date{Dt: r.BookingDate.String()},
			Domain: domain, Family: family, SubFamily: sub,
			Txs: []xTx{{EndToEndId: r.EndToEndID, Amt: &amount, CdtDbtInd: "DBIT", Reason: r.Reason}},
		})
	}
	doc := xDocument{Xmlns: isoxml.Namespace(notification.Name, 8), Ntfctn: &xNotification{
		MsgId: n.MsgID, CreDtTm: n.Created.In(date.Rome).Format(time.RFC3339), Accounts: []xAccount{acct},
	}}
	return isoxml.Encode(w, doc)
}

// The notification as read and written, by local names and in the order of the schemas.
type xDocument struct {
	XMLName xml.Name       `xml:"Document"`
	Xmlns   string         `xml:"xmlns,attr"`
	Ntfctn  *xNotification `xml:"BkToCstmrDbtCdtNtfctn"`
}

type xNotification struct {
	MsgId    string     `xml:"GrpHdr>MsgId"`
	CreDtTm  string     `xml:"GrpHdr>CreDtTm"`
	Accounts []xAccount `xml:"Ntfctn"`
}

type xAccount struct {
	Id      string
	Acct    string   `xml:"Acct>Id>Othr>Id"`
	Entries []xEntry `xml:"Ntry"`
}

type xEntry struct {
	Amt       isoxml.Amount
	CdtDbtInd string
	Sts       xStatus
	BookgDt   isoxml.Date
	Domain    string `xml:"BkTxCd>Domn>Cd"`
	Family    string `xml:"BkTxCd>Domn>Fmly>Cd"`
	SubFamily string `xml:"BkTxCd>Domn>Fmly>SubFmlyCd"`
	Txs       []xTx  `xml:"NtryDtls>TxDtls"`
}

// xStatus is an entry's status: a code up to .03, a choice (Cd or Prtry) since.
type xStatus struct {
	Text string `xml:",chardata"`
	Cd   string `xml:",omitempty"`
}

type xTx struct {
	EndToEndId string         `xml:"Refs>EndToEndId"`
	Amt        *isoxml.Amount `xml:",omitempty"`
	CdtDbtInd  string         `xml:",omitempty"`
	TxAmt      *isoxml.Amount `xml:"AmtDtls>TxAmt>Amt,omitempty"`
	Reason     string         `xml:"RtrInf>Rsn>Cd"`
}

// cents reads an amount of euro, with two decimals, of the element at path.
func cents(a isoxml.Amount, path string) (money.Cents, error) {
	c, p := a.Cents()
	if p.What != "" {
		return 0, &Error{path + p.Sub, p.What}
	}
	return c, nil
}

// day reads a date, Dt or DtTm (its day in Rome), of the element at path.
func day(d isoxml.Date, path string) (date.Date, error) {
	v, p := d.Day()
	if p.What != "" {
		return date.Date{}, &Error{path + p.Sub, p.What}
	}
	return v, nil
}

func trim(s string) string { return strings.TrimSpace(s) }
