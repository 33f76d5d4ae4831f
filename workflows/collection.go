package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"incasso/domain/date"
	"incasso/domain/money"
)

// CollectionRunWorkflowID is the ID of the collection run of a creditor account (its alias,
// not its IBAN) and collection date: sdd/<account>/<date>.
func CollectionRunWorkflowID(account string, collectionDate date.Date) string {
	return "sdd/" + account + "/" + collectionDate.String()
}

// Activities of collection runs and bank notifications (methods of activities.SDD).
const (
	ActivitySubmitFile        = "SubmitCollectionFile"
	ActivityFetchStatusReport = "FetchStatusReport"
	ActivityNotifyPlans       = "NotifyPlans"
	ActivityPollBank          = "PollBankNotifications"
	ActivityPollTreasury      = "PollTreasuryStatements"
)

// CollectionRunInput starts the run of one account and collection date.
type CollectionRunInput struct {
	Account        string
	CollectionDate date.Date
	SubmitAt       time.Time // the bank's cut-off for the date
}

// RunRef names a collection run for its activities.
type RunRef struct {
	Account        string
	CollectionDate date.Date
}

// SubmittedFile is the pain.008 a run sent to the bank.
type SubmittedFile struct {
	MsgID        string
	Transactions int
	CtrlSum      money.Cents
}

// RunOutcome counts the bank's answers about a run's collections.
type RunOutcome struct {
	Accepted, Rejected int
}

// CollectionRunResult is how a run ended.
type CollectionRunResult struct {
	SubmittedFile
	RunOutcome
	Notified int // plans told their outcome
}

// CollectionRun gathers the instalments handed to it for one account and collection date,
// and at the bank's cut-off writes and submits one pain.008 file. It then waits for the
// bank's pain.002 status report, records the outcome of every collection and tells each plan.
func CollectionRun(ctx workflow.Context, in CollectionRunInput) (CollectionRunResult, error) {
	ref := RunRef{Account: in.Account, CollectionDate: in.CollectionDate}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Gathering instalments for %s until the cut-off.", in.CollectionDate))
	if wait := in.SubmitAt.Sub(workflow.Now(ctx)); wait > 0 {
		if err := workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: "Bank cut-off for " + in.CollectionDate.String()}).Get(ctx, nil); err != nil {
			return CollectionRunResult{}, err
		}
	}
	var result CollectionRunResult
	ctx1 := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute, HeartbeatTimeout: 2 * time.Minute, Summary: "Write the pain.008 and submit it to the bank",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: 5 * time.Minute, NonRetryableErrorTypes: []string{"InvalidInput"}},
	})
	var err error
	if result.SubmittedFile, err = run(ctx1, call1R(SDDActivities.SubmitCollectionFile, ref)); err != nil {
		return result, fmt.Errorf("submit file: %w", err)
	}
	if result.Transactions == 0 {
		workflow.SetCurrentDetails(ctx, "No instalment to collect on "+in.CollectionDate.String()+".")
		return result, nil
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("File %s with %d collections (%s EUR) submitted: waiting for the pain.002.",
		result.MsgID, result.Transactions, result.CtrlSum.Decimal()))
	// One attempt polls the bank for up to half an hour; then the attempts are retried.
	ctx2 := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour, HeartbeatTimeout: 2 * time.Minute, Summary: "Wait for and record the pain.002 status report",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Minute, BackoffCoefficient: 2, MaximumInterval: 2 * time.Hour},
	})
	if result.RunOutcome, err = run(ctx2, call1R(SDDActivities.FetchStatusReport, ref)); err != nil {
		return result, fmt.Errorf("status report: %w", err)
	}
	ctx3 := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour, HeartbeatTimeout: time.Minute, Summary: "Tell each plan its outcome",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: 5 * time.Minute},
	})
	if result.Notified, err = run(ctx3, call1R(SDDActivities.NotifyPlans, ref)); err != nil {
		return result, fmt.Errorf("notify plans: %w", err)
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("File %s: %d accepted, %d rejected; %d plans told.",
		result.MsgID, result.Accepted, result.Rejected, result.Notified))
	return result, nil
}

// BankNotificationsScheduleID is the ID of the Schedule that runs BankNotifications.
const BankNotificationsScheduleID = "bank-notifications"

// versionTreasuryStatements is the version of BankNotifications that reads the treasury
// account's statements after the notifications.
const versionTreasuryStatements = "treasury-statements"

// BankNotifications reads the bank's notifications (camt.054) of returns and refunds since
// the last run, records them and tells each plan; from version treasury-statements on, it
// then reads the treasury account's statements (camt.053) and matches their entries. A
// Temporal Schedule runs it. It returns the number of returns and refunds recorded.
func BankNotifications(ctx workflow.Context) (int, error) {
	opts := workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: time.Minute, Summary: "Read returns and refunds from the bank",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Second, MaximumInterval: 5 * time.Minute, MaximumAttempts: 5},
	}
	returns, err := run(workflow.WithActivityOptions(ctx, opts), call0(SDDActivities.PollBankNotifications))
	if err != nil || workflow.GetVersion(ctx, versionTreasuryStatements, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return returns, err
	}
	opts.Summary = "Read the treasury account's statements and match their entries"
	entries, err := run(workflow.WithActivityOptions(ctx, opts), call0(SDDActivities.PollTreasuryStatements))
	if err != nil {
		return returns, fmt.Errorf("treasury statements: %w", err)
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("%d returns and refunds recorded; %d statement entries taken in.", returns, entries))
	return returns, nil
}
