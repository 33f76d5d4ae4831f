package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/temporal"

	"incasso/clients/fdr"
	"incasso/domain/date"
	"incasso/services/reconciliation"
	"incasso/workflows"
)

// ErrTypeFdRRejected is the non-retryable error of a request the FdR API refused (a 4xx):
// retrying will not help; the next run asks again.
const ErrTypeFdRRejected = "FdRRejected"

// FdR is the activities of the reporting-flow intake.
type FdR struct {
	Intake *reconciliation.Intake
	Log    *slog.Logger
}

var _ workflows.FdRActivities = (*FdR)(nil)

// ListPendingFlows lists the flows published in the lookback days before in.Date that are not
// stored yet.
func (a *FdR) ListPendingFlows(ctx context.Context, in workflows.FdRIntakeInput) ([]workflows.FdRFlowRef, error) {
	since := date.Of(in.Date.Time().AddDate(0, 0, -max(in.LookbackDays, 1))).Time()
	refs, err := a.Intake.Pending(ctx, since)
	if err != nil {
		return nil, rejected(err)
	}
	out := make([]workflows.FdRFlowRef, 0, len(refs))
	for _, r := range refs {
		out = append(out, workflows.FdRFlowRef{FlowID: r.FlowID, PSPID: r.PSPID, Revision: r.Revision, Published: r.Published, FlowDate: r.FlowDate})
	}
	return out, nil
}

// IntakeFlow stores one flow with its lines matched (once: a flow stored already is left as it
// is), heartbeating while it reads the pages.
func (a *FdR) IntakeFlow(ctx context.Context, ref workflows.FdRFlowRef, day date.Date) (workflows.FdRFlowOutcome, error) {
	stop := keepAlive(ctx)
	defer stop()
	out, err := a.Intake.Store(ctx, fdr.FlowRef{FlowID: ref.FlowID, PSPID: ref.PSPID, Revision: ref.Revision, Published: ref.Published, FlowDate: ref.FlowDate}, day)
	if err != nil {
		return workflows.FdRFlowOutcome{}, rejected(err)
	}
	if out.Malformed != "" {
		a.Log.Warn("fdr intake: malformed flow kept", "flow", out.FlowID, "revision", out.Revision, "reason", out.Malformed)
	}
	return workflows.FdRFlowOutcome{FlowID: out.FlowID, Revision: out.Revision, Stored: out.Stored, Malformed: out.Malformed,
		Lines: out.Lines, Recovered: out.Recovered}, nil
}

// FlagMissingFlowLines flags the receipts no flow line reported in.LateAfterBusinessDays
// business days after their payment.
func (a *FdR) FlagMissingFlowLines(ctx context.Context, in workflows.FdRIntakeInput) (int64, error) {
	n, err := a.Intake.FlagMissingFlowLines(ctx, in.Date, in.LateAfterBusinessDays)
	if err != nil {
		return 0, err
	}
	a.Log.Info("fdr intake: receipts without flow line flagged", "date", in.Date.String(), "flagged", n)
	return n, nil
}

// rejected makes a refusal of the FdR API non-retryable.
func rejected(err error) error {
	if errors.Is(err, fdr.ErrRejected) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("the FdR API refused the request: %v", err), ErrTypeFdRRejected, err)
	}
	return err
}
