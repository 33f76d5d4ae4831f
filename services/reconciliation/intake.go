// Package reconciliation traces every payment from its receipt to the reporting flow (FdR)
// that reports it: the intake stores each flow published for the comune once per revision and
// matches its lines to the receipts in sets, in SQL; every disagreement becomes a difference
// with a reason code, which the finance office resolves (accept, refund requested, written
// off) with a reason. One state per receipt (UNMATCHED, MATCHED_FLOW, RECONCILED, DIFFERENCE)
// says where it stands.
package reconciliation

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/clients/fdr"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/target2"
)

// Actor is who incasso's own closing of a difference is recorded as.
const Actor = "system:fdr-intake"

// Reason codes of the differences the intake records.
const (
	ReasonNoReceipt     = "NO_RECEIPT"     // a flow line reports a payment incasso has no receipt of
	ReasonAmountDiffers = "AMOUNT_DIFFERS" // the line's amount is not the receipt's transfer
	ReasonRevoked       = "REVOKED"        // the line reports the payment revoked (code 3)
	ReasonNoRPT         = "NO_RPT"         // paid without receipt (codes 8, 9), none found
	ReasonNoFlowLine    = "NO_FLOW_LINE"   // a receipt no flow line reported in time
	ReasonMalformedFlow = "MALFORMED_FLOW" // a flow that cannot be read
	ReasonReceiptFlag   = "RECEIPT_FLAGGED"
)

// Source is the part of the FdR API the intake reads.
type Source interface {
	ListFlows(ctx context.Context, organization string, publishedAfter time.Time, page, size int) ([]fdr.FlowRef, fdr.Page, error)
	GetFlow(ctx context.Context, organization, flowID string, revision int64, pspID string) (fdr.Flow, error)
	Payments(ctx context.Context, organization, flowID string, revision int64, pspID string, page, size int) ([]fdr.Payment, fdr.Page, []byte, error)
}

var _ Source = (*fdr.Client)(nil)

// ReceiptRecoverer asks pagoPA for the receipt of a notice (by IUV) and records it as the
// recovery job does, reporting whether one was recorded.
type ReceiptRecoverer interface {
	RecoverReceipt(ctx context.Context, iuv string) (bool, error)
}

// Intake reads the flows of one organization.
type Intake struct {
	Pool         *pgxpool.Pool
	FdR          Source
	Receipts     ReceiptRecoverer // nil: lines without receipt are flagged at once
	Organization string
	PageSize     int // payments per page; fdr.MaxPageSize when zero
}

// Pending lists every flow published after since (every page) that is not stored yet.
func (in *Intake) Pending(ctx context.Context, since time.Time) ([]fdr.FlowRef, error) {
	q := dbgen.New(in.Pool)
	var out []fdr.FlowRef
	for page := 1; ; page++ {
		refs, p, err := in.FdR.ListFlows(ctx, in.Organization, since, page, fdr.MaxPageSize)
		if err != nil {
			return nil, fmt.Errorf("list flows page %d: %w", page, err)
		}
		for _, r := range refs {
			_, err := q.GetFdrFlow(ctx, dbgen.GetFdrFlowParams{FlowID: r.FlowID, Revision: int32(r.Revision)})
			switch err = db.NotFound(err); {
			case errors.Is(err, db.ErrNotFound):
				out = append(out, r)
			case err != nil:
				return nil, fmt.Errorf("look flow %s up: %w", r.FlowID, err)
			}
		}
		if p.Last() || len(refs) == 0 {
			return out, nil
		}
	}
}

// FlowOutcome is what the intake of one flow did.
type FlowOutcome struct {
	FlowID    string           `json:"flowId"`
	Revision  int64            `json:"revision"`
	Stored    bool             `json:"stored"`              // false: stored already, nothing changed
	Malformed string           `json:"malformed,omitempty"` // the reason, for a MALFORMED flow
	Lines     map[string]int64 `json:"lines,omitempty"`     // by match outcome
	Recovered int              `json:"recovered,omitempty"` // receipts asked of pagoPA and recorded
}

