package activities

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"

	"incasso/db/dbgen"
	"incasso/services/webhooks"
	"incasso/workflows"
)

var _ workflows.WebhookActivities = (*Webhooks)(nil)

// Webhooks are the activities of the webhook endpoints' workflows.
type Webhooks struct {
	Pool   *pgxpool.Pool
	Sender *webhooks.Sender
	// PollEvery is how often NextWebhookDeliveries looks for new events while none come, for
	// at most WaitUpTo (then it answers none, and the workflow asks again).
	PollEvery, WaitUpTo time.Duration
	Log                 *slog.Logger
}

// Batches of the feed: events read per look, deliveries handed to the workflow per look.
const (
	webhookScan    = 500
	webhookPending = 100
)

// NextWebhookDeliveries queues the events new in the feed for the endpoint and returns what
// is pending, waiting up to WaitUpTo for something to be (heartbeating as it polls).
func (w *Webhooks) NextWebhookDeliveries(ctx context.Context, endpointID int64) (workflows.WebhookNext, error) {
	deadline := time.Now().Add(w.WaitUpTo)
	for {
		pending, active, err := webhooks.Next(ctx, w.Pool, endpointID, webhookScan, webhookPending)
		if err != nil || !active || len(pending) > 0 || !time.Now().Before(deadline) {
			return workflows.WebhookNext{Active: active, Deliveries: pending}, err
		}
		activity.RecordHeartbeat(ctx)
		select {
		case <-ctx.Done():
			return workflows.WebhookNext{}, ctx.Err()
		case <-time.After(w.PollEvery):
		}
	}
}

// DeliverWebhook sends one delivery; a refusal or no answer is an error, retried by the
// workflow's policy. It reports whether the delivery is done (false: the endpoint is gone).
func (w *Webhooks) DeliverWebhook(ctx context.Context, deliveryID int64) (bool, error) {
	out, err := w.Sender.Deliver(ctx, dbgen.New(w.Pool), deliveryID)
	return out.Sent, err
}

// DisableWebhook disables an endpoint that failed for too long, and says so in the log (by id:
// its URL may carry a token of the receiver's); incasso_webhook_endpoints{status="DISABLED"}
// counts it.
func (w *Webhooks) DisableWebhook(ctx context.Context, endpointID int64, reason string) error {
	disabled, err := webhooks.Disable(ctx, w.Pool, endpointID, reason)
	if err != nil || !disabled {
		return err
	}
	w.Log.Warn("webhook endpoint disabled", "endpoint_id", endpointID, "reason", reason)
	return nil
}
