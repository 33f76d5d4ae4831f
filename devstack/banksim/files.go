package banksim

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"incasso/devstack/internal/jsonhttp"
	"incasso/devstack/specs"
	"incasso/domain/money"
	"incasso/domain/sepa/pain002"
	"incasso/domain/sepa/pain008"
)

// maxFileSize is the largest pain.008 the bank takes.
const maxFileSize = 256 << 20

// Statuses of the pain.002 at group and payment-information level.
const (
	statusAccepted = "ACCP"
	statusPartial  = "PART"
	statusRejected = "RJCT"
)

// file is a pain.008 the bank received, with the status report it decided on arrival. It
// does not change once stored.
type file struct {
	msgID    string
	sum      [sha256.Size]byte
	received time.Time
	ready    time.Time // when the report becomes available
	txs      int
	rejected int
	codes    map[string]int // number of rejected transactions by reason code
	status   string         // at group level
	reason   string         // of a file rejected as a whole
	report   []byte         // the pain.002
}

// tx is a transaction the bank received, for returns.
type tx struct {
	file     *file
	amount   money.Cents
	rejected bool
	returned bool
}

// FileSummary is what GET /sim/bank/files tells of a received file.
type FileSummary struct {
	MsgID        string         `json:"msgId"`
	Received     time.Time      `json:"received"`
	Transactions int            `json:"transactions"`
	Rejected     int            `json:"rejected"`
	Rejects      map[string]int `json:"rejects,omitempty"` // reason code -> number of transactions
	Status       string         `json:"status"`            // of the pain.002: ACCP, PART or RJCT
	Reason       string         `json:"reason,omitempty"`  // of a file rejected as a whole
	Ready        bool           `json:"ready"`             // whether the pain.002 is available
}

func (b *Bank) submit(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFileSize))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			b.cfg.Logger.Info("bank: file refused, too large")
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("file larger than %d bytes", maxFileSize))
			return
		}
		writeError(w, http.StatusBadRequest, "read file: "+err.Error())
		return
	}
	doc, name, err := b.parse(data)
	if errors.Is(err, specs.ErrNoXmllint) {
		b.cfg.Logger.Error("bank: file not checked, cannot validate", "err", err)
		writeError(w, http.StatusInternalServerError, "the bank cannot validate files: "+err.Error())
		return
	}
	if err != nil {
		b.cfg.Logger.Info("bank: file refused, invalid", "bytes", len(data))
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if h := r.Header.Get("X-Message-Id"); h != "" && h != doc.MsgID {
		b.cfg.Logger.Info("bank: file refused, other MsgId", "msgId", doc.MsgID, "header", h)
		writeError(w, http.StatusBadRequest, fmt.Sprintf("MsgId of the file %q is not %q of X-Message-Id", doc.MsgID, h))
		return
	}
	sum := sha256.Sum256(data)
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok := b.files[doc.MsgID]; ok {
		if f.sum != sum {
			b.cfg.Logger.Info("bank: file refused, MsgId used by another file", "msgId", doc.MsgID)
			writeError(w, http.StatusConflict, "MsgId already used for another file")
			return
		}
		b.cfg.Logger.Info("bank: file submitted again", "msgId", doc.MsgID)
		jsonhttp.Write(w, http.StatusOK, map[string]string{"msgId": doc.MsgID})
		return
	}
	f, err := b.receive(doc, name, sum)
	if err != nil {
		b.cfg.Logger.Error("bank: write status report", "msgId", doc.MsgID, "err", err)
		writeError(w, http.StatusInternalServerError, "cannot write the status report")
		return
	}
	b.cfg.Logger.Info("bank: file received", "msgId", f.msgID, "transactions", f.txs,
		"status", f.status, "rejects", f.codes)
	jsonhttp.Write(w, http.StatusAccepted, map[string]string{"msgId": doc.MsgID})
}

// parse checks data against the XSD of its message and reads it. It returns the
// message name too, e.g. "pain.008.001.08".
func (b *Bank) parse(data []byte) (pain008.File, string, error) {
	name, err := messageName(data)
	if err != nil {
		return pain008.File{}, "", err
	}
	if err := specs.Validate(data, "sepa", name+".xsd"); err != nil {
		return pain008.File{}, "", err
	}
	doc, err := pain008.Parse(bytes.NewReader(data))
	return doc, name, err
}

