package reconciliation

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/services/fault"
)

// The resolutions a finance user may give a difference.
const (
	Accepted        = "ACCEPTED"         // the difference is right as it is (e.g. the flow's amount)
	RefundRequested = "REFUND_REQUESTED" // the money goes back to the payer
	WrittenOff      = "WRITTEN_OFF"      // the amount is written off the books
)

// MaxReasonLength bounds the reason of a resolution.
const MaxReasonLength = 500

// Difference is one difference with what it concerns and its resolution, if any.
type Difference struct {
	ID            int64        `json:"id"`
	Reason        string       `json:"reason"` // the code: NO_RECEIPT, AMOUNT_DIFFERS, NO_FLOW_LINE...
	ReceiptID     string       `json:"receiptId,omitempty"`
	IUPD          string       `json:"iupd,omitempty"`
	FlowID        string       `json:"flowId,omitempty"`
	FlowRevision  int32        `json:"flowRevision,omitempty"`
	ExpectedCents *money.Cents `json:"expectedCents,omitempty"` // the receipt's
	ReportedCents *money.Cents `json:"reportedCents,omitempty"` // the flow line's
	Detail        string       `json:"detail,omitempty"`
	DetectedOn    date.Date    `json:"detectedOn"`
	Resolution    *Resolution  `json:"resolution,omitempty"`
}

// Resolution is how a difference was settled, by whom and why.
type Resolution struct {
	Resolution string    `json:"resolution"`
	By         string    `json:"by"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

// Filter selects differences: open ones unless Resolved, of one reason code if given, newest
// first before the id Before (0: from the newest), Limit of them.
type Filter struct {
	Reason   string
	Resolved bool
	Before   int64
	Limit    int
}

// List returns a page of differences.
func List(ctx context.Context, pool *pgxpool.Pool, f Filter) ([]Difference, error) {
	before := f.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := dbgen.New(pool).ListReconciliationDifferences(ctx, dbgen.ListReconciliationDifferencesParams{
		BeforeID: before, IncludeResolved: f.Resolved, Reason: pgtype.Text{String: f.Reason, Valid: f.Reason != ""}, MaxRows: int32(f.Limit),
	})
	if err != nil {
		return nil, fmt.Errorf("list differences: %w", err)
	}
	out := make([]Difference, 0, len(rows))
	for _, r := range rows {
		out = append(out, differenceOf(r))
	}
	return out, nil
}

// Resolve settles the open difference id as res says, by actor, for reason. The same
// resolution again answers the difference as it is; another one on a resolved difference is
// a conflict.
func Resolve(ctx context.Context, pool *pgxpool.Pool, id int64, res, actor, reason string) (Difference, error) {
	reason = strings.TrimSpace(reason)
	var errs []fault.FieldError
	switch res {
	case Accepted, RefundRequested, WrittenOff:
	default:
		errs = append(errs, fault.FieldError{Field: "resolution", Message: "required: ACCEPTED, REFUND_REQUESTED or WRITTEN_OFF"})
	}
	if reason == "" || len([]rune(reason)) > MaxReasonLength {
		errs = append(errs, fault.FieldError{Field: "reason", Message: fmt.Sprintf("required, at most %d characters", MaxReasonLength)})
	}
	if len(errs) > 0 {
		return Difference{}, fault.InvalidFields(errs...)
	}
	q := dbgen.New(pool)
	_, err := q.ResolveReconciliationDifference(ctx, dbgen.ResolveReconciliationDifferenceParams{ID: id, Resolution: res, Actor: actor, Reason: reason})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Difference{}, fmt.Errorf("resolve difference %d: %w", id, err)
	}
	d, err := get(ctx, q, id)
	if err != nil {
		return Difference{}, err
	}
	if r := d.Resolution; r == nil || r.Resolution != res || r.Reason != reason || r.By != actor {
		return Difference{}, fault.New(fault.Conflict, fmt.Sprintf("difference %d is resolved already (%s)", id, r.Resolution))
	}
	return d, nil
}

// ResolveFlaggedReceipt settles the review of a flagged receipt (by pagoPA's receipt id) like
// a difference: one of reason RECEIPT_FLAGGED is opened for it, once, and resolved.
func ResolveFlaggedReceipt(ctx context.Context, pool *pgxpool.Pool, receiptID, res, actor, reason string) (Difference, error) {
	q := dbgen.New(pool)
	rc, err := q.GetReceiptFlag(ctx, receiptID)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) || (err == nil && !rc.Flag.Valid) {
		return Difference{}, fault.New(fault.NotFound, "no flagged receipt with this id")
	} else if err != nil {
		return Difference{}, err
	}
	id, err := q.OpenReceiptFlagDifference(ctx, rc.ID)
	if err != nil {
		return Difference{}, fmt.Errorf("open the review of a flagged receipt: %w", err)
	}
	return Resolve(ctx, pool, id, res, actor, reason)
}

func get(ctx context.Context, q *dbgen.Queries, id int64) (Difference, error) {
	rows, err := q.ListReconciliationDifferences(ctx, dbgen.ListReconciliationDifferencesParams{
		BeforeID: math.MaxInt64, OnlyID: pgtype.Int8{Int64: id, Valid: true}, IncludeResolved: true, MaxRows: 1,
	})
	if err != nil {
		return Difference{}, fmt.Errorf("read difference %d: %w", id, err)
	}
	if len(rows) == 0 {
		return Difference{}, fault.New(fault.NotFound, "no difference with this id")
	}
	return differenceOf(rows[0]), nil
}

func differenceOf(r dbgen.ListReconciliationDifferencesRow) Difference {
	d := Difference{
		ID: r.ID, Reason: r.Reason, ReceiptID: r.ReceiptRef.String, IUPD: r.Iupd.String, FlowID: r.FdrFlowRef.String,
		FlowRevision: r.FdrRevision.Int32, ExpectedCents: cents(r.ExpectedCents), ReportedCents: cents(r.ReportedCents),
		Detail: r.Detail, DetectedOn: date.Of(r.DetectedOn),
	}
	if r.Resolution.Valid {
		d.Resolution = &Resolution{Resolution: r.Resolution.String, By: r.ResolvedBy.String, Reason: r.ResolutionReason.String, At: r.ResolvedAt.Time}
	}
	return d
}

func cents(v pgtype.Int8) *money.Cents {
	if !v.Valid {
		return nil
	}
	c := money.Cents(v.Int64)
	return &c
}
