package activities

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// TestKeepAlive: an activity that records no progress of its own heartbeats while it runs,
// so it outlives its heartbeat timeout; without keepAlive the same activity times out.
func TestKeepAlive(t *testing.T) {
	for _, alive := range []bool{true, false} {
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		var beats atomic.Int32
		env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats.Add(1) })
		busy := func(ctx context.Context) error {
			if alive {
				defer keepAlive(ctx)()
			}
			time.Sleep(time.Second) // a slow GPD call, say
			return nil
		}
		env.RegisterActivityWithOptions(busy, activity.RegisterOptions{Name: "Busy"})
		env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
			ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, HeartbeatTimeout: 300 * time.Millisecond,
				RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
			return workflow.ExecuteActivity(ctx, "Busy").Get(ctx, nil)
		}, workflow.RegisterOptions{Name: "Busy"})
		env.ExecuteWorkflow("Busy")
		require.True(t, env.IsWorkflowCompleted())
		if alive {
			require.NoError(t, env.GetWorkflowError())
			require.GreaterOrEqual(t, beats.Load(), int32(2))
			continue
		}
		var timeout *temporal.TimeoutError
		require.ErrorAs(t, env.GetWorkflowError(), &timeout, "without heartbeats the activity times out")
		require.Zero(t, beats.Load())
	}
}

// TestKeepAliveOutsideActivity: called outside an activity (tests call the activities'
// methods directly), keepAlive does nothing.
func TestKeepAliveOutsideActivity(t *testing.T) {
	stop := keepAlive(context.Background())
	stop()
}
