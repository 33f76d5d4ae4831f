// Package events reads the event feed: the outbox that triggers of migration 00017 write in
// the same transaction as each change of a debt, instalment plan, campaign or message. The
// feed is read in order after an opaque cursor, scoped to what the reader may see; webhooks
// deliver the same events.
package events

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"incasso/db/dbgen"
	"incasso/services/access"
	"incasso/services/fault"
)

// Types are every type of event, in the order the documentation lists them.
var Types = []string{
	"debt.created", "debt.issued", "debt.changed", "debt.overdue", "debt.ladder_step",
	"debt.enforcement", "debt.instalments", "debt.paid", "debt.cancelled", "debt.superseded",
	"instalment.paid", "instalment.rejected", "instalment.returned", "plan.completed", "plan.broken",
	"campaign.started", "campaign.finished", "campaign.cancelled", "campaign.withdrawn",
	"message.sent", "message.delivered",
}

// Event is one change, as the feed and the webhooks give it. Data holds ids, amounts in
// cents, dates and states: the debt's iupd, nav, service, amountCents, dueDate, status and
// what the type adds (the receipt of a debt.paid, the step of a debt.ladder_step...).
type Event struct {
	ID         string          `json:"id"` // "evt_<n>", the webhook-id of its deliveries
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurredAt"`
	Data       json.RawMessage `json:"data"`
}

// Page is a page of the feed and the cursor after it, to pass as after= for the next one
// (the same cursor when the page is empty: nothing new yet).
type Page struct {
	Events []Event `json:"events"`
	Next   string  `json:"next"`
}

// Cursor is a place in the feed: after the event (Txid, ID). The zero Cursor is the start.
type Cursor struct{ Txid, ID int64 }

// String is the cursor as the API hands it out: opaque, URL-safe.
func (c Cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.Txid, 10) + "." + strconv.FormatInt(c.ID, 10)))
}

// ParseCursor reads a cursor from String; empty is the start of the feed.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	txid, id, ok := strings.Cut(string(raw), ".")
	if err != nil || !ok {
		return Cursor{}, fmt.Errorf("not a cursor of this feed")
	}
	c := Cursor{}
	if c.Txid, err = strconv.ParseInt(txid, 10, 64); err != nil || c.Txid < 0 {
		return Cursor{}, fmt.Errorf("not a cursor of this feed")
	}
	if c.ID, err = strconv.ParseInt(id, 10, 64); err != nil || c.ID < 0 {
		return Cursor{}, fmt.Errorf("not a cursor of this feed")
	}
	return c, nil
}

// CheckTypes refuses an unknown event type, naming field.
func CheckTypes(field string, types []string) error {
	for i, t := range types {
		if !slices.Contains(Types, t) {
			return fault.InvalidFields(fault.FieldError{
				Field:   fmt.Sprintf("%s[%d]", field, i),
				Message: fmt.Sprintf("unknown event type %.40q: one of %s", t, strings.Join(Types, ", ")),
			})
		}
	}
	return nil
}

// Feed reads up to limit events after the cursor that p may see, of the types given (none:
// every type), in order.
func Feed(ctx context.Context, q *dbgen.Queries, p access.Principal, after Cursor, types []string, limit int) (Page, error) {
	rows, err := q.ListEvents(ctx, dbgen.ListEventsParams{
		AfterTxid: after.Txid, AfterID: after.ID,
		Role: string(p.Role), Services: nonNil(p.Services), AllDebts: p.AllDebts, Actor: p.Actor(),
		Types: nonNil(types), MaxRows: int32(limit),
	})
	if err != nil {
		return Page{}, fmt.Errorf("read the event feed: %w", err)
	}
	page := Page{Events: make([]Event, 0, len(rows)), Next: after.String()}
	for _, r := range rows {
		page.Events = append(page.Events, Event{ID: EventID(r.ID), Type: r.Type, OccurredAt: r.OccurredAt.Time, Data: r.Data})
		page.Next = Cursor{Txid: r.Txid, ID: r.ID}.String()
	}
	return page, nil
}

// EventID is the public id of event n: the webhook-id of every delivery of it.
func EventID(n int64) string { return "evt_" + strconv.FormatInt(n, 10) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
