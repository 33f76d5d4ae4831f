package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ReceiptRecoveryScheduleID is the Temporal Schedule that runs ReceiptRecovery periodically.
const ReceiptRecoveryScheduleID = "receipt-recovery"

// ActivityRecoverReceipts is the activity that asks GPD for receipts never pushed to the EC.
const ActivityRecoverReceipts = "RecoverReceipts"

// RecoveryResult counts what one recovery run found.
type RecoveryResult struct {
	Checked   int // unpaid notices asked about
	Recovered int // receipts found and recorded through the normal path
	Flagged   int // of which flagged for the finance office
}

// ReceiptRecovery is one run of the receipt recovery job: the notices still unpaid a while
// after issue are looked up in GPD's receipts API, and any receipt found goes through the
// same path as a pushed one.
func ReceiptRecovery(ctx workflow.Context) (RecoveryResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    3 * time.Minute, // longer than one GPD call with its retries
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:             "Ask GPD for the receipts of unpaid notices",
	})
	return run(ctx, call0(RecoveryActivities.RecoverReceipts))
}
