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
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"incasso/domain/date"
)

// runCall is one activity call of a collection run, with the workflow time and the attempt.
type runCall struct {
	Activity string
	Ref      RunRef
	Attempt  int32
	At       time.Time
}

// runHarness runs CollectionRun with the SDD activities mocked: SubmitCollectionFile answers
// file, FetchStatusReport fails reportFails times (the bank has no report yet) and then
// answers report, NotifyPlans answers notified.
type runHarness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	file        SubmittedFile
	report      RunOutcome
	reportFails int32
	notified    int

	mu    sync.Mutex
	calls []runCall
}

func newRunHarness(t *testing.T, start time.Time) *runHarness {
	h := &runHarness{t: t, env: newPlanEnv(t, start)}
	h.env.RegisterWorkflow(CollectionRun)
	h.env.RegisterActivity(&planStandIns{})
	record := func(ctx context.Context, name string, ref RunRef) int32 {
		attempt := activity.GetInfo(ctx).Attempt
		now := h.env.Now().UTC()
		h.mu.Lock()
		defer h.mu.Unlock()
		h.calls = append(h.calls, runCall{Activity: name, Ref: ref, Attempt: attempt, At: now})
		return attempt
	}
	h.env.OnActivity(ActivitySubmitFile, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, ref RunRef) (SubmittedFile, error) {
			record(ctx, ActivitySubmitFile, ref)
			return h.file, nil
		}).Maybe()
	h.env.OnActivity(ActivityFetchStatusReport, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, ref RunRef) (RunOutcome, error) {
			if record(ctx, ActivityFetchStatusReport, ref) <= h.reportFails {
				return RunOutcome{}, errors.New("no pain.002 yet")
			}
			return h.report, nil
		}).Maybe()
	h.env.OnActivity(ActivityNotifyPlans, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, ref RunRef) (int, error) {
			record(ctx, ActivityNotifyPlans, ref)
			return h.notified, nil
		}).Maybe()
	return h
}

func (h *runHarness) run(in CollectionRunInput) CollectionRunResult {
	h.t.Helper()
	h.env.ExecuteWorkflow(CollectionRun, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError())
	var res CollectionRunResult
	require.NoError(h.t, h.env.GetWorkflowResult(&res))
	return res
}

func (h *runHarness) log() []runCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]runCall(nil), h.calls...)
}

var (
	testRunDate = date.Date{Year: 2026, Month: time.December, Day: 31}
	testRunRef  = RunRef{Account: testPlanAccount, CollectionDate: testRunDate}
)

func TestCollectionRunWorkflowID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "sdd/tesoreria/2026-12-31", CollectionRunWorkflowID(testPlanAccount, testRunDate))
	require.Equal(t, "plan/00000000001/iupd-1", PlanWorkflowID("00000000001", "iupd-1"))
}

// The run gathers instalments until the cut-off (D-1 at 14:00), then submits the file, asks
// for the status report until the bank has it (a failed attempt is retried after 1 minute,
// then 2...), and tells the plans: in that order.
func TestCollectionRunSubmitsAtCutoff(t *testing.T) {
	t.Parallel()
	start := romeAt(2026, time.December, 28, 10)
	h := newRunHarness(t, start)
	h.file = SubmittedFile{MsgID: "MSG-1", Transactions: 3, CtrlSum: 60_000}
	h.report = RunOutcome{Accepted: 2, Rejected: 1}
	h.reportFails = 2
	h.notified = 3
	submitAt := Calendar{CutoffHour: 14}.CutoffAt(testRunDate)
	require.Equal(t, romeAt(2026, time.December, 30, 14), submitAt.UTC())

	res := h.run(CollectionRunInput{Account: testPlanAccount, CollectionDate: testRunDate, SubmitAt: submitAt})

	require.Equal(t, CollectionRunResult{SubmittedFile: h.file, RunOutcome: h.report, Notified: 3}, res)
	calls := h.log()
	require.Equal(t, []runCall{
		{ActivitySubmitFile, testRunRef, 1, submitAt.UTC()},
		{ActivityFetchStatusReport, testRunRef, 1, submitAt.UTC()},
		{ActivityFetchStatusReport, testRunRef, 2, submitAt.Add(time.Minute).UTC()},
		{ActivityFetchStatusReport, testRunRef, 3, submitAt.Add(3 * time.Minute).UTC()},
		{ActivityNotifyPlans, testRunRef, 1, submitAt.Add(3 * time.Minute).UTC()},
	}, calls)
}

