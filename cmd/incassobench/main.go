// Command incassobench measures the two rates a campaign depends on and prints them as a
// small table (make bench; not part of make test):
//
//   - import: a generated campaign CSV (100,000 valid rows) loaded by psql \copy into a bare
//     table, then POSTed to the real API (api.Server on a fresh database; the import needs no
//     Temporal), with the rows/s of both, their ratio and the importing process's peak memory;
//   - launch: on a Temporal dev server (bin/temporal), the rate of trivial one-activity
//     workflows started as fast as possible, then a campaign launched through the whole stack
//     (devstack.Start with the pagoPA simulator and the mail sink): debts started/s and notices
//     issued/s (status ISSUED in the database), against the bare rate.
//
// Environment: DATABASE_URL (else the local server or the private cluster, as the tests),
// INCASSO_TEMPORAL_BIN (bin/temporal), BENCH_IMPORT_ROWS (100000), BENCH_IMPORT_RUNS (5: the
// median is shown), BENCH_CPUPROFILE (a file: CPU profile of the API imports),
// BENCH_BARE_WORKFLOWS (2000),
// BENCH_LAUNCH_DEBTS (10000), BENCH_LAUNCH_RATE (1000), BENCH_LAUNCH_TIMEOUT (10m: past it the
// launch figures are what was reached by then), BENCH_SDD_TRANSACTIONS (100000),
// BENCH_PLAN_DAY (40ms), BENCH_PLAN_TIMEOUT (10m), BENCH_SEARCH_DEBTS (1000000),
// BENCH_SEARCH_RUNS (100), BENCH_FDR_PAYMENTS (100000), BENCH_ONLY (e.g. "sdd,plan"; all by
// default).
//
// Two more measures, for SEPA Direct Debit:
//   - sdd: the time and peak memory to write a pain.008 of BENCH_SDD_TRANSACTIONS transactions;
//   - plan: a 36-instalment plan run through the whole stack with 10% of the collections
//     rejected AM04, on a compressed calendar: the events of each run of its workflow and the
//     Temporal actions it cost, counted from the recorded histories.
//
// And one for the one database of positions (search.go): search, debtor's file and exports on
// BENCH_SEARCH_DEBTS positions loaded by COPY; and one for reconciliation (fdr.go): a
// reporting flow of BENCH_FDR_PAYMENTS payments read by pages and matched to its receipts.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"incasso/api"
	"incasso/app"
	"incasso/app/config"
	"incasso/db"
	"incasso/devstack"
	"incasso/devstack/campaigncsv"
	"incasso/devstack/devdb"
	"incasso/devstack/temporaldev"
	"incasso/services/access"
	"incasso/services/apiclients"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "incassobench:", err)
		stop()
		os.Exit(1)
	}
}

// logLevel is raised to silence the stack once measured: stopping it fails the activities
// still running, which is no news.
var logLevel slog.LevelVar

type settings struct {
	importRows    int
	importRuns    int
	bareWorkflows int
	launchDebts   int
	launchRate    int
	launchTimeout time.Duration
	temporalBin   string
	dataDir       string
	sddTxs        int           // transactions in the pain.008 written
	planDay       time.Duration // a day of the plan's compressed calendar
	planTimeout   time.Duration
	searchDebts   int    // positions loaded for the search bench
	searchRuns    int    // requests per measure of the search bench
	fdrPayments   int    // payments of the reporting flow matched
	only          string // the benches to run, comma-separated: sdd, plan, import, launch, search, fdr
}

// runs tells whether the bench named is to run.
func (s settings) runs(name string) bool {
	return s.only == "" || slices.Contains(strings.Split(s.only, ","), name)
}

func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s must be a positive whole number", name)
	}
	return n, nil
}

