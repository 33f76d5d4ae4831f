package workflows

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/target2"
)

// The plan tests start on Wednesday 2026-11-25 at 10:00 in Rome. Their instalments fall due at
// the end of each month from December 2026 and are collected on the first business day from
// then: 2026-12-31, 2027-02-01, 2027-03-01, 2027-03-31, 2027-04-30, 2027-05-31, 2027-06-30,
// 2027-08-02... Each is pre-notified 14 days before, at 07:00, and is final (paid) on D+5
// business days at 07:00: 2027-01-08, 2027-02-08, 2027-03-08...
const (
	testPlanID        int64 = 501
	testPlanAccount         = "tesoreria"
	testRemainderIUPD       = "iupd-1-R"
	// bankAnswerHour is when the fake bank reports on a collection: noon of its date.
	bankAnswerHour = 12
)

// romeAt is the given hour of a day in Rome, in UTC as the mocks record times.
func romeAt(y int, m time.Month, d, hour int) time.Time {
	return time.Date(y, m, d, hour, 0, 0, 0, date.Rome).UTC()
}

func day(y int, m time.Month, d int) date.Date { return date.Date{Year: y, Month: m, Day: d} }

func addDays(d date.Date, n int) date.Date { return date.Of(d.Time().AddDate(0, 0, n)) }

var testPlanStart = romeAt(2026, time.November, 25, 10)

// paidAt is when the plan marks paid an instalment collected on d: 07:00 on the business day
// after D+5, the last day a return may come.
func paidAt(d date.Date) time.Time {
	final := target2.AddBusinessDays(d, DefaultPlanPolicy().FinalityBusinessDays+1)
	return romeAt(final.Year, final.Month, final.Day, actionHour)
}

// testPlan is what CreatePlan records for a plan of n instalments summing to total (the first
// ones a cent more), due at the end of each month from December 2026, with the default policy
// and the real-days calendar.
func testPlan(n int, total money.Cents) PlanCreated {
	c := PlanCreated{PlanID: testPlanID, Policy: DefaultPlanPolicy(), Calendar: Calendar{CutoffHour: 14}, Account: testPlanAccount}
	base, extra := total/money.Cents(n), int(total%money.Cents(n))
	for k := range n {
		amount := base
		if k < extra {
			amount++
		}
		due := date.Of(time.Date(2026, time.December+time.Month(k)+1, 0, 0, 0, 0, 0, time.UTC)) // day 0: the last of the month before
		c.Instalments = append(c.Instalments, PlannedInstalment{Seq: k + 1, Amount: amount, DueDate: due})
	}
	return c
}

// amountOf sums the amounts of the given instalments of a plan.
func amountOf(c PlanCreated, seqs ...int) money.Cents {
	var sum money.Cents
	for _, i := range c.Instalments {
		if slices.Contains(seqs, i.Seq) {
			sum += i.Amount
		}
	}
	return sum
}

// collectionDate is the date instalment seq of a test plan is first collected on.
func collectionDate(c PlanCreated, seq int) date.Date {
	return target2.NextBusinessDay(c.Instalments[seq-1].DueDate)
}

// planStandIns has the signatures of activities.Plans and activities.SDD. Registered as a
// struct, its methods take their names (CreatePlan, ScheduleCollection, ...); the harness mocks
// them.
type planStandIns struct{}

func (*planStandIns) CreatePlan(context.Context, int64, PlanRequest) (PlanCreated, error) {
	return PlanCreated{}, nil
}
func (*planStandIns) PrenotifyInstalment(context.Context, InstalmentRef) error { return nil }
func (*planStandIns) ScheduleCollection(context.Context, ScheduleInput) (Scheduled, error) {
	return Scheduled{}, nil
}
func (*planStandIns) MarkInstalmentPaid(context.Context, InstalmentRef) error             { return nil }
func (*planStandIns) SendInstalmentSollecito(context.Context, InstalmentRef) error        { return nil }
func (*planStandIns) RecordInstalmentStatus(context.Context, InstalmentRef, string) error { return nil }
func (*planStandIns) SetPlanStatus(context.Context, int64, string) error                  { return nil }
func (*planStandIns) WithdrawPendingCollections(context.Context, int64) ([]int, error) {
	return nil, nil
}
func (*planStandIns) SetPlanMandate(context.Context, int64, int64) error      { return nil }
func (*planStandIns) FinishPlan(context.Context, FinishInput) (string, error) { return "", nil }
func (*planStandIns) SubmitCollectionFile(context.Context, RunRef) (SubmittedFile, error) {
	return SubmittedFile{}, nil
}
func (*planStandIns) FetchStatusReport(context.Context, RunRef) (RunOutcome, error) {
	return RunOutcome{}, nil
}
func (*planStandIns) NotifyPlans(context.Context, RunRef) (int, error) { return 0, nil }

// presentation names one presentation of an instalment to the bank.
type presentation struct{ Seq, Attempt int }

// bankAnswer is what the fake bank reports about a presentation at noon of its collection date.
type bankAnswer struct {
	Outcome string // OutcomeAccepted when empty; bankSilent: nothing (the test sends it)
	Reason  string
}

const bankSilent = "SILENT"

// planCall is one call of a plan activity that names an instalment (or the plan), with the
// workflow time it happened at.
type planCall struct {
	Ref    InstalmentRef
	Status string // RecordInstalmentStatus's and SetPlanStatus's status
	At     time.Time
}

type scheduleCall struct {
	In  ScheduleInput
	Out Scheduled
	At  time.Time
}

type withdrawCall struct {
	PlanID int64
	Seqs   []int // what the fake bank gave back: presentations whose file was not sent
	At     time.Time
}

type mandateCall struct {
	PlanID, MandateID int64
	At                time.Time
}

type finishCall struct {
	In FinishInput
	At time.Time
}

// planHarness runs InstalmentPlan against a fake bank: ScheduleCollection returns the
// presentation E-<seq>-<attempt> on the date asked, and at noon of that date the bank reports
// the outcome its script says (accepted unless told otherwise), unless the presentation was
// withdrawn before the cut-off. Every plan activity is mocked and its calls are recorded
// (under mu: the mocks record, the tests assert).
type planHarness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	// signal delivers an outcome to the plan: by default to the workflow under test.
	signal func(CollectionOutcome) error

	mu        sync.Mutex
	answers   map[presentation]bankAnswer
	moves     map[presentation]int // business days the run moves a presentation: its file is sent
	withdrawn map[string]bool      // EndToEndIds taken back from their run before its file was sent
	signalErr []error
	updates   int // sent, for their ids

	prenotifyTakes time.Duration // workflow time each PrenotifyInstalment takes

	prenotified  []planCall
	scheduled    []scheduleCall
	paid         []planCall
	sollecitos   []planCall
	recorded     []planCall
	planStatuses []planCall
	withdrawals  []withdrawCall
	mandates     []mandateCall
	finished     []finishCall
}

func newPlanEnv(t *testing.T, start time.Time) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(
		slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	return env
}

// newPlanHarness is a test environment for an InstalmentPlan started at start.
func newPlanHarness(t *testing.T, start time.Time) *planHarness {
	t.Helper()
	env := newPlanEnv(t, start)
	env.RegisterWorkflow(InstalmentPlan)
	env.RegisterActivity(&planStandIns{})
	return withPlanActivities(t, env, func(o CollectionOutcome) error {
		env.SignalWorkflow(SignalCollectionOutcome, o)
		return nil
	})
}