// A run without transactions (every instalment withdrawn, or none handed to it) submits
// nothing more: no report to wait for, no plan to tell.
func TestCollectionRunNothingToCollect(t *testing.T) {
	t.Parallel()
	start := romeAt(2026, time.December, 28, 10)
	h := newRunHarness(t, start)
	h.file = SubmittedFile{}
	submitAt := Calendar{CutoffHour: 14}.CutoffAt(testRunDate)

	res := h.run(CollectionRunInput{Account: testPlanAccount, CollectionDate: testRunDate, SubmitAt: submitAt})

	require.Equal(t, CollectionRunResult{}, res)
	require.Equal(t, []runCall{{ActivitySubmitFile, testRunRef, 1, submitAt.UTC()}}, h.log())
}

// A run started after its cut-off (a late start, a worker down) submits at once.
func TestCollectionRunAfterCutoff(t *testing.T) {
	t.Parallel()
	start := romeAt(2026, time.December, 30, 16)
	h := newRunHarness(t, start)
	h.file = SubmittedFile{MsgID: "MSG-2", Transactions: 1, CtrlSum: 100}
	h.report = RunOutcome{Accepted: 1}
	h.notified = 1

	res := h.run(CollectionRunInput{Account: testPlanAccount, CollectionDate: testRunDate,
		SubmitAt: romeAt(2026, time.December, 30, 14)})

	require.Equal(t, CollectionRunResult{SubmittedFile: h.file, RunOutcome: h.report, Notified: 1}, res)
	calls := h.log()
	require.Len(t, calls, 3)
	require.Equal(t, []string{ActivitySubmitFile, ActivityFetchStatusReport, ActivityNotifyPlans},
		[]string{calls[0].Activity, calls[1].Activity, calls[2].Activity})
	for _, c := range calls {
		require.True(t, c.At.Equal(start), "%s at %s", c.Activity, c.At)
	}
}

// BankNotifications reads the bank's returns once per scheduled run, retried at most 5 times,
// then the treasury's statements.
func TestBankNotifications(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		fails int32
		err   bool
	}{
		{"read", 0, false},
		{"bank down four times", 4, false},
		{"bank down", 5, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newPlanEnv(t, testPlanStart)
			env.RegisterWorkflow(BankNotifications)
			env.RegisterActivityWithOptions(func(context.Context) (int, error) { return 0, nil }, activity.RegisterOptions{Name: ActivityPollBank})
			env.RegisterActivityWithOptions(func(context.Context) (int, error) { return 0, nil }, activity.RegisterOptions{Name: ActivityPollTreasury})
			treasury := 0
			env.OnActivity(ActivityPollTreasury, mock.Anything).Return(func(context.Context) (int, error) { treasury++; return 7, nil })
			var attempts []int32
			env.OnActivity(ActivityPollBank, mock.Anything).Return(func(ctx context.Context) (int, error) {
				a := activity.GetInfo(ctx).Attempt
				attempts = append(attempts, a)
				if a <= tt.fails {
					return 0, temporal.NewApplicationError("bank gateway unavailable", "Unavailable")
				}
				return 4, nil
			})
			env.ExecuteWorkflow(BankNotifications)
			require.True(t, env.IsWorkflowCompleted())
			require.Len(t, attempts, min(int(tt.fails)+1, 5))
			if tt.err {
				require.Error(t, env.GetWorkflowError())
				require.Zero(t, treasury, "no statement read after the notifications failed")
				return
			}
			require.NoError(t, env.GetWorkflowError())
			var n int
			require.NoError(t, env.GetWorkflowResult(&n))
			require.Equal(t, 4, n)
			require.Equal(t, 1, treasury, "the statements are read once, after the notifications")
		})
	}
}
