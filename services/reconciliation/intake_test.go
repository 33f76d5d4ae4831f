package reconciliation_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/clients/fdr"
	"incasso/clients/gpd"
	"incasso/devstack/pagopasim"
	"incasso/devstack/testdb"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/pagopa"
	"incasso/domain/target2"
	"incasso/services/receipts"
	"incasso/services/reconciliation"
)

const (
	testKey  = "test-subscription-key"
	testOrg  = "00000000000"
	otherPSP = "UNCRITMM"
)

// noSignals fails a test that signals a workflow: receipts of notices unknown to incasso signal none.
type noSignals struct{}

func (noSignals) SignalWorkflow(context.Context, string, string, string, any) error {
	return errors.New("no workflow to signal")
}

type fixture struct {
	pool   *pgxpool.Pool
	sim    *pagopasim.PagoPA
	gpd    *gpd.Receipts
	rec    *receipts.Recorder
	intake *reconciliation.Intake
	today  date.Date
	navs   int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool, _ := testdb.New(t)
	sim := pagopasim.NewPagoPA(testKey, "http://127.0.0.1:1/unused", "node-key", testOrg, testOrg+"_01")
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	rec := &receipts.Recorder{Pool: pool, Temporal: noSignals{}, ECFiscalCode: testOrg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	g := gpd.NewReceipts(srv.URL+pagopasim.ReceiptsBasePath, testKey, 5*time.Second)
	f := &fixture{pool: pool, sim: sim, gpd: g, rec: rec, today: date.InRome(time.Now()), navs: 1000}
	f.intake = &reconciliation.Intake{Pool: pool, FdR: fdr.New(srv.URL+pagopasim.FdRBasePath, testKey, 5*time.Second),
		Receipts: &reconciliation.GPDReceipts{GPD: g, Recorder: rec}, Organization: testOrg, PageSize: 2}
	return f
}

// pay has the PSP collect a notice unknown to GPD; recorded, incasso holds its receipt (as
// pushed), else only pagoPA does. It returns the IUV.
func (f *fixture) pay(t *testing.T, psp string, cents money.Cents, recorded bool) string {
	t.Helper()
	f.navs++
	nav, err := pagopa.NewNAV(1, f.navs)
	require.NoError(t, err)
	_, err = f.sim.Pay(context.Background(), pagopasim.Payment{NAV: nav.String(), Organization: testOrg, Amount: cents, Undelivered: true, PSP: psp})
	require.NoError(t, err)
	if recorded {
		ok, err := (&reconciliation.GPDReceipts{GPD: f.gpd, Recorder: f.rec}).RecoverReceipt(context.Background(), nav.IUV())
		require.NoError(t, err)
		require.True(t, ok)
	}
	return nav.IUV()
}

// run is one intake: every pending flow stored.
func (f *fixture) run(t *testing.T, today date.Date) []reconciliation.FlowOutcome {
	t.Helper()
	ctx := context.Background()
	refs, err := f.intake.Pending(ctx, f.today.Time().AddDate(0, 0, -7))
	require.NoError(t, err)
	var outs []reconciliation.FlowOutcome
	for _, ref := range refs {
		out, err := f.intake.Store(ctx, ref, today)
		require.NoError(t, err)
		outs = append(outs, out)
	}
	return outs
}

// states counts the receipts by reconciliation state.
func (f *fixture) states(t *testing.T) map[string]int {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), `SELECT status || coalesce(':' || reason, ''), count(*) FROM receipt_reconciliation GROUP BY 1`)
	require.NoError(t, err)
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		require.NoError(t, rows.Scan(&k, &n))
		out[k] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// openDifferences counts the open differences by reason.
func (f *fixture) openDifferences(t *testing.T) map[string]int {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), `SELECT reason, count(*) FROM reconciliation_differences WHERE resolution IS NULL GROUP BY 1`)
	require.NoError(t, err)
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		require.NoError(t, rows.Scan(&k, &n))
		out[k] = n
	}
	require.NoError(t, rows.Err())
	return out
}

