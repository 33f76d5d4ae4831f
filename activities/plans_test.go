package activities_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"incasso/activities"
	"incasso/app/config"
	"incasso/clients/gpd"
	"incasso/db/dbgen"
	"incasso/devstack/mailsink"
	"incasso/devstack/testkeys"
	"incasso/domain/date"
	"incasso/domain/instalments"
	"incasso/domain/money"
	"incasso/domain/sepa"
	"incasso/domain/target2"
	"incasso/services/ibans"
	"incasso/workflows"
)

const (
	sddAccount   = "tesoreria"
	sddTaskQueue = "incasso-test"
)

// temporalFake records, as the Temporal client would receive them, the workflows started and
// the signals sent. signalErr, when set, answers a signal to a workflow ID.
type temporalFake struct {
	mu        sync.Mutex
	starts    []startCall
	signalled []signalCall
	signalErr func(workflowID string) error
}

type startCall struct {
	opts     client.StartWorkflowOptions
	workflow any
	args     []any
}

type signalCall struct {
	workflowID, name string
	arg              any
}

func (f *temporalFake) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, startCall{opts: o, workflow: wf, args: args})
	return nil, nil
}

func (f *temporalFake) SignalWorkflow(_ context.Context, workflowID, _, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.signalErr != nil {
		if err := f.signalErr(workflowID); err != nil {
			return err
		}
	}
	f.signalled = append(f.signalled, signalCall{workflowID: workflowID, name: name, arg: arg})
	return nil
}

// DescribeWorkflowExecution finds the workflows started through f, and no other.
func (f *temporalFake) DescribeWorkflowExecution(_ context.Context, workflowID, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.starts {
		if s.opts.ID == workflowID {
			return &workflowservice.DescribeWorkflowExecutionResponse{}, nil
		}
	}
	return nil, serviceerror.NewNotFound("workflow not found")
}

func (f *temporalFake) started() []startCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.starts)
}

func (f *temporalFake) signals() []signalCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.signalled)
}

// paidRecorder records the notices marked paid in GPD and passes them on to next, or answers
// err instead when it is set.
type paidRecorder struct {
	mu    sync.Mutex
	next  *gpd.Client
	err   error
	navs  []string
	paid  []gpd.Paid
	errs  []error
	calls int
}

func (p *paidRecorder) MarkPaid(ctx context.Context, organization, nav string, paid gpd.Paid) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	p.navs, p.paid = append(p.navs, nav), append(p.paid, paid)
	err := p.err
	if err == nil {
		err = p.next.MarkPaid(ctx, organization, nav, paid)
	}
	p.errs = append(p.errs, err)
	return err
}

// planFixture is Plans on a fresh database, with the pagoPA simulator as GPD, mailsink as
// relay and a fake Temporal client.
type planFixture struct {
	*fixture
	temporal *temporalFake
	paid     *paidRecorder
	sddCfg   config.SDD
	plans    *activities.Plans
	ibans    int
}

func sddConfig(t *testing.T) config.SDD {
	t.Helper()
	ci, err := sepa.ItalianCreditorID(ecCode)
	require.NoError(t, err)
	return config.SDD{
		Account: sddAccount, CreditorIBAN: creditor.IBAN, CreditorID: ci, CutoffHour: 14,
		PrenotifyDays: 10, ReportPoll: time.Minute, NotificationsEvery: time.Hour,
		Eligibility: instalments.DefaultTable, IBANKeys: testkeys.New(t, "k1"),
	}
}

func newPlanFixture(t *testing.T) *planFixture {
	t.Helper()
	f := newFixture(t)
	pf := &planFixture{fixture: f, temporal: &temporalFake{}, paid: &paidRecorder{next: f.gpd}, sddCfg: sddConfig(t)}
	pf.plans = &activities.Plans{
		Debts: f.debts, GPDPaid: pf.paid, Temporal: pf.temporal, TaskQueue: sddTaskQueue,
		SDD: pf.sddCfg, Policy: workflows.DefaultPlanPolicy(),
	}
	return pf
}

// italianIBAN is a valid Italian IBAN of account number n.
func italianIBAN(t *testing.T, n int) string {
	t.Helper()
	abi, cab, account := "03069", "09606", fmt.Sprintf("%012d", n)
	cin, err := sepa.ItalianCIN(abi, cab, account)
	require.NoError(t, err)
	bban := string(cin) + abi + cab + account
	rem := 0
	for _, c := range bban + "IT00" {
		s := string(c)
		if c >= 'A' && c <= 'Z' {
			s = strconv.Itoa(int(c-'A') + 10)
		}
		for _, d := range s {
			rem = (rem*10 + int(d-'0')) % 97
		}
	}
	iban := fmt.Sprintf("IT%02d%s", 98-rem, bban)
	require.NoError(t, sepa.ValidateIBAN(iban))
	return iban
}

// mandate stores a mandate for the debt, signed by name, on an IBAN of its own.
func (pf *planFixture) mandate(t *testing.T, d dbgen.DebtPosition, name string) dbgen.SddMandate {
	t.Helper()
	pf.ibans++
	ref := fmt.Sprintf("MND-%d-%d", d.ID, pf.ibans)
	iban := pf.vault().Seal(ref, italianIBAN(t, 1000+pf.ibans))
	m, err := pf.q.InsertMandate(context.Background(), dbgen.InsertMandateParams{
		DebtID: d.ID, Reference: ref, DebtorName: name,
		Iban: iban.Plain, IbanSealed: iban.Sealed, IbanKeyID: iban.KeyID, SignedOn: time.Date(2025, time.June, 1, 0, 0, 0, 0, time.UTC),
	})
	require.NoError(t, err)
	return m
}

func (pf *planFixture) vault() ibans.Vault { return ibans.Vault{Ring: pf.sddCfg.IBANKeys} }

// ibanOf is a mandate's IBAN, in clear.
func (pf *planFixture) ibanOf(t *testing.T, m dbgen.SddMandate) string {
	t.Helper()
	require.False(t, m.Iban.Valid, "stored sealed")
	iban, err := pf.vault().Mandate(m)
	require.NoError(t, err)
	return iban
}

// issuedOf is an issued debt (registered in the simulator) of amount.
func (pf *planFixture) issuedOf(t *testing.T, amount money.Cents, mutate func(*dbgen.CreateDebtParams)) dbgen.DebtPosition {
	t.Helper()
	return pf.issued(t, func(p *dbgen.CreateDebtParams) {
		p.AmountCents = int64(amount)
		if mutate != nil {
			mutate(p)
		}
	})
}