// Store reads the flow ref names, header and every page of payments, and stores it with its
// lines matched, in one transaction: a flow stored already changes nothing. A flow that breaks
// the spec (or whose payments do not add up to its totals) is stored MALFORMED with the reason,
// without lines, and is a difference; that is an outcome, not an error. today is the day the
// differences are detected on.
func (in *Intake) Store(ctx context.Context, ref fdr.FlowRef, today date.Date) (FlowOutcome, error) {
	out := FlowOutcome{FlowID: ref.FlowID, Revision: ref.Revision}
	flow, err := in.FdR.GetFlow(ctx, in.Organization, ref.FlowID, ref.Revision, ref.PSPID)
	if errors.Is(err, fdr.ErrMalformed) {
		return in.malformed(ctx, ref, flow.Raw, sha256.Sum256(flow.Raw), err, today)
	}
	if err != nil {
		return out, fmt.Errorf("get flow %s revision %d: %w", ref.FlowID, ref.Revision, err)
	}
	lines := &lineSource{ctx: ctx, in: in, ref: ref, hash: sha256.New(), seen: map[int64]bool{}}
	lines.hash.Write(flow.Raw)
	err = pgx.BeginFunc(ctx, in.Pool, func(tx pgx.Tx) error {
		q := dbgen.New(tx)
		header := sha256.Sum256(flow.Raw) // until the pages are read
		id, err := q.InsertFdrFlow(ctx, flowRow(in.Organization, flow, "MATCHED", "", hex.EncodeToString(header[:])))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // stored already
		} else if err != nil {
			return fmt.Errorf("insert flow: %w", err)
		}
		out.Stored = true
		lines.flowRowID = id
		lines.start()
		defer lines.close()
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"fdr_flow_lines"}, lineColumns, lines); err != nil {
			if lines.err != nil {
				return lines.err
			}
			return fmt.Errorf("copy the lines: %w", err)
		}
		if err := lines.check(flow); err != nil {
			return err
		}
		if err := q.SetFdrFlowTotals(ctx, dbgen.SetFdrFlowTotalsParams{ID: id, Payments: lines.count, SumCents: int64(lines.sum),
			RawSha256: hex.EncodeToString(lines.hash.Sum(nil))}); err != nil {
			return err
		}
		if out.Recovered, err = in.match(ctx, q, flow, id, today); err != nil {
			return err
		}
		counts, err := q.CountFdrLinesByMatch(ctx, id)
		out.Lines = map[string]int64{}
		for _, c := range counts {
			out.Lines[c.Match] = c.Lines
		}
		return err
	})
	if errors.Is(err, fdr.ErrMalformed) {
		return in.malformed(ctx, ref, flow.Raw, [32]byte(lines.hash.Sum(nil)), err, today)
	}
	if err != nil {
		return FlowOutcome{FlowID: ref.FlowID, Revision: ref.Revision}, fmt.Errorf("store flow %s revision %d: %w", ref.FlowID, ref.Revision, err)
	}
	return out, nil
}

// match replaces the earlier revisions, asks pagoPA for the receipts the lines of the flow
// stored as id lack, and records what follows from the lines' matches.
func (in *Intake) match(ctx context.Context, q *dbgen.Queries, flow fdr.Flow, id int64, today date.Date) (int, error) {
	earlier, err := q.SupersedeEarlierFdrRevisions(ctx, dbgen.SupersedeEarlierFdrRevisionsParams{FlowID: flow.FlowID, Revision: int32(flow.Revision)})
	if err != nil {
		return 0, fmt.Errorf("supersede earlier revisions: %w", err)
	}
	if len(earlier) > 0 {
		if err := q.ReleaseSupersededMatches(ctx, dbgen.ReleaseSupersededMatchesParams{FlowIds: earlier, Actor: Actor}); err != nil {
			return 0, fmt.Errorf("release the matches of earlier revisions: %w", err)
		}
	}
	recovered, err := in.recover(ctx, q, id)
	if err != nil {
		return 0, err
	}
	if _, err := q.RecordFdrLineDifferences(ctx, dbgen.RecordFdrLineDifferencesParams{FlowID: id, DetectedOn: today.Time()}); err != nil {
		return 0, fmt.Errorf("record the differences: %w", err)
	}
	if _, err := q.MatchReceiptsToFdrLines(ctx, dbgen.MatchReceiptsToFdrLinesParams{FlowID: id, Actor: Actor}); err != nil {
		return 0, fmt.Errorf("mark the receipts matched: %w", err)
	}
	return recovered, nil
}

