package activities

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"incasso/db/dbgen"
	"incasso/workflows"
)

// Archive is the activity of the retention purge of the archived messages.
type Archive struct {
	Pool *pgxpool.Pool
	Log  *slog.Logger
}

// PurgeArchive deletes, in batches of in.Batch, the archived messages whose retention ended
// before in.AsOf and before the database's today, with their PEC receipts. A message whose
// retention has not ended is never selected, whatever AsOf says, so the archive's trigger
// never has to refuse one. The running count goes to the heartbeat, and a retry carries it on.
func (a *Archive) PurgeArchive(ctx context.Context, in workflows.PurgeInput) (workflows.PurgeResult, error) {
	var res workflows.PurgeResult
	if in.AsOf.IsZero() {
		return res, temporal.NewNonRetryableApplicationError("purge archive: no date given", workflows.ErrTypeInvalidInput, nil)
	}
	batch := in.Batch
	if batch <= 0 {
		batch = workflows.PurgeBatch
	}
	log := a.Log
	if log == nil {
		log = slog.Default()
	}
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &res) // a fresh count if unreadable: only the totals suffer
	}
	q := dbgen.New(a.Pool)
	for round := 1; ; round++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, err := q.PurgeExpiredCommunications(ctx, dbgen.PurgeExpiredCommunicationsParams{AsOf: in.AsOf.Time(), MaxRows: int32(batch)})
		if err != nil {
			return res, fmt.Errorf("purge archive batch %d: %w", round, err)
		}
		res.Messages += int(n.Messages)
		res.Receipts += int(n.Receipts)
		activity.RecordHeartbeat(ctx, res)
		log.Info("archive purge batch", "as_of", in.AsOf.String(), "round", round,
			"messages", n.Messages, "receipts", n.Receipts, "total_messages", res.Messages, "total_receipts", res.Receipts)
		if int(n.Messages) < batch {
			break
		}
	}
	log.Info("archive purge done", "as_of", in.AsOf.String(), "messages", res.Messages, "receipts", res.Receipts)
	return res, nil
}