// newPlan is a plan of n instalments for a new issued debt of amount, with its mandate.
func (pf *planFixture) newPlan(t *testing.T, amount money.Cents, n int) (dbgen.DebtPosition, dbgen.SddMandate, workflows.PlanCreated) {
	t.Helper()
	d := pf.issuedOf(t, amount, nil)
	m := pf.mandate(t, d, d.DebtorName)
	created, err := pf.plans.CreatePlan(context.Background(), d.ID, workflows.PlanRequest{Instalments: n, MandateID: m.ID})
	require.NoError(t, err)
	return d, m, created
}

// runAct runs an activity method of a as a worker would and decodes its result into out (if
// not nil), so that errors reach the test as a workflow would see them.
func runAct(t *testing.T, a any, out any, activity any, args ...any) error {
	t.Helper()
	val, err := activityEnv(a).ExecuteActivity(activity, args...)
	if err != nil {
		return err
	}
	if out != nil {
		require.NoError(t, val.Get(out))
	}
	return nil
}

func todayInRome() date.Date { return date.InRome(time.Now()) }

func (pf *planFixture) instalments(t *testing.T, planID int64) []dbgen.Instalment {
	t.Helper()
	insts, err := pf.q.ListInstalments(context.Background(), planID)
	require.NoError(t, err)
	return insts
}

func (pf *planFixture) instalment(t *testing.T, planID int64, seq int) dbgen.Instalment {
	t.Helper()
	in, err := pf.q.GetInstalment(context.Background(), dbgen.GetInstalmentParams{PlanID: planID, Seq: int32(seq)})
	require.NoError(t, err)
	return in
}

