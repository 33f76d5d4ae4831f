package activities_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"incasso/activities"
	"incasso/clients/gpd"
	"incasso/db/dbgen"
	"incasso/devstack/pagopasim"
	"incasso/domain/money"
	"incasso/domain/pagopa"
	"incasso/services/receipts"
	"incasso/workflows"
)

// signals records what the recorder tells the debts' workflows.
type signals struct {
	mu   sync.Mutex
	sent []workflows.ReceiptSignal
	ids  []string
	err  error // answered instead, when set
}

func (s *signals) SignalWorkflow(_ context.Context, workflowID, _, name string, arg any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if name == workflows.SignalReceipt {
		s.sent = append(s.sent, arg.(workflows.ReceiptSignal))
		s.ids = append(s.ids, workflowID)
	}
	return nil
}

func (s *signals) workflowIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

// recovery is the recovery activity on f's database, asking the simulator's receipts API
// (or receiptsURL when not empty).
func (f *fixture) recovery(receiptsURL string, sig *signals) *activities.Recovery {
	if receiptsURL == "" {
		receiptsURL = f.simURL + pagopasim.ReceiptsBasePath
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &activities.Recovery{
		Pool: f.pool, GPD: gpd.NewReceipts(receiptsURL, gpdKey, 5*time.Second, gpd.WithRetry(gpd.RetryPolicy{Attempts: 1})),
		Recorder: &receipts.Recorder{Pool: f.pool, Temporal: sig, ECFiscalCode: ecCode, Log: log},
		MinAge:   0, Batch: 100, Log: log,
	}
}

func runRecovery(t *testing.T, r *activities.Recovery) (workflows.RecoveryResult, error) {
	t.Helper()
	var res workflows.RecoveryResult
	val, err := activityEnv(r).ExecuteActivity(r.RecoverReceipts)
	if err != nil {
		return res, err
	}
	require.NoError(t, val.Get(&res))
	return res, nil
}

func TestRecoverReceipts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sig := &signals{}

	// Paid, but pagoPA never pushed the receipt.
	lost := f.issued(t, nil)
	pay, err := f.sim.Pay(ctx, pagopasim.Payment{NAV: lost.Nav, Undelivered: true})
	require.NoError(t, err)
	require.Empty(t, pay.Pushes, "not delivered")
	// Paid less than asked, and not pushed either: recorded, flagged, still owed.
	short := f.issued(t, nil)
	_, err = f.sim.Pay(ctx, pagopasim.Payment{NAV: short.Nav, Amount: money.Cents(10000), Undelivered: true})
	require.NoError(t, err)
	// Not paid at all; overdue ones are asked about too.
	unpaid := f.issued(t, nil)
	overdue := f.issued(t, nil)
	require.NoError(t, f.debts.SetStatus(ctx, overdue.ID, workflows.StatusOverdue))
	// Not asked about: not issued yet, or settled.
	created := f.insertDebt(t, nil)
	paid := f.issued(t, nil)
	settle(t, f.q, paid.ID, time.Now())

	before := time.Now()
	res, err := runRecovery(t, f.recovery("", sig))
	require.NoError(t, err)
	require.Equal(t, workflows.RecoveryResult{Checked: 4, Recovered: 2, Flagged: 1}, res)

	got := f.reload(t, lost.ID)
	require.Equal(t, workflows.StatusPaid, got.Status)
	require.True(t, got.PaidAt.Valid)
	rcs, err := f.q.ListReceiptsByDebt(ctx, pgtype.Int8{Int64: lost.ID, Valid: true})
	require.NoError(t, err)
	require.Len(t, rcs, 1)
	rc := rcs[0]
	require.Equal(t, pay.ReceiptID, rc.ReceiptID)
	require.Equal(t, receipts.SourceRecovery, rc.Source)
	require.Equal(t, "OK", rc.Outcome)
	require.Equal(t, lost.AmountCents, rc.AmountCents)
	require.False(t, rc.Flag.Valid)
	require.Contains(t, rc.RawXml, pay.ReceiptID, "GPD's copy is kept")

	shortRcs, err := f.q.ListReceiptsByDebt(ctx, pgtype.Int8{Int64: short.ID, Valid: true})
	require.NoError(t, err)
	require.Len(t, shortRcs, 1)
	require.Equal(t, receipts.FlagUnderpaid, shortRcs[0].Flag.String)
	require.Equal(t, workflows.StatusIssued, f.reload(t, short.ID).Status)

	require.ElementsMatch(t, []string{"debt/" + ecCode + "/" + lost.Iupd}, sig.workflowIDs(),
		"the recovered payment that settles its debt is told to its workflow")

	for _, d := range []dbgen.DebtPosition{lost, short, unpaid, overdue} {
		got := f.reload(t, d.ID)
		require.True(t, got.ReceiptCheckedAt.Valid, "debt %d marked checked", d.ID)
		require.WithinDuration(t, time.Now(), got.ReceiptCheckedAt.Time, time.Since(before)+time.Second)
	}
	require.Equal(t, workflows.StatusIssued, f.reload(t, unpaid.ID).Status, "no receipt: still unpaid")
	require.Equal(t, workflows.StatusOverdue, f.reload(t, overdue.ID).Status)
	for _, d := range []dbgen.DebtPosition{created, paid} {
		require.False(t, f.reload(t, d.ID).ReceiptCheckedAt.Valid, "debt %d not asked about", d.ID)
	}

	// The next run asks only about the notices still unpaid.
	res, err = runRecovery(t, f.recovery("", sig))
	require.NoError(t, err)
	require.Equal(t, workflows.RecoveryResult{Checked: 3}, res, "the underpaid debt is still owed, so asked about again")
	require.Len(t, sig.workflowIDs(), 1)

	// The push arrives after all: it is a duplicate, and the receipt stays as recovered.
	r := f.recovery("", sig)
	raw, err := r.GPD.GetReceipt(ctx, ecCode, lost.Nav[1:])
	require.NoError(t, err)
	req, err := receipts.Parse(raw)
	require.NoError(t, err)
	out, err := r.Recorder.Record(ctx, req.Receipt, raw, receipts.SourcePush)
	require.NoError(t, err)
	require.Equal(t, pagopa.FaultDuplicateReceipt, out.Fault)
	again, err := f.q.GetReceiptByReceiptID(ctx, pay.ReceiptID)
	require.NoError(t, err)
	require.Equal(t, receipts.SourceRecovery, again.Source)
}

