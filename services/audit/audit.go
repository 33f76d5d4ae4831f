// Package audit is the audit trail: who did what to which record, why, from where, with what
// outcome. Every request that changes something and every read of a person's data appends one
// entry. The table is append-only (a trigger refuses UPDATE, DELETE and TRUNCATE) and chained:
// each entry's hash is SHA-256 over the entry in canonical form and the previous entry's hash,
// and audit_head keeps the last hash, so that Verify finds a row altered, removed or added out
// of turn. Entries are kept 10 years; Purge deletes older ones and keeps the chain verifiable
// from the last one deleted.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/services/access"
)

// RetentionYears is how long entries are kept.
const RetentionYears = 10

// Entry is one audited request.
type Entry struct {
	At     time.Time
	Actor  string // access.Principal.Actor: "client:<name>" or "user:<name>"
	Role   access.Role
	Action string // the method and the route's pattern: "POST /v1/debts/:iupd/cancel"
	// Targets are the ids of what the request touched or read: iupd, campaign or message
	// ids, a debtor only by Pseudonym. Never personal data in clear.
	Targets map[string]string
	Reason  string // the reason the request gave, if any
	IP      string
	Outcome int // the HTTP status answered
}

// Stored is an entry as the trail keeps it.
type Stored struct {
	ID int64
	Entry
	PrevHash, Hash []byte
}

// Wanted reports whether a request to a route of that rule is audited: every method that may
// change something, and reads of personal data.
func Wanted(method string, r access.Rule) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return r.PersonalData
	default:
		return !r.Open
	}
}

// Pseudonym is how a debtor's fiscal code appears among the targets: an HMAC under the
// trail's key, the same for the same code, which only the key's holder can link to a person.
func Pseudonym(key []byte, fiscalCode string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(fiscalCode))
	return "hmac:" + hex.EncodeToString(m.Sum(nil)[:16])
}

// PseudonymKey is the key of the pseudonyms: the audit key (INCASSO_AUDIT_KEY), else the
// console's, else a random one for this process.
func PseudonymKey(auditKey, consoleKey string) []byte {
	for _, k := range []string{auditKey, consoleKey} {
		if k != "" {
			return []byte(k)
		}
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k) // never fails
	return k
}

// Trail appends to and reads the audit trail in PostgreSQL.
type Trail struct{ Pool *pgxpool.Pool }

// Append chains the entry after the last one, under the head's row lock, and returns its id.
func (t Trail) Append(ctx context.Context, e Entry) (int64, error) {
	e.At = e.At.UTC().Truncate(time.Microsecond) // as PostgreSQL keeps it
	if e.Targets == nil {
		e.Targets = map[string]string{}
	}
	targets, err := json.Marshal(e.Targets)
	if err != nil {
		return 0, err
	}
	var id int64
	err = db.InTx(ctx, t.Pool, func(q *dbgen.Queries) error {
		head, err := q.LockAuditHead(ctx)
		if err != nil {
			return fmt.Errorf("lock audit head: %w", err)
		}
		if id, err = q.NextAuditID(ctx); err != nil {
			return err
		}
		s := Stored{ID: id, Entry: e, PrevHash: head.Hash}
		s.Hash = s.computeHash()
		if err := q.InsertAuditEntry(ctx, dbgen.InsertAuditEntryParams{
			ID: id, At: pgtype.Timestamptz{Time: e.At, Valid: true}, Actor: e.Actor, Role: string(e.Role),
			Action: e.Action, Targets: targets, Reason: e.Reason, Ip: e.IP, Outcome: int32(e.Outcome),
			PrevHash: s.PrevHash, Hash: s.Hash,
		}); err != nil {
			return fmt.Errorf("append audit entry: %w", err)
		}
		return q.SetAuditHead(ctx, dbgen.SetAuditHeadParams{LastID: id, Hash: s.Hash})
	})
	return id, err
}

// Purge deletes the entries older than RetentionYears (those before the first younger one),
// in one transaction under the head's lock, and keeps the last one's id and hash as the
// anchor Verify starts from. It returns how many it deleted. The table's trigger refuses any
// younger entry whatever the caller asks.
func (t Trail) Purge(ctx context.Context, now time.Time) (int64, error) {
	cutoff := now.AddDate(-RetentionYears, 0, -1) // a day's margin on the database's clock
	var n int64
	err := db.InTx(ctx, t.Pool, func(q *dbgen.Queries) error {
		head, err := q.LockAuditHead(ctx)
		if err != nil {
			return fmt.Errorf("lock audit head: %w", err)
		}
		last, err := q.LastAuditIDBefore(ctx, pgtype.Timestamptz{Time: cutoff, Valid: true})
		if err != nil || last <= head.AnchorID {
			return err // nothing older left
		}
		hash, err := q.AuditEntryHash(ctx, last)
		if err != nil {
			return fmt.Errorf("read audit entry %d: %w", last, err)
		}
		if err := q.AllowAuditPurge(ctx); err != nil {
			return err
		}
		if n, err = q.PurgeAuditUpTo(ctx, last); err != nil {
			return fmt.Errorf("purge audit trail: %w", err)
		}
		return q.SetAuditAnchor(ctx, dbgen.SetAuditAnchorParams{AnchorID: last, AnchorHash: hash})
	})
	return n, err
}

// canonical is the form an entry is hashed in: fixed field order, times in UTC to the
// microsecond, targets as JSON with sorted keys.
type canonical struct {
	ID      int64             `json:"id"`
	At      string            `json:"at"`
	Actor   string            `json:"actor"`
	Role    string            `json:"role"`
	Action  string            `json:"action"`
	Targets map[string]string `json:"targets"`
	Reason  string            `json:"reason"`
	IP      string            `json:"ip"`
	Outcome int               `json:"outcome"`
	Prev    string            `json:"prev"`
}

func (s Stored) computeHash() []byte {
	targets := s.Targets
	if targets == nil {
		targets = map[string]string{}
	}
	b, _ := json.Marshal(canonical{ // cannot fail: strings and numbers
		ID: s.ID, At: s.At.UTC().Format(time.RFC3339Nano), Actor: s.Actor, Role: string(s.Role), Action: s.Action,
		Targets: targets, Reason: s.Reason, IP: s.IP, Outcome: s.Outcome, Prev: hex.EncodeToString(s.PrevHash),
	})
	sum := sha256.Sum256(b)
	return sum[:]
}

func stored(r dbgen.AuditLog) (Stored, error) {
	s := Stored{ID: r.ID, PrevHash: r.PrevHash, Hash: r.Hash, Entry: Entry{
		At: r.At.Time, Actor: r.Actor, Role: access.Role(r.Role), Action: r.Action, Reason: r.Reason,
		IP: r.Ip, Outcome: int(r.Outcome),
	}}
	if err := json.Unmarshal(r.Targets, &s.Targets); err != nil {
		return s, fmt.Errorf("audit entry %d: targets: %w", r.ID, err)
	}
	return s, nil
}