func (pf *planFixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pf.pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// scheduleInput presents instalment seq of the plan, attempt, on the date.
func scheduleInput(p workflows.PlanCreated, seq, attempt int, on date.Date) workflows.ScheduleInput {
	return workflows.ScheduleInput{PlanID: p.PlanID, Seq: seq, Attempt: attempt, Amount: p.Instalments[seq-1].Amount,
		CollectionDate: on, Account: p.Account, Calendar: p.Calendar}
}

func (pf *planFixture) schedule(t *testing.T, in workflows.ScheduleInput) workflows.Scheduled {
	t.Helper()
	var s workflows.Scheduled
	require.NoError(t, runAct(t, pf.plans, &s, pf.plans.ScheduleCollection, in))
	return s
}

func (pf *planFixture) run(t *testing.T, on date.Date) dbgen.SddRun {
	t.Helper()
	r, err := pf.q.GetRun(context.Background(), dbgen.GetRunParams{Account: sddAccount, CollectionDate: on.Time()})
	require.NoError(t, err)
	return r
}

func (pf *planFixture) collection(t *testing.T, planID int64, seq, attempt int) dbgen.GetCollectionByAttemptRow {
	t.Helper()
	c, err := pf.q.GetCollectionByAttempt(context.Background(), dbgen.GetCollectionByAttemptParams{PlanID: planID, Seq: int32(seq), Attempt: int32(attempt)})
	require.NoError(t, err)
	return c
}

func (pf *planFixture) communications(t *testing.T, debtID int64, kind string) []dbgen.Communication {
	t.Helper()
	ctx := context.Background()
	rows, err := pf.pool.Query(ctx, `SELECT dedupe_key FROM communications WHERE debt_id = $1 AND kind = $2 ORDER BY id`, debtID, kind)
	require.NoError(t, err)
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	var out []dbgen.Communication
	for _, key := range keys {
		c, err := pf.q.GetCommunicationByDedupeKey(ctx, key)
		require.NoError(t, err)
		out = append(out, c)
	}
	return out
}

// mailsAbout waits for n messages to addr whose subject starts with subject, and returns
// them; then it checks that no more arrive.
func (pf *planFixture) mailsAbout(t *testing.T, addr, subject string, n int) []mailsink.Message {
	t.Helper()
	about := func() []mailsink.Message {
		var out []mailsink.Message
		for _, m := range pf.messagesTo(addr) {
			if strings.HasPrefix(m.Subject, subject) {
				out = append(out, m)
			}
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(about()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	msgs := about()
	require.Len(t, msgs, n, "messages %q to %s", subject, addr)
	return msgs
}

// requireRunStarted checks that start started the CollectionRun of the date, as ScheduleCollection must.
func requireRunStarted(t *testing.T, start startCall, cal workflows.Calendar, on date.Date) {
	t.Helper()
	require.Equal(t, "sdd/"+sddAccount+"/"+on.String(), start.opts.ID)
	require.Equal(t, sddTaskQueue, start.opts.TaskQueue)
	require.Equal(t, enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, start.opts.WorkflowIDConflictPolicy, "a run already running is joined, not failed")
	require.Equal(t, enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, start.opts.WorkflowIDReusePolicy)
	require.Equal(t, reflect.ValueOf(workflows.CollectionRun).Pointer(), reflect.ValueOf(start.workflow).Pointer(), "the CollectionRun workflow")
	require.Len(t, start.args, 1)
	in, ok := start.args[0].(workflows.CollectionRunInput)
	require.True(t, ok, "%T", start.args[0])
	require.Equal(t, sddAccount, in.Account)
	require.Equal(t, on, in.CollectionDate)
	require.True(t, cal.CutoffAt(on).Equal(in.SubmitAt), "SubmitAt %s, want %s", in.SubmitAt, cal.CutoffAt(on))
}

func TestCreatePlan(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	ctx := context.Background()
	const amount = money.Cents(1_000_01) // 5 instalments: 200,01 + 4 x 200,00
	d := pf.issuedOf(t, amount, nil)
	m := pf.mandate(t, d, d.DebtorName)
	first := addDays(todayInRome(), 40)
	req := workflows.PlanRequest{Instalments: 5, FirstDueDate: first, MandateID: m.ID}

	var created workflows.PlanCreated
	require.NoError(t, runAct(t, pf.plans, &created, pf.plans.CreatePlan, d.ID, req))

	plan, err := pf.q.GetPlanByDebt(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, plan.ID, created.PlanID)
	require.Equal(t, m.ID, plan.MandateID)
	require.Equal(t, workflows.PlanActive, plan.Status)
	require.Equal(t, int32(5), plan.Instalments)
	require.Equal(t, workflows.StatusInstalments, pf.reload(t, d.ID).Status)

	insts := pf.instalments(t, plan.ID)
	require.Len(t, insts, 5)
	var sum money.Cents
	navs := map[string]bool{d.Nav: true}
	for k, in := range insts {
		require.Equal(t, int32(k+1), in.Seq)
		require.Equal(t, workflows.InstalmentPlanned, in.Status)
		require.False(t, navs[in.Nav], "NAV %s of instalment %d is not new", in.Nav, in.Seq)
		navs[in.Nav] = true
		require.Regexp(t, `^3[0-9]{17}$`, in.Nav)
		sum += money.Cents(in.AmountCents)
		// The same day of the month, or the last day of a shorter month.
		last := time.Date(first.Year, first.Month+time.Month(k)+1, 0, 0, 0, 0, 0, time.UTC)
		want := date.Of(time.Date(last.Year(), last.Month(), min(first.Day, last.Day()), 0, 0, 0, 0, time.UTC))
		require.Equal(t, want, date.Of(in.DueDate), "instalment %d is due on the same day of the month", in.Seq)
		require.Equal(t, workflows.PlannedInstalment{Seq: k + 1, Amount: money.Cents(in.AmountCents), DueDate: date.Of(in.DueDate)}, created.Instalments[k])
	}
	require.Equal(t, amount, sum, "the instalments sum to the debt")
	require.Equal(t, []int64{200_01, 200_00, 200_00, 200_00, 200_00}, []int64{insts[0].AmountCents, insts[1].AmountCents, insts[2].AmountCents, insts[3].AmountCents, insts[4].AmountCents})

	require.Equal(t, sddAccount, created.Account)
	wantPolicy := workflows.DefaultPlanPolicy()
	wantPolicy.PrenotifyDays = pf.sddCfg.PrenotifyDays // the configured notice, not the policy's default
	require.Equal(t, wantPolicy, created.Policy)
	require.Equal(t, workflows.Calendar{CutoffHour: 14}, created.Calendar)

	// GPD holds one partial payment option per instalment, and no longer the single one.
	pos := pf.position(t, d)
	require.Equal(t, "VALID", pos.Status)
	require.Len(t, pos.PaymentOptions, 5)
	for k, opt := range pos.PaymentOptions {
		in := insts[k]
		require.Equal(t, in.Nav, opt.NAV)
		require.True(t, opt.IsPartialPayment, "option %d is a partial payment", k+1)
		require.Equal(t, in.AmountCents, opt.Amount)
		require.Equal(t, date.Of(in.DueDate), date.InRome(opt.DueDate))
		require.Contains(t, opt.Description, fmt.Sprintf("rata %d di 5", k+1))
		require.NotEqual(t, d.Nav, opt.NAV, "the full option is gone")
	}

	// The debtor is told the plan: the instalments, the account and the mandate.
	confirmations := pf.communications(t, d.ID, "plan_confirmation")
	require.Len(t, confirmations, 1)
	require.Equal(t, fmt.Sprintf("plan/%d/confirmation", plan.ID), confirmations[0].DedupeKey)
	msgs := pf.mailsAbout(t, d.DebtorEmail, "Rateizzazione accolta", 1)
	text := textOf(t, msgs[0].Raw)
	require.Contains(t, text, "pagare in 5 rate")
	require.Contains(t, text, "200,01 euro, scadenza "+first.Italian())
	require.Contains(t, text, m.Reference)
	require.Contains(t, text, sepa.MaskIBAN(pf.ibanOf(t, m)))
	require.NotContains(t, text, pf.ibanOf(t, m))

	// The same request again (a retry) finds the same plan and creates nothing.
	var again workflows.PlanCreated
	require.NoError(t, runAct(t, pf.plans, &again, pf.plans.CreatePlan, d.ID, req))
	require.Equal(t, created, again)
	require.Equal(t, 1, pf.count(t, `SELECT count(*) FROM instalment_plans`))
	require.Equal(t, insts, pf.instalments(t, plan.ID))
	require.Len(t, pf.position(t, d).PaymentOptions, 5)
	require.Len(t, pf.communications(t, d.ID, "plan_confirmation"), 1)
	pf.mailsAbout(t, d.DebtorEmail, "Rateizzazione accolta", 1)

	// Another request for the same debt is refused.
	for _, other := range []workflows.PlanRequest{
		{Instalments: 6, FirstDueDate: first, MandateID: m.ID},
		{Instalments: 5, FirstDueDate: addDays(first, 1), MandateID: m.ID},
		{Instalments: 5, MandateID: m.ID},
	} {
		err := runAct(t, pf.plans, nil, pf.plans.CreatePlan, d.ID, other)
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		require.ErrorContains(t, err, "has an instalment plan already")
	}
	require.Equal(t, 1, pf.count(t, `SELECT count(*) FROM instalment_plans`))
	require.Equal(t, insts, pf.instalments(t, plan.ID))
}

// Without a first due date each instalment falls due at the end of a month, from the first
// month whose end leaves time for the pre-notification.
func TestCreatePlanDefaultDueDates(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	_, _, created := pf.newPlan(t, 300_00, 3)
	earliest := addDays(todayInRome(), pf.sddCfg.PrenotifyDays+3)
	for k, in := range created.Instalments {
		want := date.Of(time.Date(earliest.Year, earliest.Month+time.Month(k)+1, 0, 0, 0, 0, 0, time.UTC))
		require.Equal(t, want, in.DueDate, "instalment %d", in.Seq)
		require.Equal(t, money.Cents(100_00), in.Amount)
	}
}

func TestCreatePlanRefused(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	ctx := context.Background()

	// requireNothingCreated checks that the debt has no plan and that GPD still holds its
	// single notice.
	requireNothingCreated := func(t *testing.T, d dbgen.DebtPosition) {
		t.Helper()
		_, err := pf.q.GetPlanByDebt(ctx, d.ID)
		require.Error(t, err, "no plan")
		require.Equal(t, d.Status, pf.reload(t, d.ID).Status)
		pos := pf.position(t, d)
		require.Len(t, pos.PaymentOptions, 1)
		require.Equal(t, d.Nav, pos.PaymentOptions[0].NAV)
		require.False(t, pos.PaymentOptions[0].IsPartialPayment)
	}

	t.Run("number of instalments not allowed", func(t *testing.T) {
		d := pf.issuedOf(t, 1_000_00, nil)
		m := pf.mandate(t, d, d.DebtorName)
		err := runAct(t, pf.plans, nil, pf.plans.CreatePlan, d.ID, workflows.PlanRequest{Instalments: 3, MandateID: m.ID})
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		require.ErrorContains(t, err, "3 is fewer than the 5 required for 1.000,00 EUR")
		err = runAct(t, pf.plans, nil, pf.plans.CreatePlan, d.ID, workflows.PlanRequest{Instalments: 13, MandateID: m.ID})
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		require.ErrorContains(t, err, "13 is more than the 12 allowed for 1.000,00 EUR")
		requireNothingCreated(t, d)
	})

	t.Run("amount not eligible", func(t *testing.T) {
		d := pf.issuedOf(t, 100_00, nil)
		m := pf.mandate(t, d, d.DebtorName)
		err := runAct(t, pf.plans, nil, pf.plans.CreatePlan, d.ID, workflows.PlanRequest{Instalments: 2, MandateID: m.ID})
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		require.ErrorContains(t, err, "amounts up to 100,00 EUR cannot be paid in instalments")
		requireNothingCreated(t, d)
	})

	t.Run("mandate of another debt", func(t *testing.T) {
		d := pf.issuedOf(t, 400_00, nil)
		other := pf.issuedOf(t, 400_00, nil)
		m := pf.mandate(t, other, other.DebtorName)
		err := runAct(t, pf.plans, nil, pf.plans.CreatePlan, d.ID, workflows.PlanRequest{Instalments: 2, MandateID: m.ID})
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		require.ErrorContains(t, err, fmt.Sprintf("mandate %d is not one of debt %d", m.ID, d.ID))
		requireNothingCreated(t, d)
	})

	t.Run("unknown mandate", func(t *testing.T) {
		d := pf.issuedOf(t, 400_00, nil)
		err := runAct(t, pf.plans, nil, pf.plans.CreatePlan, d.ID, workflows.PlanRequest{Instalments: 2, MandateID: 987654321})
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		requireNothingCreated(t, d)
	})

	t.Run("paid debt", func(t *testing.T) {
		d := pf.issuedOf(t, 400_00, nil)
		m := pf.mandate(t, d, d.DebtorName)
		settle(t, pf.q, d.ID, time.Now())
		d = pf.reload(t, d.ID)
		err := runAct(t, pf.plans, nil, pf.plans.CreatePlan, d.ID, workflows.PlanRequest{Instalments: 2, MandateID: m.ID})
		requireNonRetryable(t, err, workflows.ErrTypeSettled)
		requireNothingCreated(t, d)
		require.Equal(t, workflows.StatusPaid, pf.reload(t, d.ID).Status)
	})

	t.Run("first due date too close", func(t *testing.T) {
		d := pf.issuedOf(t, 400_00, nil)
		m := pf.mandate(t, d, d.DebtorName)
		days := pf.sddCfg.PrenotifyDays + 3
		for _, first := range []date.Date{addDays(todayInRome(), days-1), todayInRome(), addDays(todayInRome(), -1)} {
			err := runAct(t, pf.plans, nil, pf.plans.CreatePlan, d.ID, workflows.PlanRequest{Instalments: 2, FirstDueDate: first, MandateID: m.ID})
			requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
			require.ErrorContains(t, err, "firstDueDate")
		}
		requireNothingCreated(t, d)
		// The earliest date allowed is accepted.
		var created workflows.PlanCreated
		require.NoError(t, runAct(t, pf.plans, &created, pf.plans.CreatePlan, d.ID,
			workflows.PlanRequest{Instalments: 2, FirstDueDate: addDays(todayInRome(), days), MandateID: m.ID}))
		require.Equal(t, addDays(todayInRome(), days), created.Instalments[0].DueDate)
	})

	// The instalments are published before the plan is committed: GPD refusing them, or
	// failing, leaves no plan behind.
	t.Run("GPD refuses the instalments", func(t *testing.T) {
		d := pf.issuedOf(t, 400_00, nil)
		m := pf.mandate(t, d, d.DebtorName)
		plans := *pf.plans
		debts := *pf.debts
		debts.GPD = gpd.New(pf.gpdURL, "wrong-key", 5*time.Second)
		plans.Debts = &debts
		err := runAct(t, &plans, nil, plans.CreatePlan, d.ID, workflows.PlanRequest{Instalments: 2, MandateID: m.ID})
		requireNonRetryable(t, err, workflows.ErrTypeGPDRejected)
		requireNothingCreated(t, d)
		require.Empty(t, pf.communications(t, d.ID, "plan_confirmation"))
	})

	t.Run("GPD down", func(t *testing.T) {
		d := pf.issuedOf(t, 400_00, nil)
		m := pf.mandate(t, d, d.DebtorName)
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		t.Cleanup(down.Close)
		plans := *pf.plans
		debts := *pf.debts
		debts.GPD = gpd.New(down.URL, gpdKey, 5*time.Second, gpd.WithRetry(gpd.RetryPolicy{Attempts: 1}))
		plans.Debts = &debts
		req := workflows.PlanRequest{Instalments: 2, MandateID: m.ID}
		err := runAct(t, &plans, nil, plans.CreatePlan, d.ID, req)
		requireRetryable(t, err)
		requireNothingCreated(t, d)
		// The retry, GPD back, makes the plan.
		var created workflows.PlanCreated
		require.NoError(t, runAct(t, pf.plans, &created, pf.plans.CreatePlan, d.ID, req))
		insts := pf.instalments(t, created.PlanID)
		require.Len(t, insts, 2)
		pos := pf.position(t, d)
		require.Len(t, pos.PaymentOptions, 2)
		require.Equal(t, insts[0].Nav, pos.PaymentOptions[0].NAV)
		require.Equal(t, insts[1].Nav, pos.PaymentOptions[1].NAV)
	})

	t.Run("unknown debt", func(t *testing.T) {
		before := pf.count(t, `SELECT count(*) FROM instalment_plans`)
		err := runAct(t, pf.plans, nil, pf.plans.CreatePlan, int64(987654321), workflows.PlanRequest{Instalments: 2, MandateID: 1})
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		require.ErrorContains(t, err, "debt 987654321 does not exist")
		require.Equal(t, before, pf.count(t, `SELECT count(*) FROM instalment_plans`))
	})
}

func TestScheduleCollection(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	ctx := context.Background()
	_, _, plan := pf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)

	in := scheduleInput(plan, 1, 1, on)
	s := pf.schedule(t, in)
	e2e := fmt.Sprintf("INC-%d-1-1", plan.PlanID)
	require.Equal(t, workflows.Scheduled{EndToEndID: e2e, CollectionDate: on}, s)
	require.Equal(t, e2e, activities.EndToEndID(plan.PlanID, 1, 1))

	run := pf.run(t, on)
	require.Equal(t, "OPEN", run.Status)
	c := pf.collection(t, plan.PlanID, 1, 1)
	require.Equal(t, e2e, c.EndToEndID)
	require.Equal(t, run.ID, c.RunID)
	require.Equal(t, "PENDING", c.Status)
	require.Equal(t, int64(200_00), c.AmountCents)
	require.False(t, c.MandateID.Valid, "the mandate is fixed when the file is written")
	require.False(t, c.SequenceType.Valid)
	require.Equal(t, workflows.InstalmentSubmitted, pf.instalment(t, plan.PlanID, 1).Status)
	require.Equal(t, workflows.InstalmentPlanned, pf.instalment(t, plan.PlanID, 2).Status)

	starts := pf.temporal.started()
	require.Len(t, starts, 1)
	requireRunStarted(t, starts[0], plan.Calendar, on)
	// The file is due at the cut-off of the business day before, in Rome.
	submitAt := starts[0].args[0].(workflows.CollectionRunInput).SubmitAt.In(date.Rome)
	require.Equal(t, target2.PreviousBusinessDay(on), date.Of(submitAt))
	require.Equal(t, 14, submitAt.Hour())

	// The same attempt again (a retry) is the same presentation: nothing is added.
	again := pf.schedule(t, in)
	require.Equal(t, s, again)
	require.Equal(t, 1, pf.count(t, `SELECT count(*) FROM sdd_collections`))
	require.Equal(t, 1, pf.count(t, `SELECT count(*) FROM sdd_runs`))
	require.Equal(t, c, pf.collection(t, plan.PlanID, 1, 1))
	starts = pf.temporal.started()
	require.Len(t, starts, 2, "the run is started again, in case it ended")
	requireRunStarted(t, starts[1], plan.Calendar, on)

	// Another instalment, and another attempt, join the same run with EndToEndIds of their own.
	s2 := pf.schedule(t, scheduleInput(plan, 2, 1, on))
	require.Equal(t, workflows.Scheduled{EndToEndID: fmt.Sprintf("INC-%d-2-1", plan.PlanID), CollectionDate: on}, s2)
	s3 := pf.schedule(t, scheduleInput(plan, 3, 2, on))
	require.Equal(t, fmt.Sprintf("INC-%d-3-2", plan.PlanID), s3.EndToEndID)
	require.Equal(t, 3, pf.count(t, `SELECT count(*) FROM sdd_collections WHERE run_id = $1`, run.ID))
	require.Equal(t, 1, pf.count(t, `SELECT count(*) FROM sdd_runs`))
	_, err := pf.q.GetRun(ctx, dbgen.GetRunParams{Account: sddAccount, CollectionDate: on.Time()})
	require.NoError(t, err)
}

func TestScheduleCollectionMovesToNextBusinessDay(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	ctx := context.Background()

	t.Run("the run has submitted its file", func(t *testing.T) {
		_, _, plan := pf.newPlan(t, 1_000_00, 5)
		on := target2.AddBusinessDays(todayInRome(), 10)
		pf.schedule(t, scheduleInput(plan, 1, 1, on))
		closed := pf.run(t, on)
		require.NoError(t, pf.q.CloseRun(ctx, dbgen.CloseRunParams{ID: closed.ID, Status: "SUBMITTED",
			MsgID: pgtype.Text{String: fmt.Sprintf("TEST-%d", closed.ID), Valid: true}}))
		before := len(pf.temporal.started())

		s := pf.schedule(t, scheduleInput(plan, 2, 1, on))
		next := target2.AddBusinessDays(on, 1)
		require.Equal(t, workflows.Scheduled{EndToEndID: fmt.Sprintf("INC-%d-2-1", plan.PlanID), CollectionDate: next}, s)
		c := pf.collection(t, plan.PlanID, 2, 1)
		require.Equal(t, pf.run(t, next).ID, c.RunID)
		require.Equal(t, next, date.Of(c.CollectionDate))
		require.Equal(t, 1, pf.count(t, `SELECT count(*) FROM sdd_collections WHERE run_id = $1`, closed.ID), "the closed run took nothing")
		starts := pf.temporal.started()[before:]
		require.Len(t, starts, 1)
		requireRunStarted(t, starts[0], plan.Calendar, next)

		// A retry finds the presentation on the day it was moved to.
		require.Equal(t, s, pf.schedule(t, scheduleInput(plan, 2, 1, on)))

		// When the next day's run is closed too, the presentation moves on again.
		require.NoError(t, pf.q.CloseRun(ctx, dbgen.CloseRunParams{ID: pf.run(t, next).ID, Status: "EMPTY"}))
		s = pf.schedule(t, scheduleInput(plan, 3, 1, on))
		require.Equal(t, target2.AddBusinessDays(on, 2), s.CollectionDate)
	})

	t.Run("the cut-off is over", func(t *testing.T) {
		_, _, plan := pf.newPlan(t, 1_000_00, 5)
		plan.Calendar.CutoffHour = 0 // the cut-off is at midnight starting the business day before
		today := todayInRome()
		// The first business day after today whose business day before is after today.
		want := target2.AddBusinessDays(today, 1)
		for !today.Before(target2.PreviousBusinessDay(want)) {
			want = target2.AddBusinessDays(want, 1)
		}
		before := len(pf.temporal.started())
		s := pf.schedule(t, scheduleInput(plan, 1, 1, today))
		require.Equal(t, want, s.CollectionDate)
		require.True(t, time.Now().Before(plan.Calendar.CutoffAt(s.CollectionDate)))
		_, err := pf.q.GetRun(ctx, dbgen.GetRunParams{Account: sddAccount, CollectionDate: today.Time()})
		require.Error(t, err, "no run is opened for a date whose cut-off is over")
		require.Equal(t, want, date.Of(pf.collection(t, plan.PlanID, 1, 1).CollectionDate))
		starts := pf.temporal.started()[before:]
		require.Len(t, starts, 1)
		requireRunStarted(t, starts[0], plan.Calendar, want)
	})
}

func TestWithdrawPendingCollections(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	ctx := context.Background()
	_, _, plan := pf.newPlan(t, 1_000_00, 5)
	_, _, other := pf.newPlan(t, 1_000_00, 5)
	open := target2.AddBusinessDays(todayInRome(), 10)
	closed := target2.AddBusinessDays(todayInRome(), 11)

	pf.schedule(t, scheduleInput(plan, 1, 1, open))
	pf.schedule(t, scheduleInput(plan, 3, 1, open))
	pf.schedule(t, scheduleInput(other, 1, 1, open))
	pf.schedule(t, scheduleInput(plan, 2, 1, closed))
	run := pf.run(t, closed)
	// The run of the later date has written its file: what it holds is with the bank.
	require.NoError(t, pf.q.CloseRun(ctx, dbgen.CloseRunParams{ID: run.ID, Status: "SUBMITTED", MsgID: pgtype.Text{String: "TEST-1", Valid: true}}))

	var seqs []int
	require.NoError(t, runAct(t, pf.plans, &seqs, pf.plans.WithdrawPendingCollections, plan.PlanID))
	slices.Sort(seqs)
	require.Equal(t, []int{1, 3}, seqs)
	for _, seq := range []int{1, 3} {
		require.Equal(t, "WITHDRAWN", pf.collection(t, plan.PlanID, seq, 1).Status)
		require.Equal(t, workflows.InstalmentPlanned, pf.instalment(t, plan.PlanID, seq).Status)
	}
	require.Equal(t, "PENDING", pf.collection(t, plan.PlanID, 2, 1).Status, "the run of its date is no longer open")
	require.Equal(t, workflows.InstalmentSubmitted, pf.instalment(t, plan.PlanID, 2).Status)
	require.Equal(t, "PENDING", pf.collection(t, other.PlanID, 1, 1).Status, "another plan's collection stays")
	require.Equal(t, workflows.InstalmentSubmitted, pf.instalment(t, other.PlanID, 1).Status)
	require.Equal(t, "OPEN", pf.run(t, open).Status)

	// Again: nothing more to withdraw.
	seqs = nil
	require.NoError(t, runAct(t, pf.plans, &seqs, pf.plans.WithdrawPendingCollections, plan.PlanID))
	require.Empty(t, seqs)
}

func TestSetPlanMandate(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	ctx := context.Background()
	d, m, plan := pf.newPlan(t, 1_000_00, 5)
	other, _, _ := pf.newPlan(t, 1_000_00, 5)
	foreign := pf.mandate(t, other, other.DebtorName)
	mandateOf := func() int64 {
		p, err := pf.q.GetPlan(ctx, plan.PlanID)
		require.NoError(t, err)
		return p.MandateID
	}

	err := runAct(t, pf.plans, nil, pf.plans.SetPlanMandate, plan.PlanID, foreign.ID)
	requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
	require.ErrorContains(t, err, fmt.Sprintf("mandate %d is not one of debt %d", foreign.ID, d.ID))
	require.Equal(t, m.ID, mandateOf())
	err = runAct(t, pf.plans, nil, pf.plans.SetPlanMandate, plan.PlanID, int64(987654321))
	requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
	require.Equal(t, m.ID, mandateOf())

	renewed := pf.mandate(t, d, d.DebtorName)
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.SetPlanMandate, plan.PlanID, renewed.ID))
	require.Equal(t, renewed.ID, mandateOf())
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.SetPlanMandate, plan.PlanID, renewed.ID), "again: a retry")
	require.Equal(t, renewed.ID, mandateOf())
}