// recover asks pagoPA for the receipt of each line of the flow id that has none and matches
// the line again when one is recorded; it returns how many were.
func (in *Intake) recover(ctx context.Context, q *dbgen.Queries, id int64) (int, error) {
	if in.Receipts == nil {
		return 0, nil
	}
	missing, err := q.ListFdrLinesWithoutReceipt(ctx, id)
	if err != nil {
		return 0, err
	}
	recovered := 0
	for _, l := range missing {
		ok, err := in.Receipts.RecoverReceipt(ctx, l.Iuv)
		if err != nil {
			return 0, fmt.Errorf("recover a receipt: %w", err)
		}
		if !ok {
			continue
		}
		recovered++
		receipts, err := receiptsFor(ctx, q, []string{l.Iur})
		if err != nil {
			return 0, err
		}
		m := matchLine(l.Iuv, l.Iur, int(l.TransferIndex), l.AmountCents, l.PayStatus, receipts)
		if err := q.SetFdrLineMatch(ctx, dbgen.SetFdrLineMatchParams{ID: l.ID, ReceiptID: m.receiptID, ExpectedCents: m.expected, Match: m.match}); err != nil {
			return 0, fmt.Errorf("match a line again: %w", err)
		}
	}
	return recovered, nil
}

// malformed stores the flow MALFORMED with why, and its difference.
func (in *Intake) malformed(ctx context.Context, ref fdr.FlowRef, raw []byte, sum [32]byte, why error, today date.Date) (FlowOutcome, error) {
	reason := why.Error()
	if len(reason) > 500 {
		reason = reason[:500]
	}
	out := FlowOutcome{FlowID: ref.FlowID, Revision: ref.Revision, Malformed: reason}
	err := db.InTx(ctx, in.Pool, func(q *dbgen.Queries) error {
		row := flowRow(in.Organization, fdr.Flow{FlowID: ref.FlowID, Revision: ref.Revision, PSPID: ref.PSPID, Published: ref.Published,
			FlowDate: ref.FlowDate}, "MALFORMED", reason, hex.EncodeToString(sum[:]))
		row.RawJson = string(raw)
		id, err := q.InsertFdrFlow(ctx, row)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		out.Stored = true
		return q.RecordMalformedFdrFlow(ctx, dbgen.RecordMalformedFdrFlowParams{FlowID: ref.FlowID, Revision: int32(ref.Revision),
			FdrFlowID: pgtype.Int8{Int64: id, Valid: true}, Detail: reason, DetectedOn: today.Time()})
	})
	if err != nil {
		return FlowOutcome{FlowID: ref.FlowID, Revision: ref.Revision}, fmt.Errorf("store malformed flow %s: %w", ref.FlowID, err)
	}
	return out, nil
}

// FlagMissingFlowLines makes a NO_FLOW_LINE difference of every receipt that no flow line
// reported businessDays business days after the day it was paid (or later).
func (in *Intake) FlagMissingFlowLines(ctx context.Context, today date.Date, businessDays int) (int64, error) {
	cutoff := LatePaidOn(today, businessDays)
	n, err := dbgen.New(in.Pool).FlagReceiptsWithoutFlowLine(ctx, dbgen.FlagReceiptsWithoutFlowLineParams{Cutoff: cutoff.Time(), DetectedOn: today.Time()})
	if err != nil {
		return 0, fmt.Errorf("flag receipts without flow line: %w", err)
	}
	return n, nil
}

func flowRow(org string, f fdr.Flow, status, reason, sum string) dbgen.InsertFdrFlowParams {
	row := dbgen.InsertFdrFlowParams{
		FlowID: f.FlowID, Revision: int32(f.Revision), PspID: f.PSPID, EcFiscalCode: org,
		Regulation: f.Regulation, Bic: f.BIC, Status: status, RawJson: string(f.Raw), RawSha256: sum,
		MalformedReason: pgtype.Text{String: reason, Valid: reason != ""},
	}
	if !f.FlowDate.IsZero() {
		row.FlowDate = pgtype.Date{Time: date.InRome(f.FlowDate).Time(), Valid: true}
	}
	if !f.Published.IsZero() {
		row.PublishedAt = pgtype.Timestamptz{Time: f.Published, Valid: true}
	}
	if !f.RegulationDate.IsZero() {
		row.RegulationDate = pgtype.Date{Time: f.RegulationDate, Valid: true}
	}
	if status != "MALFORMED" {
		row.DeclaredPayments = pgtype.Int8{Int64: f.TotPayments, Valid: true}
		row.DeclaredSumCents = pgtype.Int8{Int64: int64(f.SumPaymentsCents), Valid: true}
	}
	return row
}

var lineColumns = []string{"flow_id", "line_index", "iuv", "iur", "transfer_index", "amount_cents", "pay_status", "outcome_code", "pay_date",
	"receipt_id", "expected_cents", "match"}