// withPlanActivities mocks the plan activities (all but CreatePlan) on env, which has
// planStandIns registered, with the fake bank answering through signal.
func withPlanActivities(t *testing.T, env *testsuite.TestWorkflowEnvironment, signal func(CollectionOutcome) error) *planHarness {
	h := &planHarness{t: t, env: env, signal: signal,
		answers: map[presentation]bankAnswer{}, moves: map[presentation]int{}, withdrawn: map[string]bool{}}
	ref := func(list *[]planCall) func(context.Context, InstalmentRef) error {
		return func(_ context.Context, r InstalmentRef) error {
			now := env.Now().UTC()
			h.mu.Lock()
			defer h.mu.Unlock()
			*list = append(*list, planCall{Ref: r, At: now})
			return nil
		}
	}
	env.OnActivity(ActivityPrenotify, mock.Anything, mock.Anything).Return(ref(&h.prenotified)).
		AfterFn(func() time.Duration { return h.prenotifyTakes }).Maybe()
	env.OnActivity(ActivityMarkInstalment, mock.Anything, mock.Anything).Return(ref(&h.paid)).Maybe()
	env.OnActivity(ActivitySendSollecito, mock.Anything, mock.Anything).Return(ref(&h.sollecitos)).Maybe()
	env.OnActivity(ActivityScheduleCollect, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in ScheduleInput) (Scheduled, error) {
			now := env.Now().UTC()
			s := Scheduled{EndToEndID: fmt.Sprintf("E-%d-%d", in.Seq, in.Attempt), CollectionDate: in.CollectionDate}
			h.mu.Lock()
			s.CollectionDate = target2.AddBusinessDays(s.CollectionDate, h.moves[presentation{in.Seq, in.Attempt}])
			h.scheduled = append(h.scheduled, scheduleCall{In: in, Out: s, At: now})
			answer := h.answers[presentation{in.Seq, in.Attempt}]
			h.mu.Unlock()
			if answer.Outcome != bankSilent {
				h.bankAnswers(in.Calendar.At(s.CollectionDate, bankAnswerHour), s.EndToEndID, answer)
			}
			return s, nil
		}).Maybe()
	env.OnActivity(ActivityRecordInstalment, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r InstalmentRef, status string) error {
			now := env.Now().UTC()
			h.mu.Lock()
			defer h.mu.Unlock()
			h.recorded = append(h.recorded, planCall{Ref: r, Status: status, At: now})
			return nil
		}).Maybe()
	env.OnActivity(ActivitySetPlanStatus, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, planID int64, status string) error {
			now := env.Now().UTC()
			h.mu.Lock()
			defer h.mu.Unlock()
			h.planStatuses = append(h.planStatuses, planCall{Ref: InstalmentRef{PlanID: planID}, Status: status, At: now})
			return nil
		}).Maybe()
	// The run of a date takes presentations back until its file is sent, at the cut-off.
	env.OnActivity(ActivityWithdrawPending, mock.Anything, mock.Anything).Return(
		func(_ context.Context, planID int64) ([]int, error) {
			now := env.Now().UTC()
			h.mu.Lock()
			defer h.mu.Unlock()
			var seqs []int
			for _, s := range h.scheduled {
				if e2e := s.Out.EndToEndID; !h.withdrawn[e2e] && now.Before(s.In.Calendar.CutoffAt(s.Out.CollectionDate)) {
					h.withdrawn[e2e] = true
					seqs = append(seqs, s.In.Seq)
				}
			}
			h.withdrawals = append(h.withdrawals, withdrawCall{PlanID: planID, Seqs: seqs, At: now})
			return seqs, nil
		}).Maybe()
	env.OnActivity(ActivitySetPlanMandate, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, planID, mandateID int64) error {
			now := env.Now().UTC()
			h.mu.Lock()
			defer h.mu.Unlock()
			h.mandates = append(h.mandates, mandateCall{PlanID: planID, MandateID: mandateID, At: now})
			return nil
		}).Maybe()
	env.OnActivity(ActivityFinishPlan, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in FinishInput) (string, error) {
			now := env.Now().UTC()
			h.mu.Lock()
			defer h.mu.Unlock()
			h.finished = append(h.finished, finishCall{In: in, At: now})
			if in.Remainder > 0 {
				return testRemainderIUPD, nil
			}
			return "", nil
		}).Maybe()
	return h
}

// script sets what the bank answers about presentations: seq, attempt -> outcome and reason.
func (h *planHarness) script(seq, attempt int, outcome, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.answers[presentation{seq, attempt}] = bankAnswer{Outcome: outcome, Reason: reason}
}

// moveRun makes the run of the date asked for a presentation refuse it (its file was sent):
// ScheduleCollection places it days business days later.
func (h *planHarness) moveRun(seq, attempt, days int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.moves[presentation{seq, attempt}] = days
}

func (h *planHarness) reject(seq, attempt int, reason string) {
	h.script(seq, attempt, OutcomeRejected, reason)
}

// bankAnswers reports on presentation e2e at when, unless it was withdrawn by then. It is
// called from the ScheduleCollection mock: the callback runs on the test environment's loop.
func (h *planHarness) bankAnswers(when time.Time, e2e string, a bankAnswer) {
	o := CollectionOutcome{EndToEndID: e2e, Outcome: a.Outcome, Reason: a.Reason}
	if o.Outcome == "" {
		o.Outcome = OutcomeAccepted
	}
	h.env.RegisterDelayedCallback(func() {
		h.mu.Lock()
		withdrawn := h.withdrawn[e2e]
		h.mu.Unlock()
		if !withdrawn {
			h.send(o)
		}
	}, max(0, when.Sub(h.env.Now())))
}

func (h *planHarness) send(o CollectionOutcome) {
	if err := h.signal(o); err != nil {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.signalErr = append(h.signalErr, fmt.Errorf("outcome %+v: %w", o, err))
	}
}

// adopt takes over the presentations a previous run of the plan made: the rules checked after
// the run know them, and the bank answers those still waiting for an outcome (unless the
// outcome is among the run's Pending ones).
func (h *planHarness) adopt(in PlanInput) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, i := range in.Instalments {
		if i.EndToEndID == "" {
			continue
		}
		s := scheduleCall{
			In:  ScheduleInput{PlanID: in.PlanID, Seq: i.Seq, Attempt: i.Attempt, Amount: i.Amount, CollectionDate: i.CollectionDate, Account: in.Account, Calendar: in.Calendar},
			Out: Scheduled{EndToEndID: i.EndToEndID, CollectionDate: i.CollectionDate},
		}
		h.scheduled = append(h.scheduled, s)
		pending := slices.ContainsFunc(in.Pending, func(o CollectionOutcome) bool { return o.EndToEndID == i.EndToEndID })
		if i.Status == InstalmentSubmitted && !pending {
			if answer := h.answers[presentation{i.Seq, i.Attempt}]; answer.Outcome != bankSilent {
				h.bankAnswers(in.Calendar.At(i.CollectionDate, bankAnswerHour), i.EndToEndID, answer)
			}
		}
	}
}

// at schedules fn at the given workflow instant (after the current one).
func (h *planHarness) at(when time.Time, fn func()) {
	h.t.Helper()
	d := when.Sub(h.env.Now())
	require.Positive(h.t, d, "%s is not after the test's current time %s", when, h.env.Now())
	h.env.RegisterDelayedCallback(fn, d)
}

// outcomeAt sends an outcome at the given instant, as the collection run or the bank's
// notifications of returns would.
func (h *planHarness) outcomeAt(when time.Time, e2e, outcome, reason string) {
	h.at(when, func() { h.send(CollectionOutcome{EndToEndID: e2e, Outcome: outcome, Reason: reason}) })
}

// queryAt asks for the PlanView at the given instant; call the result after the run.
func (h *planHarness) queryAt(when time.Time) func() PlanView {
	var (
		view PlanView
		err  error
		ran  bool
	)
	h.at(when, func() {
		ran = true
		var v converter.EncodedValue
		if v, err = h.env.QueryWorkflow(QueryPlan); err == nil {
			err = v.Get(&view)
		}
	})
	return func() PlanView {
		h.t.Helper()
		require.True(h.t, ran, "query at %s did not run", when)
		require.NoError(h.t, err)
		return view
	}
}

// planUpdate is what the test environment reported of one update of the plan.
type planUpdate struct {
	h                         *planHarness
	id                        string
	sent, accepted, completed bool
	rejected, err             error
	completedAt               time.Time
}

// updateAt sends an update at the given instant; check its outcome after the run.
func (h *planHarness) updateAt(when time.Time, name string, args ...any) *planUpdate {
	h.t.Helper()
	h.mu.Lock()
	h.updates++
	u := &planUpdate{h: h, id: fmt.Sprintf("%s-%d", name, h.updates)}
	h.mu.Unlock()
	h.at(when, func() {
		h.mu.Lock()
		u.sent = true
		h.mu.Unlock()
		h.env.UpdateWorkflow(name, u.id, &testsuite.TestUpdateCallback{
			OnAccept: func() {
				h.mu.Lock()
				defer h.mu.Unlock()
				u.accepted = true
			},
			OnReject: func(err error) {
				h.mu.Lock()
				defer h.mu.Unlock()
				u.rejected = err
			},
			OnComplete: func(_ any, err error) {
				now := h.env.Now().UTC()
				h.mu.Lock()
				defer h.mu.Unlock()
				u.completed, u.err, u.completedAt = true, err, now
			},
		}, args...)
	})
	return u
}

func (u *planUpdate) requireRejected(want string) {
	t := u.h.t
	t.Helper()
	u.h.mu.Lock()
	defer u.h.mu.Unlock()
	require.True(t, u.sent, "update %s not sent", u.id)
	require.Error(t, u.rejected, "update %s not rejected", u.id)
	require.Contains(t, u.rejected.Error(), want, "update %s", u.id)
	require.NotNil(t, FindErrorType(u.rejected, ErrTypeRejected), "update %s: %v", u.id, u.rejected)
	require.False(t, u.accepted, "update %s accepted", u.id)
}

// requireDone checks the update was accepted and succeeded, and returns when it completed.
func (u *planUpdate) requireDone() time.Time {
	t := u.h.t
	t.Helper()
	u.h.mu.Lock()
	defer u.h.mu.Unlock()
	require.True(t, u.sent, "update %s not sent", u.id)
	require.NoError(t, u.rejected, "update %s rejected", u.id)
	require.True(t, u.accepted, "update %s not accepted", u.id)
	require.True(t, u.completed, "update %s not completed", u.id)
	require.NoError(t, u.err, "update %s", u.id)
	return u.completedAt
}

// run executes the plan to its end and checks the rules every run must keep.
func (h *planHarness) run(in PlanInput) PlanResult {
	h.t.Helper()
	h.env.ExecuteWorkflow(InstalmentPlan, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError())
	var res PlanResult
	require.NoError(h.t, h.env.GetWorkflowResult(&res))
	h.requireRules(in.Policy)
	return res
}

