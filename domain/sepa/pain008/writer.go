package pain008

import (
	"bufio"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"incasso/domain/date"
	"incasso/domain/money"
)

// Writer writes one pain.008 document, streaming: it keeps the declared totals, running
// counts and the EndToEndIds written (to refuse one twice), never the transactions. After an
// error the Writer is unusable: every call returns that error, and what was written must be
// discarded.
type Writer struct {
	x       xmlWriter
	profile Profile
	header  GroupHeader
	pmt     PaymentInfo // the open payment information, when pmtOpen
	pmtOpen bool
	n       int                 // transactions written in all
	sum     money.Cents         // their amounts
	pmtN    int                 // transactions written in the open payment information
	pmtSum  money.Cents         // their amounts
	e2e     map[string]struct{} // the EndToEndIds written
	err     error
}

// NewWriter checks h, writes the start of a document of profile p and its group header to w
// (through a buffer: Close flushes it).
func NewWriter(w io.Writer, p Profile, h GroupHeader) (*Writer, error) {
	h, err := p.checkHeader(h)
	if err != nil {
		return nil, err
	}
	wr := &Writer{x: xmlWriter{b: bufio.NewWriterSize(w, 64<<10)}, profile: p, header: h, e2e: make(map[string]struct{})}
	x := &wr.x
	x.raw(xml.Header)
	x.raw(`<Document xmlns="` + p.namespace() + `">` + "\n")
	x.depth = 1
	x.start("CstmrDrctDbtInitn", "GrpHdr")
	x.leaf("MsgId", h.MsgID)
	x.leaf("CreDtTm", h.Created.In(date.Rome).Format(time.RFC3339))
	x.leaf("NbOfTxs", strconv.Itoa(h.NbOfTxs))
	x.leaf("CtrlSum", h.CtrlSum.Decimal())
	x.leaf("InitgPty/Nm", h.InitiatingParty)
	x.end("GrpHdr")
	return wr, nil
}

// StartPaymentInfo checks pi, closes the open payment information if any (checking its
// totals) and writes the header of pi: the transactions added next belong to it.
func (w *Writer) StartPaymentInfo(pi PaymentInfo) error {
	if w.err != nil {
		return w.err
	}
	pi, err := w.profile.checkPaymentInfo(pi)
	if err != nil {
		return w.fail(err)
	}
	if w.pmtOpen {
		if err := w.endPaymentInfo(); err != nil {
			return w.fail(err)
		}
	}
	w.pmt, w.pmtOpen, w.pmtN, w.pmtSum = pi, true, 0, 0

	x := &w.x
	x.start("PmtInf")
	x.leaf("PmtInfId", pi.ID)
	x.leaf("PmtMtd", "DD")
	x.leaf("BtchBookg", "true")
	x.leaf("NbOfTxs", strconv.Itoa(pi.NbOfTxs))
	x.leaf("CtrlSum", pi.CtrlSum.Decimal())
	x.start("PmtTpInf")
	x.leaf("SvcLvl/Cd", "SEPA")
	x.leaf("LclInstrm/Cd", "CORE")
	x.leaf("SeqTp", pi.SequenceType)
	x.end("PmtTpInf")
	x.leaf("ReqdColltnDt", pi.CollectionDate.String())
	x.leaf("Cdtr/Nm", pi.CreditorName)
	x.leaf("CdtrAcct/Id/IBAN", pi.CreditorIBAN)
	w.agent("CdtrAgt", pi.CreditorBIC)
	x.leaf("ChrgBr", "SLEV")
	x.start("CdtrSchmeId", "Id", "PrvtId", "Othr")
	x.leaf("Id", pi.CreditorID)
	x.leaf("SchmeNm/Prtry", "SEPA")
	x.end("Othr", "PrvtId", "Id", "CdtrSchmeId")
	return w.fail(x.err)
}

