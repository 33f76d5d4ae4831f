package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"

	"incasso/db/dbgen"
	"incasso/services/debts"
	"incasso/workflows"
)

// debtProcesses is the part of the Temporal client the sweep uses: it looks a debt's workflow
// up, signals it and starts it.
type debtProcesses interface {
	debts.Starter
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
}

// Healer sweeps up what a crash can leave half done between the database and the debts'
// workflows, each run of the recovery job.
type Healer struct {
	Pool      *pgxpool.Pool
	Temporal  debtProcesses
	TaskQueue string
	MinAge    time.Duration // a debt is left to the normal path this long
	MaxAge    time.Duration // debts stored longer ago than this are not started any more
	Batch     int           // debts looked at per kind and run at most
}

// HealDebts signals again each debt paid in the database whose workflow never acknowledged
// it (the process died between recording the receipt and signalling, and the Nodo did not
// resend), and starts the workflow of each debt stored whose workflow never started (the
// caller gave up after a failed start). Both are safe to repeat: a workflow ignores a receipt
// it knows, and a start finds the workflow that exists.
func (h *Healer) HealDebts(ctx context.Context) (workflows.HealResult, error) {
	var res workflows.HealResult
	q := dbgen.New(h.Pool)
	age := func(d time.Duration) pgtype.Interval {
		return pgtype.Interval{Microseconds: d.Microseconds(), Valid: true}
	}
	paid, err := q.ListPaidUnacknowledged(ctx, dbgen.ListPaidUnacknowledgedParams{MinAge: age(h.MinAge), MaxRows: int32(h.Batch)})
	if err != nil {
		return res, fmt.Errorf("list paid debts not acknowledged: %w", err)
	}
	for _, d := range paid {
		activity.RecordHeartbeat(ctx, res)
		err := h.Temporal.SignalWorkflow(ctx, workflows.DebtWorkflowID(d.EcFiscalCode, d.Iupd), "",
			workflows.SignalReceipt, workflows.ReceiptSignal{ReceiptID: d.ReceiptID})
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound): // the workflow is over: nothing waits for the receipt
			if err := q.AcknowledgePaid(ctx, d.ID); err != nil {
				return res, fmt.Errorf("acknowledge debt %d: %w", d.ID, err)
			}
		case err != nil:
			return res, fmt.Errorf("signal the receipt of debt %d again: %w", d.ID, err)
		default:
			res.Resignalled++ // acknowledged by the workflow itself (SetStatus PAID)
		}
	}
	created, err := q.ListCreatedUnstarted(ctx, dbgen.ListCreatedUnstartedParams{MinAge: age(h.MinAge), MaxAge: age(h.MaxAge), MaxRows: int32(h.Batch)})
	if err != nil {
		return res, fmt.Errorf("list debts not issued: %w", err)
	}
	for _, d := range created {
		activity.RecordHeartbeat(ctx, res)
		_, err := h.Temporal.DescribeWorkflowExecution(ctx, workflows.DebtWorkflowID(d.EcFiscalCode, d.Iupd), "")
		var notFound *serviceerror.NotFound
		switch {
		case err == nil: // it exists, running or ended: its history tells the rest
			continue
		case !errors.As(err, &notFound):
			return res, fmt.Errorf("look up the workflow of debt %d: %w", d.ID, err)
		}
		if err := debts.Start(ctx, h.Temporal, h.TaskQueue, d); err != nil {
			return res, fmt.Errorf("start the workflow of debt %d: %w", d.ID, err)
		}
		res.Started++
	}
	activity.GetLogger(ctx).Info("debts healed", "resignalled", res.Resignalled, "started", res.Started)
	return res, nil
}