// requireRules checks what holds in every run: each presentation has its own EndToEndId and
// reaches its run before the cut-off, on a business day; the attempts of an instalment count
// up from 1; the debtor is told of a collection date at least PrenotifyDays ahead, and that is
// the date the next presentation asks for (the run may move it later); an instalment is paid
// only once its last presentation is final (FinalityBusinessDays after it); nothing runs after
// FinishPlan, which runs at most once.
func (h *planHarness) requireRules(p PlanPolicy) {
	t := h.t
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Empty(t, h.signalErr)
	seen := map[string]bool{}
	attempts := map[int]int{}
	for _, s := range h.scheduled {
		require.False(t, seen[s.Out.EndToEndID], "EndToEndId %s presented twice", s.Out.EndToEndID)
		seen[s.Out.EndToEndID] = true
		require.Equal(t, attempts[s.In.Seq]+1, s.In.Attempt, "instalment %d: attempts skip or repeat", s.In.Seq)
		attempts[s.In.Seq] = s.In.Attempt
		require.True(t, target2.IsBusinessDay(s.Out.CollectionDate), "instalment %d collected on %s", s.In.Seq, s.Out.CollectionDate)
		require.True(t, s.At.Before(s.In.Calendar.CutoffAt(s.Out.CollectionDate)),
			"instalment %d attempt %d scheduled at %s, after the cut-off of %s", s.In.Seq, s.In.Attempt, s.At, s.Out.CollectionDate)
	}
	for _, n := range h.prenotified {
		told := date.InRome(n.At)
		require.False(t, n.Ref.Date.Before(addDays(told, p.PrenotifyDays)),
			"instalment %d pre-notified on %s for %s: less than %d days", n.Ref.Seq, told, n.Ref.Date, p.PrenotifyDays)
		if next, ok := h.presentationAfter(n.Ref.Seq, n.At); ok && !h.prenotifiedBetween(n.Ref.Seq, n.At, next.At) {
			require.Equal(t, n.Ref.Date, next.In.CollectionDate, "instalment %d presented for another date than told", n.Ref.Seq)
		}
	}
	for _, paid := range h.paid {
		last, ok := h.presentationBefore(paid.Ref.Seq, paid.At)
		require.True(t, ok, "instalment %d paid but never presented", paid.Ref.Seq)
		require.Equal(t, last.Out.CollectionDate, paid.Ref.Date, "instalment %d paid with the date of another presentation", paid.Ref.Seq)
		require.GreaterOrEqual(t, target2.BusinessDaysBetween(last.Out.CollectionDate, date.InRome(paid.At)), p.FinalityBusinessDays,
			"instalment %d collected on %s paid at %s, before returns are over", paid.Ref.Seq, last.Out.CollectionDate, paid.At)
	}
	require.LessOrEqual(t, len(h.finished), 1, "FinishPlan ran more than once")
	if len(h.finished) == 1 {
		end := h.finished[0].At
		for _, at := range h.callTimes() {
			require.False(t, at.After(end), "an activity ran at %s, after FinishPlan at %s", at, end)
		}
	}
}

// presentationAfter is the first presentation of seq at or after at (under mu).
func (h *planHarness) presentationAfter(seq int, at time.Time) (scheduleCall, bool) {
	for _, s := range h.scheduled {
		if s.In.Seq == seq && !s.At.Before(at) {
			return s, true
		}
	}
	return scheduleCall{}, false
}

// prenotifiedBetween tells whether seq was pre-notified again in (from, to] (under mu).
func (h *planHarness) prenotifiedBetween(seq int, from, to time.Time) bool {
	return slices.ContainsFunc(h.prenotified, func(c planCall) bool {
		return c.Ref.Seq == seq && c.At.After(from) && !c.At.After(to)
	})
}

// presentationBefore is the last presentation of seq before at (under mu).
func (h *planHarness) presentationBefore(seq int, at time.Time) (scheduleCall, bool) {
	var last scheduleCall
	ok := false
	for _, s := range h.scheduled {
		if s.In.Seq == seq && s.At.Before(at) {
			last, ok = s, true
		}
	}
	return last, ok
}

func (h *planHarness) callTimes() []time.Time {
	var ts []time.Time
	for _, list := range [][]planCall{h.prenotified, h.paid, h.sollecitos, h.recorded, h.planStatuses} {
		for _, c := range list {
			ts = append(ts, c.At)
		}
	}
	for _, s := range h.scheduled {
		ts = append(ts, s.At)
	}
	for _, w := range h.withdrawals {
		ts = append(ts, w.At)
	}
	for _, m := range h.mandates {
		ts = append(ts, m.At)
	}
	return ts
}

// Accessors for the assertions, copied under the lock.

func seqsOf(calls []planCall) []int {
	seqs := make([]int, 0, len(calls))
	for _, c := range calls {
		seqs = append(seqs, c.Ref.Seq)
	}
	return seqs
}

func (h *planHarness) paidSeqs() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return seqsOf(h.paid)
}

func (h *planHarness) prenotifiedSeqs() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return seqsOf(h.prenotified)
}

func (h *planHarness) sollecitoCalls() []planCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.sollecitos)
}

func (h *planHarness) recordedCalls() []planCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.recorded)
}

func (h *planHarness) prenotifiedCalls() []planCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.prenotified)
}

func (h *planHarness) paidCalls() []planCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.paid)
}

func (h *planHarness) scheduledCalls() []scheduleCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.scheduled)
}

// presentations of one instalment, in order.
func (h *planHarness) presentations(seq int) []scheduleCall {
	var out []scheduleCall
	for _, s := range h.scheduledCalls() {
		if s.In.Seq == seq {
			out = append(out, s)
		}
	}
	return out
}

func (h *planHarness) finishCalls() []FinishInput {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []FinishInput
	for _, f := range h.finished {
		out = append(out, f.In)
	}
	return out
}

func (h *planHarness) planStatusNames() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, c := range h.planStatuses {
		require.Equal(h.t, testPlanID, c.Ref.PlanID)
		out = append(out, c.Status)
	}
	return out
}

// activityCallsBetween counts pre-notifications and presentations in (from, to).
func (h *planHarness) activityCallsBetween(from, to time.Time) (prenotified, scheduled int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.prenotified {
		if c.At.After(from) && c.At.Before(to) {
			prenotified++
		}
	}
	for _, s := range h.scheduled {
		if s.At.After(from) && s.At.Before(to) {
			scheduled++
		}
	}
	return prenotified, scheduled
}

func seqRange(from, to int) []int {
	var out []int
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// 36 instalments, each pre-notified 14 days ahead, presented once, accepted, and paid once
// returns are no longer possible: the plan completes with the whole amount collected.
func TestPlanAllInstalmentsPaid(t *testing.T) {
	t.Parallel()
	const total money.Cents = 1_234_567 // 12,345.67 EUR: 36 instalments allowed
	h := newPlanHarness(t, testPlanStart)
	created := testPlan(36, total)
	var sum money.Cents
	for _, i := range created.Instalments {
		sum += i.Amount
	}
	require.Equal(t, total, sum, "the test plan's instalments must sum to the debt")

	res := h.run(NewPlanInput(testDebtID, created))

	require.Equal(t, PlanResult{Status: PlanCompleted, Collected: total, Remainder: 0}, res)
	require.Equal(t, []FinishInput{{PlanID: testPlanID, Status: PlanCompleted, Remainder: 0}}, h.finishCalls())
	require.Equal(t, seqRange(1, 36), h.prenotifiedSeqs(), "one pre-notification per instalment, in order")
	require.Equal(t, seqRange(1, 36), h.paidSeqs(), "MarkInstalmentPaid once per instalment")
	require.Empty(t, h.sollecitoCalls())
	require.Empty(t, h.recordedCalls())

	for k, n := range h.prenotifiedCalls() {
		want := collectionDate(created, k+1)
		require.Equal(t, InstalmentRef{PlanID: testPlanID, Seq: k + 1, Date: want}, n.Ref)
		require.True(t, n.At.Equal(created.Calendar.At(addDays(want, -14), actionHour)), "instalment %d pre-notified at %s", k+1, n.At)
	}
	require.Len(t, h.scheduledCalls(), 36, "one presentation per instalment")
	for k, s := range h.scheduledCalls() {
		require.Equal(t, ScheduleInput{PlanID: testPlanID, Seq: k + 1, Attempt: 1, Amount: created.Instalments[k].Amount,
			CollectionDate: collectionDate(created, k+1), Account: testPlanAccount, Calendar: created.Calendar}, s.In)
	}
	for k, p := range h.paidCalls() {
		collected := collectionDate(created, k+1)
		paidOn := date.InRome(p.At)
		require.GreaterOrEqual(t, target2.BusinessDaysBetween(collected, paidOn), 5, "instalment %d collected %s paid %s", k+1, collected, paidOn)
		require.LessOrEqual(t, target2.BusinessDaysBetween(collected, paidOn), 6, "instalment %d paid late, on %s", k+1, paidOn)
	}
	last := collectionDate(created, 36)
	require.Equal(t, day(2029, time.November, 30), last)
	require.Equal(t, date.InRome(h.env.Now()), date.InRome(h.paidCalls()[35].At), "the plan ends when the last instalment is paid")
}

// AM04 (insufficient funds) twice, then the third presentation is accepted: three
// presentations with new EndToEndIds, each at least 5 business days after the one before,
// within the notice already given, and no sollecito.
func TestPlanAM04RepresentedThenPaid(t *testing.T) {
	t.Parallel()
	h := newPlanHarness(t, testPlanStart)
	created := testPlan(3, 90_000)
	h.reject(1, 1, "AM04")
	h.reject(1, 2, "am04") // reason codes are matched whatever their case

	res := h.run(NewPlanInput(testDebtID, created))

	require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 90_000}, res)
	ps := h.presentations(1)
	require.Len(t, ps, 3)
	require.Equal(t, []string{"E-1-1", "E-1-2", "E-1-3"}, []string{ps[0].Out.EndToEndID, ps[1].Out.EndToEndID, ps[2].Out.EndToEndID})
	require.Equal(t, collectionDate(created, 1), ps[0].Out.CollectionDate)
	for k := 1; k < len(ps); k++ {
		prev, next := ps[k-1].Out.CollectionDate, ps[k].Out.CollectionDate
		require.GreaterOrEqual(t, target2.BusinessDaysBetween(prev, next), 5, "presentation %d on %s, after %s", k+1, next, prev)
		require.Equal(t, ps[k-1].In.Amount, ps[k].In.Amount)
	}
	require.Equal(t, day(2027, time.January, 15), ps[2].Out.CollectionDate, "12-31, then 01-08, then 01-15")
	require.Empty(t, h.sollecitoCalls())
	require.Empty(t, h.recordedCalls())
	require.Equal(t, []int{1, 2, 3}, h.prenotifiedSeqs(), "a re-presentation is within the notice given")
	require.Equal(t, []int{1, 2, 3}, h.paidSeqs())
	require.Equal(t, ps[2].Out.CollectionDate, h.paidCalls()[0].Ref.Date, "paid with the date of the accepted presentation")
}

