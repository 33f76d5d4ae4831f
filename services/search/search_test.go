package search

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/domain/money"
	"incasso/services/fault"
	"incasso/workflows"
)

const ec = "00000000000"

// seed stores a debt with SQL and returns its id; status, amount and due date as given.
type seed struct {
	iupd, service, debtor, status, due string
	amount                             int64
}

func insert(t *testing.T, pool *pgxpool.Pool, s seed) int64 {
	t.Helper()
	var id int64
	cancel := ""
	if s.status == "CANCELLED" {
		cancel = ", cancel_reason = 'x', cancelled_at = now()"
	}
	err := pool.QueryRow(context.Background(), `
		INSERT INTO debt_positions (ec_fiscal_code, iupd, service_code, debtor_type, debtor_fiscal_code,
		    debtor_name, debtor_email, amount_cents, due_date, description, nav)
		VALUES ($1, $2, $3, 'F', $4, 'Nome', 'n@example.it', $5, $6, 'd',
		    '3' || lpad((SELECT count(*) + 1 FROM debt_positions)::text, 17, '0'))
		RETURNING id`, ec, s.iupd, s.service, s.debtor, s.amount, s.due).Scan(&id)
	require.NoError(t, err)
	_, err = pool.Exec(context.Background(), "UPDATE debt_positions SET status = $2"+cancel+" WHERE id = $1", id, s.status)
	require.NoError(t, err)
	return id
}

// receipt records a receipt of amount for the debt, OK or flagged, as the recorder would.
func receipt(t *testing.T, pool *pgxpool.Pool, debtID int64, id string, amount int64, flag string) {
	t.Helper()
	var f any
	if flag != "" {
		f = flag
	}
	_, err := pool.Exec(context.Background(), `
		INSERT INTO receipts (receipt_id, debt_id, nav, ec_fiscal_code, amount_cents, outcome, psp_id, psp_name,
		    channel_id, raw_xml, source, flag)
		SELECT $2, id, nav, ec_fiscal_code, $3, 'OK', 'P', 'P', 'C', '<x/>', 'PUSH', $4 FROM debt_positions WHERE id = $1`,
		debtID, id, amount, f)
	require.NoError(t, err)
}

var services = config.Services{{Code: "TARI"}, {Code: "IMU"}}

func query(t *testing.T, r Request) Query {
	t.Helper()
	q, errs := r.Validate(services)
	require.Empty(t, errs)
	return q
}

func iupds(p Page) []string {
	var s []string
	for _, d := range p.Debts {
		s = append(s, d.IUPD)
	}
	return s
}