func TestSetPlanStatus(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	ctx := context.Background()
	_, _, plan := pf.newPlan(t, 1_000_00, 5)
	status := func() string {
		p, err := pf.q.GetPlan(ctx, plan.PlanID)
		require.NoError(t, err)
		return p.Status
	}
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.SetPlanStatus, plan.PlanID, workflows.PlanSuspended))
	require.Equal(t, workflows.PlanSuspended, status())
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.SetPlanStatus, plan.PlanID, workflows.PlanActive))
	require.Equal(t, workflows.PlanActive, status())
	err := runAct(t, pf.plans, nil, pf.plans.SetPlanStatus, plan.PlanID, workflows.PlanCompleted)
	requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
	require.Equal(t, workflows.PlanActive, status(), "only FinishPlan ends a plan")
}

func TestMarkInstalmentPaid(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	d, _, plan := pf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	ref := workflows.InstalmentRef{PlanID: plan.PlanID, Seq: 1, Date: on}
	nav := pf.instalment(t, plan.PlanID, 1).Nav

	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.MarkInstalmentPaid, ref))
	in := pf.instalment(t, plan.PlanID, 1)
	require.Equal(t, workflows.InstalmentPaid, in.Status)
	require.True(t, in.PaidAt.Valid)
	require.Equal(t, workflows.InstalmentPlanned, pf.instalment(t, plan.PlanID, 2).Status)
	require.Equal(t, 1, pf.paid.calls)
	require.Equal(t, []string{nav}, pf.paid.navs)
	require.NoError(t, pf.paid.errs[0])
	require.Equal(t, "SDD", pf.paid.paid[0].Method)
	require.Equal(t, creditor.Name, pf.paid.paid[0].PSPCompany)
	require.True(t, on.Time().Equal(pf.paid.paid[0].Date), "paid on %s", pf.paid.paid[0].Date)
	require.Equal(t, "PARTIALLY_PAID", pf.position(t, d).Status, "GPD knows the instalment is paid")

	// A retry: GPD answers that the notice is paid already, which is fine.
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.MarkInstalmentPaid, ref))
	require.Equal(t, 2, pf.paid.calls, "once per call")
	require.Equal(t, []string{nav, nav}, pf.paid.navs)
	require.ErrorIs(t, pf.paid.errs[1], gpd.ErrConflict)
	again := pf.instalment(t, plan.PlanID, 1)
	require.Equal(t, workflows.InstalmentPaid, again.Status)
	require.Equal(t, in.PaidAt, again.PaidAt, "paid_at is kept")

	t.Run("GPD down", func(t *testing.T) {
		a := *pf.plans
		a.GPDPaid = &paidRecorder{err: fmt.Errorf("gpd mark paid: HTTP 503")}
		err := runAct(t, &a, nil, a.MarkInstalmentPaid, workflows.InstalmentRef{PlanID: plan.PlanID, Seq: 2, Date: on})
		requireRetryable(t, err)
	})
	t.Run("GPD does not know the notice", func(t *testing.T) {
		a := *pf.plans
		rec := &paidRecorder{err: fmt.Errorf("gpd mark paid: HTTP 404: %w", gpd.ErrNotFound)}
		a.GPDPaid = rec
		require.NoError(t, runAct(t, &a, nil, a.MarkInstalmentPaid, workflows.InstalmentRef{PlanID: plan.PlanID, Seq: 3, Date: on}),
			"incasso's record stands: retrying cannot fix GPD")
		require.Equal(t, workflows.InstalmentPaid, pf.instalment(t, plan.PlanID, 3).Status)
		require.Equal(t, 1, rec.calls)
	})
	t.Run("unknown instalment", func(t *testing.T) {
		err := runAct(t, pf.plans, nil, pf.plans.MarkInstalmentPaid, workflows.InstalmentRef{PlanID: plan.PlanID, Seq: 9, Date: on})
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		err = runAct(t, pf.plans, nil, pf.plans.MarkInstalmentPaid, workflows.InstalmentRef{PlanID: 987654321, Seq: 1, Date: on})
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
	})
}

