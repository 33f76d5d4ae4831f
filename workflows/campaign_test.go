package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func standInLaunchRows(context.Context, LaunchBatch) (LaunchResult, error) {
	return LaunchResult{}, nil
}
func standInSetCampaignStatus(context.Context, int64, string) error { return nil }

// campaignHarness runs the Campaign workflow over a campaign of rows rows, each batch taking
// batchTakes of workflow time, and records what it asked for.
type campaignHarness struct {
	env        *testsuite.TestWorkflowEnvironment
	mu         sync.Mutex
	batches    []LaunchBatch
	statuses   []string
	rows       int
	batchTakes time.Duration
}

func newCampaignHarness(t *testing.T, rows int) *campaignHarness {
	var suite testsuite.WorkflowTestSuite
	h := &campaignHarness{env: suite.NewTestWorkflowEnvironment(), rows: rows, batchTakes: time.Second}
	h.env.RegisterWorkflow(Campaign)
	h.env.RegisterActivityWithOptions(standInLaunchRows, activity.RegisterOptions{Name: ActivityLaunchRows})
	h.env.RegisterActivityWithOptions(standInSetCampaignStatus, activity.RegisterOptions{Name: ActivitySetCampaignStatus})
	h.env.OnActivity(ActivityLaunchRows, mock.Anything, mock.Anything).Return(
		func(_ context.Context, b LaunchBatch) (LaunchResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.batches = append(h.batches, b)
			last := min(b.AfterRow+b.Limit, h.rows)
			return LaunchResult{LastRow: last, Started: last - b.AfterRow, Done: last >= h.rows}, nil
		}).AfterFn(func() time.Duration { return h.batchTakes })
	h.env.OnActivity(ActivitySetCampaignStatus, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ int64, status string) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.statuses = append(h.statuses, status)
			return nil
		})
	return h
}

func TestCampaignLaunchesEveryRow(t *testing.T) {
	t.Parallel()
	h := newCampaignHarness(t, 1000)
	h.env.ExecuteWorkflow(Campaign, CampaignInput{CampaignID: 7, Rate: 20})
	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, []string{CampaignRunning, CampaignCompleted}, h.statuses)
	// 100 rows a batch (5 s at 20/s), each after the last: rows 1-1000 once.
	require.Len(t, h.batches, 10)
	for i, b := range h.batches {
		require.Equal(t, LaunchBatch{CampaignID: 7, AfterRow: i * 100, Limit: 100, Rate: 20}, b)
	}
}

func TestCampaignPauseResumeCancel(t *testing.T) {
	t.Parallel()
	h := newCampaignHarness(t, 100_000)
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(SignalCampaignPause, nil) }, 2500*time.Millisecond)
	h.env.RegisterDelayedCallback(func() {
		h.mu.Lock()
		paused := len(h.batches)
		h.mu.Unlock()
		require.Equal(t, 3, paused, "the batch running when paused ends, then nothing")
		h.env.SignalWorkflow(SignalCampaignResume, nil)
	}, time.Hour)
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(SignalCampaignCancel, nil) }, time.Hour+1500*time.Millisecond)
	h.env.ExecuteWorkflow(Campaign, CampaignInput{CampaignID: 7, Rate: 20})
	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, []string{CampaignRunning, CampaignPaused, CampaignRunning, CampaignCancelled}, h.statuses)
	require.Len(t, h.batches, 5, "3 before the pause, 2 after the resume")
	require.Equal(t, 400, h.batches[4].AfterRow, "no row launched twice, none skipped")
}

func TestCampaignContinuesAsNew(t *testing.T) {
	t.Parallel()
	h := newCampaignHarness(t, 100_000)
	h.env.ExecuteWorkflow(Campaign, CampaignInput{CampaignID: 7, Rate: 200})
	var next *workflow.ContinueAsNewError
	require.True(t, errors.As(h.env.GetWorkflowError(), &next), "%v", h.env.GetWorkflowError())
	require.Len(t, h.batches, batchesPerRun)
	var in CampaignInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(next.Input, &in))
	require.Equal(t, CampaignInput{CampaignID: 7, AfterRow: batchesPerRun * 1000, Rate: 200}, in)
	require.Equal(t, []string{CampaignRunning}, h.statuses, "the next run does not set RUNNING again")
}
