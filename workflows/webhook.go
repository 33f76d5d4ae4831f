package workflows

import (
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// WebhookWorkflowID is the workflow that delivers the events of one webhook endpoint: one per
// endpoint, so that a slow or failing endpoint never delays another.
func WebhookWorkflowID(endpointID int64) string {
	return "webhook/" + strconv.FormatInt(endpointID, 10)
}

// Names of the activities of the webhook deliveries.
const (
	ActivityNextWebhookDeliveries = "NextWebhookDeliveries" // queue the new events, list what is pending
	ActivityDeliverWebhook        = "DeliverWebhook"        // one signed POST to the endpoint
	ActivityDisableWebhook        = "DisableWebhook"        // stop an endpoint that failed for too long
)

// WebhookInput is what a WebhookEndpoint workflow delivers: ids and durations only.
type WebhookInput struct {
	EndpointID int64
	// GiveUpAfter is how long one delivery is retried before the endpoint is disabled.
	GiveUpAfter time.Duration
	// FirstRetry is the first wait after a failed attempt, doubling up to an hour (10 s when zero).
	FirstRetry time.Duration
}

// WebhookNext is what NextWebhookDeliveries found.
type WebhookNext struct {
	// Active is false when the endpoint was disabled or deleted: the workflow ends.
	Active bool
	// Deliveries are the pending deliveries, oldest first.
	Deliveries []int64
}

// webhookRoundsPerRun bounds a run's history: after this many looks at the feed the workflow
// continues as new with the same input (its state is all in the database).
const webhookRoundsPerRun = 100

// WebhookEndpoint delivers an endpoint's events in order, at least once: it asks for what is
// pending (the activity waits a while for new events, heartbeating), and sends each delivery,
// retried with exponential backoff (FirstRetry doubling up to 1 h) for GiveUpAfter. A delivery that
// fails for that long disables the endpoint, and the workflow ends; enabling the endpoint
// starts it again.
func WebhookEndpoint(ctx workflow.Context, in WebhookInput) error {
	look := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 3 * time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
		Summary:             "Queue the new events of the feed, list the deliveries pending",
	})
	firstRetry := in.FirstRetry
	if firstRetry == 0 {
		firstRetry = 10 * time.Second
	}
	send := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		ScheduleToCloseTimeout: in.GiveUpAfter,
		StartToCloseTimeout:    time.Minute,
		// The deadline, not a count, ends the attempts (about 80 in three days).
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: firstRetry, BackoffCoefficient: 2, MaximumInterval: time.Hour,
			MaximumAttempts: 10_000},
		Summary: "POST the signed event to the endpoint",
	})
	for range webhookRoundsPerRun {
		next, err := run(look, call1R(WebhookActivities.NextWebhookDeliveries, in.EndpointID))
		if err != nil {
			return err
		}
		if !next.Active {
			return nil
		}
		for _, id := range next.Deliveries {
			started := workflow.Now(ctx)
			if _, err := run(send, call1R(WebhookActivities.DeliverWebhook, id)); err != nil {
				// Out of attempts: the deadline passed (or the activity said it cannot be done).
				failing := workflow.Now(ctx).Sub(started).Round(time.Minute)
				reason := fmt.Sprintf("delivery %d not accepted for %s", id, failing)
				workflow.GetLogger(ctx).Warn("webhook endpoint disabled", "endpoint_id", in.EndpointID, "delivery_id", id, "failing_for", failing)
				_, err := run(look, call2(WebhookActivities.DisableWebhook, in.EndpointID, reason))
				return err
			}
		}
	}
	return workflow.NewContinueAsNewError(ctx, WebhookEndpoint, in)
}