// A reject that may be re-presented becomes a miss once re-presented as often as its rule
// allows (AM04: 2 re-presentations; MS03: 1): a sollecito with the reason, no further
// presentation, and the amount in the remainder.
func TestPlanRepresentationsExhaustedIsMissed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		reason        string
		presentations int
		missedOn      date.Date
	}{
		{"AM04", 3, day(2027, time.January, 15)},
		{"MS03", 2, day(2027, time.January, 8)},
	} {
		t.Run(tt.reason, func(t *testing.T) {
			t.Parallel()
			h := newPlanHarness(t, testPlanStart)
			created := testPlan(3, 90_000)
			for a := 1; a <= 4; a++ {
				h.reject(1, a, tt.reason)
			}

			res := h.run(NewPlanInput(testDebtID, created))

			a1 := amountOf(created, 1)
			require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 90_000 - a1, Remainder: a1, RemainderIUPD: testRemainderIUPD}, res)
			require.Len(t, h.presentations(1), tt.presentations)
			require.Len(t, h.sollecitoCalls(), 1)
			s := h.sollecitoCalls()[0]
			require.Equal(t, InstalmentRef{PlanID: testPlanID, Seq: 1, Date: tt.missedOn, Reason: tt.reason}, s.Ref)
			require.Equal(t, []int{2, 3}, h.paidSeqs())
			require.Equal(t, []FinishInput{{PlanID: testPlanID, Status: PlanCompleted, Remainder: a1}}, h.finishCalls())
		})
	}
}

// AC04 (closed account) is final: a sollecito. A second miss within six months (instalment 3,
// MD01) is decadenza: what is not with the bank is withdrawn, nothing is presented any more,
// and the plan ends FORFEITED with the missed and the never collected instalments as the
// remainder, which FinishPlan turns into a new debt.
func TestPlanDecadenzaAfterTwoMisses(t *testing.T) {
	t.Parallel()
	h := newPlanHarness(t, testPlanStart)
	created := testPlan(6, 60_000)
	h.reject(1, 1, "AC04")
	h.reject(3, 1, "MD01")
	view := h.queryAt(romeAt(2027, time.February, 20, 10))

	res := h.run(NewPlanInput(testDebtID, created))

	forfeitedAt := romeAt(2027, time.March, 1, bankAnswerHour)
	remainder := amountOf(created, 1, 3, 4, 5, 6)
	require.Equal(t, PlanResult{Status: PlanForfeited, Collected: amountOf(created, 2), Remainder: remainder, RemainderIUPD: testRemainderIUPD}, res)
	require.Equal(t, []planCall{
		{Ref: InstalmentRef{PlanID: testPlanID, Seq: 1, Date: day(2026, time.December, 31), Reason: "AC04"}, At: romeAt(2026, time.December, 31, bankAnswerHour)},
		{Ref: InstalmentRef{PlanID: testPlanID, Seq: 3, Date: day(2027, time.March, 1), Reason: "MD01"}, At: forfeitedAt},
	}, h.sollecitoCalls())
	require.Equal(t, []date.Date{day(2026, time.December, 31)}, view().Misses, "the first miss counts")
	require.Len(t, h.presentations(1), 1, "AC04 is not re-presented")
	h.mu.Lock()
	require.Equal(t, []withdrawCall{{PlanID: testPlanID, At: forfeitedAt}}, h.withdrawals, "nothing was waiting for a run")
	h.mu.Unlock()
	require.Equal(t, []FinishInput{{PlanID: testPlanID, Status: PlanForfeited, Remainder: remainder}}, h.finishCalls())
	require.Equal(t, []int{2}, h.paidSeqs())
	require.Equal(t, []int{1, 2, 3}, h.prenotifiedSeqs())
	p, s := h.activityCallsBetween(forfeitedAt.Add(-time.Nanosecond), forfeitedAt.AddDate(1, 0, 0))
	require.Zero(t, p+s, "pre-notified or presented after decadenza")
	require.True(t, h.env.Now().Equal(forfeitedAt), "the plan ended at %s", h.env.Now())
}

// Decadenza while another instalment is presented: a presentation its run has not sent yet
// is withdrawn and goes to the remainder; one the bank has is waited for, and counts as paid
// when accepted, or as missed (without a sollecito) when rejected.
func TestPlanDecadenzaWithPresentationInFlight(t *testing.T) {
	t.Parallel()
	// Instalment 1 is missed (AC04), 2 is paid on 02-08 and refunded (MD06) at refundAt: the
	// second miss. Instalment 3, for 03-01, was handed to its run on 02-15; the file is sent at
	// the cut-off, 02-26 14:00.
	for _, tt := range []struct {
		name      string
		refundAt  time.Time
		answer3   bankAnswer
		withdrawn []int
		result    func(PlanCreated) PlanResult
		recorded  []string // RecordInstalmentStatus of instalment 3
		endedAt   time.Time
	}{
		{
			name: "not sent yet: withdrawn", refundAt: romeAt(2027, time.February, 20, 10),
			withdrawn: []int{3},
			result: func(c PlanCreated) PlanResult {
				return PlanResult{Status: PlanForfeited, Remainder: amountOf(c, seqRange(1, 6)...), RemainderIUPD: testRemainderIUPD}
			},
			endedAt: romeAt(2027, time.February, 20, 10),
		},
		{
			name: "with the bank, accepted: paid", refundAt: romeAt(2027, time.February, 27, 10),
			result: func(c PlanCreated) PlanResult {
				return PlanResult{Status: PlanForfeited, Collected: amountOf(c, 3), Remainder: amountOf(c, 1, 2, 4, 5, 6), RemainderIUPD: testRemainderIUPD}
			},
			endedAt: paidAt(day(2027, time.March, 1)),
		},
		{
			name: "with the bank, rejected: missed", refundAt: romeAt(2027, time.February, 27, 10),
			answer3: bankAnswer{Outcome: OutcomeRejected, Reason: "AM04"},
			result: func(c PlanCreated) PlanResult {
				return PlanResult{Status: PlanForfeited, Remainder: amountOf(c, seqRange(1, 6)...), RemainderIUPD: testRemainderIUPD}
			},
			recorded: []string{InstalmentMissed},
			endedAt:  romeAt(2027, time.March, 1, bankAnswerHour),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newPlanHarness(t, testPlanStart)
			created := testPlan(6, 60_000)
			h.reject(1, 1, "AC04")
			h.script(3, 1, tt.answer3.Outcome, tt.answer3.Reason)
			h.outcomeAt(tt.refundAt, "E-2-1", OutcomeReturned, "MD06")

			res := h.run(NewPlanInput(testDebtID, created))

			want := tt.result(created)
			require.Equal(t, want, res)
			require.Equal(t, []FinishInput{{PlanID: testPlanID, Status: PlanForfeited, Remainder: want.Remainder}}, h.finishCalls())
			h.mu.Lock()
			require.Len(t, h.withdrawals, 1)
			require.Equal(t, tt.withdrawn, h.withdrawals[0].Seqs)
			require.True(t, h.withdrawals[0].At.Equal(tt.refundAt))
			h.mu.Unlock()
			require.Equal(t, []int{1, 2}, seqsOf(h.sollecitoCalls()), "no sollecito after decadenza")
			var recorded []string
			for _, r := range h.recordedCalls() {
				require.Equal(t, 3, r.Ref.Seq)
				recorded = append(recorded, r.Status)
			}
			require.Equal(t, tt.recorded, recorded)
			require.Len(t, h.presentations(3), 1, "instalment 3 is not presented again")
			p, s := h.activityCallsBetween(tt.refundAt.Add(-time.Nanosecond), tt.refundAt.AddDate(1, 0, 0))
			require.Zero(t, p+s, "pre-notified or presented after decadenza")
			require.True(t, h.env.Now().Equal(tt.endedAt), "the plan ended at %s, want %s", h.env.Now(), tt.endedAt)
		})
	}
}

