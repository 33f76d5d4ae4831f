package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"incasso/domain/date"
)

// ArchivePurgeScheduleID is the Temporal Schedule that runs ArchivePurge every night.
const ArchivePurgeScheduleID = "archive-purge"

// ActivityPurgeArchive is the activity that deletes the archived messages whose retention has
// expired.
const ActivityPurgeArchive = "PurgeArchive"

// PurgeBatch is how many messages the purge deletes per statement.
const PurgeBatch = 1000

// PurgeInput says up to when retention must have expired: messages retained until a day
// before AsOf go (and never one whose retention has not expired in the database's today,
// which its trigger enforces). Batch is the number deleted per statement; 0 means PurgeBatch.
type PurgeInput struct {
	AsOf  date.Date
	Batch int
}

// PurgeResult counts what one purge deleted.
type PurgeResult struct {
	Messages int // archived messages
	Receipts int // their PEC receipts
}

// ArchivePurge is one run of the retention purge: the archived messages whose retention
// ended before today in Rome are deleted, with their PEC receipts.
func ArchivePurge(ctx workflow.Context) (PurgeResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    2 * time.Minute, // far longer than one batch takes
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:             "Delete archived messages whose retention has expired",
	})
	in := PurgeInput{AsOf: date.InRome(workflow.Now(ctx)), Batch: PurgeBatch}
	return run(ctx, call1R(ArchiveActivities.PurgeArchive, in))
}
