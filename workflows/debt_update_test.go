package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"incasso/domain/date"
	"incasso/domain/money"
)

// updateStandIns has the signatures of the update activities. Registered as a struct, like
// activities.Debts on the worker, its methods take their names: CancelPosition, ...
// (RegisterActivityWithOptions, which would name them, cannot follow the harness's mocks).
type updateStandIns struct{}

func (*updateStandIns) CancelPosition(context.Context, int64, string) error { return nil }
func (*updateStandIns) SendCancellation(context.Context, int64) error       { return nil }
func (*updateStandIns) ChangePosition(context.Context, ChangeInput) error   { return nil }

type cancelCall struct {
	DebtID  int64
	Reason  string
	Attempt int32
}

type sendCancellationCall struct {
	DebtID  int64
	Attempt int32
}

type changeCall struct {
	In  ChangeInput
	End time.Time // workflow time the activity returned at
}

// updateActivities mocks the activities of the updates on a harness and records their calls
// (under h.mu). Set the knobs before the run.
type updateActivities struct {
	h *harness

	cancelErr             error         // CancelPosition returns it
	sendCancellationErr   error         // SendCancellation returns it
	sendCancellationTakes time.Duration // workflow time each SendCancellation takes
	changeErr             error         // ChangePosition returns it
	changeTakes           time.Duration // workflow time each ChangePosition takes

	cancels       []cancelCall
	cancellations []sendCancellationCall
	changes       []changeCall
}

func withUpdateActivities(h *harness) *updateActivities {
	u := &updateActivities{h: h}
	env := h.env
	env.RegisterActivity(&updateStandIns{})

	env.OnActivity(ActivityCancelPosition, mock.Anything, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, debtID int64, reason string) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			u.cancels = append(u.cancels, cancelCall{DebtID: debtID, Reason: reason, Attempt: activity.GetInfo(ctx).Attempt})
			return u.cancelErr
		}).Maybe()
	env.OnActivity(ActivitySendCancellation, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, debtID int64) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			u.cancellations = append(u.cancellations, sendCancellationCall{DebtID: debtID, Attempt: activity.GetInfo(ctx).Attempt})
			return u.sendCancellationErr
		}).AfterFn(func() time.Duration { return u.sendCancellationTakes }).Maybe()
	env.OnActivity(ActivityChangePosition, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in ChangeInput) error {
			now := env.Now() // after the changeTakes delay
			h.mu.Lock()
			defer h.mu.Unlock()
			u.changes = append(u.changes, changeCall{In: in, End: now})
			return u.changeErr
		}).AfterFn(func() time.Duration { return u.changeTakes }).Maybe()
	return u
}

func (u *updateActivities) requireNoCancelActivities() {
	u.h.t.Helper()
	u.h.mu.Lock()
	defer u.h.mu.Unlock()
	require.Empty(u.h.t, u.cancels, "CancelPosition ran")
	require.Empty(u.h.t, u.cancellations, "SendCancellation ran")
}

func (u *updateActivities) changeInputs() []ChangeInput {
	u.h.mu.Lock()
	defer u.h.mu.Unlock()
	ins := make([]ChangeInput, 0, len(u.changes))
	for _, c := range u.changes {
		ins = append(ins, c.In)
	}
	return ins
}

// noticeCount is how many notices were rendered and sent, checking each went to the debt.
func (h *harness) noticeCount() int {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Len(h.t, h.sent, len(h.rendered), "rendered %v, sent %v", h.rendered, h.sent)
	for i := range h.rendered {
		require.Equal(h.t, testDebtID, h.rendered[i])
		require.Equal(h.t, [2]int64{testDebtID, testDocumentID}, h.sent[i])
	}
	return len(h.sent)
}

// updateOutcome is what the test environment reported of one update (guarded by h.mu).
type updateOutcome struct {
	h           *harness
	id          string
	sent        bool
	accepted    bool
	rejected    error
	completed   bool
	result      any
	err         error
	completedAt time.Time
}

