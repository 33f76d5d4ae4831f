package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"incasso/domain/date"
)

func standInListPendingFlows(context.Context, FdRIntakeInput) ([]FdRFlowRef, error) { return nil, nil }
func standInIntakeFlow(context.Context, FdRFlowRef, date.Date) (FdRFlowOutcome, error) {
	return FdRFlowOutcome{}, nil
}
func standInFlagMissingFlowLines(context.Context, FdRIntakeInput) (int64, error) { return 0, nil }

func fdrEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(FdRIntake)
	env.RegisterActivityWithOptions(standInListPendingFlows, activity.RegisterOptions{Name: ActivityListPendingFlows})
	env.RegisterActivityWithOptions(standInIntakeFlow, activity.RegisterOptions{Name: ActivityIntakeFlow})
	env.RegisterActivityWithOptions(standInFlagMissingFlowLines, activity.RegisterOptions{Name: ActivityFlagMissingFlowLines})
	return env
}

// A flow whose intake keeps failing is reported and the run goes on with the others, then
// flags the late receipts; a run without a date takes the day in Rome.
func TestFdRIntakeGoesOnPastAFailedFlow(t *testing.T) {
	t.Parallel()
	env := fdrEnv(t)
	env.SetStartTime(time.Date(2026, time.December, 7, 23, 30, 0, 0, time.UTC)) // the 8th in Rome
	day := date.Date{Year: 2026, Month: time.December, Day: 8}
	refs := []FdRFlowRef{{FlowID: "2026-12-08BCITITMM-0000001", PSPID: "BCITITMM", Revision: 1},
		{FlowID: "2026-12-08UNCRITMM-0000002", PSPID: "UNCRITMM", Revision: 1}}
	env.OnActivity(ActivityListPendingFlows, mock.Anything, FdRIntakeInput{Date: day, LookbackDays: 7, LateAfterBusinessDays: 3}).Return(refs, nil)
	attempts := 0
	env.OnActivity(ActivityIntakeFlow, mock.Anything, refs[0], day).Return(func(context.Context, FdRFlowRef, date.Date) (FdRFlowOutcome, error) {
		attempts++
		return FdRFlowOutcome{}, temporal.NewApplicationError("FdR answered 500", "test")
	})
	env.OnActivity(ActivityIntakeFlow, mock.Anything, refs[1], day).Return(
		FdRFlowOutcome{FlowID: refs[1].FlowID, Revision: 1, Stored: true, Lines: map[string]int64{"MATCHED": 2}}, nil)
	env.OnActivity(ActivityFlagMissingFlowLines, mock.Anything, FdRIntakeInput{Date: day, LookbackDays: 7, LateAfterBusinessDays: 3}).Return(int64(1), nil)

	env.ExecuteWorkflow(FdRIntake, FdRIntakeInput{LookbackDays: 7})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res FdRIntakeResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 5, attempts, "retried as its policy says")
	require.Equal(t, FdRIntakeResult{Date: day, Failed: []string{refs[0].FlowID}, LateReceipts: 1,
		Flows: []FdRFlowOutcome{{FlowID: refs[1].FlowID, Revision: 1, Stored: true, Lines: map[string]int64{"MATCHED": 2}}}}, res)
}

// A listing that fails after its retries fails the run: nothing was read, the next run reads it.
func TestFdRIntakeFailsWhenTheListFails(t *testing.T) {
	t.Parallel()
	env := fdrEnv(t)
	env.OnActivity(ActivityListPendingFlows, mock.Anything, mock.Anything).Return(nil, errors.New("FdR down"))
	env.ExecuteWorkflow(FdRIntake, FdRIntakeInput{Date: date.Date{Year: 2026, Month: time.December, Day: 8}})
	require.True(t, env.IsWorkflowCompleted())
	require.ErrorContains(t, env.GetWorkflowError(), "FdR down")
}
