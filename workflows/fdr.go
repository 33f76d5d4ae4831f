package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"incasso/domain/date"
)

// FdRIntakeScheduleID is the Temporal Schedule that runs FdRIntake every morning.
const FdRIntakeScheduleID = "fdr-intake"

// FdRIntakeWorkflowID is the ID of an intake run on demand for a day (the schedule's runs get
// the schedule's own IDs). A day run again stores nothing twice.
func FdRIntakeWorkflowID(day date.Date) string { return "fdr-intake/" + day.String() }

// Names of the activities of the FdR intake.
const (
	ActivityListPendingFlows     = "ListPendingFlows"     // the flows published and not stored yet
	ActivityIntakeFlow           = "IntakeFlow"           // store one flow with its lines, matched
	ActivityFlagMissingFlowLines = "FlagMissingFlowLines" // receipts no flow line reported in time
)

// Defaults of FdRIntakeInput's zero fields.
const (
	DefaultFdRLookbackDays          = 10
	DefaultFdRLateAfterBusinessDays = 3
)

// FdRIntakeInput is what a run reads: the flows published in the LookbackDays before Date
// (default the run's day in Rome), and the receipts paid LateAfterBusinessDays business days
// before Date or earlier that no flow line reported are flagged.
type FdRIntakeInput struct {
	Date                  date.Date
	LookbackDays          int
	LateAfterBusinessDays int
}

// FdRFlowRef names one revision of a flow published for the comune.
type FdRFlowRef struct {
	FlowID    string
	PSPID     string
	Revision  int64
	Published time.Time
	FlowDate  time.Time
}

// FdRFlowOutcome is what the intake of one flow did.
type FdRFlowOutcome struct {
	FlowID    string
	Revision  int64
	Stored    bool             // false: stored before, nothing changed
	Malformed string           // the reason a MALFORMED flow was kept
	Lines     map[string]int64 // by match outcome: MATCHED, AMOUNT_DIFFERS, NO_RECEIPT...
	Recovered int              // receipts asked of pagoPA and recorded
}

// FdRIntakeResult sums a run up.
type FdRIntakeResult struct {
	Date         date.Date
	Flows        []FdRFlowOutcome
	Failed       []string // flows whose intake failed after its retries: the next run retries them
	LateReceipts int64    // receipts newly flagged NO_FLOW_LINE
}

// FdRIntake is one run of the reporting-flow intake: every flow published for the comune and
// not stored yet is read and matched, one activity per flow, so that one flow that fails does
// not stop the others (a malformed one is an outcome, stored and flagged); then the receipts
// whose flow line is late are flagged.
func FdRIntake(ctx workflow.Context, in FdRIntakeInput) (FdRIntakeResult, error) {
	if in.Date.IsZero() {
		in.Date = date.InRome(workflow.Now(ctx))
	}
	if in.LookbackDays <= 0 {
		in.LookbackDays = DefaultFdRLookbackDays
	}
	if in.LateAfterBusinessDays <= 0 {
		in.LateAfterBusinessDays = DefaultFdRLateAfterBusinessDays
	}
	res := FdRIntakeResult{Date: in.Date, Flows: []FdRFlowOutcome{}, Failed: []string{}}
	opts := workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, InitialInterval: 5 * time.Second},
		Summary:             "List the reporting flows published and not stored yet",
	}
	pending, err := run(workflow.WithActivityOptions(ctx, opts), call1R(FdRActivities.ListPendingFlows, in))
	if err != nil {
		return res, err
	}
	for i, ref := range pending {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("flow %d of %d: %s revision %d", i+1, len(pending), ref.FlowID, ref.Revision))
		opts.Summary = "Store and match flow " + ref.FlowID
		out, err := run(workflow.WithActivityOptions(ctx, opts), call2R(FdRActivities.IntakeFlow, ref, in.Date))
		if err != nil {
			workflow.GetLogger(ctx).Error("flow intake failed", "flow", ref.FlowID, "revision", ref.Revision, "err", err)
			res.Failed = append(res.Failed, ref.FlowID)
			continue
		}
		res.Flows = append(res.Flows, out)
	}
	opts.Summary = "Flag the receipts no flow line reported in time"
	res.LateReceipts, err = run(workflow.WithActivityOptions(ctx, opts), call1R(FdRActivities.FlagMissingFlowLines, in))
	return res, err
}