// updateAt sends the update at the given workflow instant; read the outcome after the run.
func (h *harness) updateAt(when time.Time, id, name string, arg any) *updateOutcome {
	h.t.Helper()
	o := &updateOutcome{h: h, id: id}
	h.at(when, func() { o.send(name, arg) })
	return o
}

// send sends the update now; call it from a delayed callback.
func (o *updateOutcome) send(name string, arg any) {
	h := o.h
	h.mu.Lock()
	o.sent = true
	h.mu.Unlock()
	h.env.UpdateWorkflow(name, o.id, &testsuite.TestUpdateCallback{
		OnAccept: func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			o.accepted = true
		},
		OnReject: func(err error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			o.rejected = err
		},
		OnComplete: func(result any, err error) {
			now := h.env.Now()
			h.mu.Lock()
			defer h.mu.Unlock()
			o.completed, o.result, o.err, o.completedAt = true, result, err, now
		},
	}, arg)
}

// requireRejected checks the validator rejected the update with a message containing want.
func (o *updateOutcome) requireRejected(want string) {
	t := o.h.t
	t.Helper()
	o.h.mu.Lock()
	defer o.h.mu.Unlock()
	require.True(t, o.sent, "update %s not sent", o.id)
	require.Error(t, o.rejected, "update %s not rejected", o.id)
	require.Contains(t, o.rejected.Error(), want, "update %s", o.id)
	require.False(t, o.accepted, "update %s accepted", o.id)
	require.False(t, o.completed, "update %s completed", o.id)
}

// requireCompleted checks the update was accepted and completed, and returns its outcome.
func (o *updateOutcome) requireCompleted() (result any, at time.Time, err error) {
	t := o.h.t
	t.Helper()
	o.h.mu.Lock()
	defer o.h.mu.Unlock()
	require.True(t, o.sent, "update %s not sent", o.id)
	require.NoError(t, o.rejected, "update %s rejected", o.id)
	require.True(t, o.accepted, "update %s not accepted", o.id)
	require.True(t, o.completed, "update %s not completed", o.id)
	return o.result, o.completedAt, o.err
}

func requireStatus(t *testing.T, query func() (DebtStatus, error), want DebtStatus) {
	t.Helper()
	got, err := query()
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// endOf is the instant the given day of Rome is over, computed with the test's own zone.
func endOf(t *testing.T, y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d+1, 0, 0, 0, 0, rome(t))
}

func TestDebtCancelBeforeDueDate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := withUpdateActivities(h)
	u.sendCancellationTakes = 5 * time.Minute // the workflow waits for the handler to finish
	cancelAt := h.start.Add(2 * 24 * time.Hour)
	issued := h.queryStatusAt(h.start.Add(24 * time.Hour))
	cancel := h.updateAt(cancelAt, "cancel-1", UpdateCancel, CancelRequest{Reason: "Duplicate TARI notice"})
	cancelled := h.queryStatusAt(cancelAt.Add(time.Minute))

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusCancelled}, res)
	result, doneAt, err := cancel.requireCompleted()
	require.NoError(t, err)
	require.Nil(t, result)
	require.True(t, doneAt.Equal(cancelAt.Add(5*time.Minute)), "cancel completed at %s", doneAt)
	require.True(t, h.env.Now().Equal(doneAt), "workflow ended at %s, before the cancel handler (%s)", h.env.Now(), doneAt)

	h.mu.Lock()
	require.Equal(t, []cancelCall{{DebtID: testDebtID, Reason: "Duplicate TARI notice", Attempt: 1}}, u.cancels)
	require.Equal(t, []sendCancellationCall{{DebtID: testDebtID, Attempt: 1}}, u.cancellations)
	require.Empty(t, u.changes)
	h.mu.Unlock()
	require.Equal(t, []DebtStatus{StatusIssued, StatusCancelled}, h.statusNames())
	require.NotContains(t, h.statusNames(), StatusOverdue)
	require.True(t, h.statusTime(StatusCancelled).Equal(cancelAt), "CANCELLED at %s", h.statusTime(StatusCancelled))
	h.requireSearchStatuses(StatusIssued, StatusCancelled)
	h.requireIssuedOnce()
	requireStatus(t, issued, StatusIssued)
	requireStatus(t, cancelled, StatusCancelled)
	require.True(t, h.env.Now().Before(h.dueAt), "completed at %s", h.env.Now())
}