func TestEveryReceiptMatchesItsFlowLineAndARunAgainChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range 4 {
		f.pay(t, "", money.Cents(1000+i), true)
	}
	f.pay(t, otherPSP, 2500, true)
	f.pay(t, "", 700, false) // the push never came: the intake asks GPD for it
	published, err := f.sim.PublishFlows(pagopasim.FlowFaults{Date: f.today})
	require.NoError(t, err)
	require.Len(t, published, 2, "one flow per PSP")

	outs := f.run(t, f.today)
	require.Len(t, outs, 2)
	total := 0
	for _, o := range outs {
		require.True(t, o.Stored)
		require.Empty(t, o.Malformed)
		total += int(o.Lines["MATCHED"])
	}
	require.Equal(t, 6, total)
	require.Equal(t, map[string]int{"MATCHED_FLOW": 6}, f.states(t))
	require.Empty(t, f.openDifferences(t))

	var hash string
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT raw_sha256 FROM fdr_flows WHERE psp_id = $1`, otherPSP).Scan(&hash))
	require.Regexp(t, `^[0-9a-f]{64}$`, hash)

	require.Empty(t, f.run(t, f.today), "nothing is pending: a second run changes nothing")
	later := target2.AddBusinessDays(f.today, 5)
	n, err := f.intake.FlagMissingFlowLines(context.Background(), later, 3)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, map[string]int{"MATCHED_FLOW": 6}, f.states(t))
}

func TestFaultsBecomeTheirDifferences(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range 3 {
		f.pay(t, "", money.Cents(1000+i), true)
	}
	f.pay(t, otherPSP, 2500, true)
	f.pay(t, otherPSP, 2600, true)
	// The usual PSP's flow: first line 5 cents more, last line missing.
	_, err := f.sim.PublishFlows(pagopasim.FlowFaults{Date: f.today, WrongAmountCents: 5, MissingLine: true, PSP: "BCITITMM"})
	require.NoError(t, err)
	_, err = f.sim.PublishFlows(pagopasim.FlowFaults{Date: f.today}) // the other PSP's, right
	require.NoError(t, err)
	f.run(t, f.today)
	require.Equal(t, map[string]int{"MATCHED_FLOW": 3, "DIFFERENCE:AMOUNT_DIFFERS": 1, "UNMATCHED": 1}, f.states(t))

	// Three business days on, the receipt no line reported is flagged; once.
	for range 2 {
		n, err := f.intake.FlagMissingFlowLines(context.Background(), target2.AddBusinessDays(f.today, 2), 3)
		require.NoError(t, err)
		require.Zero(t, n, "not yet")
	}
	n, err := f.intake.FlagMissingFlowLines(context.Background(), target2.AddBusinessDays(f.today, 3), 3)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.Equal(t, map[string]int{"MATCHED_FLOW": 3, "DIFFERENCE:AMOUNT_DIFFERS": 1, "DIFFERENCE:NO_FLOW_LINE": 1}, f.states(t))
	require.Equal(t, map[string]int{"AMOUNT_DIFFERS": 1, "NO_FLOW_LINE": 1}, f.openDifferences(t))

	// The PSP publishes a corrected revision: it replaces the first, the differences close.
	_, err = f.sim.PublishFlows(pagopasim.FlowFaults{Date: f.today, SecondRevision: true, PSP: "BCITITMM"})
	require.NoError(t, err)
	outs := f.run(t, f.today)
	require.NotEmpty(t, outs)
	require.Equal(t, map[string]int{"MATCHED_FLOW": 5}, f.states(t))
	require.Empty(t, f.openDifferences(t))
	var superseded int
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT count(*) FROM fdr_flows WHERE status = 'SUPERSEDED'`).Scan(&superseded))
	require.Equal(t, 1, superseded, "revision 1, kept with its lines")
	var oldLines int
	require.NoError(t, f.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM fdr_flow_lines l JOIN fdr_flows f ON f.id = l.flow_id WHERE f.status = 'SUPERSEDED'`).Scan(&oldLines))
	require.Equal(t, 2, oldLines)
}

func TestOneMalformedFlowIsFlaggedAndTheOthersGoOn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.pay(t, "", 1000, true)
	f.pay(t, otherPSP, 2500, true)
	f.pay(t, "", 999, false) // GPD has it; incasso not yet
	_, err := f.sim.PublishFlows(pagopasim.FlowFaults{Date: f.today, BadTotals: true, PSP: otherPSP})
	require.NoError(t, err)
	_, err = f.sim.PublishFlows(pagopasim.FlowFaults{Date: f.today})
	require.NoError(t, err)
	outs := f.run(t, f.today)
	require.Len(t, outs, 2)
	var malformed []string
	for _, o := range outs {
		if o.Malformed != "" {
			malformed = append(malformed, o.Malformed)
		}
	}
	require.Len(t, malformed, 1)
	require.Contains(t, malformed[0], "totPayments says 2")
	require.Equal(t, map[string]int{"MATCHED_FLOW": 2, "UNMATCHED": 1}, f.states(t))
	require.Equal(t, map[string]int{"MALFORMED_FLOW": 1}, f.openDifferences(t))
	require.Empty(t, f.run(t, f.today), "the malformed flow is stored: a run again changes nothing")
	require.Equal(t, map[string]int{"MALFORMED_FLOW": 1}, f.openDifferences(t))
}

func TestALineWithoutReceiptIsFlagged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.pay(t, "", 1000, true)
	iuv := f.pay(t, "", 1500, false)
	_, err := f.sim.PublishFlows(pagopasim.FlowFaults{Date: f.today})
	require.NoError(t, err)
	// GPD fails: the recovery cannot find the receipt... so the line is flagged once GPD says it has none.
	f.intake.Receipts = nil
	f.run(t, f.today)
	require.Equal(t, map[string]int{"MATCHED_FLOW": 1}, f.states(t))
	require.Equal(t, map[string]int{"NO_RECEIPT": 1}, f.openDifferences(t))
	var detail string
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT detail FROM reconciliation_differences`).Scan(&detail))
	require.Contains(t, detail, iuv)
}

func TestLatePaidOn(t *testing.T) {
	t.Parallel()
	d := func(s string) date.Date { v, err := date.Parse(s); require.NoError(t, err); return v }
	for _, c := range []struct{ today, want string }{
		{"2026-12-09", "2026-12-06"}, // Wednesday: paid Sunday, 3 business days on (Mon, Tue, Wed)
		{"2026-12-08", "2026-12-03"}, // Tuesday: paid Thursday (Fri, Mon, Tue)
		{"2026-12-29", "2026-12-23"}, // Tuesday: paid Wednesday (Thu 24, Mon 28, Tue 29; TARGET2 is closed on 25 December)
	} {
		require.Equal(t, d(c.want), reconciliation.LatePaidOn(d(c.today), 3), c.today)
	}
}
