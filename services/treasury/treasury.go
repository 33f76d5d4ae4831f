// Package treasury takes in the treasury account's statements (camt.053) and matches what
// they book: each SDD collection file's credit to its run (the run's collections less those
// the bank rejected, in one booking or several), each return's debit to the collections it
// names, and each pagoPA flow's credit (by its /PUR/LGPE-RIVERSAMENTO/URI/ reference, in one
// booking or several) to the current revision of its reporting flow (fdr_flows); the
// receipts of a flow so matched are RECONCILED. What does not match after a grace becomes a
// difference the finance office resolves (reconciliation_differences). A statement is stored once per MsgId with its raw XML and hash: the same
// statement again changes nothing, the same MsgId with other content is refused and nothing
// of it is stored. Matching runs again on every intake over what is still open, so a credit
// booked before its flow or its run's report arrived is matched when they do.
package treasury

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/sepa/camt053"
)

// ErrMessageIDReused is returned for a statement whose MsgId is stored already with other
// content.
var ErrMessageIDReused = errors.New("statement message id stored already with other content")

// Intake stores and matches the treasury's statements.
type Intake struct {
	Pool *pgxpool.Pool
}

// Result is what one statement's intake did.
type Result struct {
	MsgID   string
	Entries int  // booked entries of the statement
	Resent  bool // the statement was stored already: nothing new
}

// Matched counts what matching moved on: entries matched (or found to differ), receipts
// reconciled, differences recorded and closed.
type Matched struct {
	Batches, UnknownRuns, Returns, Flows, UnknownFlows int64
	Reconciled, Differences, Superseded                int64
}

// Take parses data, a camt.053, and stores it with its entries unless it is stored already.
// A statement that cannot be read is a *camt053.Error. Match matches what it stored.
func (in *Intake) Take(ctx context.Context, data []byte) (Result, error) {
	s, err := camt053.Parse(data)
	if err != nil {
		return Result{}, err
	}
	sum := sha256.Sum256(data)
	res := Result{MsgID: s.MsgID, Entries: len(s.Entries)}
	err = db.InTx(ctx, in.Pool, func(q *dbgen.Queries) error {
		id, err := q.InsertTreasuryStatement(ctx, dbgen.InsertTreasuryStatementParams{
			MsgID: s.MsgID, StatementRef: s.ID, StatementDate: s.Date.Time(),
			OpeningCents: int64(s.Opening), ClosingCents: int64(s.Closing), Entries: int32(len(s.Entries)),
			RawXml: data, RawSha256: sum[:],
		})
		if errors.Is(db.NotFound(err), db.ErrNotFound) {
			return resent(ctx, q, s.MsgID, sum[:], &res)
		}
		if err != nil {
			return fmt.Errorf("store statement %s: %w", s.MsgID, err)
		}
		if _, err := q.InsertTreasuryEntries(ctx, entryRows(id, s.Entries)); err != nil {
			return fmt.Errorf("store entries of statement %s: %w", s.MsgID, err)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// resent checks that the statement msgID stored already is the one of hash sum.
func resent(ctx context.Context, q *dbgen.Queries, msgID string, sum []byte, res *Result) error {
	kept, err := q.TreasuryStatementHash(ctx, msgID)
	if err != nil {
		return fmt.Errorf("load stored statement %s: %w", msgID, err)
	}
	if string(kept) != string(sum) {
		return fmt.Errorf("statement %s (stored with sha256 %s, received with %s): %w",
			msgID, hex.EncodeToString(kept), hex.EncodeToString(sum), ErrMessageIDReused)
	}
	res.Resent = true
	return nil
}

// entryRows are the rows of the entries of the statement id.
func entryRows(id int64, entries []camt053.Entry) []dbgen.InsertTreasuryEntriesParams {
	rows := make([]dbgen.InsertTreasuryEntriesParams, len(entries))
	for i, e := range entries {
		rows[i] = dbgen.InsertTreasuryEntriesParams{
			StatementID: id, Ref: e.Ref, Kind: string(e.Kind), AmountCents: int64(e.Amount), Credit: e.Credit,
			BookingDate: e.BookingDate.Time(), FlowID: text(e.FlowID), BatchMsgID: text(e.BatchMsgID),
			EndToEndIds: append([]string{}, e.EndToEndIDs...), Match: "PENDING",
		}
		if e.Kind == camt053.Other {
			rows[i].Match = "NOT_RECONCILED" // fees and the like: not incasso's to match
		}
	}
	return rows
}

// Match matches every entry still open: those stored since, and those that did not match
// before (a run whose report came later, a return recorded since, a flow stored since). The
// receipts whose flow is matched to its credit become RECONCILED. What booked on or before
// cutoff still does not match, and the flows of a date on or before cutoff that no credit
// names, are recorded as differences detected today, once each; a difference settled since
// is closed (SUPERSEDED). It runs in one transaction.
func (in *Intake) Match(ctx context.Context, today, cutoff date.Date) (m Matched, err error) {
	err = db.InTx(ctx, in.Pool, func(q *dbgen.Queries) error {
		m, err = match(ctx, q, today, cutoff)
		return err
	})
	return m, err
}

func match(ctx context.Context, q *dbgen.Queries, today, cutoff date.Date) (m Matched, err error) {
	if m.Batches, err = q.MatchTreasuryBatches(ctx); err != nil {
		return m, fmt.Errorf("match SDD bookings: %w", err)
	}
	if m.UnknownRuns, err = q.FlagUnknownTreasuryBatches(ctx); err != nil {
		return m, fmt.Errorf("flag SDD bookings of no run: %w", err)
	}
	if m.Returns, err = q.MatchTreasuryReturns(ctx); err != nil {
		return m, fmt.Errorf("match returns: %w", err)
	}
	if m.Flows, err = q.MatchTreasuryFlowCredits(ctx); err != nil {
		return m, fmt.Errorf("match flow credits: %w", err)
	}
	if m.UnknownFlows, err = q.FlagTreasuryCreditsWithoutFlow(ctx, cutoff.Time()); err != nil {
		return m, fmt.Errorf("flag credits of no flow: %w", err)
	}
	if m.Reconciled, err = q.ReconcileReceiptsOfCreditedFlows(ctx); err != nil {
		return m, fmt.Errorf("reconcile receipts: %w", err)
	}
	if m.Superseded, err = q.SupersedeSettledTreasuryDifferences(ctx); err != nil {
		return m, fmt.Errorf("close settled differences: %w", err)
	}
	if m.Differences, err = q.RecordTreasuryDifferences(ctx, dbgen.RecordTreasuryDifferencesParams{DetectedOn: today.Time(), Cutoff: cutoff.Time()}); err != nil {
		return m, fmt.Errorf("record differences: %w", err)
	}
	return m, nil
}

func text(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }
