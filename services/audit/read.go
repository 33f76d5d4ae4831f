package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"incasso/db/dbgen"
)

// BrokenError says where the chain breaks: the first entry whose hash or link is wrong, or
// the head when the newest entries are missing.
type BrokenError struct {
	ID  int64 // the entry; 0 for the head
	Why string
}

func (e *BrokenError) Error() string {
	if e.ID == 0 {
		return "audit trail broken at its head: " + e.Why
	}
	return fmt.Sprintf("audit trail broken at entry %d: %s", e.ID, e.Why)
}

// Verify walks the whole chain from its anchor (the last entry purged, or the start) and
// returns how many entries it checked, or a *BrokenError naming the first one that does not
// hold.
func (t Trail) Verify(ctx context.Context) (int, error) {
	q := dbgen.New(t.Pool)
	head, err := q.GetAuditHead(ctx) // read first: entries appended meanwhile come after it
	if err != nil {
		return 0, fmt.Errorf("read audit head: %w", err)
	}
	prev, after, n := head.AnchorHash, head.AnchorID, 0
	for {
		rows, err := q.ListAuditChain(ctx, dbgen.ListAuditChainParams{ID: after, Limit: 1000})
		if err != nil {
			return n, fmt.Errorf("read audit trail: %w", err)
		}
		for _, r := range rows {
			if r.ID > head.LastID {
				break
			}
			s, err := stored(r)
			if err != nil {
				return n, &BrokenError{ID: r.ID, Why: "unreadable targets"}
			}
			if !bytes.Equal(s.PrevHash, prev) {
				return n, &BrokenError{ID: r.ID, Why: "its previous hash is not the hash of the entry before (an entry removed or inserted)"}
			}
			if !bytes.Equal(s.computeHash(), s.Hash) {
				return n, &BrokenError{ID: r.ID, Why: "its hash does not match its content (altered)"}
			}
			prev, after, n = s.Hash, s.ID, n+1
		}
		if len(rows) < 1000 || after >= head.LastID {
			break
		}
	}
	if after != head.LastID || !bytes.Equal(prev, head.Hash) {
		return n, &BrokenError{Why: fmt.Sprintf("the head names entry %d, the chain ends at %d (newest entries removed)", head.LastID, after)}
	}
	return n, nil
}

// Filter selects entries; zero fields select everything.
type Filter struct {
	Actor, Action string
	// Target selects entries with this target, e.g. {"iupd": "TARI-2026-0001"}.
	Target   map[string]string
	From, To time.Time // From included, To excluded
	Before   int64     // the cursor: entries older than this id
	Limit    int
}

// Search returns the entries of the filter, newest first.
func (t Trail) Search(ctx context.Context, f Filter) ([]Stored, error) {
	p := dbgen.SearchAuditParams{Before: f.Before, MaxRows: int32(f.Limit)}
	if p.Before <= 0 {
		p.Before = math.MaxInt64
	}
	if f.Actor != "" {
		p.Actor = pgtype.Text{String: f.Actor, Valid: true}
	}
	if f.Action != "" {
		p.Action = pgtype.Text{String: f.Action, Valid: true}
	}
	if len(f.Target) > 0 {
		b, err := json.Marshal(f.Target)
		if err != nil {
			return nil, err
		}
		p.Target = b
	}
	if !f.From.IsZero() {
		p.FromAt = pgtype.Timestamptz{Time: f.From, Valid: true}
	}
	if !f.To.IsZero() {
		p.ToAt = pgtype.Timestamptz{Time: f.To, Valid: true}
	}
	rows, err := dbgen.New(t.Pool).SearchAudit(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("search audit trail: %w", err)
	}
	out := make([]Stored, 0, len(rows))
	for _, r := range rows {
		s, err := stored(r)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