// A cancel that arrives while the notice is still being issued waits for the issue to end.
func TestDebtCancelWhileIssuing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := withUpdateActivities(h)
	// RegisterPosition fails 4 times: retried after 1+2+4+8s, the notice is issued at +15s.
	h.registerFail = 4
	cancel := h.updateAt(h.start.Add(5*time.Second), "cancel-1", UpdateCancel, CancelRequest{Reason: "Issued in error"})

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusCancelled}, res)
	_, doneAt, err := cancel.requireCompleted()
	require.NoError(t, err)
	require.False(t, doneAt.Before(h.statusTime(StatusIssued)), "cancelled at %s, before the notice was issued", doneAt)
	require.Equal(t, []DebtStatus{StatusIssued, StatusCancelled}, h.statusNames())
	h.mu.Lock()
	require.Len(t, u.cancels, 1)
	h.mu.Unlock()
	h.requireIssuedOnce()
}

func TestDebtCancelRejected(t *testing.T) {
	t.Parallel()
	const reason = "Issued in error"
	cases := []struct {
		name string
		// arrange schedules the cancel and the end of the run (a receipt at receiptAt).
		arrange    func(h *harness) (cancel *updateOutcome, receiptAt time.Time)
		wantReject string
	}{
		{
			name: "no reason",
			arrange: func(h *harness) (*updateOutcome, time.Time) {
				return h.updateAt(h.start.Add(24*time.Hour), "cancel-1", UpdateCancel, CancelRequest{}),
					h.start.Add(2 * 24 * time.Hour)
			},
			wantReject: "reason: required",
		},
		{
			name: "reason too long",
			arrange: func(h *harness) (*updateOutcome, time.Time) {
				return h.updateAt(h.start.Add(24*time.Hour), "cancel-1", UpdateCancel, CancelRequest{Reason: strings.Repeat("x", 501)}),
					h.start.Add(2 * 24 * time.Hour)
			},
			wantReject: "at most 500 characters",
		},
		{
			name: "paid, PAID being recorded",
			arrange: func(h *harness) (*updateOutcome, time.Time) {
				h.setStatusTakes = 10 * time.Second
				paidAt := h.start.Add(2 * 24 * time.Hour)
				return h.updateAt(paidAt.Add(time.Second), "cancel-1", UpdateCancel, CancelRequest{Reason: reason}), paidAt
			},
			wantReject: "the debt is paid already",
		},
		{
			name: "paid, same instant",
			arrange: func(h *harness) (*updateOutcome, time.Time) {
				paidAt := h.start.Add(2 * 24 * time.Hour)
				o := &updateOutcome{h: h, id: "cancel-1"}
				h.at(paidAt, func() {
					h.env.SignalWorkflow(SignalReceipt, ReceiptSignal{ReceiptID: "r1"})
					o.send(UpdateCancel, CancelRequest{Reason: reason})
				})
				return o, time.Time{} // the receipt is sent above
			},
			wantReject: "the debt is paid already",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			u := withUpdateActivities(h)
			cancel, receiptAt := c.arrange(h)
			if !receiptAt.IsZero() {
				h.signalReceiptAt(receiptAt, "r1")
			}

			res := h.run(testInput())

			cancel.requireRejected(c.wantReject)
			u.requireNoCancelActivities()
			require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
			require.Equal(t, []DebtStatus{StatusIssued, StatusPaid}, h.statusNames())
			h.requireIssuedOnce()
		})
	}
}