// Two misses end the plan only within six months of each other.
func TestPlanMissesSixMonthsApart(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		missed [2]int // instalments missed with AC04
		status string
	}{
		{"seven months apart: 2026-12-31, 2027-08-02", [2]int{1, 8}, PlanCompleted},
		{"six months and a day apart: 2027-02-01, 2027-08-02", [2]int{2, 8}, PlanCompleted},
		{"within six months: 2026-12-31, 2027-06-30", [2]int{1, 7}, PlanForfeited},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newPlanHarness(t, testPlanStart)
			created := testPlan(8, 80_000)
			h.reject(tt.missed[0], 1, "AC04")
			h.reject(tt.missed[1], 1, "AC04")

			res := h.run(NewPlanInput(testDebtID, created))

			require.Equal(t, tt.status, res.Status)
			require.Equal(t, tt.missed[:], seqsOf(h.sollecitoCalls()))
			var remainder money.Cents
			switch tt.status {
			case PlanCompleted: // everything else paid
				remainder = amountOf(created, tt.missed[:]...)
				require.Len(t, h.paidSeqs(), 6)
				h.mu.Lock()
				require.Empty(t, h.withdrawals)
				h.mu.Unlock()
			case PlanForfeited: // instalment 8 never presented
				remainder = amountOf(created, 1, 7, 8)
				require.Equal(t, seqRange(2, 6), h.paidSeqs())
				require.Empty(t, h.presentations(8))
			}
			require.Equal(t, PlanResult{Status: tt.status, Collected: 80_000 - remainder, Remainder: remainder, RemainderIUPD: testRemainderIUPD}, res)
			require.Equal(t, []FinishInput{{PlanID: testPlanID, Status: tt.status, Remainder: remainder}}, h.finishCalls())
		})
	}
}

// A technical reject (FF01: our file was wrong) is presented again at once and never counts
// against the debtor: no sollecito, no miss.
func TestPlanTechnicalRejectRetried(t *testing.T) {
	t.Parallel()
	h := newPlanHarness(t, testPlanStart)
	created := testPlan(2, 40_000)
	h.reject(1, 1, "FF01")
	view := h.queryAt(romeAt(2027, time.January, 6, 10))

	res := h.run(NewPlanInput(testDebtID, created))

	require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 40_000}, res)
	ps := h.presentations(1)
	require.Len(t, ps, 2)
	require.Equal(t, "E-1-2", ps[1].Out.EndToEndID)
	require.True(t, ps[1].At.Equal(romeAt(2026, time.December, 31, bankAnswerHour)), "re-presented at once, at %s", ps[1].At)
	require.Equal(t, target2.AddBusinessDays(day(2026, time.December, 31), 2), ps[1].Out.CollectionDate)
	require.Empty(t, h.sollecitoCalls())
	require.Empty(t, h.recordedCalls())
	v := view()
	require.Empty(t, v.Misses)
	require.Equal(t, 1, v.Instalments[0].Technical)
	require.Equal(t, 0, v.Instalments[0].Represented)
	require.Equal(t, []int{1, 2}, h.paidSeqs())
}

// Technical rejects beyond TechnicalRetries hold the instalment for an operator (recorded
// HELD, still no miss); the plan cannot complete while it is held. A resume releases it: it
// is pre-notified again, with a full notice, and collected.
func TestPlanTechnicalRejectsHoldUntilResumed(t *testing.T) {
	t.Parallel()
	h := newPlanHarness(t, testPlanStart)
	created := testPlan(2, 40_000)
	retries := created.Policy.TechnicalRetries
	for a := 1; a <= retries+1; a++ {
		h.reject(1, a, "FF01")
	}
	resumeAt := romeAt(2027, time.January, 20, 10)
	held := h.queryAt(resumeAt.Add(-time.Hour))
	resume := h.updateAt(resumeAt, UpdateResumePlan)

	res := h.run(NewPlanInput(testDebtID, created))

	require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 40_000}, res)
	resume.requireDone()
	ps := h.presentations(1)
	require.Len(t, ps, retries+2, "%d technical retries, held, then presented after the resume", retries)
	heldAt := romeAt(ps[retries].Out.CollectionDate.Year, ps[retries].Out.CollectionDate.Month, ps[retries].Out.CollectionDate.Day, bankAnswerHour)
	require.Equal(t, []planCall{{Ref: InstalmentRef{PlanID: testPlanID, Seq: 1, Reason: "FF01"}, Status: InstalmentHeld, At: heldAt}}, h.recordedCalls())
	v := held()
	require.Equal(t, InstalmentHeld, v.Instalments[0].Status)
	require.Equal(t, InstalmentSubmitted, v.Instalments[1].Status, "the other instalments go on")
	require.Empty(t, v.Misses)
	require.Empty(t, h.sollecitoCalls())

	last := ps[len(ps)-1]
	require.True(t, last.At.Equal(resumeAt), "presented again at %s", last.At)
	earliest := target2.NextBusinessDay(addDays(date.InRome(resumeAt), 14))
	require.Equal(t, earliest, last.Out.CollectionDate)
	require.Equal(t, []int{1, 2, 1}, h.prenotifiedSeqs(), "pre-notified again after the hold")
	require.Equal(t, earliest, h.prenotifiedCalls()[2].Ref.Date)
	require.Equal(t, []string{PlanActive}, h.planStatusNames())
	require.Equal(t, []int{2, 1}, h.paidSeqs())
}

// A refund after finality reopens a paid instalment: it is missed, with a sollecito, and its
// amount is owed again. A return before finality is handled before the instalment is paid.
func TestPlanReturnReopensInstalment(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		returnAt time.Time
		reason   string
		// what happens to instalment 1
		sollecito     bool
		presentations int
		paidOn        []date.Date // dates of its MarkInstalmentPaid calls
	}{
		{name: "MD06 refund after finality: missed", returnAt: romeAt(2027, time.January, 20, 10), reason: "MD06",
			sollecito: true, presentations: 1, paidOn: []date.Date{day(2026, time.December, 31)}},
		// On 01-07 after the cut-off for 01-08 (D+5 of 12-31): re-presented on 01-11, the first
		// date a run still takes.
		{name: "AM04 return before finality: re-presented", returnAt: romeAt(2027, time.January, 7, 15), reason: "AM04",
			presentations: 2, paidOn: []date.Date{day(2027, time.January, 11)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newPlanHarness(t, testPlanStart)
			created := testPlan(2, 40_000)
			h.outcomeAt(tt.returnAt, "E-1-1", OutcomeReturned, tt.reason)
			misses := h.queryAt(tt.returnAt.Add(time.Hour))

			res := h.run(NewPlanInput(testDebtID, created))

			require.Len(t, h.presentations(1), tt.presentations)
			var paidOn []date.Date
			for _, p := range h.paidCalls() {
				if p.Ref.Seq == 1 {
					paidOn = append(paidOn, p.Ref.Date)
				}
			}
			require.Equal(t, tt.paidOn, paidOn)
			if !tt.sollecito {
				require.Empty(t, h.sollecitoCalls())
				require.Empty(t, misses().Misses)
				require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 40_000}, res)
				return
			}
			require.True(t, h.paidCalls()[0].At.Before(tt.returnAt), "paid before the refund")
			require.Equal(t, []planCall{{Ref: InstalmentRef{PlanID: testPlanID, Seq: 1, Date: date.InRome(tt.returnAt), Reason: tt.reason}, At: tt.returnAt}},
				h.sollecitoCalls())
			require.Equal(t, []date.Date{date.InRome(tt.returnAt)}, misses().Misses, "the refund counts as a miss")
			a1 := amountOf(created, 1)
			require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 40_000 - a1, Remainder: a1, RemainderIUPD: testRemainderIUPD}, res)
		})
	}
}