// lineSource streams the pages of a flow's payments into the COPY, each line matched to its
// receipt. A goroutine reads the next page and its receipts (on the pool: the transaction's
// connection is busy with the COPY) while the COPY sends this one: at most three pages are in
// memory, whatever the flow's size.
type lineSource struct {
	ctx       context.Context
	in        *Intake
	ref       fdr.FlowRef
	flowRowID int64
	pages     chan page
	stop      context.CancelFunc
	buf       page
	i         int
	hash      hash.Hash
	seen      map[int64]bool
	count     int64
	sum       money.Cents
	err       error
}

// page is one page of payments with the receipts they name, by IUR.
type page struct {
	payments []fdr.Payment
	receipts map[string]paidReceipt
	raw      []byte
	err      error
}

// start begins reading the pages ahead of the COPY; close stops it.
func (s *lineSource) start() {
	ctx, stop := context.WithCancel(s.ctx)
	s.stop, s.pages = stop, make(chan page, 1)
	go func() {
		defer close(s.pages)
		for n := 1; ; n++ {
			pg, last := s.read(ctx, n)
			select {
			case s.pages <- pg:
			case <-ctx.Done():
				return
			}
			if last || pg.err != nil {
				return
			}
		}
	}()
}

func (s *lineSource) close() {
	if s.stop != nil {
		s.stop()
		for range s.pages { // until the reader is gone
		}
	}
}

// read reads page n and the receipts its lines name, and whether it is the last.
func (s *lineSource) read(ctx context.Context, n int) (page, bool) {
	ps, p, raw, err := s.in.FdR.Payments(ctx, s.in.Organization, s.ref.FlowID, s.ref.Revision, s.ref.PSPID, n, cmp.Or(s.in.PageSize, fdr.MaxPageSize))
	if err != nil {
		return page{err: fmt.Errorf("payments page %d: %w", n, err)}, true
	}
	iurs := make([]string, len(ps))
	for i, pay := range ps {
		iurs[i] = pay.IUR
	}
	receipts, err := receiptsFor(ctx, dbgen.New(s.in.Pool), iurs)
	return page{payments: ps, receipts: receipts, raw: raw, err: err}, p.Last() || len(ps) == 0
}

func (s *lineSource) Next() bool {
	s.i++
	for s.i >= len(s.buf.payments) {
		if s.err != nil {
			return false
		}
		pg, ok := <-s.pages
		if !ok {
			return false
		}
		if pg.err != nil {
			s.err = pg.err
			return false
		}
		s.hash.Write(pg.raw)
		s.buf, s.i = pg, 0
	}
	p := s.buf.payments[s.i]
	if s.seen[p.Index] {
		s.err = fmt.Errorf("payment %d: %w: index repeated", p.Index, fdr.ErrMalformed)
		return false
	}
	s.seen[p.Index] = true
	s.count++
	s.sum += p.AmountCents
	return true
}

func (s *lineSource) Values() ([]any, error) {
	p := s.buf.payments[s.i]
	m := matchLine(p.IUV, p.IUR, p.TransferIdx, int64(p.AmountCents), p.PayStatus, s.buf.receipts)
	return []any{s.flowRowID, p.Index, p.IUV, p.IUR, int16(p.TransferIdx), int64(p.AmountCents), p.PayStatus,
		int16(fdr.OutcomeCode(p.PayStatus)), p.PayDate, m.receiptID, m.expected, m.match}, nil
}

func (s *lineSource) Err() error { return s.err }

// check compares what was read with the flow's declared totals.
func (s *lineSource) check(f fdr.Flow) error {
	switch {
	case s.count != f.TotPayments:
		return fmt.Errorf("%w: %d payments, totPayments says %d", fdr.ErrMalformed, s.count, f.TotPayments)
	case s.sum != f.SumPaymentsCents:
		return fmt.Errorf("%w: the payments add up to %s, sumPayments says %s", fdr.ErrMalformed, s.sum.Decimal(), f.SumPaymentsCents.Decimal())
	}
	return nil
}

// LatePaidOn is the last day of payment whose flow line is late today: the latest day P with
// P + businessDays business days on or before today.
func LatePaidOn(today date.Date, businessDays int) date.Date {
	p := today
	for today.Before(target2.AddBusinessDays(p, businessDays)) {
		p = date.Of(p.Time().AddDate(0, 0, -1))
	}
	return p
}