func TestDebtCancelPositionFindsDebtSettled(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := withUpdateActivities(h)
	u.cancelErr = temporal.NewNonRetryableApplicationError("debt 7001 is paid", ErrTypeSettled, nil)
	cancelAt := h.start.Add(2 * 24 * time.Hour)
	paidAt := cancelAt.Add(24 * time.Hour)
	cancel := h.updateAt(cancelAt, "cancel-1", UpdateCancel, CancelRequest{Reason: "Issued in error"})
	waiting := h.queryStatusAt(cancelAt.Add(time.Hour))
	h.signalReceiptAt(paidAt, "r1")

	res := h.run(testInput())

	_, doneAt, err := cancel.requireCompleted()
	require.Error(t, err, "cancel of a settled debt succeeded")
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, ErrTypeSettled, appErr.Type())
	require.True(t, doneAt.Equal(cancelAt), "cancel completed at %s", doneAt)

	requireStatus(t, waiting, StatusIssued)
	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	require.Equal(t, []DebtStatus{StatusIssued, StatusPaid}, h.statusNames())
	require.True(t, h.statusTime(StatusPaid).Equal(paidAt), "PAID at %s", h.statusTime(StatusPaid))
	h.requireSearchStatuses(StatusIssued, StatusPaid)
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Equal(t, []cancelCall{{DebtID: testDebtID, Reason: "Issued in error", Attempt: 1}}, u.cancels, "not retried")
	require.Empty(t, u.cancellations, "cancellation sent for a debt not cancelled")
}

func TestDebtCancelledEvenIfCancellationNotSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := withUpdateActivities(h)
	u.sendCancellationErr = temporal.NewNonRetryableApplicationError("mail server refused", "MailRejected", nil)
	cancelAt := h.start.Add(2 * 24 * time.Hour)
	cancel := h.updateAt(cancelAt, "cancel-1", UpdateCancel, CancelRequest{Reason: "Issued in error"})

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusCancelled}, res)
	_, _, err := cancel.requireCompleted()
	require.NoError(t, err, "the debt is cancelled all the same")
	require.Equal(t, []DebtStatus{StatusIssued, StatusCancelled}, h.statusNames())
	h.requireSearchStatuses(StatusIssued, StatusCancelled)
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Len(t, u.cancels, 1)
	require.Equal(t, []sendCancellationCall{{DebtID: testDebtID, Attempt: 1}}, u.cancellations)
}

func TestDebtChangeBeforeDueDate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := withUpdateActivities(h)
	req := ChangeRequest{Amount: money.Cents(15000), DueDate: date.Date{Year: 2026, Month: time.December, Day: 15}, Reason: "Surface recalculated"}
	newDueAt := endOf(t, 2026, time.December, 15) // 2026-12-15 23:00 UTC
	changeAt := h.start.Add(2 * 24 * time.Hour)
	change := h.updateAt(changeAt, "change-1", UpdateChange, req)
	afterOldDue := h.queryStatusAt(h.dueAt.Add(12 * time.Hour))
	afterNewDue := h.queryStatusAt(newDueAt.Add(time.Hour))
	paidAt := newDueAt.Add(3 * 24 * time.Hour)
	h.signalReceiptAt(paidAt, "r1")

	res := h.run(testInput())

	result, _, err := change.requireCompleted()
	require.NoError(t, err)
	require.Equal(t, ChangeResult{Revision: 2}, result)
	require.Equal(t, []ChangeInput{{DebtID: testDebtID, Revision: 2, ChangeRequest: req}}, u.changeInputs())
	require.Equal(t, 2, h.noticeCount(), "the revised notice was not rendered and sent")
	u.requireNoCancelActivities()

	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	require.Equal(t, []DebtStatus{StatusIssued, StatusOverdue, StatusPaid}, h.statusNames())
	h.requireSearchStatuses(StatusIssued, StatusOverdue, StatusPaid)
	overdueAt := h.statusTime(StatusOverdue)
	require.Equal(t, time.Date(2026, time.December, 15, 23, 0, 0, 0, time.UTC), newDueAt.UTC())
	require.True(t, overdueAt.Equal(newDueAt), "OVERDUE at %s, want the end of the new due date %s (old one %s)",
		overdueAt.In(newDueAt.Location()), newDueAt, h.dueAt)
	requireStatus(t, afterOldDue, StatusIssued)
	requireStatus(t, afterNewDue, StatusOverdue)
}

