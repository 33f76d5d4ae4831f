package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// CampaignWorkflowID is the ID of the workflow that launches a campaign: campaign/<id>.
func CampaignWorkflowID(campaignID int64) string { return fmt.Sprintf("campaign/%d", campaignID) }

// CampaignWithdrawWorkflowID is the ID of the workflow that withdraws a campaign's debts.
func CampaignWithdrawWorkflowID(campaignID int64) string {
	return fmt.Sprintf("campaign/%d/withdraw", campaignID)
}

// Signals of the Campaign workflow.
const (
	SignalCampaignPause  = "pause"
	SignalCampaignResume = "resume"
	SignalCampaignCancel = "cancel" // stop launching; the debts already started go on
)

// Campaign statuses, as in the campaigns table.
const (
	CampaignReady     = "READY"
	CampaignRunning   = "RUNNING"
	CampaignPaused    = "PAUSED"
	CampaignCancelled = "CANCELLED"
	CampaignCompleted = "COMPLETED"
	CampaignWithdrawn = "WITHDRAWN"
)

// Activities of the campaign workflows (methods of activities.Campaigns).
const (
	ActivityLaunchRows        = "LaunchRows"
	ActivitySetCampaignStatus = "SetCampaignStatus"
	ActivityWithdrawDebts     = "WithdrawDebts"
)

// CampaignInput starts (or continues as new) a campaign's launch.
type CampaignInput struct {
	CampaignID int64
	AfterRow   int  // the rows up to this one are launched
	Rate       int  // debts started per second
	Paused     bool // carried over a continue-as-new
}

// LaunchBatch asks LaunchRows to launch up to Limit rows after AfterRow at Rate per second.
type LaunchBatch struct {
	CampaignID int64
	AfterRow   int
	Limit      int
	Rate       int
}

// LaunchResult is how far a batch went.
type LaunchResult struct {
	LastRow int
	Started int  // debts whose workflow was started (or found started)
	Failed  int  // rows that could not become debts (recorded on the row)
	Done    bool // no row is left
}

// WithdrawInput withdraws every unpaid debt of a campaign, with the reason told to debtors.
type WithdrawInput struct {
	CampaignID int64
	Reason     string
}

// batchesPerRun bounds a run's history: after this many batches the workflow continues as new.
const batchesPerRun = 50

// campaignActivity are the options of the campaign's activities: a batch heartbeats its cursor,
// so a retry goes on from the last row started.
var campaignActivity = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Minute,
	HeartbeatTimeout:    time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
}

// Campaign launches a campaign's rows, a batch at a time at the campaign's start rate: each
// row becomes a debt with its own Debt workflow, started idempotently, so a restart, a retry or
// a second launch never creates a second debt. It can be paused, resumed and cancelled (stop
// launching) by signals, and continues as new every batchesPerRun batches to keep its history
// small whatever the campaign's size.
func Campaign(ctx workflow.Context, in CampaignInput) error {
	ctx = workflow.WithActivityOptions(ctx, campaignActivity)
	pause := workflow.GetSignalChannel(ctx, SignalCampaignPause)
	resume := workflow.GetSignalChannel(ctx, SignalCampaignResume)
	cancel := workflow.GetSignalChannel(ctx, SignalCampaignCancel)
	cancelled := false
	drain := func() {
		for pause.ReceiveAsync(nil) {
			in.Paused = true
		}
		for resume.ReceiveAsync(nil) {
			in.Paused = false
		}
		for cancel.ReceiveAsync(nil) {
			cancelled = true
		}
	}
	setStatus := func(status string) error {
		_, err := run(ctx, call2(CampaignActivities.SetCampaignStatus, in.CampaignID, status))
		return err
	}
	if in.AfterRow == 0 && !in.Paused {
		if err := setStatus(CampaignRunning); err != nil {
			return err
		}
	}
	batch := min(max(in.Rate*5, 50), 1000) // about five seconds of starts
	for i := 0; i < batchesPerRun; i++ {
		drain()
		if in.Paused && !cancelled {
			if err := setStatus(CampaignPaused); err != nil {
				return err
			}
			workflow.SetCurrentDetails(ctx, fmt.Sprintf("Paused after row %d.", in.AfterRow))
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(resume, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); in.Paused = false })
			sel.AddReceive(cancel, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); cancelled = true })
			sel.Select(ctx)
			if !cancelled {
				if err := setStatus(CampaignRunning); err != nil {
					return err
				}
			}
		}
		if cancelled {
			workflow.SetCurrentDetails(ctx, fmt.Sprintf("Cancelled after row %d: no more debts are launched.", in.AfterRow))
			return setStatus(CampaignCancelled)
		}
		res, err := run(ctx, call1R(CampaignActivities.LaunchRows,
			LaunchBatch{CampaignID: in.CampaignID, AfterRow: in.AfterRow, Limit: batch, Rate: in.Rate}))
		if err != nil {
			return fmt.Errorf("launch rows after %d: %w", in.AfterRow, err)
		}
		in.AfterRow = res.LastRow
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Launched up to row %d.", in.AfterRow))
		if res.Done {
			return setStatus(CampaignCompleted)
		}
	}
	drain()
	return workflow.NewContinueAsNewError(ctx, Campaign, in)
}

// CampaignWithdraw cancels every unpaid debt of a withdrawn campaign: their notices are
// withdrawn from pagoPA and the debtors told, by each debt's own cancel update.
func CampaignWithdraw(ctx workflow.Context, in WithdrawInput) error {
	ctx = workflow.WithActivityOptions(ctx, campaignActivity)
	_, err := run(ctx, call1(CampaignActivities.WithdrawDebts, in))
	return err
}
