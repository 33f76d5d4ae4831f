package camt053

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

// MaxSize is the largest statement Parse reads, 64 MiB. Callers reading from the network
// should stop there.
const MaxSize = isoxml.MaxSize

// statement is the message Parse reads.
var statement = isoxml.Message{Name: "camt.053", Noun: "statement", First: 2, Last: 10}

// Bank transaction codes (ISO external code set) of the entries Parse tells apart.
const (
	payments     = "PMNT"
	received     = "RCDT" // received credit transfers
	issued       = "ICDT" // issued credit transfers
	sepaTransfer = "ESCT"
	directDebits = "IDDT" // issued direct debits
	sddCore      = "ESDD"
	sddB2B       = "BBDD"
	unpaid       = "UPDD"
	reversal     = "PRDD"
)

// Balance type codes.
const (
	openingBooked = "OPBD"
	closingBooked = "CLBD"
)

// Parse reads a camt.053.001.02 to .001.10 statement with one Stmt (see the package
// documentation). Leading and trailing white space of values is ignored. The statement's
// Date is the date of its closing balance.
func Parse(data []byte) (Statement, error) {
	var doc xDocument
	if err := statement.Decode(data, &doc); err != nil {
		return Statement{}, fmt.Errorf("camt053: %w", err)
	}
	x := doc.Stmt
	if x == nil {
		return Statement{}, &Error{"Document/BkToCstmrStmt", "is missing"}
	}
	if len(x.Stmts) != 1 {
		return Statement{}, &Error{"BkToCstmrStmt/Stmt", fmt.Sprintf("appears %d times: a statement of one account is read", len(x.Stmts))}
	}
	st := x.Stmts[0]
	s := Statement{MsgID: trim(x.MsgId), ID: trim(st.Id), IBAN: trim(st.IBAN)}
	var err error
	if s.Created, err = isoxml.ParseDateTime(trim(x.CreDtTm)); err != nil {
		return Statement{}, &Error{"GrpHdr/CreDtTm", "is not an ISO date and time"}
	}
	if err := s.readBalances(st.Bal); err != nil {
		return Statement{}, err
	}
	if err := checkHeader(s); err != nil {
		return Statement{}, err
	}
	refs := make(map[string]bool)
	for j, xe := range st.Entries {
		path := fmt.Sprintf("Stmt/Ntry[%d]", j+1)
		e, booked, err := xe.entry(path)
		if err != nil {
			return Statement{}, err
		}
		if !booked {
			continue
		}
		if err := checkEntry(path, e, refs); err != nil {
			return Statement{}, err
		}
		s.Entries = append(s.Entries, e)
	}
	if err := checkBalances(s); err != nil {
		return Statement{}, err
	}
	return s, nil
}

// readBalances reads the opening and closing booked balances, and the statement's date.
func (s *Statement) readBalances(bals []xBalance) error {
	var opening, closing bool
	for i, b := range bals {
		path := fmt.Sprintf("Stmt/Bal[%d]", i+1)
		tp := trim(b.Tp)
		if tp != openingBooked && tp != closingBooked {
			continue
		}
		c, err := cents(b.Amt, path+"/Amt")
		if err != nil {
			return err
		}
		switch ind := trim(b.CdtDbtInd); ind {
		case "CRDT":
		case "DBIT":
			c = -c
		default:
			return &Error{path + "/CdtDbtInd", fmt.Sprintf("is %q, not CRDT or DBIT", ind)}
		}
		if tp == openingBooked {
			s.Opening, opening = c, true
			continue
		}
		if s.Date, err = day(b.Dt, path+"/Dt"); err != nil {
			return err
		}
		s.Closing, closing = c, true
	}
	switch {
	case !opening:
		return &Error{"Stmt/Bal[OPBD]", "is missing: the statement has no opening booked balance"}
	case !closing:
		return &Error{"Stmt/Bal[CLBD]", "is missing: the statement has no closing booked balance"}
	}
	return nil
}