// Suspend withdraws what the bank has not been sent and stops the plan: nothing is
// pre-notified or presented, however many due dates pass. Resume pre-notifies the instalments
// due again, with the full notice. The validators refuse a second suspend, and a resume of an
// active plan holding nothing.
func TestPlanSuspendResume(t *testing.T) {
	t.Parallel()
	h := newPlanHarness(t, testPlanStart)
	created := testPlan(6, 60_000)
	suspendAt := romeAt(2026, time.December, 20, 10) // instalment 1 is with the run of 12-31
	resumeAt := romeAt(2027, time.March, 10, 10)     // past the due dates of 1, 2 and 3
	resumeActive := h.updateAt(romeAt(2026, time.December, 10, 10), UpdateResumePlan)
	suspend := h.updateAt(suspendAt, UpdateSuspendPlan)
	suspendAgain := h.updateAt(suspendAt.Add(24*time.Hour), UpdateSuspendPlan)
	suspended := h.queryAt(romeAt(2027, time.March, 5, 10))
	resume := h.updateAt(resumeAt, UpdateResumePlan)

	res := h.run(NewPlanInput(testDebtID, created))

	require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 60_000}, res)
	resumeActive.requireRejected("neither suspended nor holding")
	require.True(t, suspend.requireDone().Equal(suspendAt))
	suspendAgain.requireRejected("suspended already")
	require.True(t, resume.requireDone().Equal(resumeAt))

	h.mu.Lock()
	require.Equal(t, []planCall{
		{Ref: InstalmentRef{PlanID: testPlanID}, Status: PlanSuspended, At: suspendAt},
		{Ref: InstalmentRef{PlanID: testPlanID}, Status: PlanActive, At: resumeAt},
	}, h.planStatuses)
	require.Equal(t, []withdrawCall{{PlanID: testPlanID, Seqs: []int{1}, At: suspendAt}}, h.withdrawals)
	h.mu.Unlock()

	v := suspended()
	require.True(t, v.Suspended)
	require.Equal(t, InstalmentPlanned, v.Instalments[0].Status, "the withdrawn presentation is planned again")
	p, s := h.activityCallsBetween(suspendAt, resumeAt)
	require.Zero(t, p, "pre-notified while suspended")
	require.Zero(t, s, "presented while suspended")

	// On resume 1, 2 and 3 are pre-notified at once for 03-24 (14 days on); 4 on its day.
	newDate := target2.NextBusinessDay(addDays(date.InRome(resumeAt), created.Policy.PrenotifyDays))
	require.Equal(t, day(2027, time.March, 24), newDate)
	var after []planCall
	for _, n := range h.prenotifiedCalls() {
		if !n.At.Before(resumeAt) {
			after = append(after, n)
		}
	}
	require.Equal(t, []planCall{
		{Ref: InstalmentRef{PlanID: testPlanID, Seq: 1, Date: newDate}, At: resumeAt},
		{Ref: InstalmentRef{PlanID: testPlanID, Seq: 2, Date: newDate}, At: resumeAt},
		{Ref: InstalmentRef{PlanID: testPlanID, Seq: 3, Date: newDate}, At: resumeAt},
		{Ref: InstalmentRef{PlanID: testPlanID, Seq: 4, Date: day(2027, time.March, 31)}, At: romeAt(2027, time.March, 17, actionHour)},
		{Ref: InstalmentRef{PlanID: testPlanID, Seq: 5, Date: day(2027, time.April, 30)}, At: romeAt(2027, time.April, 16, actionHour)},
		{Ref: InstalmentRef{PlanID: testPlanID, Seq: 6, Date: day(2027, time.May, 31)}, At: romeAt(2027, time.May, 17, actionHour)},
	}, after)
	ps := h.presentations(1)
	require.Len(t, ps, 2)
	require.Equal(t, "E-1-2", ps[1].Out.EndToEndID, "a new EndToEndId for the presentation after the withdrawn one")
	require.Equal(t, newDate, ps[1].Out.CollectionDate)
	require.Equal(t, seqRange(1, 6), h.paidSeqs())
}

// An instalment held for an account problem (a reason code without a rule: AC13) waits for
// the debtor's new mandate: replace-mandate records it and presents the instalment again,
// pre-notified with the full notice. A mandate id of 0 is refused.
func TestPlanReplaceMandateReleasesHeld(t *testing.T) {
	t.Parallel()
	h := newPlanHarness(t, testPlanStart)
	created := testPlan(2, 40_000)
	h.reject(1, 1, "AC13")
	noMandate := h.updateAt(romeAt(2027, time.January, 5, 10), UpdateReplaceMandate, int64(0))
	replaceAt := romeAt(2027, time.January, 10, 10)
	replace := h.updateAt(replaceAt, UpdateReplaceMandate, int64(77))

	res := h.run(NewPlanInput(testDebtID, created))

	require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 40_000}, res)
	noMandate.requireRejected("mandateId: required")
	require.True(t, replace.requireDone().Equal(replaceAt))
	h.mu.Lock()
	require.Equal(t, []mandateCall{{PlanID: testPlanID, MandateID: 77, At: replaceAt}}, h.mandates)
	h.mu.Unlock()
	require.Equal(t, []planCall{{Ref: InstalmentRef{PlanID: testPlanID, Seq: 1, Reason: "AC13"}, Status: InstalmentHeld,
		At: romeAt(2026, time.December, 31, bankAnswerHour)}}, h.recordedCalls())
	require.Empty(t, h.sollecitoCalls(), "a hold is not a miss")
	ps := h.presentations(1)
	require.Len(t, ps, 2)
	require.True(t, ps[1].At.Equal(replaceAt))
	require.Equal(t, day(2027, time.January, 25), ps[1].Out.CollectionDate, "01-10 + 14 days is a Sunday")
	require.Equal(t, []int{1, 1, 2}, h.prenotifiedSeqs())
	require.Empty(t, h.planStatusNames(), "the plan was never suspended")
	require.Equal(t, []int{1, 2}, h.paidSeqs())
}

// A long history continues as new, carrying the plan: the statuses of the instalments, the
// misses, and the outcomes received but not applied yet. The next run goes on from there and
// neither pre-notifies nor pays again what the first run did.
func TestPlanContinuesAsNew(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		missed int // instalment missed in the second run (AC04), 0 for none
		status string
	}{
		{"completes", 0, PlanCompleted},
		{"a miss of the first run counts towards decadenza", 5, PlanForfeited},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			created := testPlan(6, 60_000)
			created.Policy.ContinueAfterEvents = 40
			in := NewPlanInput(testDebtID, created)

			// First run: 1 paid, 2 missed (AC04, 02-01), 3 accepted on 03-01 but the outcome
			// arrives together with a repeated one, when the history has grown long.
			h1 := newPlanHarness(t, testPlanStart)
			h1.reject(2, 1, "AC04")
			h1.script(3, 1, bankSilent, "")
			longAt := romeAt(2027, time.March, 1, 13)
			h1.at(longAt, func() {
				h1.env.SetCurrentHistoryLength(40)
				h1.env.SignalWorkflowSkippingWorkflowTask(SignalCollectionOutcome, CollectionOutcome{EndToEndID: "E-1-1", Outcome: OutcomeAccepted})
				h1.env.SignalWorkflow(SignalCollectionOutcome, CollectionOutcome{EndToEndID: "E-3-1", Outcome: OutcomeAccepted})
			})

			h1.env.ExecuteWorkflow(InstalmentPlan, in)

			require.True(t, h1.env.IsWorkflowCompleted())
			var canErr *workflow.ContinueAsNewError
			require.ErrorAs(t, h1.env.GetWorkflowError(), &canErr)
			require.Equal(t, "InstalmentPlan", canErr.WorkflowType.Name)
			var next PlanInput
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(canErr.Input, &next))
			require.True(t, h1.env.Now().Equal(longAt), "continued as new at %s", h1.env.Now())
			require.Empty(t, h1.finishCalls())

			require.Equal(t, 1, next.Run)
			require.Equal(t, testPlanID, next.PlanID)
			require.Equal(t, created.Policy, next.Policy)
			require.Equal(t, []CollectionOutcome{{EndToEndID: "E-3-1", Outcome: OutcomeAccepted}}, next.Pending)
			require.Equal(t, []date.Date{day(2027, time.February, 1)}, next.Misses)
			var statuses []string
			for _, i := range next.Instalments {
				statuses = append(statuses, i.Status)
			}
			require.Equal(t, []string{InstalmentPaid, InstalmentMissed, InstalmentSubmitted, InstalmentPlanned, InstalmentPlanned, InstalmentPlanned}, statuses)
			require.Equal(t, "E-3-1", next.Instalments[2].EndToEndID)
			require.Equal(t, []int{1}, h1.paidSeqs())
			require.Equal(t, []int{1, 2, 3}, h1.prenotifiedSeqs())

			// Second run, from where the first stopped.
			h2 := newPlanHarness(t, longAt)
			if tt.missed > 0 {
				h2.reject(tt.missed, 1, "AC04")
			}
			h2.adopt(next)
			run := h2.queryAt(longAt.Add(time.Hour))

			res := h2.run(next)

			require.Equal(t, 1, run().Run)
			require.Equal(t, tt.status, res.Status)
			require.NotContains(t, h2.paidSeqs(), 1, "paid again")
			require.NotContains(t, h2.prenotifiedSeqs(), 1, "pre-notified again")
			require.NotContains(t, h2.prenotifiedSeqs(), 3, "pre-notified again")
			require.Len(t, h2.presentations(1), 1, "presented again")
			require.Len(t, h2.presentations(2), 1, "presented again")
			require.Len(t, h2.presentations(3), 1, "presented again")
			if tt.missed == 0 {
				require.Equal(t, []int{3, 4, 5, 6}, h2.paidSeqs())
				require.Equal(t, []int{4, 5, 6}, h2.prenotifiedSeqs())
				a2 := amountOf(created, 2)
				require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 60_000 - a2, Remainder: a2, RemainderIUPD: testRemainderIUPD}, res)
				return
			}
			// 2 missed on 02-01 and 5 on 04-30: decadenza, 6 never presented.
			require.Equal(t, []int{3, 4}, h2.paidSeqs())
			remainder := amountOf(created, 2, 5, 6)
			require.Equal(t, PlanResult{Status: PlanForfeited, Collected: 60_000 - remainder, Remainder: remainder, RemainderIUPD: testRemainderIUPD}, res)
			require.Equal(t, []FinishInput{{PlanID: testPlanID, Status: PlanForfeited, Remainder: remainder}}, h2.finishCalls())
		})
	}
}