func TestSearchFiltersAndTotals(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	a := insert(t, pool, seed{"TARI-1", "TARI", "RSSMRA85T10A562S", "ISSUED", "2026-03-31", 10000})
	b := insert(t, pool, seed{"TARI-2", "TARI", "VRDLGU70A01H501O", "OVERDUE", "2026-01-31", 20000})
	insert(t, pool, seed{"IMU-1", "IMU", "RSSMRA85T10A562S", "PAID", "2026-06-16", 30000})
	insert(t, pool, seed{"IMU_2", "IMU", "VRDLGU70A01H501O", "CANCELLED", "2026-06-16", 40000})
	receipt(t, pool, a, "R1", 4000, "UNDERPAID")
	receipt(t, pool, b, "R2", 500, "")
	_, err := pool.Exec(ctx, `UPDATE receipt_reconciliation SET status = 'DIFFERENCE', reason = 'AMOUNT_DIFFERS'
		WHERE receipt_id = (SELECT id FROM receipts WHERE receipt_id = 'R2')`)
	require.NoError(t, err)
	s := Searcher{Pool: pool, ECFiscalCode: ec}

	tr, fa := true, false
	min, max := int64(15000), int64(30000)
	for name, tc := range map[string]struct {
		req  Request
		want []string
	}{
		"all, by due date":     {Request{}, []string{"TARI-2", "TARI-1", "IMU-1", "IMU_2"}},
		"debtor":               {Request{Debtor: "rssmra85t10a562s"}, []string{"TARI-1", "IMU-1"}},
		"service":              {Request{Service: "IMU"}, []string{"IMU-1", "IMU_2"}},
		"statuses":             {Request{Status: []string{"issued", "OVERDUE"}}, []string{"TARI-2", "TARI-1"}},
		"due range":            {Request{DueFrom: "2026-02-01", DueTo: "2026-03-31"}, []string{"TARI-1"}},
		"amount range":         {Request{AmountMinCents: &min, AmountMaxCents: &max}, []string{"TARI-2", "IMU-1"}},
		"overdue since":        {Request{OverdueSince: "2026-03-01"}, []string{"TARI-2"}},
		"flagged":              {Request{HasFlaggedReceipts: &tr}, []string{"TARI-1"}},
		"not flagged":          {Request{HasFlaggedReceipts: &fa, Sort: "-amount"}, []string{"IMU_2", "IMU-1", "TARI-2"}},
		"in instalments":       {Request{InInstalments: &tr}, nil},
		"iupd prefix":          {Request{IUPDPrefix: "IMU_"}, []string{"IMU_2"}}, // _ is no wildcard
		"debtor and status":    {Request{Debtor: "VRDLGU70A01H501O", Status: []string{"OVERDUE"}}, []string{"TARI-2"}},
		"issued in a range":    {Request{IssuedFrom: "2026-01-01", IssuedTo: "2026-01-02"}, nil},
		"updated, latest last": {Request{Service: "TARI", Sort: "updated"}, []string{"TARI-1", "TARI-2"}},
		"receipt unmatched":    {Request{Reconciliation: "UNMATCHED"}, []string{"TARI-1"}},
		"receipt differs":      {Request{Reconciliation: "DIFFERENCE"}, []string{"TARI-2"}},
		"receipt reconciled":   {Request{Reconciliation: "RECONCILED"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := s.Search(ctx, query(t, tc.req))
			require.NoError(t, err)
			require.Equal(t, tc.want, iupds(p))
			require.EqualValues(t, len(tc.want), p.Totals.Debts)

			// The export (its own query, ExportDebts) lists the same debts in the same order.
			var buf bytes.Buffer
			_, err = s.Export(ctx, query(t, tc.req), NewJSONLines(&buf))
			require.NoError(t, err)
			var exported []string
			for line := range strings.Lines(buf.String()) {
				var d Debt
				require.NoError(t, json.Unmarshal([]byte(line), &d))
				exported = append(exported, d.IUPD)
			}
			require.Equal(t, tc.want, exported, "the export lists what the search does")
		})
	}

	p, err := s.Search(ctx, query(t, Request{}))
	require.NoError(t, err)
	// Collected comes from the receipts by trigger; outstanding counts the open debts only.
	require.Equal(t, Totals{Debts: 4, IssuedCents: 100000, CollectedCents: 4500, OutstandingCents: 6000 + 19500}, p.Totals)
	require.Equal(t, money.Cents(6000), p.Debts[1].OutstandingCents)
	require.Equal(t, 1, p.Debts[1].FlaggedReceipts)
}

func TestSearchPagesByCursor(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	for i := range 23 {
		insert(t, pool, seed{fmt.Sprintf("D-%02d", i), "TARI", "RSSMRA85T10A562S", "ISSUED",
			fmt.Sprintf("2026-01-%02d", 1+i%5), int64(100 + (i*37)%11)})
	}
	s := Searcher{Pool: pool, ECFiscalCode: ec}
	for _, sort := range Sorts {
		t.Run(sort, func(t *testing.T) {
			all, err := s.Search(ctx, query(t, Request{Sort: sort, Limit: 100}))
			require.NoError(t, err)
			require.Len(t, all.Debts, 23)
			require.Empty(t, all.Next)
			var paged []string
			req := Request{Sort: sort, Limit: 5}
			for pages := 0; ; pages++ {
				require.Less(t, pages, 5)
				p, err := s.Search(ctx, query(t, req))
				require.NoError(t, err)
				require.EqualValues(t, 23, p.Totals.Debts)
				paged = append(paged, iupds(p)...)
				if p.Next == "" {
					break
				}
				req.Cursor = p.Next
			}
			require.Equal(t, iupds(all), paged, "pages in the order of one search, each debt once")
		})
	}

	p, err := s.Search(ctx, query(t, Request{Limit: 5}))
	require.NoError(t, err)
	_, errs := Request{Sort: "amount", Cursor: p.Next}.Validate(services)
	require.Equal(t, []fault.FieldError{{Field: "cursor", Message: "belongs to a search with another sort"}}, errs)
}

