package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/domain/date"
	"incasso/workflows"
)

func day(s string) date.Date {
	d, err := date.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// A range of days splits into the whole months it covers and the days at its ends.
func TestDaysSplitIntoMonths(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		r           days
		first, end  string
		edges       []days
		wholeMonths bool
	}{
		{days{}, "", "", nil, true},
		{days{day("2026-03-01"), day("2026-03-31")}, "2026-03-01", "2026-04-01", nil, true},
		{days{day("2026-03-15"), day("2026-06-10")}, "2026-04-01", "2026-06-01",
			[]days{{day("2026-03-15"), day("2026-03-31")}, {day("2026-06-01"), day("2026-06-10")}}, true},
		{days{day("2026-02-01"), day("2026-02-28")}, "2026-02-01", "2026-03-01", nil, true},
		{days{to: day("2026-08-03")}, "", "2026-08-01", []days{{day("2026-08-01"), day("2026-08-03")}}, true},
		{days{from: day("2026-12-31")}, "2027-01-01", "", []days{{day("2026-12-31"), day("2026-12-31")}}, true},
		{days{day("2026-03-02"), day("2026-03-30")}, "", "", nil, false},
		{days{day("2026-03-02"), day("2026-04-30")}, "2026-04-01", "2026-05-01", []days{{day("2026-03-02"), day("2026-03-31")}}, true},
	} {
		first, end, edges, ok := tt.r.months()
		require.Equal(t, tt.wholeMonths, ok, "%v", tt.r)
		if !ok {
			continue
		}
		require.Equal(t, tt.first, str(first), "%v", tt.r)
		require.Equal(t, tt.end, str(end), "%v", tt.r)
		require.Equal(t, tt.edges, edges, "%v", tt.r)
	}
}

func str(d date.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// The totals summed from debt_totals are those of the debts themselves, for every filter it can
// serve (whole months, partial months at either end, open ranges, overdue), after inserts,
// changes of status, amount and plan, receipts and deletes; and debt_totals is what grouping
// the debts from scratch gives.
func TestTotalsByMonthAreTheDebts(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 19))
	statuses := []string{"CREATED", "ISSUED", "OVERDUE", "PAID", "CANCELLED", "INSTALMENTS"}
	var ids []int64
	for i := range 240 {
		due := date.Of(day("2026-01-01").Time().AddDate(0, 0, r.IntN(365)))
		id := insert(t, pool, seed{fmt.Sprintf("T-%03d", i), []string{"TARI", "IMU"}[r.IntN(2)], "RSSMRA85T10A562S",
			statuses[r.IntN(len(statuses))], due.String(), int64(100 + r.IntN(100_000))})
		// Issued at some hour of the days before the due date: the month in Rome, not in UTC.
		_, err := pool.Exec(ctx, `UPDATE debt_positions SET issued_at = CASE WHEN status = 'CREATED' THEN NULL
			ELSE due_date - $2 * interval '1 hour' END, in_instalments = status = 'INSTALMENTS' WHERE id = $1`,
			id, 1+r.IntN(24*60))
		require.NoError(t, err)
		if r.IntN(4) == 0 {
			receipt(t, pool, id, fmt.Sprintf("R-%d", i), int64(50+r.IntN(50_000)), "")
		}
		ids = append(ids, id)
	}
	// Changes of several rows in one statement, and deletes.
	_, err := pool.Exec(ctx, `UPDATE debt_positions SET status = 'OVERDUE', amount_cents = amount_cents + 7
		WHERE id = ANY($1) AND status = 'ISSUED'`, ids[:80])
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `DELETE FROM debt_positions d WHERE id = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.debt_id = d.id)`, ids[200:])
	require.NoError(t, err)

	var differ int
	require.NoError(t, pool.QueryRow(ctx, `
		WITH fresh AS (SELECT t.ec_fiscal_code, t.service_code, t.status, t.in_instalments, t.due_month, t.issued_month,
		                      sum(t.debts) AS debts, sum(t.issued_cents) AS issued, sum(t.collected_cents) AS collected,
		                      sum(t.outstanding_cents) AS outstanding
		               FROM debt_positions p, debt_totals_of(p, 1) t GROUP BY 1, 2, 3, 4, 5, 6),
		     kept AS (SELECT ec_fiscal_code, service_code, status, in_instalments, due_month, issued_month,
		                     debts, issued_cents AS issued, collected_cents AS collected, outstanding_cents AS outstanding
		              FROM debt_totals WHERE debts <> 0 OR issued_cents <> 0 OR collected_cents <> 0 OR outstanding_cents <> 0)
		SELECT count(*) FROM ((TABLE fresh EXCEPT TABLE kept) UNION ALL (TABLE kept EXCEPT TABLE fresh)) x`).Scan(&differ))
	require.Zero(t, differ, "debt_totals is the debts grouped")

	s := Searcher{Pool: pool, ECFiscalCode: ec}
	tr, fa := true, false
	for _, f := range []Filter{
		{},
		{Service: "TARI"},
		{Statuses: []workflows.DebtStatus{"ISSUED", "OVERDUE"}},
		{InInstalments: &tr},
		{InInstalments: &fa, Service: "IMU"},
		{DueFrom: day("2026-03-01"), DueTo: day("2026-05-31")},
		{DueFrom: day("2026-03-17"), DueTo: day("2026-09-03")},
		{DueFrom: day("2026-06-10")},
		{DueTo: day("2026-06-10")},
		{IssuedFrom: day("2026-04-01"), IssuedTo: day("2026-04-30")},
		{IssuedFrom: day("2026-02-11"), IssuedTo: day("2026-10-20"), Service: "TARI"},
		{IssuedFrom: day("2026-07-31")},
		{OverdueSince: day("2026-08-04")},
		{OverdueSince: day("2026-08-01"), DueFrom: day("2026-02-14")},
		{OverdueSince: day("2026-11-30"), Statuses: []workflows.DebtStatus{"OVERDUE"}, DueTo: day("2026-10-15")},
		{DueFrom: day("2026-02-14"), DueTo: day("2026-11-02"), IssuedFrom: day("2026-01-20"), IssuedTo: day("2026-10-09")},
		{DueFrom: day("2026-03-05"), DueTo: day("2026-03-25")}, // no whole month: all from the debts
	} {
		dq := dbgen.New(pool)
		got, err := s.totalsOf(ctx, dq, f)
		require.NoError(t, err)
		want, err := totals(ctx, dq, s.totalsParams(f))
		require.NoError(t, err)
		require.Equal(t, want, got, "%+v", f)
		require.NotZero(t, want.Debts, "%+v: a filter that keeps nothing proves little", f)
	}
}