func TestDebtChangeOverdueDebt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := withUpdateActivities(h)
	// First only the amount (the due date stays past: still OVERDUE), then a future due date.
	amountOnly := ChangeRequest{Amount: money.Cents(10000), DueDate: testDueDate, Reason: "Reduction granted"}
	postponed := ChangeRequest{Amount: money.Cents(10000), DueDate: date.Date{Year: 2026, Month: time.December, Day: 20}, Reason: "Payment plan"}
	newDueAt := endOf(t, 2026, time.December, 20)
	amountAt := h.dueAt.Add(24 * time.Hour)
	postponeAt := h.dueAt.Add(2 * 24 * time.Hour)
	first := h.updateAt(amountAt, "change-1", UpdateChange, amountOnly)
	second := h.updateAt(postponeAt, "change-2", UpdateChange, postponed)
	overdue := h.queryStatusAt(h.dueAt.Add(time.Hour))
	stillOverdue := h.queryStatusAt(amountAt.Add(time.Hour))
	reissued := h.queryStatusAt(postponeAt.Add(time.Hour))
	overdueAgain := h.queryStatusAt(newDueAt.Add(time.Hour))
	h.signalReceiptAt(newDueAt.Add(24*time.Hour), "r1")

	res := h.run(testInput())

	result, _, err := first.requireCompleted()
	require.NoError(t, err)
	require.Equal(t, ChangeResult{Revision: 2}, result)
	result, _, err = second.requireCompleted()
	require.NoError(t, err)
	require.Equal(t, ChangeResult{Revision: 3}, result)
	require.Equal(t, []ChangeInput{
		{DebtID: testDebtID, Revision: 2, ChangeRequest: amountOnly},
		{DebtID: testDebtID, Revision: 3, ChangeRequest: postponed},
	}, u.changeInputs())
	require.Equal(t, 3, h.noticeCount())

	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	want := []DebtStatus{StatusIssued, StatusOverdue, StatusIssued, StatusOverdue, StatusPaid}
	require.Equal(t, want, h.statusNames())
	h.requireSearchStatuses(want...)
	h.mu.Lock()
	at := []time.Time{h.statuses[1].At, h.statuses[2].At, h.statuses[3].At}
	h.mu.Unlock()
	require.True(t, at[0].Equal(h.dueAt), "first OVERDUE at %s", at[0])
	require.True(t, at[1].Equal(postponeAt), "ISSUED again at %s, want %s", at[1], postponeAt)
	require.True(t, at[2].Equal(newDueAt), "OVERDUE again at %s, want %s", at[2], newDueAt)
	requireStatus(t, overdue, StatusOverdue)
	requireStatus(t, stillOverdue, StatusOverdue)
	requireStatus(t, reissued, StatusIssued)
	requireStatus(t, overdueAgain, StatusOverdue)
}

