package banksim

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"incasso/devstack/internal/jsonhttp"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa/camt053"
)

// defaultIBAN is the treasury account of the statements when Config.IBAN is empty.
const defaultIBAN = "IT60X0542811101000000123456"

// Credit asks the bank to book a PSP's credit transfer of a pagoPA flow on the treasury
// account: AmountCents with the remittance /PUR/LGPE-RIVERSAMENTO/URI/<FlowID>, in Split
// bookings (0 or 1: one; the fault "split credit": several, the last taking the remainder).
// A missing credit is a flow the test does not credit.
type Credit struct {
	FlowID      string      `json:"flowId"`
	AmountCents money.Cents `json:"amountCents"`
	Split       int         `json:"split,omitempty"`
}

// CloseDay asks the bank to publish the statement of Date: every booking not yet stated
// whose booking date is Date or earlier. First it credits, booked on Date, every flow of
// Config.Flows it has not credited yet, but for the faults: the flows of Missing are never
// credited (a missing credit), those of Split are credited in two bookings (a split credit).
type CloseDay struct {
	Date    date.Date `json:"date"`
	Missing []string  `json:"missing,omitempty"`
	Split   []string  `json:"split,omitempty"`
}

// book adds e to the entries of the next statement, with the bank's next reference. The
// caller holds b.mu.
func (b *Bank) book(e camt053.Entry) string {
	b.refs++
	e.Ref = fmt.Sprintf("BK%010d", b.refs)
	b.pending = append(b.pending, e)
	return e.Ref
}

func (b *Bank) postCredit(w http.ResponseWriter, r *http.Request) {
	var c Credit
	if !decode(w, r, &c) {
		return
	}
	parts := max(c.Split, 1)
	remittance := camt053.FlowPrefix + c.FlowID
	if c.FlowID == "" || len(c.FlowID) > 35 || camt053.FlowIDOf(remittance) != c.FlowID ||
		c.AmountCents < money.Cents(parts) || parts > 10 {
		writeError(w, http.StatusBadRequest, "credit: flowId (1-35 characters, no space), amountCents of at least a cent a booking and split 0 to 10 are required")
		return
	}
	day := date.InRome(b.cfg.Now())
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg.Logger.Info("bank: flow credited", "flowId", c.FlowID, "cents", int64(c.AmountCents), "bookings", parts)
	jsonhttp.Write(w, http.StatusCreated, map[string][]string{"refs": b.credit(c, day)})
}

// credit books c on day, in c.Split bookings, and returns their references. The caller
// holds b.mu.
func (b *Bank) credit(c Credit, day date.Date) []string {
	parts := max(c.Split, 1)
	var refs []string
	share := c.AmountCents / money.Cents(parts)
	for i := range parts {
		amount := share
		if i == parts-1 {
			amount = c.AmountCents - share*money.Cents(parts-1)
		}
		refs = append(refs, b.book(camt053.Entry{Kind: camt053.FlowCredit, Amount: amount, Credit: true, BookingDate: day,
			Remittance: camt053.FlowPrefix + c.FlowID, FlowID: c.FlowID}))
	}
	b.credited[c.FlowID] = true
	return refs
}

// creditFlows credits on c.Date every flow of Config.Flows not credited yet, with c's
// faults. The caller holds b.mu.
func (b *Bank) creditFlows(c CloseDay) {
	if b.cfg.Flows == nil {
		return
	}
	for _, f := range b.cfg.Flows() {
		switch {
		case b.credited[f.FlowID] || f.AmountCents < 1:
		case slices.Contains(c.Missing, f.FlowID):
			b.credited[f.FlowID] = true
			b.cfg.Logger.Info("bank: flow never credited (fault)", "flowId", f.FlowID)
		default:
			f.Split = 1
			if slices.Contains(c.Split, f.FlowID) && f.AmountCents >= 2 {
				f.Split = 2
			}
			b.credit(f, c.Date)
		}
	}
}