func TestSendInstalmentSollecito(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	d, _, plan := pf.newPlan(t, 1_000_00, 5)
	ref := workflows.InstalmentRef{PlanID: plan.PlanID, Seq: 2, Date: todayInRome(), Reason: "AC04"}

	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.SendInstalmentSollecito, ref))
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.SendInstalmentSollecito, ref), "a retry")
	in := pf.instalment(t, plan.PlanID, 2)
	require.Equal(t, workflows.InstalmentMissed, in.Status)
	require.Equal(t, "AC04", in.ReasonCode)
	require.Equal(t, workflows.InstalmentPlanned, pf.instalment(t, plan.PlanID, 1).Status)

	comms := pf.communications(t, d.ID, "instalment_sollecito")
	require.Len(t, comms, 1)
	require.Equal(t, fmt.Sprintf("plan/%d/2/sollecito", plan.PlanID), comms[0].DedupeKey)
	require.Equal(t, "SENT", comms[0].Status)
	require.Equal(t, "email", comms[0].Channel)
	msgs := pf.mailsAbout(t, d.DebtorEmail, "Sollecito:", 1)
	require.Contains(t, msgs[0].Subject, "rata 2 non pagata")
	text := textOf(t, msgs[0].Raw)
	require.Contains(t, text, "la rata 2 di 5")
	require.Contains(t, text, "(200,00 euro)")
	require.Contains(t, text, "codice AC04")

	// MISSED is final: a later status does not undo it.
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.RecordInstalmentStatus, workflows.InstalmentRef{PlanID: plan.PlanID, Seq: 2}, workflows.InstalmentHeld))
	require.Equal(t, workflows.InstalmentMissed, pf.instalment(t, plan.PlanID, 2).Status)

	t.Run("by PEC", func(t *testing.T) {
		d := pf.issuedOf(t, 1_000_00, withPEC)
		m := pf.mandate(t, d, d.DebtorName)
		created, err := pf.plans.CreatePlan(context.Background(), d.ID, workflows.PlanRequest{Instalments: 5, MandateID: m.ID})
		require.NoError(t, err)
		require.NoError(t, runAct(t, pf.plans, nil, pf.plans.SendInstalmentSollecito,
			workflows.InstalmentRef{PlanID: created.PlanID, Seq: 1, Date: todayInRome(), Reason: "MD07"}))
		comms := pf.communications(t, d.ID, "instalment_sollecito")
		require.Len(t, comms, 1)
		require.Equal(t, "pec", comms[0].Channel)
		require.Equal(t, d.DebtorPec, comms[0].Recipient)
		require.Len(t, pf.pecMessagesTo(d.DebtorPec), 1)
		pf.mailsAbout(t, d.DebtorEmail, "Sollecito:", 0)
	})
}

