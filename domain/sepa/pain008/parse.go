package pain008

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa/internal/isoxml"
)

// File is a pain.008 document as Parse reads it.
type File struct {
	MsgID        string
	Created      time.Time
	NbOfTxs      int
	CtrlSum      money.Cents
	PaymentInfos []Batch
}

// Batch is a payment information and its transactions.
type Batch struct {
	PaymentInfo
	Transactions []Transaction
}

// Parse reads a pain.008.001.08 or .001.02 document, told apart by the namespace of its
// root. It checks every field as the Writer does, returning names and remittance text as the
// Writer would write them (transliterated), and checks that NbOfTxs and CtrlSum, where
// present, match the transactions, in the group header and in every payment information;
// where absent they are computed. EndToEndIds must be unique in the file. Elements that a
// Writer does not write are ignored. Parse
// holds the whole file in memory: it is meant for the bank simulator and the tests.
func Parse(r io.Reader) (File, error) {
	var doc xDocument
	root, err := decodeDocument(r, &doc)
	if err != nil {
		return File{}, err
	}
	var p Profile
	switch root.Space {
	case V08.namespace():
		p = V08
	case V02.namespace():
		p = V02
	default:
		return File{}, fmt.Errorf("pain008: root element {%s}%s is not the Document of pain.008.001.08 or .001.02", root.Space, root.Local)
	}
	if doc.Initn == nil {
		return File{}, &FieldError{Field: "Document/CstmrDrctDbtInitn", Problem: "is missing"}
	}
	g := doc.Initn.GrpHdr
	bad := func(field, problem string) error { return &FieldError{Field: "GrpHdr/" + field, Problem: problem} }
	f := File{MsgID: g.MsgId}
	if problem := idProblem(f.MsgID, true); problem != "" {
		return File{}, bad("MsgId", problem)
	}
	if f.Created, err = parseDateTime(g.CreDtTm); err != nil {
		return File{}, bad("CreDtTm", "is not an ISO date and time")
	}
	if len(doc.Initn.PmtInf) == 0 {
		return File{}, &FieldError{Field: "PmtInf", Problem: "is missing: a file has at least one"}
	}
	var n int
	var sum money.Cents
	seen := make(map[string]bool)
	for _, x := range doc.Initn.PmtInf {
		b, err := p.batch(x)
		if err != nil {
			return File{}, err
		}
		for _, tx := range b.Transactions {
			if seen[tx.EndToEndID] {
				return File{}, &FieldError{PmtInfID: b.ID, EndToEndID: tx.EndToEndID, Field: "DrctDbtTxInf/PmtId/EndToEndId", Problem: "is not unique in the file"}
			}
			seen[tx.EndToEndID] = true
		}
		f.PaymentInfos = append(f.PaymentInfos, b)
		n, sum = n+b.NbOfTxs, sum+b.CtrlSum
	}
	if f.NbOfTxs, f.CtrlSum, err = declared(g.NbOfTxs, g.CtrlSum, n, sum, bad); err != nil {
		return File{}, err
	}
	if f.NbOfTxs != n || f.CtrlSum != sum {
		return File{}, totalsError("the group header", f.NbOfTxs, f.CtrlSum, n, sum)
	}
	return f, nil
}

// batch reads and checks a payment information.
func (p Profile) batch(x xPmtInf) (Batch, error) {
	bad := func(field, problem string) error {
		return &FieldError{PmtInfID: x.PmtInfId, Field: "PmtInf/" + field, Problem: problem}
	}
	switch {
	case x.PmtMtd != "DD":
		return Batch{}, bad("PmtMtd", "must be DD")
	case x.SvcLvl != "SEPA":
		return Batch{}, bad("PmtTpInf/SvcLvl/Cd", "must be SEPA")
	case x.LclInstrm != "CORE":
		return Batch{}, bad("PmtTpInf/LclInstrm/Cd", "must be CORE")
	case len(x.Txs) == 0:
		return Batch{}, bad("DrctDbtTxInf", "is missing: a payment information has at least one")
	}
	collection, err := date.Parse(x.ReqdColltnDt)
	if err != nil {
		return Batch{}, bad("ReqdColltnDt", "is not a date")
	}
	bic, problem := x.CdtrAgt.bic(p)
	if problem != "" {
		return Batch{}, bad("CdtrAgt/FinInstnId", problem)
	}
	b := Batch{PaymentInfo: PaymentInfo{
		ID: x.PmtInfId, SequenceType: x.SeqTp, CollectionDate: collection, CreditorName: x.CdtrNm,
		CreditorIBAN: x.CdtrIBAN, CreditorBIC: bic, CreditorID: x.CdtrSchmeID,
	}}
	var sum money.Cents
	for _, t := range x.Txs {
		tx, err := p.transaction(t, x.PmtInfId)
		if err != nil {
			return Batch{}, err
		}
		b.Transactions = append(b.Transactions, tx)
		sum += tx.Amount
	}
	n := len(b.Transactions)
	if b.NbOfTxs, b.CtrlSum, err = declared(x.NbOfTxs, x.CtrlSum, n, sum, bad); err != nil {
		return Batch{}, err
	}
	if b.PaymentInfo, err = p.checkPaymentInfo(b.PaymentInfo); err != nil {
		return Batch{}, err
	}
	for i, tx := range b.Transactions {
		if b.Transactions[i], err = p.checkTransaction(tx, b.PaymentInfo); err != nil {
			return Batch{}, err
		}
	}
	if b.NbOfTxs != n || b.CtrlSum != sum {
		return Batch{}, totalsError("payment information "+strconv.Quote(b.ID), b.NbOfTxs, b.CtrlSum, n, sum)
	}
	return b, nil
}

