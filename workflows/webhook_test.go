package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// webhookEnv is a test environment with the webhook activities played by functions.
type webhookEnv struct {
	*testsuite.TestWorkflowEnvironment
	looks     int
	sent      []int64
	disabled  string
	pending   [][]int64 // what each look finds; past the end, the endpoint is deleted
	deliverFn func(id int64, attempt int32) error
}

func newWebhookEnv(t *testing.T) *webhookEnv {
	var suite testsuite.WorkflowTestSuite
	w := &webhookEnv{TestWorkflowEnvironment: suite.NewTestWorkflowEnvironment()}
	w.RegisterActivityWithOptions(func(context.Context, int64) (WebhookNext, error) {
		w.looks++
		if w.looks > len(w.pending) {
			return WebhookNext{}, nil
		}
		return WebhookNext{Active: true, Deliveries: w.pending[w.looks-1]}, nil
	}, activity.RegisterOptions{Name: ActivityNextWebhookDeliveries})
	w.RegisterActivityWithOptions(func(ctx context.Context, id int64) (bool, error) {
		if w.deliverFn != nil {
			if err := w.deliverFn(id, activity.GetInfo(ctx).Attempt); err != nil {
				return false, err
			}
		}
		w.sent = append(w.sent, id)
		return true, nil
	}, activity.RegisterOptions{Name: ActivityDeliverWebhook})
	w.RegisterActivityWithOptions(func(_ context.Context, _ int64, reason string) error {
		w.disabled = reason
		return nil
	}, activity.RegisterOptions{Name: ActivityDisableWebhook})
	return w
}

var webhookIn = WebhookInput{EndpointID: 7, GiveUpAfter: 72 * time.Hour}

// The deliveries go out in the order found, look after look; the workflow ends when the
// endpoint is deleted.
func TestWebhookDeliversInOrder(t *testing.T) {
	w := newWebhookEnv(t)
	w.pending = [][]int64{{1, 2}, {}, {3}}
	w.ExecuteWorkflow(WebhookEndpoint, webhookIn)
	require.True(t, w.IsWorkflowCompleted())
	require.NoError(t, w.GetWorkflowError())
	require.Equal(t, []int64{1, 2, 3}, w.sent)
	require.Empty(t, w.disabled)
}

// A receiver that fails three times gets the delivery at the fourth attempt, after backoff,
// and the later ones after it.
func TestWebhookRetriesAFailingReceiver(t *testing.T) {
	w := newWebhookEnv(t)
	w.pending = [][]int64{{1, 2}}
	var firstAt, deliveredAt time.Time
	w.deliverFn = func(id int64, attempt int32) error {
		if id == 1 && attempt == 1 {
			firstAt = w.Now()
		}
		if id == 1 && attempt <= 3 {
			return errors.New("status 503")
		}
		if id == 1 {
			deliveredAt = w.Now()
		}
		return nil
	}
	w.ExecuteWorkflow(WebhookEndpoint, webhookIn)
	require.NoError(t, w.GetWorkflowError())
	require.Equal(t, []int64{1, 2}, w.sent)
	require.Empty(t, w.disabled)
	// 10 s, 20 s, 40 s of backoff
	require.GreaterOrEqual(t, deliveredAt.Sub(firstAt), 70*time.Second)
}

// A delivery refused for three days disables the endpoint, saying which, and ends the
// workflow; nothing after it is sent.
func TestWebhookDisablesAnEndpointFailingForThreeDays(t *testing.T) {
	w := newWebhookEnv(t)
	w.pending = [][]int64{{5, 6}}
	var firstAt, lastAt time.Time
	w.deliverFn = func(id int64, attempt int32) error {
		if attempt == 1 {
			firstAt = w.Now()
		}
		lastAt = w.Now()
		return errors.New("status 500")
	}
	w.ExecuteWorkflow(WebhookEndpoint, webhookIn)
	require.True(t, w.IsWorkflowCompleted())
	require.NoError(t, w.GetWorkflowError())
	require.Empty(t, w.sent)
	require.Regexp(t, `^delivery 5 not accepted for (71h[0-9]+m0s|72h0m0s)$`, w.disabled)
	require.Equal(t, 1, w.looks)
	require.Greater(t, lastAt.Sub(firstAt), 70*time.Hour, "retried for about three days")
	require.LessOrEqual(t, lastAt.Sub(firstAt), 72*time.Hour)
}

// The history stays bounded: after its rounds a run continues as new with the same input.
func TestWebhookContinuesAsNew(t *testing.T) {
	w := newWebhookEnv(t)
	w.pending = make([][]int64, webhookRoundsPerRun+1)
	w.ExecuteWorkflow(WebhookEndpoint, webhookIn)
	require.True(t, w.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, w.GetWorkflowError(), &can)
	require.Equal(t, webhookRoundsPerRun, w.looks)
}
