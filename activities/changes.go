package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"incasso/clients/gpd"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/services/debts"
	"incasso/workflows"
)

// settled is the non-retryable error of a debt that was paid (or cancelled) before the
// operation could change it.
func settled(debtID int64, status workflows.DebtStatus) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("debt %d is %s: it cannot be changed", debtID, status), workflows.ErrTypeSettled, nil)
}

// CancelPosition withdraws the debt's notice from pagoPA (GPD invalidate), so it can no longer
// be paid, and records the cancellation with its reason. Repeating it changes nothing.
func (a *Debts) CancelPosition(ctx context.Context, debtID int64, reason string) error {
	d, err := a.load(ctx, debtID)
	if err != nil {
		return err
	}
	switch {
	case d.Status == workflows.StatusCancelled:
		return nil
	case d.Status == workflows.StatusPaid:
		return settled(debtID, d.Status)
	case !workflows.ValidReason(reason):
		return temporal.NewNonRetryableApplicationError("a cancellation needs a reason of at most 500 characters", workflows.ErrTypeInvalidInput, nil)
	}
	invalid := func(p gpd.Position) bool { return p.Status == "INVALID" }
	if err := a.GPD.Invalidate(ctx, d.EcFiscalCode, d.Iupd); err != nil {
		if err := a.explainConflict(ctx, d, err, invalid); err != nil {
			return err
		}
	}
	cancelled, err := debts.Cancel(ctx, dbgen.New(a.Pool), debtID, reason)
	if err == nil && !cancelled { // paid in the meantime, or cancelled by a retry
		if d, err = a.load(ctx, debtID); err == nil && d.Status != workflows.StatusCancelled {
			// The receipt beat the invalidation: incasso has the debt PAID, GPD has it INVALID.
			logger(ctx).Warn("debt paid while being cancelled: its GPD position is invalid", "debt_id", debtID)
			return settled(debtID, d.Status)
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("record cancellation of debt %d: %w", debtID, err)
	}
	return nil
}

// explainConflict reads back a position GPD refused to change: fine when it already is as
// wanted (a repeated call), settled when it was paid, not retryable otherwise.
func (a *Debts) explainConflict(ctx context.Context, d dbgen.DebtPosition, err error, wanted func(gpd.Position) bool) error {
	switch {
	case errors.Is(err, gpd.ErrConflict):
		pos, getErr := a.GPD.Get(ctx, d.EcFiscalCode, d.Iupd)
		if getErr != nil {
			return fmt.Errorf("read back position of debt %d: %w", d.ID, getErr)
		}
		switch {
		case pos.Status == "PAID" || pos.Status == "PARTIALLY_PAID" || pos.Status == "REPORTED":
			return settled(d.ID, workflows.StatusPaid)
		case wanted(pos):
			return nil
		}
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("GPD refused to change debt %d in status %s", d.ID, pos.Status), workflows.ErrTypeGPDRejected, err)
	case errors.Is(err, gpd.ErrRejected), errors.Is(err, gpd.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("GPD refused to change debt %d", d.ID), workflows.ErrTypeGPDRejected, err)
	}
	return fmt.Errorf("change debt %d in GPD: %w", d.ID, err)
}

// ChangePosition applies a new amount and due date to the debt as revision in.Revision: the
// GPD position is updated, then the change is recorded with its reason and the debt row
// changed, in one transaction. Repeating it (a retry) changes nothing more.
func (a *Debts) ChangePosition(ctx context.Context, in workflows.ChangeInput) error {
	d, err := a.load(ctx, in.DebtID)
	if err != nil {
		return err
	}
	if d.Status.Final() {
		return settled(in.DebtID, d.Status)
	}
	if in.Revision < 2 || in.Amount < 1 || in.DueDate.IsZero() || !workflows.ValidReason(in.Reason) {
		return temporal.NewNonRetryableApplicationError("a change needs revision >= 2, an amount, a due date and a reason", workflows.ErrTypeInvalidInput, nil)
	}
	if int(d.Revision) > in.Revision {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("debt %d is at revision %d already", in.DebtID, d.Revision), workflows.ErrTypeInvalidInput, nil)
	}
	if int(d.Revision) == in.Revision { // a retry: only the very same change may be repeated
		done, err := dbgen.New(a.Pool).GetDebtChange(ctx, dbgen.GetDebtChangeParams{DebtID: in.DebtID, Revision: int32(in.Revision)})
		if err != nil {
			return fmt.Errorf("load revision %d of debt %d: %w", in.Revision, in.DebtID, err)
		}
		if done.AmountCents != int64(in.Amount) || date.Of(done.DueDate) != in.DueDate || done.Reason != in.Reason {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("revision %d of debt %d was another change", in.Revision, in.DebtID), workflows.ErrTypeInvalidInput, nil)
		}
	}
	changed := d
	changed.AmountCents, changed.DueDate = int64(in.Amount), in.DueDate.Time()
	pos, err := a.position(changed)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeInvalidInput, nil)
	}
	// After a 409 the update counts as done only if GPD holds the new option already.
	holdsChange := func(p gpd.Position) bool {
		return len(p.PaymentOptions) == 1 && p.PaymentOptions[0].Amount == int64(in.Amount) &&
			p.PaymentOptions[0].DueDate.Equal(pos.PaymentOptions[0].DueDate)
	}
	if err := a.GPD.Update(ctx, d.EcFiscalCode, pos); err != nil {
		if err := a.explainConflict(ctx, d, err, holdsChange); err != nil {
			return err
		}
	}
	applied := true
	err = db.InTx(ctx, a.Pool, func(q *dbgen.Queries) error {
		_, err := q.ApplyDebtChange(ctx, dbgen.ApplyDebtChangeParams{
			ID: in.DebtID, Revision: int32(in.Revision), AmountCents: int64(in.Amount), DueDate: in.DueDate.Time(),
		})
		if errors.Is(db.NotFound(err), db.ErrNotFound) { // applied by an earlier attempt, or paid meanwhile
			applied = false
			return nil
		}
		if err != nil {
			return err
		}
		return q.InsertDebtChange(ctx, dbgen.InsertDebtChangeParams{
			DebtID: in.DebtID, Revision: int32(in.Revision), AmountCents: int64(in.Amount), DueDate: in.DueDate.Time(), Reason: in.Reason,
		})
	})
	if err != nil {
		return fmt.Errorf("apply change of debt %d: %w", in.DebtID, err)
	}
	if !applied { // paid meanwhile, or this revision applied by an earlier attempt (checked above)
		if d, err = a.load(ctx, in.DebtID); err == nil && d.Status.Final() {
			return settled(in.DebtID, d.Status)
		}
		return err
	}
	return nil
}