func TestPrenotifyInstalment(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	d, m, plan := pf.newPlan(t, 1_000_00, 5)
	first := target2.AddBusinessDays(todayInRome(), 12)
	moved := target2.AddBusinessDays(first, 3)

	ref := workflows.InstalmentRef{PlanID: plan.PlanID, Seq: 1, Date: first}
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.PrenotifyInstalment, ref))
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.PrenotifyInstalment, ref), "a retry")
	comms := pf.communications(t, d.ID, "sdd_prenotification")
	require.Len(t, comms, 1)
	require.Equal(t, fmt.Sprintf("plan/%d/1/prenotify/%s", plan.PlanID, first), comms[0].DedupeKey)
	msgs := pf.mailsAbout(t, d.DebtorEmail, "Addebito SEPA della rata 1", 1)
	text := textOf(t, msgs[0].Raw)
	require.Contains(t, text, "Importo: 200,00 euro")
	require.Contains(t, text, "Data di addebito: "+first.Italian())
	require.Contains(t, text, "Mandato SEPA: "+m.Reference)
	require.Contains(t, text, "Identificativo del creditore: "+pf.sddCfg.CreditorID)
	require.Contains(t, text, "la rata 1 di 5")
	require.Contains(t, text, sepa.MaskIBAN(pf.ibanOf(t, m)))
	require.NotContains(t, text, pf.ibanOf(t, m), "the IBAN is masked")

	// The collection moved to another date is announced again, once.
	ref.Date = moved
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.PrenotifyInstalment, ref))
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.PrenotifyInstalment, ref))
	require.Len(t, pf.communications(t, d.ID, "sdd_prenotification"), 2)
	msgs = pf.mailsAbout(t, d.DebtorEmail, "Addebito SEPA della rata 1", 2)
	require.True(t, slices.ContainsFunc(msgs, func(msg mailsink.Message) bool {
		return strings.Contains(textOf(t, msg.Raw), "Data di addebito: "+moved.Italian())
	}))
	// Another instalment on the same date is a message of its own.
	require.NoError(t, runAct(t, pf.plans, nil, pf.plans.PrenotifyInstalment, workflows.InstalmentRef{PlanID: plan.PlanID, Seq: 2, Date: moved}))
	require.Len(t, pf.communications(t, d.ID, "sdd_prenotification"), 3)
}