// Notices issued a short while ago are left to their push.
func TestRecoverReceiptsMinAge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.issued(t, nil)
	_, err := f.sim.Pay(context.Background(), pagopasim.Payment{NAV: d.Nav, Undelivered: true})
	require.NoError(t, err)
	r := f.recovery("", &signals{})
	r.MinAge = time.Hour
	res, err := runRecovery(t, r)
	require.NoError(t, err)
	require.Zero(t, res.Checked)
	require.Equal(t, workflows.StatusIssued, f.reload(t, d.ID).Status)
}

// The oldest-checked notices go first and a run stops at its batch.
func TestRecoverReceiptsBatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var ids []int64
	for range 3 {
		ids = append(ids, f.issued(t, nil).ID)
	}
	r := f.recovery("", &signals{})
	r.Batch = 2
	for run, want := range [][]int64{{ids[0], ids[1]}, {ids[2], ids[0]}} {
		res, err := runRecovery(t, r)
		require.NoError(t, err)
		require.Equal(t, 2, res.Checked, "run %d", run)
		var checked []int64
		rows, err := f.pool.Query(context.Background(),
			`SELECT id FROM debt_positions WHERE receipt_checked_at IS NOT NULL ORDER BY receipt_checked_at DESC, id LIMIT 2`)
		require.NoError(t, err)
		for rows.Next() {
			var id int64
			require.NoError(t, rows.Scan(&id))
			checked = append(checked, id)
		}
		require.NoError(t, rows.Err())
		require.ElementsMatch(t, want, checked, "run %d", run)
	}
}

func TestRecoverReceiptsGPDFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.issued(t, nil)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(down.Close)

	_, err := runRecovery(t, f.recovery(down.URL, &signals{}))
	requireRetryable(t, err)
	got := f.reload(t, d.ID)
	require.False(t, got.ReceiptCheckedAt.Valid, "not marked checked: the next run asks again")
	require.Equal(t, workflows.StatusIssued, got.Status)
}

// A receipt GPD answers with that is not a paSendRTV2 request is left to an operator; the run
// goes on with the other notices.
func TestRecoverReceiptsUnreadable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.issued(t, nil), f.issued(t, nil)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write([]byte("<not-a-receipt"))
	}))
	t.Cleanup(bad.Close)
	res, err := runRecovery(t, f.recovery(bad.URL, &signals{}))
	require.NoError(t, err)
	require.Equal(t, workflows.RecoveryResult{Checked: 2}, res)
	for _, d := range []dbgen.DebtPosition{a, b} {
		got := f.reload(t, d.ID)
		require.Equal(t, workflows.StatusIssued, got.Status)
		require.True(t, got.ReceiptCheckedAt.Valid)
	}
}

// GPD refusing the request for one notice (a 4xx) does not hold up the others.
func TestRecoverReceiptsGPDRefusesOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.issued(t, nil), f.issued(t, nil)
	refuseA := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/"+a.Nav[1:]) {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(refuseA.Close)
	res, err := runRecovery(t, f.recovery(refuseA.URL, &signals{}))
	require.NoError(t, err)
	require.Equal(t, workflows.RecoveryResult{Checked: 2}, res)
	require.True(t, f.reload(t, a.ID).ReceiptCheckedAt.Valid, "the refused notice waits for its turn again")
	require.True(t, f.reload(t, b.ID).ReceiptCheckedAt.Valid)
}

// A payment under way when its notice was cancelled is recovered and flagged for refund.
func TestRecoverReceiptOfCancelledDebt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.issued(t, nil)
	pay, err := f.sim.Pay(ctx, pagopasim.Payment{NAV: d.Nav, Undelivered: true})
	require.NoError(t, err)
	_, err = f.q.CancelDebt(ctx, dbgen.CancelDebtParams{ID: d.ID, CancelReason: pgtype.Text{String: "iscrizione duplicata", Valid: true}})
	require.NoError(t, err)
	sig := &signals{}

	res, err := runRecovery(t, f.recovery("", sig))
	require.NoError(t, err)
	require.Equal(t, workflows.RecoveryResult{Checked: 1, Recovered: 1, Flagged: 1}, res)
	rc, err := f.q.GetReceiptByReceiptID(ctx, pay.ReceiptID)
	require.NoError(t, err)
	require.Equal(t, receipts.FlagPaidAfterCancel, rc.Flag.String)
	require.Equal(t, workflows.StatusCancelled, f.reload(t, d.ID).Status)
	require.Empty(t, sig.workflowIDs(), "the cancelled debt's workflow has ended")
}