// The run of the date asked may have sent its file already: ScheduleCollection places the
// presentation in a later run, and the plan follows the date it got. The bank answers then,
// finality counts from it, and no new pre-notification is sent (the notice covers a move).
func TestPlanFollowsDateMovedByRun(t *testing.T) {
	t.Parallel()
	h := newPlanHarness(t, testPlanStart)
	created := testPlan(2, 40_000)
	h.moveRun(1, 1, 1) // 12-31 -> 01-04
	moved := day(2027, time.January, 4)
	view := h.queryAt(romeAt(2027, time.January, 5, 10))

	res := h.run(NewPlanInput(testDebtID, created))

	require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 40_000}, res)
	v := view()
	require.Equal(t, moved, v.Instalments[0].CollectionDate)
	require.Equal(t, moved, v.Instalments[0].Prenotified, "the move is within the notice given")
	require.Equal(t, InstalmentCollected, v.Instalments[0].Status)
	require.Equal(t, []int{1, 2}, h.prenotifiedSeqs())
	require.Equal(t, day(2026, time.December, 31), h.prenotifiedCalls()[0].Ref.Date)
	p := h.paidCalls()[0]
	require.Equal(t, InstalmentRef{PlanID: testPlanID, Seq: 1, Date: moved}, p.Ref)
	require.True(t, p.At.Equal(paidAt(moved)), "paid at %s, want D+5 of %s", p.At, moved)
}

// Repeated and late outcomes change nothing: an acceptance twice, a reject after the
// acceptance, the reject of a presentation already superseded by its re-presentation, a return
// repeated, and an outcome for an EndToEndId the plan never presented.
func TestPlanIgnoresRepeatedAndUnknownOutcomes(t *testing.T) {
	t.Parallel()
	h := newPlanHarness(t, testPlanStart)
	created := testPlan(4, 120_000)
	// Instalment 1: accepted (by the bank at noon), accepted again, then a late reject.
	h.outcomeAt(romeAt(2026, time.December, 31, 13), "E-1-1", OutcomeAccepted, "")
	h.outcomeAt(romeAt(2027, time.January, 4, 10), "E-1-1", OutcomeRejected, "AM04")
	h.outcomeAt(romeAt(2027, time.January, 9, 10), "E-1-1", OutcomeAccepted, "") // after it was paid
	// Instalment 2: AM04 on 02-01, re-presented for 02-08; the first reject comes again.
	h.reject(2, 1, "AM04")
	h.outcomeAt(romeAt(2027, time.February, 2, 10), "E-2-1", OutcomeRejected, "AM04")
	// Instalment 3: paid on 03-08, refunded (MD06) twice (while 4 is still collected).
	h.outcomeAt(romeAt(2027, time.March, 10, 10), "E-3-1", OutcomeReturned, "MD06")
	h.outcomeAt(romeAt(2027, time.March, 10, 11), "E-3-1", OutcomeReturned, "MD06")
	// Nobody presented these.
	h.outcomeAt(romeAt(2027, time.January, 12, 10), "E-9-1", OutcomeAccepted, "")
	h.outcomeAt(romeAt(2027, time.January, 12, 11), "", OutcomeRejected, "AC04")

	res := h.run(NewPlanInput(testDebtID, created))

	a3 := amountOf(created, 3)
	require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 120_000 - a3, Remainder: a3, RemainderIUPD: testRemainderIUPD}, res)
	require.Equal(t, []int{1, 2, 3, 4}, h.paidSeqs(), "each paid once")
	require.Len(t, h.presentations(1), 1)
	require.Len(t, h.presentations(2), 2, "one re-presentation, not two")
	require.Len(t, h.presentations(3), 1)
	require.Equal(t, []int{3}, seqsOf(h.sollecitoCalls()), "one sollecito, for the refund")
	require.Empty(t, h.recordedCalls())
}

// Invalid input fails the plan at once, not retried.
func TestPlanInvalidInput(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		mutate func(*PlanInput)
	}{
		{"no plan id", func(in *PlanInput) { in.PlanID = 0 }},
		{"no instalments", func(in *PlanInput) { in.Instalments = nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newPlanHarness(t, testPlanStart)
			in := NewPlanInput(testDebtID, testPlan(3, 90_000))
			tt.mutate(&in)
			h.env.ExecuteWorkflow(InstalmentPlan, in)
			require.True(t, h.env.IsWorkflowCompleted())
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, h.env.GetWorkflowError(), &appErr)
			require.Equal(t, "InvalidInput", appErr.Type())
			require.Empty(t, h.scheduledCalls())
		})
	}
}

// BUG (plan.go, present): a suspend that arrives while an instalment is being pre-notified
// does not stop its presentation. act checked !Suspended before calling present; present then
// runs PrenotifyInstalment and, after it, ScheduleCollection without looking again, so the
// instalment reaches its run after the suspend withdrew the plan's presentations: the debtor
// is debited while the plan is suspended.
func TestPlanSuspendDuringPrenotification(t *testing.T) {
	t.Parallel()
	h := newPlanHarness(t, testPlanStart)
	h.prenotifyTakes = time.Hour // sending the pre-notification e-mail takes a while
	created := testPlan(2, 40_000)
	suspendAt := romeAt(2026, time.December, 17, actionHour).Add(30 * time.Minute) // during the pre-notification of 1
	resumeAt := romeAt(2027, time.January, 20, 10)
	suspend := h.updateAt(suspendAt, UpdateSuspendPlan)
	resume := h.updateAt(resumeAt, UpdateResumePlan)

	res := h.run(NewPlanInput(testDebtID, created))

	require.True(t, suspend.requireDone().Equal(suspendAt))
	resume.requireDone()
	require.Equal(t, PlanCompleted, res.Status)
	_, presented := h.activityCallsBetween(suspendAt, resumeAt)
	require.Zero(t, presented, "presented while suspended: %+v", h.scheduledCalls())
}

// BUG (plan.go, resume): resume does not pre-notify again a re-presentation that waited out
// the suspension. An AM04 reject that arrives while the plan is suspended leaves the
// instalment PLANNED with Prenotified == CollectionDate (a re-presentation within the old
// notice). On resume, weeks later, prenotifyAt treats it as "already told" and present
// hands it to a run two business days on, with no new pre-notification, although resume
// promises one ("with a new pre-notification") and present moves late pre-notifications so
// that "the debtor still has the full notice".
func TestPlanResumeRenotifiesPendingRepresentation(t *testing.T) {
	t.Parallel()
	h := newPlanHarness(t, testPlanStart)
	created := testPlan(2, 40_000)
	h.reject(1, 1, "AM04")                           // at 12-31 noon: re-presentation for 01-08
	suspendAt := romeAt(2026, time.December, 31, 10) // after the cut-off: the bank has it
	resumeAt := romeAt(2027, time.February, 15, 10)  // long after 01-08
	h.updateAt(suspendAt, UpdateSuspendPlan)
	h.updateAt(resumeAt, UpdateResumePlan)

	res := h.run(NewPlanInput(testDebtID, created))

	require.Equal(t, PlanCompleted, res.Status)
	ps := h.presentations(1)
	require.Len(t, ps, 2)
	require.True(t, ps[1].At.Equal(resumeAt))
	var told []planCall
	for _, n := range h.prenotifiedCalls() {
		if n.Ref.Seq == 1 && !n.At.Before(resumeAt) {
			told = append(told, n)
		}
	}
	require.NotEmpty(t, told, "instalment 1 presented for %s after the suspension without a new pre-notification", ps[1].Out.CollectionDate)
	require.Equal(t, ps[1].Out.CollectionDate, told[0].Ref.Date)
	require.False(t, told[0].Ref.Date.Before(addDays(date.InRome(resumeAt), created.Policy.PrenotifyDays)))
}

// BUG (plan.go, finalAt): an instalment is paid at 07:00 on D+5 business days, but returns
// are possible until D+5 included (DOMAIN.md section 4: "returns up to D+5 business days, so
// an instalment is final only after D+5"; PlanPolicy.FinalityBusinessDays: "returns are
// possible until D+n"). A return on D+5 finds the instalment PAID already: MarkInstalmentPaid
// told GPD it was paid, and after the re-presentation it is marked paid a second time.
func TestPlanReturnOnLastDayFindsInstalmentUnpaid(t *testing.T) {
	t.Parallel()
	h := newPlanHarness(t, testPlanStart)
	created := testPlan(2, 40_000)
	lastDay := target2.AddBusinessDays(collectionDate(created, 1), created.Policy.FinalityBusinessDays) // 2027-01-08
	returnAt := romeAt(lastDay.Year, lastDay.Month, lastDay.Day, bankAnswerHour)
	h.outcomeAt(returnAt, "E-1-1", OutcomeReturned, "AM04")

	res := h.run(NewPlanInput(testDebtID, created))

	require.Equal(t, PlanResult{Status: PlanCompleted, Collected: 40_000}, res)
	require.Len(t, h.presentations(1), 2, "the return is re-presented")
	var paid []planCall
	for _, p := range h.paidCalls() {
		if p.Ref.Seq == 1 {
			paid = append(paid, p)
		}
	}
	require.Len(t, paid, 1, "instalment 1 marked paid before a return still possible, then again: %+v", paid)
	require.True(t, paid[0].At.After(returnAt))
}

