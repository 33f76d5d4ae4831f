package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/api"
	"incasso/app"
	"incasso/app/config"
	"incasso/devstack/campaigncsv"
	"incasso/devstack/devdb"
	"incasso/services/access"
	"incasso/services/apiclients"
)

// benchSearch loads s.searchDebts positions by COPY into a fresh database (about 3 per
// debtor, 4 services, 20 campaigns, due dates over three years, a few flagged or in
// instalments), then measures through the real API over HTTP: the p95 of GET /v1/debts for
// each filter alone and for fiscal code + status (POST /v1/debts/search), of the debtor's
// file, the rows/s of both exports of every position with the growth of this process's RSS,
// and prints EXPLAIN (ANALYZE) of the slowest search's slowest statement.
func benchSearch(ctx context.Context, s settings, server devdb.Server, log *slog.Logger, t *table) error {
	t.section(fmt.Sprintf("Search, debtor's file and exports on %s positions (targets: p95 < 50 ms, export >= 200,000 rows/s with < 64 MB RSS growth)", thousands(int64(s.searchDebts))))
	cfg, drop, err := migratedDatabase(ctx, server, "incasso_bench_search")
	if err != nil {
		return err
	}
	defer drop()
	dbURL := cfg.DatabaseURL
	cfg.Limits.PerIP, cfg.Limits.PerClient = config.Rate{}, config.Rate{} // measured, not limited
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	tracer := &lastStatements{}
	pcfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	start := time.Now()
	debtors, err := copyPositions(ctx, pool, cfg.Creditor.FiscalCode, s.searchDebts)
	if err != nil {
		return fmt.Errorf("copy positions: %w", err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE debt_positions"); err != nil {
		return err
	}
	took := time.Since(start)
	t.row("COPY of the positions, then VACUUM ANALYZE", secs(took), perSec(s.searchDebts, took, "rows"), "")

	key := "bench-" + fmt.Sprint(time.Now().UnixNano())
	if err := app.EnsureAPIClient(ctx, &app.Deps{Config: cfg, Pool: pool, Log: log}, "bench", key, apiclients.Grant{Role: access.Finance}); err != nil {
		return err
	}
	srv := &api.Server{Pool: pool, Temporal: noTemporal{}, Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srvCtx, stopSrv := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- app.Serve(srvCtx, ln, srv.Handler()) }()
	defer func() { stopSrv(); <-served }()
	c := benchClient{base: "http://" + ln.Addr().String(), key: key}

	r := rand.New(rand.NewPCG(7, 19))
	day := func(from time.Time, span int) string { return from.AddDate(0, 0, r.IntN(span)).Format(time.DateOnly) }
	y2025 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	searches := []struct {
		name  string
		query func() url.Values // GET /v1/debts
		body  func() any        // POST /v1/debts/search
	}{
		{name: "debtor (fiscal code)", body: func() any { return map[string]any{"debtor": debtors[r.IntN(len(debtors))]} }},
		{name: "service", query: func() url.Values { return url.Values{"service": {[]string{"TARI", "IMU", "MENSA", "SALA"}[r.IntN(4)]}} }},
		{name: "status (two)", query: func() url.Values { return url.Values{"status": {"ISSUED,OVERDUE"}} }},
		{name: "campaign", query: func() url.Values { return url.Values{"campaign": {fmt.Sprint(1 + r.IntN(benchCampaigns))}} }},
		{name: "due date, a month", query: func() url.Values {
			from := day(y2025, 1000)
			return url.Values{"dueFrom": {from}, "dueTo": {mustDate(from).AddDate(0, 1, 0).Format(time.DateOnly)}}
		}},
		{name: "issue date, a month", query: func() url.Values {
			from := day(y2025, 900)
			return url.Values{"issuedFrom": {from}, "issuedTo": {mustDate(from).AddDate(0, 1, 0).Format(time.DateOnly)}}
		}},
		{name: "amount, 100-110 euro", query: func() url.Values { return url.Values{"amountMinCents": {"10000"}, "amountMaxCents": {"11000"}} }},
		{name: "overdue since", query: func() url.Values { return url.Values{"overdueSince": {day(y2025, 700)}} }},
		{name: "in instalments", query: func() url.Values { return url.Values{"inInstalments": {"true"}} }},
		{name: "has flagged receipts", query: func() url.Values { return url.Values{"hasFlaggedReceipts": {"true"}} }},
		{name: "iupd prefix", query: func() url.Values { return url.Values{"iupdPrefix": {fmt.Sprintf("B-%04d", r.IntN(10000))}} }},
		{name: "no filter, by amount descending", query: func() url.Values { return url.Values{"sort": {"-amount"}} }},
		{name: "fiscal code + status", body: func() any {
			return map[string]any{"debtor": debtors[r.IntN(len(debtors))], "status": []string{"ISSUED", "OVERDUE"}}
		}},
	}
	var slowest struct {
		name string
		p95  time.Duration
		sql  []statement
	}
	for _, sc := range searches {
		var times []time.Duration
		var stmts []statement
		var worst time.Duration
		for i := range s.searchRuns {
			var d time.Duration
			var err error
			if sc.body != nil {
				d, err = c.post(ctx, "/v1/debts/search", sc.body())
			} else {
				d, err = c.get(ctx, "/v1/debts?"+sc.query().Encode())
			}
			if err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			if i > 0 || s.searchRuns == 1 { // the first warms the connection
				times = append(times, d)
			}
			if ran := tracer.take(); d > worst {
				worst, stmts = d, ran
			}
		}
		p := p95(times)
		t.row("search: "+sc.name, ms(p), "p95", fmt.Sprintf("%s (median %s, %d runs)", verdict(p < 50*time.Millisecond), ms(median(times)), len(times)))
		if p > slowest.p95 {
			slowest.name, slowest.p95, slowest.sql = sc.name, p, stmts
		}
	}

	var times []time.Duration
	for range s.searchRuns {
		d, err := c.post(ctx, "/v1/debtors/file", map[string]string{"fiscalCode": debtors[r.IntN(len(debtors))]})
		if err != nil {
			return fmt.Errorf("debtor file: %w", err)
		}
		times = append(times, d)
	}
	p := p95(times)
	t.row("debtor's file (POST /v1/debtors/file)", ms(p), "p95", fmt.Sprintf("%s (median %s, %d runs)", verdict(p < 50*time.Millisecond), ms(median(times)), len(times)))

	for _, format := range []string{"csv", "jsonl"} {
		runtime.GC()
		before := vmKB("VmRSS")
		resetPeakRSS()
		start := time.Now()
		lines, err := c.export(ctx, "/v1/exports/debts."+format)
		took := time.Since(start)
		if err != nil {
			return fmt.Errorf("export %s: %w", format, err)
		}
		rows := lines
		if format == "csv" {
			rows-- // the header
		}
		if rows != int64(s.searchDebts) {
			return fmt.Errorf("export %s: %d rows of %d", format, rows, s.searchDebts)
		}
		growth := float64(vmKB("VmHWM")-before) / 1024
		rate := float64(rows) / took.Seconds()
		t.row("export "+format+" of every position", secs(took), perSec(int(rows), took, "rows"),
			fmt.Sprintf("%s; RSS growth %.1f MB (VmHWM - VmRSS before): %s", verdict(rate >= 200_000), growth, verdict(growth < 64)))
	}

	fmt.Printf("\n  EXPLAIN (ANALYZE, BUFFERS) of the slowest search, %s (p95 %s), its statements:\n", slowest.name, ms(slowest.p95))
	for _, st := range slowest.sql {
		plan, err := explain(ctx, pool, st)
		if err != nil {
			return err
		}
		fmt.Println(indent(plan, "    "))
	}
	return nil
}

// benchCampaigns is how many campaigns the positions are spread over.
const benchCampaigns = 20

// copyPositions COPYs n positions into debt_positions and returns the debtors' fiscal codes.
func copyPositions(ctx context.Context, pool *pgxpool.Pool, ec string, n int) ([]string, error) {
	r := rand.New(rand.NewPCG(uint64(n), 2026))
	debtors := make([]string, max(1, n/3))
	for i := range debtors {
		cf, err := campaigncsv.PersonCode(r)
		if err != nil {
			return nil, err
		}
		debtors[i] = cf
	}
	for i := 1; i <= benchCampaigns; i++ {
		if _, err := pool.Exec(ctx, `INSERT INTO campaigns (name, status, source_sha256) VALUES ($1, 'COMPLETED', decode(md5($1), 'hex'))`,
			fmt.Sprintf("bench %d", i)); err != nil {
			return nil, err
		}
	}
	services := []string{"TARI", "IMU", "MENSA", "SALA"}
	statuses := []string{"ISSUED", "ISSUED", "OVERDUE", "OVERDUE", "PAID", "PAID", "PAID", "CANCELLED", "INSTALMENTS", "CREATED"}
	names := []string{"Mario Rossi", "Giulia Bianchi", "Luca Esposito", "Anna Romano", "Marco Colombo", "Sara Ricci"}
	now := time.Now()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	cols := []string{"ec_fiscal_code", "iupd", "service_code", "debtor_type", "debtor_fiscal_code", "debtor_name",
		"debtor_email", "amount_cents", "due_date", "description", "nav", "status", "created_at", "updated_at",
		"paid_at", "cancel_reason", "cancelled_at", "campaign_id", "collected_cents", "flagged_receipts",
		"in_instalments", "issued_at"}
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		i++
		status := statuses[r.IntN(len(statuses))]
		amount := int64(1000 + r.IntN(200_000))
		issued := base.Add(time.Duration(r.IntN(900*24)) * time.Hour)
		due := issued.AddDate(0, 0, 30+r.IntN(90)).Truncate(24 * time.Hour)
		var paidAt, cancelledAt, issuedAt, campaign any
		var reason any
		collected := int64(0)
		switch status {
		case "PAID":
			paidAt, collected = due.Add(-time.Duration(r.IntN(500))*time.Hour), amount
		case "CANCELLED":
			cancelledAt, reason = issued.Add(48*time.Hour), "iscrizione duplicata"
		case "INSTALMENTS":
			collected = amount / int64(2+r.IntN(10))
		}
		if status != "CREATED" {
			issuedAt = issued
		}
		if r.IntN(2) == 0 {
			campaign = int64(1 + r.IntN(benchCampaigns))
		}
		flagged := 0
		if r.IntN(500) == 0 {
			flagged = 1
		}
		return []any{ec, fmt.Sprintf("B-%08d", i), services[r.IntN(len(services))], "F", debtors[i%len(debtors)],
			names[i%len(names)], fmt.Sprintf("debitore%d@example.it", i), amount, due, "Bench position",
			fmt.Sprintf("3%017d", i), status, issued, now.Add(-time.Duration(r.IntN(1_000_000)) * time.Second),
			paidAt, reason, cancelledAt, campaign, collected, flagged, status == "INSTALMENTS" || r.IntN(200) == 0, issuedAt}, nil
	})
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"debt_positions"}, cols, src)
	return debtors, err
}