// Add checks tx, and that its EndToEndId is not in the file already, and writes it in the
// open payment information.
func (w *Writer) Add(tx Transaction) error {
	if w.err != nil {
		return w.err
	}
	if !w.pmtOpen {
		return w.fail(errors.New("pain008: Add before StartPaymentInfo"))
	}
	tx, err := w.profile.checkTransaction(tx, w.pmt)
	if err != nil {
		return w.fail(err)
	}
	switch {
	case w.pmtN == w.pmt.NbOfTxs:
		return w.fail(totalsError(w.pmtName(), w.pmt.NbOfTxs, w.pmt.CtrlSum, w.pmtN+1, w.pmtSum+tx.Amount))
	case w.n == w.header.NbOfTxs:
		return w.fail(totalsError("the group header", w.header.NbOfTxs, w.header.CtrlSum, w.n+1, w.sum+tx.Amount))
	}
	if _, dup := w.e2e[tx.EndToEndID]; dup {
		return w.fail(&FieldError{PmtInfID: w.pmt.ID, EndToEndID: tx.EndToEndID, Field: "Transaction.EndToEndID", Problem: "is not unique in the file"})
	}
	w.e2e[tx.EndToEndID] = struct{}{}
	w.n, w.pmtN = w.n+1, w.pmtN+1
	w.sum, w.pmtSum = w.sum+tx.Amount, w.pmtSum+tx.Amount

	x := &w.x
	x.start("DrctDbtTxInf")
	x.leaf("PmtId/EndToEndId", tx.EndToEndID)
	x.amount("InstdAmt", tx.Amount)
	x.start("DrctDbtTx", "MndtRltdInf")
	x.leaf("MndtId", tx.MandateID)
	x.leaf("DtOfSgntr", tx.MandateSigned.String())
	x.end("MndtRltdInf", "DrctDbtTx")
	w.agent("DbtrAgt", tx.DebtorBIC)
	x.leaf("Dbtr/Nm", tx.DebtorName)
	x.leaf("DbtrAcct/Id/IBAN", tx.DebtorIBAN)
	if tx.RemittanceInfo != "" {
		x.leaf("RmtInf/Ustrd", tx.RemittanceInfo)
	}
	x.end("DrctDbtTxInf")
	return w.fail(x.err)
}

// Close closes the open payment information and the document, checks the totals and
// flushes. It fails, and the output must be discarded, when no payment information was
// started or when what was written differs from what the group header or a payment
// information declared (ErrTotals).
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if !w.pmtOpen {
		return w.fail(errors.New("pain008: no payment information: a file needs at least one"))
	}
	if err := w.endPaymentInfo(); err != nil {
		return w.fail(err)
	}
	if w.n != w.header.NbOfTxs || w.sum != w.header.CtrlSum {
		return w.fail(totalsError("the group header", w.header.NbOfTxs, w.header.CtrlSum, w.n, w.sum))
	}
	w.x.end("CstmrDrctDbtInitn", "Document")
	if w.x.err == nil {
		w.x.err = w.x.b.Flush()
	}
	if w.x.err != nil {
		return w.fail(w.x.err)
	}
	w.err = errClosed
	return nil
}

// endPaymentInfo checks the totals of the open payment information and closes it.
func (w *Writer) endPaymentInfo() error {
	if w.pmtN != w.pmt.NbOfTxs || w.pmtSum != w.pmt.CtrlSum {
		return totalsError(w.pmtName(), w.pmt.NbOfTxs, w.pmt.CtrlSum, w.pmtN, w.pmtSum)
	}
	w.x.end("PmtInf")
	w.pmtOpen = false
	return w.x.err
}

func (w *Writer) pmtName() string { return "payment information " + strconv.Quote(w.pmt.ID) }

// agent writes a creditor's or debtor's agent: its BIC, or Othr/Id NOTPROVIDED.
func (w *Writer) agent(name, bic string) {
	if bic == "" {
		w.x.leaf(name+"/FinInstnId/Othr/Id", notProvided)
		return
	}
	w.x.leaf(name+"/FinInstnId/"+w.profile.bicElement(), bic)
}

// fail records err, if not nil, as the Writer's error and returns it.
func (w *Writer) fail(err error) error {
	if err != nil {
		w.err = err
	}
	return err
}

// xmlWriter writes indented elements, keeping the first write error.
type xmlWriter struct {
	b     *bufio.Writer
	depth int
	err   error
}

const indent = "                                        "

func (x *xmlWriter) raw(s string) {
	if x.err == nil {
		_, x.err = x.b.WriteString(s)
	}
}

func (x *xmlWriter) open(name string) {
	x.raw(indent[:2*x.depth])
	x.raw("<")
	x.raw(name)
	x.raw(">")
}

func (x *xmlWriter) close(name string) {
	x.raw("</")
	x.raw(name)
	x.raw(">\n")
}

// start opens the elements names, each inside the previous one, one per line.
func (x *xmlWriter) start(names ...string) {
	for _, name := range names {
		x.open(name)
		x.raw("\n")
		x.depth++
	}
}

// end closes the elements names, in this order.
func (x *xmlWriter) end(names ...string) {
	for _, name := range names {
		x.depth--
		x.raw(indent[:2*x.depth])
		x.close(name)
	}
}

// leaf writes an element of text, escaped; path may go through enclosing elements, as in
// "Dbtr/Nm".
func (x *xmlWriter) leaf(path, text string) {
	if outer, inner, ok := strings.Cut(path, "/"); ok {
		x.start(outer)
		x.leaf(inner, text)
		x.end(outer)
		return
	}
	x.open(path)
	if x.err == nil {
		x.err = xml.EscapeText(x.b, []byte(text))
	}
	x.close(path)
}

// amount writes an amount of euro.
func (x *xmlWriter) amount(name string, c money.Cents) {
	x.raw(indent[:2*x.depth])
	x.raw("<" + name + ` Ccy="EUR">` + c.Decimal())
	x.close(name)
}