// Debt workflow and its instalment-plan update.

type createPlanCall struct {
	DebtID int64
	Req    PlanRequest
	At     time.Time
}

// withCreatePlan registers the plan activities on a debt harness and mocks CreatePlan to
// record the plan created; it returns the calls (read them under h.mu).
func withCreatePlan(h *harness, created PlanCreated) *[]createPlanCall {
	var calls []createPlanCall
	h.env.RegisterActivity(&planStandIns{})
	h.env.OnActivity(ActivityCreatePlan, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, debtID int64, req PlanRequest) (PlanCreated, error) {
			now := h.env.Now().UTC()
			h.mu.Lock()
			defer h.mu.Unlock()
			calls = append(calls, createPlanCall{DebtID: debtID, Req: req, At: now})
			return created, nil
		}).Maybe()
	return &calls
}

// The instalment-plan update records the plan, moves the debt to INSTALMENTS and starts the
// InstalmentPlan child, which replaces the due date and the reminder ladder: the debt ends
// with the plan, PAID when it collected everything, SUPERSEDED by the remainder debt when not.
// While the plan runs, a cancel and a second plan are refused and a receipt is ignored.
func TestDebtInstalmentPlan(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		plan PlanResult
		want DebtResult
	}{
		{"everything collected: paid", PlanResult{Status: PlanCompleted, Collected: 12345}, DebtResult{Status: StatusPaid}},
		{"decadenza: superseded", PlanResult{Status: PlanForfeited, Collected: 4115, Remainder: 8230, RemainderIUPD: testRemainderIUPD},
			DebtResult{Status: StatusSuperseded, RemainderIUPD: testRemainderIUPD}},
		{"completed with a miss: superseded", PlanResult{Status: PlanCompleted, Collected: 8230, Remainder: 4115, RemainderIUPD: testRemainderIUPD},
			DebtResult{Status: StatusSuperseded, RemainderIUPD: testRemainderIUPD}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.withPolicies(defaultPolicy(1)) // a courtesy reminder on 11-27, a sollecito on 12-15...
			created := testPlan(3, testInput().Amount)
			creates := withCreatePlan(h, created)
			const planTakes = 150 * 24 * time.Hour // well past the due date, 11-30
			type child struct {
				ID    string
				In    PlanInput
				Start time.Time
			}
			var children []child
			h.env.OnWorkflow(InstalmentPlan, mock.Anything, mock.Anything).Return(
				func(ctx workflow.Context, in PlanInput) (PlanResult, error) {
					h.mu.Lock()
					children = append(children, child{ID: workflow.GetInfo(ctx).WorkflowExecution.ID, In: in, Start: workflow.Now(ctx).UTC()})
					h.mu.Unlock()
					if err := workflow.Sleep(ctx, planTakes); err != nil {
						return PlanResult{}, err
					}
					return tt.plan, nil
				})
			planAt := h.start.Add(2 * 24 * time.Hour)
			req := PlanRequest{Instalments: 3, MandateID: 7}
			plan := h.updateAt(planAt, "plan-1", UpdateRequestPlan, req)
			inInstalments := h.queryStatusAt(planAt.Add(time.Hour))
			afterDueDate := h.queryStatusAt(h.dueAt.Add(24 * time.Hour))
			cancel := h.updateAt(planAt.Add(24*time.Hour), "cancel-1", UpdateCancel, CancelRequest{Reason: "Issued in error"})
			again := h.updateAt(planAt.Add(48*time.Hour), "plan-2", UpdateRequestPlan, req)
			change := h.updateAt(planAt.Add(49*time.Hour), "change-1", UpdateChange,
				ChangeRequest{Amount: 10000, DueDate: testDueDate, Reason: "Reduction granted"})
			h.signalReceiptAt(planAt.Add(72*time.Hour), "r-replaced") // for the notice the plan replaced

			res := h.run(testInput())

			require.Equal(t, tt.want, res)
			result, doneAt, err := plan.requireCompleted()
			require.NoError(t, err)
			require.Equal(t, created, result, "the update answers the plan created")
			require.True(t, doneAt.Equal(planAt))
			cancel.requireRejected("being paid in instalments")
			again.requireRejected("being paid in instalments")
			change.requireRejected("being paid in instalments")

			h.mu.Lock()
			require.Equal(t, []createPlanCall{{DebtID: testDebtID, Req: req, At: planAt.UTC()}}, *creates)
			require.Len(t, children, 1, "one plan started")
			require.Equal(t, PlanWorkflowID("00000000001", "iupd-1"), children[0].ID)
			want := PlanInput{PlanID: testPlanID, DebtID: testDebtID, Account: testPlanAccount, Policy: created.Policy, Calendar: created.Calendar}
			for _, p := range created.Instalments {
				want.Instalments = append(want.Instalments, InstalmentState{PlannedInstalment: p, Status: InstalmentPlanned, CollectionDate: collectionDate(created, p.Seq)})
			}
			require.Equal(t, day(2027, time.March, 1), want.Instalments[2].CollectionDate, "due on Sunday 02-28")
			require.Equal(t, want, children[0].In, "every instalment planned for the first business day from its due date")
			require.True(t, children[0].Start.Equal(planAt), "plan started at %s", children[0].Start)
			h.mu.Unlock()

			require.Equal(t, []DebtStatus{StatusIssued, StatusInstalments, tt.want.Status}, h.statusNames(), "never OVERDUE")
			h.requireSearchStatuses(StatusIssued, StatusInstalments, tt.want.Status)
			require.True(t, h.statusTime(StatusInstalments).Equal(planAt))
			require.True(t, h.statusTime(tt.want.Status).Equal(planAt.Add(planTakes)), "ended at %s", h.statusTime(tt.want.Status))
			requireStatus(t, inInstalments, StatusInstalments)
			requireStatus(t, afterDueDate, StatusInstalments)
			require.Empty(t, h.reminderLog(), "the plan replaces the reminder ladder")
			require.Equal(t, 1, h.noticeCount())
		})
	}
}

// The instalment-plan validator: 2 to 36 instalments and a mandate.
func TestDebtInstalmentPlanRejected(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		req  PlanRequest
		want string
	}{
		{"one instalment", PlanRequest{Instalments: 1, MandateID: 7}, "instalments: 2 to 36"},
		{"37 instalments", PlanRequest{Instalments: 37, MandateID: 7}, "instalments: 2 to 36"},
		{"no mandate", PlanRequest{Instalments: 3}, "mandate: required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			creates := withCreatePlan(h, testPlan(3, testInput().Amount))
			plan := h.updateAt(h.start.Add(time.Hour), "plan-1", UpdateRequestPlan, tt.req)
			h.signalReceiptAt(h.start.Add(24*time.Hour), "r1")

			res := h.run(testInput())

			plan.requireRejected(tt.want)
			require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
			h.mu.Lock()
			defer h.mu.Unlock()
			require.Empty(t, *creates)
		})
	}
}

// The debt with the real plan as its child and the fake bank: the plan's instalments are
// collected (or not) and the debt ends with the plan.
func TestDebtInstalmentPlanRunsThePlan(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		rejects   []int // instalments rejected AC04
		want      DebtResult
		plan      string
		remainder []int
	}{
		{"all collected", nil, DebtResult{Status: StatusPaid}, PlanCompleted, nil},
		{"decadenza", []int{1, 2}, DebtResult{Status: StatusSuperseded, RemainderIUPD: testRemainderIUPD}, PlanForfeited, []int{1, 2, 3}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			created := testPlan(3, testInput().Amount)
			withCreatePlan(h, created)
			h.env.RegisterWorkflow(InstalmentPlan)
			planID := PlanWorkflowID("00000000001", "iupd-1")
			p := withPlanActivities(t, h.env, func(o CollectionOutcome) error {
				return h.env.SignalWorkflowByID(planID, SignalCollectionOutcome, o)
			})
			for _, seq := range tt.rejects {
				p.reject(seq, 1, "AC04")
			}
			planAt := h.start.Add(2 * 24 * time.Hour)
			plan := h.updateAt(planAt, "plan-1", UpdateRequestPlan, PlanRequest{Instalments: 3, MandateID: 7})

			res := h.run(testInput())

			_, _, err := plan.requireCompleted()
			require.NoError(t, err)
			require.Equal(t, tt.want, res)
			p.requireRules(created.Policy)
			require.Equal(t, []FinishInput{{PlanID: testPlanID, Status: tt.plan, Remainder: amountOf(created, tt.remainder...)}}, p.finishCalls())
			require.Equal(t, []DebtStatus{StatusIssued, StatusInstalments, tt.want.Status}, h.statusNames())
			p.mu.Lock()
			finishedAt := p.finished[0].At
			p.mu.Unlock()
			require.True(t, h.statusTime(tt.want.Status).Equal(finishedAt), "the debt ends when the plan does")
			if tt.rejects == nil {
				require.Equal(t, []int{1, 2, 3}, p.paidSeqs())
			}
		})
	}
}
