package workflows

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"incasso/domain/date"
	"incasso/domain/money"
)

// rome is loaded by the test itself, independently of date.Rome, so the expectations below do
// not silently follow a fallback zone.
func rome(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Rome")
	require.NoError(t, err, "the tests need the Europe/Rome zone")
	return loc
}

const (
	testDebtID     int64 = 7001
	testDocumentID int64 = 9042
)

var testDueDate = date.Date{Year: 2026, Month: time.November, Day: 30}

func testInput() DebtInput {
	return DebtInput{
		DebtID:       testDebtID,
		ECFiscalCode: "00000000001",
		IUPD:         "iupd-1",
		ServiceCode:  "TARI",
		Amount:       money.Cents(12345),
		DueDate:      testDueDate,
	}
}

// Stand-ins with the signatures of activities.Debts, registered under the activity names.
func standInRegisterPosition(context.Context, int64) error      { return nil }
func standInRenderNotice(context.Context, int64) (int64, error) { return testDocumentID, nil }
func standInSendNotice(context.Context, int64, int64) error     { return nil }
func standInSetStatus(context.Context, int64, DebtStatus) error { return nil }
func standInIssueNotice(context.Context, int64) error           { return nil }
func standInLoadPolicy(context.Context, int64) (Policy, error)  { return Policy{}, nil }
func standInSendReminder(context.Context, StepInput) error      { return nil }
func standInSendReceipt(context.Context, int64, string) error   { return nil }

// reminder is one SendReminder call, with the workflow time it happened at.
type reminder struct {
	Step    string
	Version int
	At      time.Time
}

// statusChange is one SetStatus call, with the workflow time it happened at.
type statusChange struct {
	DebtID int64
	Status DebtStatus
	At     time.Time
}

