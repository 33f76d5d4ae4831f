package workflows

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"incasso/domain/date"
)

func standInPurgeArchive(context.Context, PurgeInput) (PurgeResult, error) { return PurgeResult{}, nil }

// The purge deletes up to the day the workflow's clock is in Rome, whatever the worker's zone.
func TestArchivePurgeAsOfIsTheDateInRome(t *testing.T) {
	t.Parallel()
	loc := rome(t)
	for _, tc := range []struct {
		start time.Time
		want  date.Date
	}{
		{time.Date(2031, time.January, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), date.Date{Year: 2031, Month: time.January, Day: 1}},
		{time.Date(2030, time.December, 31, 23, 30, 0, 0, time.UTC), date.Date{Year: 2031, Month: time.January, Day: 1}},
		{time.Date(2030, time.December, 31, 22, 30, 0, 0, time.UTC), date.Date{Year: 2030, Month: time.December, Day: 31}},
		{time.Date(2031, time.June, 30, 22, 30, 0, 0, time.UTC), date.Date{Year: 2031, Month: time.July, Day: 1}}, // CEST
		{time.Date(2031, time.March, 30, 3, 0, 0, 0, loc), date.Date{Year: 2031, Month: time.March, Day: 30}},     // the night clocks go forward
	} {
		t.Run(tc.start.Format(time.RFC3339), func(t *testing.T) {
			t.Parallel()
			var suite testsuite.WorkflowTestSuite
			suite.SetLogger(log.NewStructuredLogger(slog.New(
				slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))))
			env := suite.NewTestWorkflowEnvironment()
			env.SetStartTime(tc.start)
			env.RegisterWorkflow(ArchivePurge)
			env.RegisterActivityWithOptions(standInPurgeArchive, activity.RegisterOptions{Name: ActivityPurgeArchive})
			var got []PurgeInput
			env.OnActivity(ActivityPurgeArchive, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in PurgeInput) (PurgeResult, error) {
					got = append(got, in)
					return PurgeResult{Messages: 12, Receipts: 30}, nil
				})

			env.ExecuteWorkflow(ArchivePurge)
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			var res PurgeResult
			require.NoError(t, env.GetWorkflowResult(&res))
			require.Equal(t, PurgeResult{Messages: 12, Receipts: 30}, res)
			require.Equal(t, []PurgeInput{{AsOf: tc.want, Batch: PurgeBatch}}, got)
		})
	}
}