// messageName returns the message of a pain.008.001.08 or .02 document, by the namespace of
// its root element.
func messageName(data []byte) (string, error) {
	const ns = "urn:iso:std:iso:20022:tech:xsd:"
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("not an XML document: %w", err)
		}
		if root, ok := tok.(xml.StartElement); ok {
			name := strings.TrimPrefix(root.Name.Space, ns)
			if root.Name.Local != "Document" || (name != "pain.008.001.08" && name != "pain.008.001.02") {
				return "", fmt.Errorf("root element {%s}%s is not the Document of pain.008.001.08 or .02", root.Name.Space, root.Name.Local)
			}
			return name, nil
		}
	}
}

// receive decides the fate of every transaction of doc, writes the status report and stores
// the file. The caller holds b.mu.
func (b *Bank) receive(doc pain008.File, name string, sum [sha256.Size]byte) (*file, error) {
	now := b.cfg.Now()
	f := &file{msgID: doc.MsgID, sum: sum, received: now, ready: now.Add(b.cfg.Delay), codes: map[string]int{}}
	rep := pain002.Report{
		MsgID: fmt.Sprintf("STS%012d", len(b.order)+1), Created: f.ready,
		OriginalMsgID: doc.MsgID, OriginalMsgName: name,
	}
	f.reason = b.takeFileReject()
	txs := map[string]*tx{}
	var accepted money.Cents
	for _, batch := range doc.PaymentInfos {
		st := pain002.PaymentInfoStatus{OriginalPmtInfID: batch.ID}
		for _, t := range batch.Transactions {
			f.txs++
			code := f.reason
			if code == "" {
				code = b.rejectCode(t)
			}
			txs[t.EndToEndID] = &tx{file: f, amount: t.Amount, rejected: code != ""}
			if code == "" {
				accepted += t.Amount
				continue
			}
			f.rejected++
			f.codes[code]++
			if f.reason == "" { // a file rejected as a whole lists no transaction
				st.Transactions = append(st.Transactions, pain002.TransactionStatus{OriginalEndToEndID: t.EndToEndID, Status: statusRejected, Reason: code})
			}
		}
		if n := len(st.Transactions); n > 0 {
			st.Status = status(n, len(batch.Transactions))
			rep.PaymentInfos = append(rep.PaymentInfos, st)
		}
	}
	f.status = status(f.rejected, f.txs)
	rep.GroupStatus, rep.GroupReason = f.status, f.reason
	var buf bytes.Buffer
	if err := pain002.Write(&buf, rep); err != nil {
		return nil, err
	}
	f.report = buf.Bytes()
	b.files[f.msgID] = f
	b.order = append(b.order, f)
	for id, t := range txs {
		b.txs[id] = t
	}
	pmtInfID := "" // the file's one payment information, if it has one
	if len(doc.PaymentInfos) == 1 {
		pmtInfID = doc.PaymentInfos[0].ID
	}
	b.bookCollection(f, accepted, pmtInfID)
	return f, nil
}

// status is the status of a group of total transactions of which rejected were rejected.
func status(rejected, total int) string {
	switch rejected {
	case 0:
		return statusAccepted
	case total:
		return statusRejected
	}
	return statusPartial
}

func (b *Bank) report(w http.ResponseWriter, r *http.Request) {
	msgID := r.PathValue("msgId")
	b.mu.Lock()
	f, ok := b.files[msgID]
	b.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "unknown file")
		return
	}
	if wait := f.ready.Sub(b.cfg.Now()); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		jsonhttp.Write(w, http.StatusAccepted, map[string]string{"status": "not ready"})
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write(f.report)
}

func (b *Bank) listFiles(w http.ResponseWriter, _ *http.Request) {
	now := b.cfg.Now()
	b.mu.Lock()
	out := make([]FileSummary, len(b.order))
	for i, f := range b.order {
		out[i] = FileSummary{
			MsgID: f.msgID, Received: f.received, Transactions: f.txs, Rejected: f.rejected,
			Rejects: maps.Clone(f.codes), Status: f.status, Reason: f.reason, Ready: !now.Before(f.ready),
		}
	}
	b.mu.Unlock()
	jsonhttp.Write(w, http.StatusOK, out)
}