func TestDebtChangeTwiceAndRejections(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := withUpdateActivities(h)
	u.changeTakes = time.Hour
	req1 := ChangeRequest{Amount: money.Cents(15000), DueDate: date.Date{Year: 2026, Month: time.December, Day: 15}, Reason: "Surface recalculated"}
	req2 := ChangeRequest{Amount: money.Cents(15000), DueDate: date.Date{Year: 2026, Month: time.December, Day: 20}, Reason: "Postponed"}
	day := 24 * time.Hour
	asIssued := h.updateAt(h.start.Add(time.Hour), "change-0", UpdateChange,
		ChangeRequest{Amount: testInput().Amount, DueDate: testDueDate, Reason: "No-op"})
	first := h.updateAt(h.start.Add(day), "change-1", UpdateChange, req1)
	during := h.updateAt(h.start.Add(day+10*time.Minute), "change-during", UpdateChange, req2)
	cancelDuring := h.updateAt(h.start.Add(day+20*time.Minute), "cancel-during", UpdateCancel, CancelRequest{Reason: "Issued in error"})
	second := h.updateAt(h.start.Add(2*day), "change-2", UpdateChange, req2)
	same := h.updateAt(h.start.Add(3*day), "change-same", UpdateChange,
		ChangeRequest{Amount: req2.Amount, DueDate: req2.DueDate, Reason: "Again"})
	h.signalReceiptAt(h.start.Add(5*day), "r1")

	res := h.run(testInput())

	asIssued.requireRejected("the amount and the due date are those of the debt already")
	result, doneAt, err := first.requireCompleted()
	require.NoError(t, err)
	require.Equal(t, ChangeResult{Revision: 2}, result)
	require.True(t, doneAt.Equal(h.start.Add(day+time.Hour)), "first change completed at %s", doneAt)
	during.requireRejected("another change of this debt is in progress")
	cancelDuring.requireRejected("another change of this debt is in progress")
	result, _, err = second.requireCompleted()
	require.NoError(t, err)
	require.Equal(t, ChangeResult{Revision: 3}, result)
	same.requireRejected("the amount and the due date are those of the debt already")

	require.Equal(t, []ChangeInput{
		{DebtID: testDebtID, Revision: 2, ChangeRequest: req1},
		{DebtID: testDebtID, Revision: 3, ChangeRequest: req2},
	}, u.changeInputs())
	require.Equal(t, 3, h.noticeCount())
	u.requireNoCancelActivities()
	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	require.Equal(t, []DebtStatus{StatusIssued, StatusPaid}, h.statusNames())
}

func TestDebtReceiptDuringChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := withUpdateActivities(h)
	u.changeTakes = time.Hour
	// GPD refuses the change: the receipt was recorded while it was being applied.
	u.changeErr = temporal.NewNonRetryableApplicationError("debt 7001 is paid", ErrTypeSettled, nil)
	changeAt := h.start.Add(24 * time.Hour)
	paidAt := changeAt.Add(10 * time.Minute)
	change := h.updateAt(changeAt, "change-1", UpdateChange,
		ChangeRequest{Amount: money.Cents(15000), DueDate: testDueDate, Reason: "Surface recalculated"})
	h.signalReceiptAt(paidAt, "r1")

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	require.Equal(t, []DebtStatus{StatusIssued, StatusPaid}, h.statusNames())
	require.True(t, h.statusTime(StatusPaid).Equal(paidAt), "PAID at %s", h.statusTime(StatusPaid))
	h.requireSearchStatuses(StatusIssued, StatusPaid)

	_, doneAt, err := change.requireCompleted()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, ErrTypeSettled, appErr.Type())
	require.True(t, doneAt.Equal(changeAt.Add(time.Hour)), "change completed at %s", doneAt)
	require.False(t, h.env.Now().Before(doneAt), "workflow ended at %s, before the change handler finished at %s", h.env.Now(), doneAt)
	require.Len(t, u.changeInputs(), 1)
	require.Equal(t, 1, h.noticeCount(), "a revised notice was sent for a paid debt")
}

func TestDebtChangeRejectedFields(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		req  ChangeRequest
		want string
	}{
		{"no amount", ChangeRequest{DueDate: testDueDate, Reason: "r"}, "amount: must be at least one cent"},
		{"no due date", ChangeRequest{Amount: 1, Reason: "r"}, "dueDate: required"},
		{"no reason", ChangeRequest{Amount: 1, DueDate: testDueDate}, "reason: required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			u := withUpdateActivities(h)
			change := h.updateAt(h.start.Add(time.Hour), "change-1", UpdateChange, c.req)
			h.signalReceiptAt(h.start.Add(24*time.Hour), "r1")

			res := h.run(testInput())

			change.requireRejected(c.want)
			require.Empty(t, u.changeInputs())
			require.Equal(t, 1, h.noticeCount())
			require.Equal(t, StatusPaid, res.Status)
		})
	}
}