func TestFinishPlan(t *testing.T) {
	t.Parallel()
	pf := newPlanFixture(t)
	ctx := context.Background()
	d, _, plan := pf.newPlan(t, 1_000_00, 5)
	const remainder = money.Cents(600_00)
	in := workflows.FinishInput{PlanID: plan.PlanID, Status: workflows.PlanForfeited, Remainder: remainder}
	debtsBefore := pf.count(t, `SELECT count(*) FROM debt_positions`)

	var iupd string
	require.NoError(t, runAct(t, pf.plans, &iupd, pf.plans.FinishPlan, in))
	require.Equal(t, d.Iupd+"-R", iupd)
	rest, err := pf.q.GetDebtByIUPD(ctx, dbgen.GetDebtByIUPDParams{EcFiscalCode: ecCode, Iupd: iupd})
	require.NoError(t, err)
	require.Equal(t, int64(remainder), rest.AmountCents)
	require.Equal(t, d.DebtorFiscalCode, rest.DebtorFiscalCode)
	require.Equal(t, d.DebtorName, rest.DebtorName)
	require.Equal(t, d.DebtorEmail, rest.DebtorEmail)
	require.Equal(t, d.ServiceCode, rest.ServiceCode)
	require.Equal(t, "Residuo rateizzazione "+d.Description, rest.Description)
	require.Equal(t, addDays(todayInRome(), activities.RemainderDueDays), date.Of(rest.DueDate))
	require.NotEqual(t, d.Nav, rest.Nav, "a notice of its own")
	require.Equal(t, workflows.StatusCreated, rest.Status)

	starts := pf.temporal.started()
	require.Len(t, starts, 1)
	require.Equal(t, workflows.DebtWorkflowID(ecCode, iupd), starts[0].opts.ID)
	require.Equal(t, sddTaskQueue, starts[0].opts.TaskQueue)
	require.Equal(t, reflect.ValueOf(workflows.Debt).Pointer(), reflect.ValueOf(starts[0].workflow).Pointer())
	require.Equal(t, []any{workflows.DebtInput{DebtID: rest.ID, ECFiscalCode: ecCode, IUPD: iupd, ServiceCode: d.ServiceCode,
		Amount: remainder, DueDate: date.Of(rest.DueDate)}}, starts[0].args)

	p, err := pf.q.GetPlan(ctx, plan.PlanID)
	require.NoError(t, err)
	require.Equal(t, workflows.PlanForfeited, p.Status)
	require.Equal(t, pgtype.Int8{Int64: int64(remainder), Valid: true}, p.RemainderCents)
	require.Equal(t, pgtype.Int8{Int64: rest.ID, Valid: true}, p.RemainderDebtID)
	require.True(t, p.EndedAt.Valid)
	require.Equal(t, workflows.StatusInstalments, pf.reload(t, d.ID).Status, "not settled: the workflow marks it superseded")

	// The debtor is told how the plan ended and what is still owed.
	ends := pf.communications(t, d.ID, "plan_end")
	require.Len(t, ends, 1)
	require.Equal(t, fmt.Sprintf("plan/%d/end", plan.PlanID), ends[0].DedupeKey)
	end := textOf(t, ends[0].Raw)
	require.Contains(t, end, "decaduto")
	require.Contains(t, end, "600,00 euro")
	require.Contains(t, end, iupd)

	// Again (a retry): the same remainder debt, nothing new.
	iupd = ""
	require.NoError(t, runAct(t, pf.plans, &iupd, pf.plans.FinishPlan, in))
	require.Equal(t, d.Iupd+"-R", iupd)
	require.Equal(t, debtsBefore+1, pf.count(t, `SELECT count(*) FROM debt_positions`))
	again, err := pf.q.GetPlan(ctx, plan.PlanID)
	require.NoError(t, err)
	require.Equal(t, p.RemainderDebtID, again.RemainderDebtID)
	require.Equal(t, p.EndedAt, again.EndedAt, "ended_at is kept")
	require.Len(t, pf.communications(t, d.ID, "plan_end"), 1)
	for _, s := range pf.temporal.started() {
		require.Equal(t, workflows.DebtWorkflowID(ecCode, iupd), s.opts.ID, "only the remainder's workflow is started")
		require.Equal(t, enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, s.opts.WorkflowIDConflictPolicy)
	}

	t.Run("completed", func(t *testing.T) {
		_, _, plan := pf.newPlan(t, 1_000_00, 5)
		before, starts := pf.count(t, `SELECT count(*) FROM debt_positions`), len(pf.temporal.started())
		iupd := "unset"
		require.NoError(t, runAct(t, pf.plans, &iupd, pf.plans.FinishPlan, workflows.FinishInput{PlanID: plan.PlanID, Status: workflows.PlanCompleted}))
		require.Empty(t, iupd)
		require.Equal(t, before, pf.count(t, `SELECT count(*) FROM debt_positions`))
		require.Len(t, pf.temporal.started(), starts)
		p, err := pf.q.GetPlan(ctx, plan.PlanID)
		require.NoError(t, err)
		require.Equal(t, workflows.PlanCompleted, p.Status)
		require.Equal(t, pgtype.Int8{Int64: 0, Valid: true}, p.RemainderCents)
		require.False(t, p.RemainderDebtID.Valid)
		require.Empty(t, pf.communications(t, p.DebtID, "plan_end"), "the quietanza says it")
		receipts := pf.communications(t, p.DebtID, "receipt")
		require.Len(t, receipts, 1)
		require.Equal(t, fmt.Sprintf("debt/%d/receipt", p.DebtID), receipts[0].DedupeKey)
		text := textOf(t, receipts[0].Raw)
		require.Contains(t, text, "Tutte le rate sono state pagate")
		require.Contains(t, text, "vale come quietanza")
		require.Contains(t, text, "1.000,00 euro in 5 rate")
		require.Contains(t, text, "rata 5: 200,00 euro")
		// Again (a retry): one quietanza.
		require.NoError(t, runAct(t, pf.plans, &iupd, pf.plans.FinishPlan, workflows.FinishInput{PlanID: plan.PlanID, Status: workflows.PlanCompleted}))
		require.Len(t, pf.communications(t, p.DebtID, "receipt"), 1)
		paid, err := pf.q.GetDebt(ctx, p.DebtID)
		require.NoError(t, err)
		require.Equal(t, workflows.StatusPaid, paid.Status, "the plan's end settles its debt")
		require.True(t, paid.PaidAt.Valid, "with the date it was settled")
	})
}
