package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"

	"incasso/clients/gpd"
	"incasso/db/dbgen"
	"incasso/domain/pagopa"
	"incasso/services/receipts"
	"incasso/workflows"
)

// receiptSource is the part of GPD's receipts API the recovery uses.
type receiptSource interface {
	GetReceipt(ctx context.Context, organization, iuv string) ([]byte, error)
}

var _ receiptSource = (*gpd.Receipts)(nil)

// Recovery is the activity of the receipt recovery job.
type Recovery struct {
	Pool     *pgxpool.Pool
	GPD      receiptSource
	Recorder *receipts.Recorder
	MinAge   time.Duration // a notice is left to its push this long after issue
	Batch    int           // notices checked per run at most
	Log      *slog.Logger
}

// RecoverReceipts asks GPD about the unpaid notices checked longest ago and records any
// receipt it holds as if pushed. Notices are marked checked as they are asked about, so the
// next run moves on to others; the count goes to the heartbeat.
func (r *Recovery) RecoverReceipts(ctx context.Context) (workflows.RecoveryResult, error) {
	var res workflows.RecoveryResult
	q := dbgen.New(r.Pool)
	unpaid, err := q.ListUnpaidForRecovery(ctx, dbgen.ListUnpaidForRecoveryParams{
		MinAge: pgtype.Interval{Microseconds: r.MinAge.Microseconds(), Valid: true}, MaxRows: int32(r.Batch),
	})
	if err != nil {
		return res, fmt.Errorf("list unpaid notices: %w", err)
	}
	for _, d := range unpaid {
		activity.RecordHeartbeat(ctx, res.Checked)
		raw, err := r.GPD.GetReceipt(ctx, d.EcFiscalCode, d.Nav[1:])
		switch {
		case ctx.Err() != nil:
			return res, ctx.Err()
		case errors.Is(err, gpd.ErrRejected):
			// Refused for this notice only: the others go on, and it waits for its turn again.
			r.Log.Error("receipt recovery: GPD refused the request", "debt_id", d.ID, "err", err)
		case err != nil && !errors.Is(err, gpd.ErrNotFound):
			return res, fmt.Errorf("ask GPD for the receipt of debt %d: %w", d.ID, err)
		case err == nil:
			if err := r.record(ctx, d.ID, raw, &res); err != nil {
				return res, err
			}
		}
		if err := q.MarkReceiptChecked(ctx, []int64{d.ID}); err != nil {
			return res, fmt.Errorf("mark debt %d checked: %w", d.ID, err)
		}
		res.Checked++
	}
	r.Log.Info("receipt recovery", "checked", res.Checked, "recovered", res.Recovered, "flagged", res.Flagged)
	return res, nil
}

func (r *Recovery) record(ctx context.Context, debtID int64, raw []byte, res *workflows.RecoveryResult) error {
	req, err := receipts.Parse(raw)
	if err != nil { // GPD's copy is unreadable: leave it to an operator, go on with the others
		r.Log.Error("receipt recovery: unreadable receipt", "debt_id", debtID, "err", err)
		return nil
	}
	out, err := r.Recorder.Record(ctx, req.Receipt, raw, receipts.SourceRecovery)
	if err != nil {
		return fmt.Errorf("record recovered receipt of debt %d: %w", debtID, err)
	}
	switch {
	case out.Fault == pagopa.FaultDuplicateReceipt: // the push arrived after all
	case out.Fault != "":
		r.Log.Warn("receipt recovery: receipt refused", "debt_id", debtID, "fault", out.Fault)
	default:
		res.Recovered++
		if out.Flag != "" {
			res.Flagged++
		}
	}
	return nil
}