// transaction reads a transaction of the payment information pmtInfID; checkTransaction
// checks it.
func (p Profile) transaction(t xTx, pmtInfID string) (Transaction, error) {
	bad := func(field, problem string) error {
		return &FieldError{PmtInfID: pmtInfID, EndToEndID: t.EndToEndId, Field: "DrctDbtTxInf/" + field, Problem: problem}
	}
	if t.InstdAmt.Ccy != "EUR" {
		return Transaction{}, bad("InstdAmt/@Ccy", "must be EUR")
	}
	amount, err := money.ParseDecimal(t.InstdAmt.Value)
	if err != nil {
		return Transaction{}, bad("InstdAmt", "is not an amount with two decimals")
	}
	signed, err := date.Parse(t.DtOfSgntr)
	if err != nil {
		return Transaction{}, bad("DrctDbtTx/MndtRltdInf/DtOfSgntr", "is not a date")
	}
	bic, problem := t.DbtrAgt.bic(p)
	if problem != "" {
		return Transaction{}, bad("DbtrAgt/FinInstnId", problem)
	}
	return Transaction{
		EndToEndID: t.EndToEndId, Amount: amount, MandateID: t.MndtId, MandateSigned: signed,
		DebtorName: t.DbtrNm, DebtorIBAN: t.DbtrIBAN, DebtorBIC: bic, RemittanceInfo: t.Ustrd,
	}, nil
}

// declared returns the NbOfTxs and CtrlSum an element declares, or n and sum for those it
// leaves out; bad reports an element that is not a number or an amount.
func declared(nbOfTxs, ctrlSum string, n int, sum money.Cents, bad func(field, problem string) error) (int, money.Cents, error) {
	if nbOfTxs != "" {
		if len(nbOfTxs) > 15 || !isDigits(nbOfTxs) {
			return 0, 0, bad("NbOfTxs", "is not a number of 1 to 15 digits")
		}
		n, _ = strconv.Atoi(nbOfTxs)
	}
	if ctrlSum != "" {
		var err error
		if sum, err = money.ParseDecimal(ctrlSum); err != nil {
			return 0, 0, bad("CtrlSum", "is not an amount with two decimals")
		}
	}
	return n, sum, nil
}

// parseDateTime reads an ISODateTime in the years a file may have.
func parseDateTime(s string) (time.Time, error) {
	t, err := isoxml.ParseDateTime(s)
	if err == nil && !isoxml.ValidTime(t) {
		err = errors.New("year out of range")
	}
	return t, err
}

// decodeDocument decodes the file's Document element into v (see isoxml.DecodeDocument).
func decodeDocument(r io.Reader, v any) (xml.Name, error) {
	root, err := isoxml.DecodeDocument(r, v)
	if err != nil {
		err = fmt.Errorf("pain008: %w", err)
	}
	return root, err
}

// The document as decoded, by local names: a Writer writes no more than this.
type xDocument struct {
	Initn *struct {
		GrpHdr struct {
			MsgId, CreDtTm, NbOfTxs, CtrlSum string
		}
		PmtInf []xPmtInf
	} `xml:"CstmrDrctDbtInitn"`
}

type xPmtInf struct {
	PmtInfId     string
	PmtMtd       string
	NbOfTxs      string
	CtrlSum      string
	SvcLvl       string `xml:"PmtTpInf>SvcLvl>Cd"`
	LclInstrm    string `xml:"PmtTpInf>LclInstrm>Cd"`
	SeqTp        string `xml:"PmtTpInf>SeqTp"`
	ReqdColltnDt string
	CdtrNm       string `xml:"Cdtr>Nm"`
	CdtrIBAN     string `xml:"CdtrAcct>Id>IBAN"`
	CdtrAgt      xAgent `xml:"CdtrAgt>FinInstnId"`
	CdtrSchmeID  string `xml:"CdtrSchmeId>Id>PrvtId>Othr>Id"`
	Txs          []xTx  `xml:"DrctDbtTxInf"`
}

type xTx struct {
	EndToEndId string `xml:"PmtId>EndToEndId"`
	InstdAmt   struct {
		Ccy   string `xml:"Ccy,attr"`
		Value string `xml:",chardata"`
	}
	MndtId    string `xml:"DrctDbtTx>MndtRltdInf>MndtId"`
	DtOfSgntr string `xml:"DrctDbtTx>MndtRltdInf>DtOfSgntr"`
	DbtrAgt   xAgent `xml:"DbtrAgt>FinInstnId"`
	DbtrNm    string `xml:"Dbtr>Nm"`
	DbtrIBAN  string `xml:"DbtrAcct>Id>IBAN"`
	Ustrd     string `xml:"RmtInf>Ustrd"`
}

// xAgent is a FinInstnId.
type xAgent struct {
	BICFI, BIC string
	Othr       string `xml:"Othr>Id"`
}

// bic returns the agent's BIC in profile p, "" for NOTPROVIDED, or what is wrong.
func (a xAgent) bic(p Profile) (string, string) {
	bic := a.BICFI
	if p == V02 {
		bic = a.BIC
	}
	switch {
	case bic != "":
		return bic, ""
	case a.Othr == notProvided:
		return "", ""
	}
	return "", "has neither " + p.bicElement() + " nor Othr/Id " + notProvided
}