// entry reads the entry x at path; booked is false for an entry not booked (PDNG, INFO).
func (x xEntry) entry(path string) (e Entry, booked bool, err error) {
	status := trim(x.Sts.Cd)
	if status == "" {
		status = trim(x.Sts.Text) // .02 to .03: a code, not a choice
	}
	if status != "BOOK" {
		return Entry{}, false, nil
	}
	e = Entry{Ref: trim(x.AcctSvcrRef), Kind: Other}
	if e.Amount, err = cents(x.Amt, path+"/Amt"); err != nil {
		return Entry{}, false, err
	}
	switch ind := trim(x.CdtDbtInd); ind {
	case "CRDT":
		e.Credit = true
	case "DBIT":
	default:
		return Entry{}, false, &Error{path + "/CdtDbtInd", fmt.Sprintf("is %q, not CRDT or DBIT", ind)}
	}
	if e.BookingDate, err = day(x.BookgDt, path+"/BookgDt"); err != nil {
		return Entry{}, false, err
	}
	var txs []xTx
	var batch *xBatch
	for _, d := range x.Details {
		txs = append(txs, d.Txs...)
		if batch == nil {
			batch = d.Btch
		}
	}
	if len(txs) > 0 {
		e.Remittance = trim(strings.Join(txs[0].Ustrd, ""))
	}
	family, sub := trim(x.Family), trim(x.SubFamily)
	direct := trim(x.Domain) == payments && family == directDebits
	switch {
	case e.Credit && FlowIDOf(e.Remittance) != "":
		e.Kind, e.FlowID = FlowCredit, FlowIDOf(e.Remittance)
	case e.Credit && direct && (sub == sddCore || sub == sddB2B):
		if batch == nil {
			return Entry{}, false, &Error{path + "/NtryDtls/Btch", "is missing: a collection file's credit names its file"}
		}
		e.Kind, e.BatchMsgID, e.PmtInfID = SDDBatch, trim(batch.MsgId), trim(batch.PmtInfId)
	case !e.Credit && direct && (sub == unpaid || sub == reversal):
		e.Kind = SDDReturn
		for _, t := range txs {
			e.EndToEndIDs = append(e.EndToEndIDs, trim(t.EndToEndId))
		}
	}
	return e, true, nil
}

// Write checks s and writes it as camt.053.001.08, with one Stmt. CreDtTm is written to the
// second in Rome time; the balances are dated s.Date.
func Write(w io.Writer, s Statement) error {
	if err := checkHeader(s); err != nil {
		return err
	}
	refs := make(map[string]bool)
	st := xStatement{Id: s.ID, IBAN: s.IBAN, Bal: []xBalance{balance(openingBooked, s.Opening, s.Date), balance(closingBooked, s.Closing, s.Date)}}
	for i, e := range s.Entries {
		path := fmt.Sprintf("Stmt/Ntry[%d]", i+1)
		if err := checkEntry(path, e, refs); err != nil {
			return err
		}
		st.Entries = append(st.Entries, e.xml())
	}
	if err := checkBalances(s); err != nil {
		return err
	}
	doc := xDocument{Xmlns: isoxml.Namespace(statement.Name, 8), Stmt: &xBkToCstmrStmt{
		MsgId: s.MsgID, CreDtTm: s.Created.In(date.Rome).Format(time.RFC3339), Stmts: []xStatement{st},
	}}
	return isoxml.Encode(w, doc)
}

// balance is the balance of type tp of c cents (negative: debit) on day.
func balance(tp string, c money.Cents, day date.Date) xBalance {
	ind := "CRDT"
	if c < 0 {
		ind, c = "DBIT", -c
	}
	return xBalance{Tp: tp, Amt: isoxml.Euro(c), CdtDbtInd: ind, Dt: isoxml.Date{Dt: day.String()}}
}