// harness is one test environment with the activity calls and search attribute upserts it saw.
type harness struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	start time.Time // 2026-11-10 09:00 Europe/Rome
	dueAt time.Time // 2026-12-01 00:00 Europe/Rome: the due date is over

	mu           sync.Mutex
	registered   []int64 // debt ids
	registerTry  []int32 // attempts of RegisterPosition
	rendered     []int64 // debt ids
	sent         [][2]int64
	statuses     []statusChange
	upserts      []string // DebtStatus values upserted
	registerFail int      // RegisterPosition fails this many times before succeeding

	setStatusTakes time.Duration // workflow time each SetStatus call takes

	// policies are what LoadPolicy returns, one per call (the last one repeated): by default
	// version 1 without steps, so a test sees no reminders unless it asks for them.
	policies      []Policy
	policyLoads   int
	reminders     []reminder
	reminderErr   error    // what SendReminder returns
	receiptsSent  []string // the receipt ids SendReceipt was called with
	receiptErr    error    // what SendReceipt returns
	ladderUpserts []string // LadderStep values upserted
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	loc := rome(t)
	var suite testsuite.WorkflowTestSuite
	// The SDK logs at debug level; keep warnings and above, shown with the test's output.
	suite.SetLogger(log.NewStructuredLogger(slog.New(
		slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))))
	h := &harness{
		t:     t,
		env:   suite.NewTestWorkflowEnvironment(),
		start: time.Date(2026, time.November, 10, 9, 0, 0, 0, loc),
		dueAt: time.Date(2026, time.December, 1, 0, 0, 0, 0, loc),
	}
	env := h.env
	env.SetStartTime(h.start)
	env.RegisterWorkflow(Debt)
	env.RegisterActivityWithOptions(standInRegisterPosition, activity.RegisterOptions{Name: ActivityRegisterPosition})
	env.RegisterActivityWithOptions(standInRenderNotice, activity.RegisterOptions{Name: ActivityRenderNotice})
	env.RegisterActivityWithOptions(standInSendNotice, activity.RegisterOptions{Name: ActivitySendNotice})
	env.RegisterActivityWithOptions(standInSetStatus, activity.RegisterOptions{Name: ActivitySetStatus})
	env.RegisterActivityWithOptions(standInIssueNotice, activity.RegisterOptions{Name: ActivityIssueNotice})
	env.RegisterActivityWithOptions(standInLoadPolicy, activity.RegisterOptions{Name: ActivityLoadPolicy})
	env.RegisterActivityWithOptions(standInSendReminder, activity.RegisterOptions{Name: ActivitySendReminder})
	env.RegisterActivityWithOptions(standInSendReceipt, activity.RegisterOptions{Name: ActivitySendReceipt})
	// The starter sets these on start; the workflow upserts DebtStatus from then on.
	require.NoError(t, env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(
		StatusCreated.SearchAttribute(),
		SearchServiceCode.ValueSet("TARI"),
	)))

	register := func(ctx context.Context, debtID int64) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.registerTry = append(h.registerTry, activity.GetInfo(ctx).Attempt)
		if len(h.registerTry) <= h.registerFail {
			return errors.New("pagoPA GPD unavailable")
		}
		h.registered = append(h.registered, debtID)
		return nil
	}
	render := func(_ context.Context, debtID int64) (int64, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.rendered = append(h.rendered, debtID)
		return testDocumentID, nil
	}
	send := func(_ context.Context, debtID, documentID int64) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.sent = append(h.sent, [2]int64{debtID, documentID})
		return nil
	}
	setStatus := func(_ context.Context, debtID int64, status DebtStatus) error {
		now := env.Now() // workflow (mock) clock, after any setStatusTakes delay
		h.mu.Lock()
		defer h.mu.Unlock()
		h.statuses = append(h.statuses, statusChange{DebtID: debtID, Status: status, At: now})
		return nil
	}
	env.OnActivity(ActivityRegisterPosition, mock.Anything, mock.Anything).Return(register).Maybe()
	env.OnActivity(ActivityRenderNotice, mock.Anything, mock.Anything).Return(render).Maybe()
	env.OnActivity(ActivitySendNotice, mock.Anything, mock.Anything, mock.Anything).Return(send).Maybe()
	// IssueNotice is the three and ISSUED in one activity, as activities.Debts does it.
	env.OnActivity(ActivityIssueNotice, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, debtID int64) error {
			if err := register(ctx, debtID); err != nil {
				return err
			}
			doc, _ := render(ctx, debtID)
			_ = send(ctx, debtID, doc)
			return setStatus(ctx, debtID, StatusIssued)
		})
	env.OnActivity(ActivityLoadPolicy, mock.Anything, mock.Anything).Return(
		func(context.Context, int64) (Policy, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.policyLoads++
			if len(h.policies) == 0 {
				return Policy{ServiceCode: "TARI", Version: 1}, nil
			}
			return h.policies[min(h.policyLoads, len(h.policies))-1], nil
		})
	env.OnActivity(ActivitySendReminder, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in StepInput) error {
			now := env.Now()
			h.mu.Lock()
			defer h.mu.Unlock()
			h.reminders = append(h.reminders, reminder{Step: in.Step.Name, Version: in.PolicyVersion, At: now.UTC()})
			return h.reminderErr
		}).Maybe()
	env.OnActivity(ActivitySendReceipt, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ int64, receiptID string) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.receiptsSent = append(h.receiptsSent, receiptID)
			return h.receiptErr
		}).Maybe()
	env.OnActivity(ActivitySetStatus, mock.Anything, mock.Anything, mock.Anything).Return(setStatus).
		AfterFn(func() time.Duration { return h.setStatusTakes })
	// Mocks run on the workflow's or an activity's goroutine: they record, the test asserts.
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa, _ := args.Get(0).(temporal.SearchAttributes)
		h.mu.Lock()
		defer h.mu.Unlock()
		if step, ok := sa.GetKeyword(SearchLadderStep); ok {
			h.ladderUpserts = append(h.ladderUpserts, step)
			return
		}
		v := "<no DebtStatus>"
		if s, ok := sa.GetKeyword(SearchDebtStatus); ok {
			v = s
		}
		h.upserts = append(h.upserts, v)
	}).Return()
	return h
}

// setStart moves the workflow's start; call it before scheduling callbacks.
func (h *harness) setStart(start time.Time) {
	h.start = start
	h.env.SetStartTime(start)
}

// at schedules fn at the given workflow instant.
func (h *harness) at(when time.Time, fn func()) {
	h.t.Helper()
	d := when.Sub(h.start)
	require.Positive(h.t, d)
	h.env.RegisterDelayedCallback(fn, d)
}

func (h *harness) signalReceiptAt(when time.Time, receiptID string) {
	h.at(when, func() { h.env.SignalWorkflow(SignalReceipt, ReceiptSignal{ReceiptID: receiptID}) })
}

// queryStatusAt queries the status at the given instant; read the result after the run.
func (h *harness) queryStatusAt(when time.Time) func() (DebtStatus, error) {
	var (
		got DebtStatus
		err error
		ran bool
	)
	h.at(when, func() {
		ran = true
		var v converter.EncodedValue
		v, err = h.env.QueryWorkflow(QueryStatus)
		if err == nil {
			err = v.Get(&got)
		}
	})
	return func() (DebtStatus, error) {
		require.True(h.t, ran, "query callback did not run")
		return got, err
	}
}