type benchClient struct{ base, key string }

func (c benchClient) do(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	return http.DefaultClient.Do(req)
}

// timed sends a request, reads the whole answer and returns how long that took.
func (c benchClient) timed(ctx context.Context, method, path string, body io.Reader) (time.Duration, error) {
	start := time.Now()
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return took, err
}

func (c benchClient) get(ctx context.Context, path string) (time.Duration, error) {
	return c.timed(ctx, http.MethodGet, path, nil)
}

func (c benchClient) post(ctx context.Context, path string, v any) (time.Duration, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	return c.timed(ctx, http.MethodPost, path, bytes.NewReader(b))
}

// export reads a streamed export and returns its lines.
func (c benchClient) export(ctx context.Context, path string) (int64, error) {
	resp, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	var lines int64
	br := bufio.NewReaderSize(resp.Body, 1<<16)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			lines++
		}
		if err == io.EOF {
			return lines, nil
		}
		if err != nil && err != bufio.ErrBufferFull {
			return lines, err
		}
	}
}

// statement is an SQL statement the API ran, with its arguments.
type statement struct {
	sql  string
	args []any
}

// lastStatements is a pgx tracer that keeps the statements run since the last take, so the
// bench can EXPLAIN what the API really sent.
type lastStatements struct {
	mu    sync.Mutex
	stmts []statement
}

func (l *lastStatements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.stmts) < 64 {
		l.stmts = append(l.stmts, statement{sql: d.SQL, args: d.Args})
	}
	return ctx
}

func (l *lastStatements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// take returns the search statements run since the last call, and forgets every statement.
func (l *lastStatements) take() []statement {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []statement
	for _, s := range l.stmts {
		if strings.Contains(s.sql, "-- name: Search") {
			out = append(out, s)
		}
	}
	l.stmts = nil
	return out
}

// explain runs EXPLAIN (ANALYZE, BUFFERS) of st planned as the API plans it.
func explain(ctx context.Context, pool *pgxpool.Pool, st statement) (string, error) {
	var lines []string
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_custom_plan"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+st.sql, st.args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				return err
			}
			lines = append(lines, l)
		}
		return rows.Err()
	})
	name, _, _ := strings.Cut(strings.TrimPrefix(st.sql, "-- name: "), "\n")
	return name + "\n" + strings.Join(lines, "\n"), err
}

func p95(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)*95+99)/100-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mustDate(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