func loadSettings() (settings, error) {
	var s settings
	var err error
	if s.importRows, err = envInt("BENCH_IMPORT_ROWS", 100_000); err != nil {
		return s, err
	}
	if s.importRuns, err = envInt("BENCH_IMPORT_RUNS", 5); err != nil {
		return s, err
	}
	if s.bareWorkflows, err = envInt("BENCH_BARE_WORKFLOWS", 2000); err != nil {
		return s, err
	}
	if s.launchDebts, err = envInt("BENCH_LAUNCH_DEBTS", 10_000); err != nil {
		return s, err
	}
	if s.launchRate, err = envInt("BENCH_LAUNCH_RATE", 1000); err != nil {
		return s, err
	}
	s.launchTimeout = 10 * time.Minute
	if v := os.Getenv("BENCH_LAUNCH_TIMEOUT"); v != "" {
		if s.launchTimeout, err = time.ParseDuration(v); err != nil {
			return s, fmt.Errorf("BENCH_LAUNCH_TIMEOUT: %w", err)
		}
	}
	if s.sddTxs, err = envInt("BENCH_SDD_TRANSACTIONS", 100_000); err != nil {
		return s, err
	}
	if s.searchDebts, err = envInt("BENCH_SEARCH_DEBTS", 1_000_000); err != nil {
		return s, err
	}
	if s.searchRuns, err = envInt("BENCH_SEARCH_RUNS", 100); err != nil {
		return s, err
	}
	if s.fdrPayments, err = envInt("BENCH_FDR_PAYMENTS", 100_000); err != nil {
		return s, err
	}
	s.planDay, s.planTimeout = 40*time.Millisecond, 10*time.Minute
	for name, d := range map[string]*time.Duration{"BENCH_PLAN_DAY": &s.planDay, "BENCH_PLAN_TIMEOUT": &s.planTimeout} {
		if v := os.Getenv(name); v != "" {
			if *d, err = time.ParseDuration(v); err != nil || *d <= 0 {
				return s, fmt.Errorf("%s: want a duration such as 40ms", name)
			}
		}
	}
	s.only = os.Getenv("BENCH_ONLY")
	s.temporalBin = os.Getenv("INCASSO_TEMPORAL_BIN")
	if s.temporalBin == "" {
		s.temporalBin = filepath.Join("bin", "temporal")
	}
	s.dataDir = os.Getenv("INCASSO_DATA_DIR")
	if s.dataDir == "" {
		s.dataDir = ".data"
	}
	return s, nil
}

func run(ctx context.Context) error {
	s, err := loadSettings()
	if err != nil {
		return err
	}
	if _, err := exec.LookPath(s.temporalBin); err != nil {
		return fmt.Errorf("the Temporal CLI is not at %s: run `make tools`", s.temporalBin)
	}
	if _, err := exec.LookPath("psql"); err != nil && s.runs("import") {
		return errors.New("psql is not installed: the import is compared with psql's \\copy")
	}
	// The stack logs warnings and errors only, to stderr; the table goes to stdout.
	logLevel.Set(slog.LevelWarn)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: &logLevel}))
	if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		return err
	}
	server, err := devdb.Find(ctx, s.dataDir, log) // a private cluster is left running, as by the tests
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "incassobench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Printf("incasso bench: %d CPUs, %s, %s\n\n", runtime.NumCPU(), runtime.Version(), time.Now().Format("2006-01-02 15:04"))
	t := &table{}
	benches := []struct {
		name string
		run  func() error
	}{
		{"sdd", func() error { t.section("SDD collection file"); return benchPain008(os.Stdout, s.sddTxs) }},
		{"plan", func() error { return benchPlan(ctx, s, server, log, t) }},
		{"import", func() error { return benchImport(ctx, s, server, tmp, log, t) }},
		{"launch", func() error { return benchLaunch(ctx, s, server, tmp, log, t) }},
		{"search", func() error { return benchSearch(ctx, s, server, log, t) }},
		{"fdr", func() error { return benchFdR(ctx, s, server, t) }},
	}
	for _, b := range benches {
		if !s.runs(b.name) {
			continue
		}
		if err := b.run(); err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		fmt.Println()
	}
	return nil
}

