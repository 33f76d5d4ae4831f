package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ReceiptRecoveryScheduleID is the Temporal Schedule that runs ReceiptRecovery periodically.
const ReceiptRecoveryScheduleID = "receipt-recovery"

// Names of the activities of the recovery job.
const (
	ActivityRecoverReceipts = "RecoverReceipts" // ask GPD for receipts never pushed to the EC
	ActivityHealDebts       = "HealDebts"       // signal or start the debts a crash left behind
)

// RecoveryResult counts what one recovery run found.
type RecoveryResult struct {
	Checked   int // unpaid notices asked about
	Recovered int // receipts found and recorded through the normal path
	Flagged   int // of which flagged for the finance office
	Healed    HealResult
}

// HealResult counts what one sweep healed.
type HealResult struct {
	Resignalled int // debts paid whose workflow was told again
	Started     int // debts whose workflow had never started
}

// healVersion marks the runs of ReceiptRecovery that sweep after recovering: runs recorded
// before it only recover.
const healVersion = "heal-debts"

// ReceiptRecovery is one run of the receipt recovery job: the notices still unpaid a while
// after issue are looked up in GPD's receipts API, and any receipt found goes through the
// same path as a pushed one. Then the debts a crash left behind are healed: a debt paid whose
// workflow never heard of it is signalled again, a debt whose workflow never started is started.
func ReceiptRecovery(ctx workflow.Context) (RecoveryResult, error) {
	opts := workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    3 * time.Minute, // longer than one GPD call with its retries
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:             "Ask GPD for the receipts of unpaid notices",
	}
	res, err := run(workflow.WithActivityOptions(ctx, opts), call0(RecoveryActivities.RecoverReceipts))
	if err != nil || workflow.GetVersion(ctx, healVersion, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return res, err
	}
	opts.Summary = "Signal the paid debts whose workflow was not told, start the debts never started"
	res.Healed, err = run(workflow.WithActivityOptions(ctx, opts), call0(HealActivities.HealDebts))
	return res, err
}
