package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/target2"
	"incasso/services/treasury"
	"incasso/workflows"
)

// cursorStatements names the position reached in the bank's account statements.
const cursorStatements = "treasury-statements"

// PollTreasuryStatements reads the treasury account's statements (camt.053) after the last
// one read, stores each (services/treasury) and moves the cursor, then matches every entry
// still open; what still does not match after INCASSO_TREASURY_GRACE_DAYS business days is
// recorded as a difference.
// A statement that cannot be read stops the poll with the reason, so nothing is skipped; one
// whose MsgId is stored with other content is refused, non-retryable, and nothing of it is
// stored. It returns the number of entries taken in.
func (a *SDD) PollTreasuryStatements(ctx context.Context) (int, error) {
	q := dbgen.New(a.Pool)
	cursor, err := q.GetCursor(ctx, cursorStatements)
	if err = db.NotFound(err); err != nil && !errors.Is(err, db.ErrNotFound) {
		return 0, fmt.Errorf("load cursor: %w", err)
	}
	intake := treasury.Intake{Pool: a.Pool}
	entries := 0
	for {
		docs, err := a.Bank.Statements(ctx, cursor, 10)
		if err != nil {
			return entries, fmt.Errorf("bank statements after %q: %w", cursor, err)
		}
		if len(docs) == 0 {
			today := date.InRome(time.Now())
			m, err := intake.Match(ctx, today, target2.AddBusinessDays(today, -a.Config.TreasuryGraceDays))
			if err != nil {
				return entries, err
			}
			logger(ctx).Info("treasury entries matched", "batches", m.Batches, "batches_of_no_run", m.UnknownRuns, "returns", m.Returns,
				"flows", m.Flows, "credits_of_no_flow", m.UnknownFlows, "receipts_reconciled", m.Reconciled,
				"differences", m.Differences, "differences_closed", m.Superseded)
			return entries, nil
		}
		for _, doc := range docs {
			res, err := intake.Take(ctx, doc.XML)
			if errors.Is(err, treasury.ErrMessageIDReused) {
				logger(ctx).Error("treasury statement refused: its message id is stored with other content", "bank_id", doc.ID)
				return entries, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeMessageIDReused, nil)
			}
			if err != nil {
				return entries, fmt.Errorf("bank statement %s refused: %w", doc.ID, err)
			}
			logger(ctx).Info("treasury statement taken in", "msg_id", res.MsgID, "entries", res.Entries, "resent", res.Resent)
			if !res.Resent {
				entries += res.Entries
			}
			if err := q.SetCursor(ctx, dbgen.SetCursorParams{Name: cursorStatements, Position: doc.ID}); err != nil {
				return entries, fmt.Errorf("move cursor: %w", err)
			}
			cursor = doc.ID
			activity.RecordHeartbeat(ctx, cursor)
		}
	}
}