// migratedDatabase is a fresh, migrated database named dbName and the configuration of the
// environment pointed at it; drop removes it.
func migratedDatabase(ctx context.Context, server devdb.Server, dbName string) (config.Config, func(), error) {
	dbURL, drop, err := devdb.FreshDatabase(ctx, server, dbName)
	if err != nil {
		return config.Config{}, nil, err
	}
	cfg, err := config.FromEnv()
	if err == nil {
		err = db.Migrate(ctx, dbURL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	if err != nil {
		drop()
		return config.Config{}, nil, err
	}
	cfg.DatabaseURL = dbURL
	return cfg, drop, nil
}

// startStack runs incasso (devstack.Start) on a fresh database named dbName against the
// Temporal server at temporalAddr, with an API key; configure changes the stack's options.
func startStack(ctx context.Context, server devdb.Server, temporalAddr, dbName string, log *slog.Logger, configure func(*config.Config, *devstack.Addrs)) (*devstack.Stack, string, func(), error) {
	dbURL, drop, err := devdb.FreshDatabase(ctx, server, dbName)
	if err != nil {
		return nil, "", nil, err
	}
	cfg, err := config.FromEnv()
	if err != nil {
		drop()
		return nil, "", nil, err
	}
	if err := devstack.Configure(&cfg); err != nil {
		drop()
		return nil, "", nil, err
	}
	cfg.DatabaseURL = dbURL
	cfg.TemporalAddress = temporalAddr
	cfg.TaskQueue = "incasso-bench"
	addrs := devstack.Addrs{API: "127.0.0.1:0", PagoPASim: "127.0.0.1:0", SMTP: "127.0.0.1:0", PECSMTP: "127.0.0.1:0", MailUI: "127.0.0.1:0"}
	if configure != nil {
		configure(&cfg, &addrs)
	}
	stackCtx, stopStack := context.WithCancel(ctx)
	d, err := app.Connect(stackCtx, cfg, log)
	if err != nil {
		stopStack()
		drop()
		return nil, "", nil, err
	}
	fail := func(err error) (*devstack.Stack, string, func(), error) {
		stopStack()
		d.Close()
		drop()
		return nil, "", nil, err
	}
	if err := app.RegisterSearchAttributes(ctx, d.Temporal, cfg.TemporalNamespace); err != nil {
		return fail(err)
	}
	stack, err := devstack.Start(stackCtx, d, addrs, "", log)
	if err != nil {
		return fail(err)
	}
	stop := func() {
		logLevel.Set(slog.LevelError + 1)
		stopStack()
		if err := stack.Wait(); err != nil {
			log.Warn("the stack stopped", "err", err)
		}
		logLevel.Set(slog.LevelWarn)
		d.Close()
		drop()
	}
	key := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	if err := app.EnsureAPIClient(ctx, d, "bench", key, apiclients.Grant{Role: access.Finance}); err != nil {
		stop()
		return nil, "", nil, err
	}
	return stack, key, stop, nil
}

// table prints aligned lines as they are measured.
type table struct{}

func (table) section(title string) { fmt.Println(title) }

func (table) row(what, took, rate, note string) {
	fmt.Printf("  %-46s %10s %22s   %s\n", what, took, rate, note)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func perSec(n int, d time.Duration, unit string) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%s %s/s", thousands(int64(float64(n)/d.Seconds())), unit)
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// --- import -------------------------------------------------------------------------------

func benchImport(ctx context.Context, s settings, server devdb.Server, tmp string, log *slog.Logger, t *table) error {
	path := filepath.Join(tmp, "campaign-import.csv")
	size, err := campaigncsv.Write(path, "BENCH", s.importRows)
	if err != nil {
		return fmt.Errorf("write the CSV: %w", err)
	}
	t.section(fmt.Sprintf("Import: %s rows, %.1f MB of CSV", thousands(int64(s.importRows)), float64(size)/1e6))

	cfg, drop, err := migratedDatabase(ctx, server, "incasso_bench")
	if err != nil {
		return err
	}
	defer drop()
	dbURL := cfg.DatabaseURL
	pool, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	// (a) psql \copy into a bare table of text columns.
	cols := strings.Split(campaigncsv.Header, ";")
	if _, err := pool.Exec(ctx, "CREATE TABLE bench_copy ("+strings.Join(cols, " text, ")+" text)"); err != nil {
		return err
	}
	copyCmd := fmt.Sprintf(`\copy bench_copy FROM '%s' WITH (FORMAT csv, HEADER true, DELIMITER ';')`, path)
	var copyTimes []time.Duration
	for range s.importRuns {
		if _, err := pool.Exec(ctx, "TRUNCATE bench_copy"); err != nil {
			return err
		}
		start := time.Now()
		out, err := exec.CommandContext(ctx, "psql", dbURL, "-v", "ON_ERROR_STOP=1", "-qc", copyCmd).CombinedOutput()
		copyTimes = append(copyTimes, time.Since(start))
		if err != nil {
			return fmt.Errorf("psql \\copy: %v: %s", err, out)
		}
	}
	var copied int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM bench_copy").Scan(&copied); err != nil || copied != s.importRows {
		return fmt.Errorf("psql \\copy loaded %d rows of %d (%v)", copied, s.importRows, err)
	}
	copyTook := median(copyTimes)
	of := fmt.Sprintf("median of %d runs", s.importRuns)
	t.row("psql \\copy into a bare table (text columns)", secs(copyTook), perSec(s.importRows, copyTook, "rows"), of)

	// (b) POST /v1/campaigns to the API, served by this process.
	key := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 10)
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

	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" { // where the API import spends its time
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var apiTimes []time.Duration
	var hwm, before int64
	var heap uint64
	for i := range s.importRuns {
		if i > 0 { // the same iupds again: the previous campaign goes
			if _, err := pool.Exec(ctx, "DELETE FROM campaign_rows; DELETE FROM campaigns"); err != nil {
				return err
			}
		}
		runtime.GC()
		if i == 0 {
			before = vmKB("VmRSS")
		}
		resetPeakRSS()
		peakHeap := sampleHeap()
		start := time.Now()
		res, err := postCampaign(ctx, "http://"+ln.Addr().String(), key, path, "bench import")
		apiTimes = append(apiTimes, time.Since(start))
		heap = max(heap, peakHeap())
		hwm = max(hwm, vmKB("VmHWM"))
		if err != nil {
			return err
		}
		if res.rows != s.importRows {
			return fmt.Errorf("the API imported %d rows of %d", res.rows, s.importRows)
		}
	}
	apiTook := median(apiTimes)
	t.row("POST /v1/campaigns (API, in this process)", secs(apiTook), perSec(s.importRows, apiTook, "rows"), of)
	ratio := copyTook.Seconds() / apiTook.Seconds()
	t.row("ratio API / \\copy", fmt.Sprintf("%.2f", ratio), "", "target >= 0.33  "+verdict(ratio >= 1.0/3))
	mem := fmt.Sprintf("%d MB", hwm/1024)
	t.row("peak memory of the importing process (VmHWM)", "", mem,
		fmt.Sprintf("target < 200 MB  %s  (RSS before %d MB, Go heap peak %d MB)", verdict(hwm < 200*1024), before/1024, heap>>20))
	return nil
}

// median is the middle of the durations (the upper middle of an even count).
func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

type importResult struct {
	campaignID int64
	rows       int
}

// postCampaign sends the CSV file as the body of POST /v1/campaigns, streamed from disk.
func postCampaign(ctx context.Context, baseURL, key, path, name string) (importResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return importResult{}, err
	}
	defer f.Close()
	q := url.Values{"name": {name}, "filename": {filepath.Base(path)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/campaigns?"+q.Encode(), f)
	if err != nil {
		return importResult{}, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return importResult{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return importResult{}, fmt.Errorf("POST /v1/campaigns: %s: %.1000s", resp.Status, body)
	}
	var out struct {
		CampaignID int64 `json:"campaignId"`
		ValidRows  int   `json:"validRows"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return importResult{}, fmt.Errorf("POST /v1/campaigns: %w: %.500s", err, body)
	}
	return importResult{campaignID: out.CampaignID, rows: out.ValidRows}, nil
}

// vmKB reads a field of /proc/self/status, in kB (0 when unavailable).
func vmKB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM to the current RSS (Linux: clear_refs 5), so that VmHWM read
// after the import is the import's peak.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// sampleHeap samples the Go heap in use every 20 ms until the returned function is called,
// which returns the peak in bytes.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// noTemporal stands in for Temporal in the import benchmark: importing starts no workflow.
type noTemporal struct{}

var errNoTemporal = errors.New("no Temporal in the import benchmark")

func (noTemporal) ExecuteWorkflow(context.Context, client.StartWorkflowOptions, any, ...any) (client.WorkflowRun, error) {
	return nil, errNoTemporal
}

func (noTemporal) SignalWorkflow(context.Context, string, string, string, any) error {
	return errNoTemporal
}

func (noTemporal) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, errNoTemporal
}

func (noTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return nil, errNoTemporal
}

// --- launch -------------------------------------------------------------------------------

func benchLaunch(ctx context.Context, s settings, server devdb.Server, tmp string, log *slog.Logger, t *table) error {
	t.section("Launch, on a Temporal dev server")
	tlogger := tlog.NewStructuredLogger(log.With("component", "temporal"))
	temporal, err := temporaldev.Start(ctx, temporaldev.Options{Bin: s.temporalBin})
	if err != nil {
		return fmt.Errorf("start the Temporal dev server: %w", err)
	}
	defer func() { _ = temporal.Stop() }()
	tc, err := client.DialContext(ctx, client.Options{HostPort: temporal.Addr(), Logger: tlogger})
	if err != nil {
		return err
	}
	defer tc.Close()

	bareRate, err := benchBare(ctx, tc, s.bareWorkflows, tlogger, t)
	if err != nil {
		return fmt.Errorf("bare workflows: %w", err)
	}
	return benchCampaign(ctx, s, server, temporal.Addr(), tmp, log, bareRate, t)
}

const (
	bareWorkflowName = "BenchOneActivity"
	bareActivityName = "BenchNothing"
	bareTaskQueue    = "bench-bare"
)

// bareDone counts the bare workflows that reached their end (outside replay): waiting for
// each run's result instead would put 2,000 long polls on the server being measured.
var bareDone atomic.Int64

func bareWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	if err := workflow.ExecuteActivity(ctx, bareActivityName).Get(ctx, nil); err != nil {
		return err
	}
	if !workflow.IsReplaying(ctx) {
		bareDone.Add(1)
	}
	return nil
}

func bareActivity(context.Context) error { return nil }

// benchBare starts n one-activity workflows as fast as it can, with a worker of the default
// options (as incasso's), and returns the completions per second.
func benchBare(ctx context.Context, c client.Client, n int, logger tlog.Logger, t *table) (float64, error) {
	w := worker.New(c, bareTaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: bareWorkflowName})
	w.RegisterActivityWithOptions(bareActivity, activity.RegisterOptions{Name: bareActivityName})
	if err := w.Start(); err != nil {
		return 0, err
	}
	defer w.Stop()

	ids := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	var lastStart time.Time
	prefix := fmt.Sprintf("bench-bare-%d-", time.Now().UnixNano())
	bareDone.Store(0)
	start := time.Now()
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: prefix + strconv.Itoa(i), TaskQueue: bareTaskQueue}, bareWorkflowName)
				mu.Lock()
				lastStart = time.Now()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		ids <- i
	}
	close(ids)
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	for bareDone.Load() < int64(n) {
		if time.Since(start) > 5*time.Minute {
			return 0, fmt.Errorf("only %d of %d workflows completed in 5 minutes", bareDone.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	lastDone := time.Now()
	started, took := lastStart.Sub(start), lastDone.Sub(start)
	t.row(fmt.Sprintf("bare: %s one-activity workflows, started", thousands(int64(n))), secs(started), perSec(n, started, "starts"), "")
	t.row("bare: ... and completed", secs(took), perSec(n, took, "wf"), "the reference rate")
	return float64(n) / took.Seconds(), nil
}

// benchCampaign imports a campaign through the whole stack, launches it and follows the
// debts started and the notices issued in the database.
func benchCampaign(ctx context.Context, s settings, server devdb.Server, temporalAddr, tmp string, log *slog.Logger, bareRate float64, t *table) error {
	path := filepath.Join(tmp, "campaign-launch.csv")
	if _, err := campaigncsv.Write(path, "LAUNCH", s.launchDebts); err != nil {
		return err
	}
	stack, key, stop, err := startStack(ctx, server, temporalAddr, "incasso_bench", log, nil)
	if err != nil {
		return err
	}
	defer stop()
	d := stack.Deps
	res, err := postCampaign(ctx, stack.APIURL, key, path, "bench launch")
	if err != nil {
		return err
	}
	n := res.rows

	body := strings.NewReader(fmt.Sprintf(`{"rate":%d}`, s.launchRate))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/v1/campaigns/%d/launch", stack.APIURL, res.campaignID), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	launched := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("launch: %s: %.500s", resp.Status, msg)
	}

	// Follow the database: rows made debts, and debts whose notice is issued.
	var startedAt, issuedAt time.Duration
	var started, issued int
	deadline := launched.Add(s.launchTimeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastReport := launched
	for issuedAt == 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		err := d.Pool.QueryRow(ctx, `SELECT
			(SELECT count(debt_id) FROM campaign_rows WHERE campaign_id = $1),
			(SELECT count(*) FROM debt_positions WHERE campaign_id = $1 AND status <> 'CREATED')`,
			res.campaignID).Scan(&started, &issued)
		if err != nil {
			return err
		}
		now := time.Since(launched)
		if startedAt == 0 && started >= n {
			startedAt = now
		}
		if issued >= n {
			issuedAt = now
		}
		if time.Since(lastReport) >= 10*time.Second {
			lastReport = time.Now()
			fmt.Fprintf(os.Stderr, "  ... %3.0f s: %d debts started, %d notices issued\n", now.Seconds(), started, issued)
		}
	}
	elapsed := time.Since(launched)
	label := fmt.Sprintf("campaign of %s debts at %d/s:", thousands(int64(n)), s.launchRate)
	t.row(label, "", "", "")
	report := func(what string, count int, at time.Duration, unit, goal string) {
		took, note := at, ""
		if at == 0 {
			took = elapsed
			note = fmt.Sprintf("only %d of %d after %s; ", count, n, s.launchTimeout)
		}
		rate := float64(count) / took.Seconds()
		ratio := rate / bareRate
		note += fmt.Sprintf("%.0f%% of the bare rate", 100*ratio)
		if goal != "" {
			note += "  " + goal + "  " + verdict(ratio >= 0.6)
		}
		t.row("  "+what, secs(took), perSec(count, took, unit), note)
	}
	report("debts started (row has its debt)", started, startedAt, "debts", "")
	report("notices issued (status ISSUED)", issued, issuedAt, "notices", "goal >= 60%")
	if startedAt == 0 || issuedAt == 0 {
		t.row("", "", "", fmt.Sprintf("%d debts is too many for %s on this machine: set BENCH_LAUNCH_DEBTS lower or BENCH_LAUNCH_TIMEOUT higher", n, s.launchTimeout))
	}
	return nil
}
