package banksim

import (
	"bytes"
	"fmt"
	"net/http"

	"incasso/devstack/internal/jsonhttp"
	"incasso/domain/date"
	"incasso/domain/sepa/camt054"
)

// Return asks the bank to take back a collected transaction: a return (Refund false, e.g.
// AM04 up to D+5) or a refund to the debtor (Refund true, e.g. MD06 within 8 weeks).
type Return struct {
	EndToEndID string `json:"endToEndId"`
	Reason     string `json:"reason"`
	Refund     bool   `json:"refund,omitempty"`
}

// notification is a published document: a camt.054, or a camt.053 statement.
type notification struct {
	id  string // zero-padded sequence number, so that ids sort
	xml []byte
}

// Bounds of GET /bank/notifications?limit=.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

func (b *Bank) postReturn(w http.ResponseWriter, r *http.Request) {
	var ret Return
	if !decode(w, r, &ret) {
		return
	}
	if ret.EndToEndID == "" || !validCode(ret.Reason) {
		writeError(w, http.StatusBadRequest, "return: endToEndId and a 4-character reason are required")
		return
	}
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.txs[ret.EndToEndID]
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "unknown transaction")
		return
	case t.rejected:
		writeError(w, http.StatusConflict, "transaction rejected, never collected")
		return
	case now.Before(t.file.ready):
		writeError(w, http.StatusConflict, "transaction not collected yet")
		return
	case t.returned:
		writeError(w, http.StatusConflict, "transaction already returned")
		return
	}
	id := fmt.Sprintf("%012d", len(b.notifications)+1)
	n := camt054.Notification{MsgID: "NTF" + id, Created: now, Returns: []camt054.Return{{
		EndToEndID: ret.EndToEndID, Amount: t.amount, Reason: ret.Reason, Refund: ret.Refund,
		BookingDate: date.InRome(now),
	}}}
	var buf bytes.Buffer
	if err := camt054.Write(&buf, n); err != nil {
		b.cfg.Logger.Error("bank: write notification", "msgId", t.file.msgID, "err", err)
		writeError(w, http.StatusInternalServerError, "cannot write the notification")
		return
	}
	t.returned = true
	b.bookReturn(ret.EndToEndID, t.amount, now)
	b.notifications = append(b.notifications, notification{id: id, xml: buf.Bytes()})
	b.cfg.Logger.Info("bank: return published", "notification", id, "msgId", t.file.msgID, "reason", ret.Reason, "refund", ret.Refund)
	jsonhttp.Write(w, http.StatusCreated, map[string]string{"id": id})
}