func TestValidateNamesEveryParameter(t *testing.T) {
	neg := int64(-1)
	_, errs := Request{
		Debtor: "RSSMRA85T10A562X", Service: "TOSAP", Status: []string{"ISSUED", "LOST"}, Campaign: -2,
		DueFrom: "2026-02-30", IssuedFrom: "2026-03-01", IssuedTo: "2026-02-01", AmountMinCents: &neg,
		IUPDPrefix: "a b", Reconciliation: "OK", Sort: "debtor", Limit: 501, Cursor: "!!",
	}.Validate(services)
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
		require.NotContains(t, e.Message, "RSSMRA85T10A562X")
	}
	require.Equal(t, []string{"debtor", "service", "status[1]", "campaign", "dueFrom", "issuedTo",
		"amountMinCents", "iupdPrefix", "reconciliation", "sort", "limit", "cursor"}, fields)

	_, errs = FromQuery(url.Values{"limit": {"x"}, "inInstalments": {"yes"}, "servizio": {"TARI"}})
	fields = nil
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	require.ElementsMatch(t, []string{"limit", "inInstalments", "servizio"}, fields)

	r, errs := FromQuery(url.Values{"status": {"ISSUED,OVERDUE", "PAID"}, "amountMinCents": {"100"}, "flagged": {}})
	require.Len(t, errs, 1) // flagged is not a parameter: hasFlaggedReceipts is
	require.Equal(t, []string{"ISSUED", "OVERDUE", "PAID"}, r.Status)
	require.EqualValues(t, 100, *r.AmountMinCents)
}

func TestCollectedFollowsInstalments(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	id := insert(t, pool, seed{"RATE-1", "TARI", "RSSMRA85T10A562S", "INSTALMENTS", "2026-03-31", 30000})
	for _, stmt := range []string{
		`INSERT INTO sdd_mandates (debt_id, reference, debtor_name, iban, signed_on) VALUES ($1, 'UMR1', 'N', 'IT60X0542811101000000123456', '2026-01-01')`,
		`INSERT INTO instalment_plans (debt_id, mandate_id, instalments, request_sha256) VALUES ($1, currval('sdd_mandates_id_seq'), 3, '\x00')`,
		`INSERT INTO instalments (plan_id, seq, amount_cents, due_date, nav)
		 SELECT currval('instalment_plans_id_seq'), s, 10000, '2026-01-31'::date + s * 28, '3' || lpad((900 + s + $1)::text, 17, '0')
		 FROM generate_series(1, 3) s`,
	} {
		_, err := pool.Exec(ctx, stmt, id)
		require.NoError(t, err)
	}
	paid := func(seq int, status string) {
		_, err := pool.Exec(ctx, "UPDATE instalments SET status = $2 WHERE seq = $1", seq, status)
		require.NoError(t, err)
	}
	paid(1, "PAID")
	paid(2, "PAID")
	paid(2, "PAID") // again: counted once
	paid(3, "COLLECTED")
	s := Searcher{Pool: pool, ECFiscalCode: ec}
	tr := true
	p, err := s.Search(ctx, query(t, Request{InInstalments: &tr}))
	require.NoError(t, err)
	require.Equal(t, []string{"RATE-1"}, iupds(p))
	require.Equal(t, Totals{Debts: 1, IssuedCents: 30000, CollectedCents: 20000, OutstandingCents: 10000}, p.Totals)

	paid(2, "PLANNED") // returned by the bank: taken back
	p, err = s.Search(ctx, query(t, Request{InInstalments: &tr}))
	require.NoError(t, err)
	require.Equal(t, money.Cents(10000), p.Totals.CollectedCents)
}