// run executes the workflow to completion and returns its result.
func (h *harness) run(in DebtInput) DebtResult {
	h.t.Helper()
	h.env.ExecuteWorkflow(Debt, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError())
	var res DebtResult
	require.NoError(h.t, h.env.GetWorkflowResult(&res))
	return res
}

func (h *harness) statusNames() []DebtStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := make([]DebtStatus, 0, len(h.statuses))
	for _, s := range h.statuses {
		require.Equal(h.t, testDebtID, s.DebtID, "SetStatus %s", s.Status)
		names = append(names, s.Status)
	}
	return names
}

func (h *harness) statusTime(status DebtStatus) time.Time {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.statuses {
		if s.Status == status {
			return s.At
		}
	}
	h.t.Fatalf("status %s never recorded", status)
	return time.Time{}
}

// requireIssuedOnce checks the issue activities ran once each, chained by the document id.
func (h *harness) requireIssuedOnce() {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Equal(h.t, []int64{testDebtID}, h.registered)
	require.Equal(h.t, []int64{testDebtID}, h.rendered)
	require.Equal(h.t, [][2]int64{{testDebtID, testDocumentID}}, h.sent)
}

// requireSearchStatuses checks the DebtStatus upserts mirror the statuses recorded.
func (h *harness) requireSearchStatuses(want ...DebtStatus) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	values := make([]string, len(want))
	for i, s := range want {
		values[i] = string(s)
	}
	require.Equal(h.t, values, h.upserts)
}

func TestDueInstantIsRomeMidnight(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	require.Equal(t, time.Date(2026, time.November, 30, 23, 0, 0, 0, time.UTC), h.dueAt.UTC())
	require.True(t, testDueDate.EndIn(date.Rome).Equal(h.dueAt), "date.Rome is not Europe/Rome")
}

func TestDebtPaidBeforeDueDate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	paidAt := h.start.Add(3 * 24 * time.Hour)
	h.signalReceiptAt(paidAt, "r1")

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	require.Equal(t, []DebtStatus{StatusIssued, StatusPaid}, h.statusNames())
	require.NotContains(t, h.statusNames(), StatusOverdue)
	h.requireIssuedOnce()
	h.requireSearchStatuses(StatusIssued, StatusPaid)
	require.True(t, h.statusTime(StatusIssued).Equal(h.start), "issued at %s", h.statusTime(StatusIssued))
	require.True(t, h.statusTime(StatusPaid).Equal(paidAt), "paid at %s", h.statusTime(StatusPaid))
	require.True(t, h.env.Now().Before(h.dueAt), "completed at %s, due date over at %s", h.env.Now(), h.dueAt)
	h.env.AssertExpectations(t)
}

func TestDebtOverdueThenPaid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	paidAt := h.dueAt.Add(3 * 24 * time.Hour)
	h.signalReceiptAt(paidAt, "r-late")

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r-late"}, res)
	require.Equal(t, []DebtStatus{StatusIssued, StatusOverdue, StatusPaid}, h.statusNames())
	h.requireIssuedOnce()
	h.requireSearchStatuses(StatusIssued, StatusOverdue, StatusPaid)

	overdueAt := h.statusTime(StatusOverdue)
	wantUTC := time.Date(2026, time.November, 30, 23, 0, 0, 0, time.UTC)
	require.WithinDuration(t, wantUTC, overdueAt, time.Minute, "OVERDUE at %s", overdueAt.In(h.dueAt.Location()))
	require.False(t, overdueAt.Before(wantUTC), "OVERDUE before the due date was over: %s", overdueAt)
	require.True(t, h.statusTime(StatusPaid).Equal(paidAt), "paid at %s", h.statusTime(StatusPaid))
	h.env.AssertExpectations(t)
}

func TestDebtDuplicateReceipts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Recording PAID takes 10s, so the later receipts reach a workflow that is still running.
	h.setStatusTakes = 10 * time.Second
	first := h.start.Add(2 * 24 * time.Hour)
	h.signalReceiptAt(first, "r1")
	h.signalReceiptAt(first.Add(time.Second), "r1")
	h.signalReceiptAt(first.Add(2*time.Second), "r2")

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	require.Equal(t, []DebtStatus{StatusIssued, StatusPaid}, h.statusNames())
	require.True(t, h.statusTime(StatusPaid).Equal(first.Add(10*time.Second)), "PAID at %s", h.statusTime(StatusPaid))
	h.requireIssuedOnce()
	h.requireSearchStatuses(StatusIssued, StatusPaid)
	h.env.AssertExpectations(t)
}