// xml is the entry e as written.
func (e Entry) xml() xEntry {
	amount := isoxml.Euro(e.Amount)
	x := xEntry{Amt: amount, CdtDbtInd: "DBIT", Sts: xStatus{Cd: "BOOK"}, BookgDt: isoxml.Date{Dt: e.BookingDate.String()},
		AcctSvcrRef: e.Ref, Domain: payments, Family: issued, SubFamily: sepaTransfer}
	if e.Credit {
		x.CdtDbtInd, x.Family = "CRDT", received
	}
	var ustrd []string
	if e.Remittance != "" {
		ustrd = []string{e.Remittance}
	}
	switch e.Kind {
	case FlowCredit, Other:
		x.Details = []xDetails{{Txs: []xTx{{Amt: &amount, CdtDbtInd: x.CdtDbtInd, Ustrd: ustrd}}}}
	case SDDBatch:
		x.Family, x.SubFamily = directDebits, sddCore
		x.Details = []xDetails{{Btch: &xBatch{MsgId: e.BatchMsgID, PmtInfId: e.PmtInfID}}}
		if ustrd != nil {
			x.Details[0].Txs = []xTx{{Ustrd: ustrd}}
		}
	case SDDReturn:
		x.Family, x.SubFamily = directDebits, unpaid
		d := xDetails{}
		for i, id := range e.EndToEndIDs {
			t := xTx{EndToEndId: id}
			if i == 0 {
				t.Ustrd = ustrd
			}
			d.Txs = append(d.Txs, t)
		}
		x.Details = []xDetails{d}
	}
	return x
}

// The statement as read and written, by local names and in the order of the schemas.
type xDocument struct {
	XMLName xml.Name        `xml:"Document"`
	Xmlns   string          `xml:"xmlns,attr"`
	Stmt    *xBkToCstmrStmt `xml:"BkToCstmrStmt"`
}

type xBkToCstmrStmt struct {
	MsgId   string       `xml:"GrpHdr>MsgId"`
	CreDtTm string       `xml:"GrpHdr>CreDtTm"`
	Stmts   []xStatement `xml:"Stmt"`
}

type xStatement struct {
	Id      string
	IBAN    string     `xml:"Acct>Id>IBAN"`
	Bal     []xBalance `xml:"Bal"`
	Entries []xEntry   `xml:"Ntry"`
}

type xBalance struct {
	Tp        string `xml:"Tp>CdOrPrtry>Cd"`
	Amt       isoxml.Amount
	CdtDbtInd string
	Dt        isoxml.Date
}

type xEntry struct {
	Amt         isoxml.Amount
	CdtDbtInd   string
	Sts         xStatus
	BookgDt     isoxml.Date
	AcctSvcrRef string     `xml:",omitempty"`
	Domain      string     `xml:"BkTxCd>Domn>Cd"`
	Family      string     `xml:"BkTxCd>Domn>Fmly>Cd"`
	SubFamily   string     `xml:"BkTxCd>Domn>Fmly>SubFmlyCd"`
	Details     []xDetails `xml:"NtryDtls"`
}

// xStatus is an entry's status: a code up to .03, a choice (Cd or Prtry) since.
type xStatus struct {
	Text string `xml:",chardata"`
	Cd   string `xml:",omitempty"`
}

type xDetails struct {
	Btch *xBatch `xml:",omitempty"`
	Txs  []xTx   `xml:"TxDtls"`
}

type xBatch struct {
	MsgId    string `xml:",omitempty"`
	PmtInfId string `xml:",omitempty"`
}

type xTx struct {
	EndToEndId string         `xml:"Refs>EndToEndId,omitempty"`
	Amt        *isoxml.Amount `xml:",omitempty"`
	CdtDbtInd  string         `xml:",omitempty"`
	Ustrd      []string       `xml:"RmtInf>Ustrd,omitempty"`
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
