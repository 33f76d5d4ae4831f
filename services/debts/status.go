package debts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/workflows"
)

// The functions of this file are the one writer of a debt's status (debt_positions.status):
// nothing else in incasso updates it. The statuses of the workflow's life go through Advance;
// PAID and CANCELLED, which end the debt, are written only by Settle and Cancel, each called
// by whoever holds the evidence (a receipt, the last instalment, the office's decision).

// ErrNotAdvance is returned by Advance for a status that is not reached by advancing: CREATED
// is where a debt starts, PAID and CANCELLED have their own writers.
var ErrNotAdvance = errors.New("not a status a debt advances to")

// Advance records a status the debt's workflow reached: ISSUED, OVERDUE, INSTALMENTS or
// SUPERSEDED. A final status stays as it is. It returns the status the debt has afterwards,
// or db.ErrNotFound when there is no such debt.
func Advance(ctx context.Context, q *dbgen.Queries, id int64, to workflows.DebtStatus) (workflows.DebtStatus, error) {
	switch to {
	case workflows.StatusIssued, workflows.StatusOverdue, workflows.StatusInstalments, workflows.StatusSuperseded:
	default:
		return "", fmt.Errorf("debt %d to %q: %w", id, to, ErrNotAdvance)
	}
	now, err := q.SetDebtStatus(ctx, dbgen.SetDebtStatusParams{ID: id, Status: to})
	if errors.Is(db.NotFound(err), db.ErrNotFound) { // final already, or no such debt
		d, err := q.GetDebt(ctx, id)
		if err != nil {
			return "", db.NotFound(err)
		}
		return d.Status, nil
	}
	if err != nil {
		return "", err
	}
	return now, nil
}

// Settle records that the debt was paid at paidAt: by a receipt that covers what is due
// (package receipts) or by the last instalment of its plan. A debt paid or cancelled already
// stays as it is; Settle reports whether this call settled it.
func Settle(ctx context.Context, q *dbgen.Queries, id int64, paidAt time.Time) (bool, error) {
	n, err := q.MarkDebtPaid(ctx, dbgen.MarkDebtPaidParams{ID: id, PaidAt: pgtype.Timestamptz{Time: paidAt, Valid: true}})
	return n == 1, err
}

// Cancel records the office's cancellation of an unpaid debt, with its reason. A debt paid or
// cancelled already stays as it is; Cancel reports whether this call cancelled it.
func Cancel(ctx context.Context, q *dbgen.Queries, id int64, reason string) (bool, error) {
	_, err := q.CancelDebt(ctx, dbgen.CancelDebtParams{ID: id, CancelReason: pgtype.Text{String: reason, Valid: true}})
	if errors.Is(db.NotFound(err), db.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
