package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/clients/fdr"
	"incasso/devstack/devdb"
	"incasso/devstack/pagopasim"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/pagopa"
	"incasso/services/reconciliation"
)

// benchFdR pays s.fdrPayments notices in the pagoPA simulator (in this process), loads their
// receipts by COPY into a fresh database, publishes the day's flow (one PSP: one flow of every
// payment) and measures the intake of that flow: its pages read over HTTP, streamed into one
// COPY and matched in SQL, with the Go heap's peak and the process's RSS growth meanwhile.
func benchFdR(ctx context.Context, s settings, server devdb.Server, t *table) error {
	t.section(fmt.Sprintf("Reconciliation: a reporting flow of %s payments (target: matched in < 10 s, memory flat)", thousands(int64(s.fdrPayments))))
	cfg, drop, err := migratedDatabase(ctx, server, "incasso_bench_fdr")
	if err != nil {
		return err
	}
	defer drop()
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	org := cfg.Creditor.FiscalCode
	sim := pagopasim.NewPagoPA(cfg.GPDKey, "http://127.0.0.1:1/unused", "node-key", org, org+"_01")
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	start := time.Now()
	rows := make([][]any, 0, s.fdrPayments)
	for i := range s.fdrPayments {
		nav, err := pagopa.NewNAV(cfg.Creditor.Segregation, int64(1_000_000+i))
		if err != nil {
			return err
		}
		cents := money.Cents(1000 + i%50_000)
		res, err := sim.Pay(ctx, pagopasim.Payment{NAV: nav.String(), Organization: org, Amount: cents, Undelivered: true})
		if err != nil {
			return fmt.Errorf("pay: %w", err)
		}
		transfers := fmt.Sprintf(`[{"idTransfer":"1","amountCents":%d,"fiscalCodePA":%q}]`, cents, org)
		rows = append(rows, []any{res.ReceiptID, nav.String(), org, int64(cents), "OK", "BCITITMM", "PSP", "BCITITMM_01", transfers, "UNKNOWN_NOTICE", ""})
	}
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"receipts"},
		[]string{"receipt_id", "nav", "ec_fiscal_code", "amount_cents", "outcome", "psp_id", "psp_name", "channel_id", "transfers", "flag", "raw_xml"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("copy receipts: %w", err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE receipts; ANALYZE receipt_reconciliation"); err != nil {
		return err
	}
	rows = nil
	today := date.InRome(time.Now())
	published, err := sim.PublishFlows(pagopasim.FlowFaults{Date: today})
	if err != nil || len(published) != 1 {
		return fmt.Errorf("publish the flow: %d flows, %v", len(published), err)
	}
	t.row("receipts paid and loaded by COPY, flow published", secs(time.Since(start)), "", "")

	in := &reconciliation.Intake{Pool: pool, FdR: fdr.New(srv.URL+pagopasim.FdRBasePath, cfg.GPDKey, time.Minute), Organization: org}
	refs, err := in.Pending(ctx, today.Time().AddDate(0, 0, -1))
	if err != nil || len(refs) != 1 {
		return fmt.Errorf("list the flow: %d flows, %v", len(refs), err)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rssBefore := vmKB("VmRSS")
	resetPeakRSS()
	peakHeap := sampleHeap()
	cpuBefore, dbBefore := processCPU(), backendsCPU(ctx, pool)
	start = time.Now()
	out, err := in.Store(ctx, refs[0], today)
	took := time.Since(start)
	cpu, dbCPU := processCPU()-cpuBefore, backendsCPU(ctx, pool)-dbBefore
	heap := peakHeap()
	growth := float64(vmKB("VmHWM")-rssBefore) / 1024
	if err != nil {
		return err
	}
	if out.Malformed != "" || out.Lines["MATCHED"] != int64(s.fdrPayments) {
		return fmt.Errorf("the flow matched %v (malformed: %q), want %d MATCHED", out.Lines, out.Malformed, s.fdrPayments)
	}
	t.row(fmt.Sprintf("intake of the flow (%d pages over HTTP, COPY, match)", (s.fdrPayments+fdr.MaxPageSize-1)/fdr.MaxPageSize), secs(took), perSec(s.fdrPayments, took, "lines"),
		fmt.Sprintf("target < 10 s  %s", verdict(took < 10*time.Second)))
	load, _ := os.ReadFile("/proc/loadavg")
	t.row("CPU meanwhile", secs(cpu+dbCPU), "", fmt.Sprintf("this process %s (the simulator's included), PostgreSQL backends %s; load average %s",
		secs(cpu), secs(dbCPU), strings.Join(strings.Fields(string(load))[:3], " ")))
	t.row("memory meanwhile", "", fmt.Sprintf("heap peak %d MB", heap>>20),
		fmt.Sprintf("Go heap in use before %d MB; RSS growth %.1f MB (VmHWM - VmRSS before, the simulator's pages included)", before.HeapInuse>>20, growth))
	var matched int64
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM receipt_reconciliation WHERE status = 'MATCHED_FLOW'").Scan(&matched); err != nil {
		return err
	}
	if matched != int64(s.fdrPayments) {
		return fmt.Errorf("%d receipts MATCHED_FLOW of %d", matched, s.fdrPayments)
	}
	t.row("receipts MATCHED_FLOW", "", thousands(matched), "")
	return nil
}

// processCPU is the CPU time this process used so far (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendsCPU is the CPU time used so far by the PostgreSQL backends connected to pool's
// database, read from /proc (a server on this machine): the work of the SQL, apart from the
// other loads of a shared machine.
func backendsCPU(ctx context.Context, pool *pgxpool.Pool) time.Duration {
	rows, err := pool.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		return 0
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return 0
	}
	var ticks int64
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The fields after the command's closing parenthesis: utime and stime are 14 and 15.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}