func TestExports(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	id := insert(t, pool, seed{"-1", "TARI", "RSSMRA85T10A562S", "ISSUED", "2026-03-31", 123456})
	_, err := pool.Exec(ctx, "UPDATE debt_positions SET debtor_name = '=HYPERLINK(\"http://x\")' WHERE id = $1", id)
	require.NoError(t, err)
	for i := range exportBatch + 3 { // more than a batch
		insert(t, pool, seed{fmt.Sprintf("E-%05d", i), "IMU", "VRDLGU70A01H501O", "PAID", "2026-06-16", 100})
	}
	s := Searcher{Pool: pool, ECFiscalCode: ec}

	var buf bytes.Buffer
	n, err := s.Export(ctx, query(t, Request{Sort: "-amount", Limit: 1}), NewCSV(&buf))
	require.NoError(t, err)
	require.EqualValues(t, exportBatch+4, n)
	require.True(t, bytes.HasPrefix(buf.Bytes(), []byte("\uFEFFiupd;servizio;")))
	r := csv.NewReader(bytes.NewReader(buf.Bytes()[3:]))
	r.Comma = ';'
	records, err := r.ReadAll()
	require.NoError(t, err)
	require.Len(t, records, exportBatch+5)
	require.Equal(t, []string{"'-1", "TARI", "ISSUED"}, records[1][:3])
	require.Equal(t, `'=HYPERLINK("http://x")`, records[1][6])
	require.Equal(t, []string{"1234,56", "0,00", "1234,56", "31/03/2026"}, records[1][7:11])
	require.Contains(t, buf.String(), "\r\n")
	seen := map[string]bool{}
	for _, rec := range records[1:] {
		require.False(t, seen[rec[0]], "each debt once")
		seen[rec[0]] = true
	}

	buf.Reset()
	n, err = s.Export(ctx, query(t, Request{Service: "TARI"}), NewJSONLines(&buf))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 1)
	var d Debt
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &d))
	require.Equal(t, money.Cents(123456), d.OutstandingCents)
	require.Equal(t, workflows.StatusIssued, d.Status)
}

// A page sorted from the filters' indexes (SortMatches, when the walk of the sort's index
// runs out of its budget) is the page the walk gives, in every order, ties included.
func TestSortedMatchesAreTheWalksPage(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	for i := range 30 {
		insert(t, pool, seed{fmt.Sprintf("S-%02d", i), []string{"TARI", "IMU"}[i%2], "RSSMRA85T10A562S", "ISSUED",
			fmt.Sprintf("2026-0%d-1%d", 1+i%3, i%5), int64(1000 * (1 + i%4))})
	}
	q := dbgen.New(pool)
	s := Searcher{Pool: pool, ECFiscalCode: ec}
	for _, sort := range Sorts {
		query := query(t, Request{Sort: sort})
		p := s.pageParams(query, nil, 7)
		walked, err := q.SearchDebts(ctx, p)
		require.NoError(t, err)
		p.SortMatches = true
		sorted, err := q.SearchDebts(ctx, p)
		require.NoError(t, err)
		require.Equal(t, walked, sorted, sort)
		last := debtOf(walked[len(walked)-1])
		after := cursorAfter(sort, last)
		p = s.pageParams(query, &after, 7)
		walked, err = q.SearchDebts(ctx, p)
		require.NoError(t, err)
		p.SortMatches = true
		sorted, err = q.SearchDebts(ctx, p)
		require.NoError(t, err)
		require.Equal(t, walked, sorted, sort+", second page")
		require.NotEqual(t, last.IUPD, walked[0].Iupd)
	}
}