// bookCollection books the credit of the collections of f that were not rejected, on the
// day its report is ready. The caller holds b.mu.
func (b *Bank) bookCollection(f *file, accepted money.Cents, pmtInfID string) {
	if accepted == 0 {
		return
	}
	b.book(camt053.Entry{Kind: camt053.SDDBatch, Amount: accepted, Credit: true, BookingDate: date.InRome(f.ready),
		BatchMsgID: f.msgID, PmtInfID: pmtInfID})
}

// bookReturn books the debit of a returned collection. The caller holds b.mu.
func (b *Bank) bookReturn(endToEndID string, amount money.Cents, at time.Time) {
	b.book(camt053.Entry{Kind: camt053.SDDReturn, Amount: amount, BookingDate: date.InRome(at), EndToEndIDs: []string{endToEndID}})
}

func (b *Bank) postCloseDay(w http.ResponseWriter, r *http.Request) {
	var c CloseDay
	if !decode(w, r, &c) {
		return
	}
	if c.Date.IsZero() {
		writeError(w, http.StatusBadRequest, "close day: date is required")
		return
	}
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.creditFlows(c)
	id := fmt.Sprintf("%012d", len(b.statements)+1)
	s := camt053.Statement{MsgID: "STM" + id, Created: now, ID: "STM-" + c.Date.String(), IBAN: b.iban(), Date: c.Date, Opening: b.balance}
	var rest []camt053.Entry
	for _, e := range b.pending {
		if c.Date.Before(e.BookingDate) {
			rest = append(rest, e)
			continue
		}
		s.Entries = append(s.Entries, e)
		if e.Credit {
			s.Closing += e.Amount
		} else {
			s.Closing -= e.Amount
		}
	}
	s.Closing += s.Opening
	var buf bytes.Buffer
	if err := camt053.Write(&buf, s); err != nil {
		b.cfg.Logger.Error("bank: write statement", "date", c.Date.String(), "err", err)
		writeError(w, http.StatusInternalServerError, "cannot write the statement")
		return
	}
	b.pending, b.balance = rest, s.Closing
	b.statements = append(b.statements, notification{id: id, xml: buf.Bytes()})
	b.cfg.Logger.Info("bank: statement published", "statement", id, "date", c.Date.String(), "entries", len(s.Entries))
	jsonhttp.Write(w, http.StatusCreated, map[string]string{"id": id})
}

func (b *Bank) iban() string {
	if b.cfg.IBAN != "" {
		return b.cfg.IBAN
	}
	return defaultIBAN
}

func (b *Bank) listStatements(w http.ResponseWriter, r *http.Request) {
	b.listDocuments(w, r, "statements", func() []notification { return b.statements })
}

func (b *Bank) listNotifications(w http.ResponseWriter, r *http.Request) {
	b.listDocuments(w, r, "notifications", func() []notification { return b.notifications })
}

// listDocuments serves a page of the documents that all returns, under key, after the
// cursor ?after= and at most ?limit= of them. all is called with b.mu held.
func (b *Bank) listDocuments(w http.ResponseWriter, r *http.Request, key string, all func() []notification) {
	q := r.URL.Query()
	limit := defaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be 1 to %d", maxLimit))
			return
		}
		limit = n
	}
	after := q.Get("after")
	b.mu.Lock()
	docs := all()
	i := sort.Search(len(docs), func(i int) bool { return docs[i].id > after })
	page := slices.Clone(docs[i:min(i+limit, len(docs))])
	b.mu.Unlock()
	type item struct {
		ID  string `json:"id"`
		XML []byte `json:"xml"` // base64 in JSON
	}
	items := make([]item, len(page))
	for i, n := range page {
		items[i] = item{ID: n.id, XML: n.xml}
	}
	jsonhttp.Write(w, http.StatusOK, map[string][]item{key: items})
}