func TestDebtDuplicateReceiptsSameInstant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first := h.start.Add(2 * 24 * time.Hour)
	h.at(first, func() {
		h.env.SignalWorkflow(SignalReceipt, ReceiptSignal{ReceiptID: "r1"})
		h.env.SignalWorkflow(SignalReceipt, ReceiptSignal{ReceiptID: "r1"})
		h.env.SignalWorkflow(SignalReceipt, ReceiptSignal{ReceiptID: "r2"})
	})

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	require.Equal(t, []DebtStatus{StatusIssued, StatusPaid}, h.statusNames())
	h.requireSearchStatuses(StatusIssued, StatusPaid)
}

func TestDebtQueryWhileWaiting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	status := h.queryStatusAt(h.start.Add(24 * time.Hour))
	h.signalReceiptAt(h.start.Add(5*24*time.Hour), "r1")

	res := h.run(testInput())

	got, err := status()
	require.NoError(t, err)
	require.Equal(t, StatusIssued, got)
	require.Equal(t, StatusPaid, res.Status)
}

func TestDebtQueryAfterOverdue(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	before := h.queryStatusAt(h.dueAt.Add(-time.Minute))
	after := h.queryStatusAt(h.dueAt.Add(time.Hour))
	h.signalReceiptAt(h.dueAt.Add(2*24*time.Hour), "r1")

	res := h.run(testInput())

	got, err := before()
	require.NoError(t, err)
	require.Equal(t, StatusIssued, got)
	got, err = after()
	require.NoError(t, err)
	require.Equal(t, StatusOverdue, got)
	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	require.Equal(t, []DebtStatus{StatusIssued, StatusOverdue, StatusPaid}, h.statusNames())
}

func TestDebtRegisterPositionRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.registerFail = 2
	h.signalReceiptAt(h.start.Add(24*time.Hour), "r1")

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	h.mu.Lock()
	require.Equal(t, []int32{1, 2, 3}, h.registerTry)
	h.mu.Unlock()
	h.requireIssuedOnce()
	require.Equal(t, []DebtStatus{StatusIssued, StatusPaid}, h.statusNames())
	h.requireSearchStatuses(StatusIssued, StatusPaid)
}

func TestDebtInvalidInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(*DebtInput)
	}{
		{name: "no debt id", mutate: func(in *DebtInput) { in.DebtID = 0 }},
		{name: "no due date", mutate: func(in *DebtInput) { in.DueDate = date.Date{} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			in := testInput()
			c.mutate(&in)

			h.env.ExecuteWorkflow(Debt, in)

			require.True(t, h.env.IsWorkflowCompleted())
			err := h.env.GetWorkflowError()
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, err, &appErr)
			require.Equal(t, "InvalidInput", appErr.Type())
			require.True(t, appErr.NonRetryable())
			h.mu.Lock()
			defer h.mu.Unlock()
			require.Empty(t, h.registerTry)
			require.Empty(t, h.rendered)
			require.Empty(t, h.sent)
			require.Empty(t, h.statuses)
			require.Empty(t, h.upserts)
		})
	}
}

// A notice issued after its due date (a late import, or issue activities retried past it)
// must turn OVERDUE at once. It does not: run computes a negative untilDue and awaitReceipt
// takes a negative duration to mean "wait forever", so the debt stays ISSUED.
func TestDebtIssuedAfterDueDateIsOverdue(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setStart(h.dueAt.Add(2 * time.Hour))
	status := h.queryStatusAt(h.dueAt.Add(3 * time.Hour))
	h.signalReceiptAt(h.dueAt.Add(24*time.Hour), "r1")
	h.env.SetTestTimeout(10 * time.Second)

	res := h.run(testInput())

	got, err := status()
	require.NoError(t, err)
	require.Equal(t, StatusOverdue, got)
	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	require.Equal(t, []DebtStatus{StatusIssued, StatusOverdue, StatusPaid}, h.statusNames())
	require.True(t, h.statusTime(StatusOverdue).Equal(h.start))
}

// TestDebtIssueNoticeHeartbeats: the IssueNotice activity is scheduled with a heartbeat
// timeout, so that a worker killed while issuing has its notices retried by another worker
// within seconds rather than after the 2-minute start-to-close timeout (make chaos).
func TestDebtIssueNoticeHeartbeats(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var heartbeat time.Duration
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == ActivityIssueNotice {
			heartbeat = info.HeartbeatTimeout
		}
	})
	h.signalReceiptAt(h.start.Add(time.Hour), "r1")
	h.run(testInput())
	require.Equal(t, issueHeartbeat, heartbeat)
	require.Less(t, heartbeat, time.Minute)
}
