// Command incassochaos runs incasso through a storm of faults and checks that nothing was
// lost or done twice (make chaos; not part of make test). On loopback only it starts a
// private PostgreSQL cluster under CHAOS_DIR (.data/chaos), the Temporal dev server
// (bin/temporal), two `incasso worker` processes and one `incasso api` built from this tree,
// and in this process the pagoPA and bank simulators and the SMTP sink. Then:
//
//   - a campaign of CHAOS_DEBTS (10,000) debts is imported and launched at the full rate
//     (1000/s) through the API, while the storm runs: a worker is killed with SIGKILL five
//     times (and restarted), PostgreSQL is restarted once, GPD answers 503 for 30 s and the
//     SMTP sink drops every connection for 30 s;
//   - when every notice is issued, a tenth of the debts are paid with their receipt pushed
//     twice, a hundredth are paid with a receipt never pushed (the recovery job must find it),
//     and some are put in 3 instalments by SEPA direct debit, half of the mandates rejected
//     AM04 once by the bank;
//   - it prints the checks: rows = debts = notices issued = notices the sink received, no
//     duplicate NAV, no message bytes received twice by the sink, collected cents = the sum
//     of the receipts = what the simulator paid, every Debt workflow in the state the
//     database says, and how long issuing took to recover after each fault.
//
// It exits 1 when a check fails. Every process it started is stopped at the end, and on the
// global timeout CHAOS_TIMEOUT (25m). CHAOS_SCALE=1 runs the scale-out check instead: two
// workers and two APIs, a campaign of CHAOS_DEBTS (2,000) launched through one API and read
// through the other, one worker killed midway, the same checks.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "incassochaos:", err)
	}
	if err != nil || !ok {
		stop()
		os.Exit(1)
	}
}

// settings come from the environment.
type settings struct {
	debts       int
	timeout     time.Duration
	scale       bool
	workers     int
	apis        int
	faultGap    time.Duration // the pause before each fault
	dir         string
	temporalBin string
}

func loadSettings() (settings, error) {
	s := settings{timeout: 25 * time.Minute, workers: 2, apis: 1, faultGap: 25 * time.Second, dir: filepath.Join(".data", "chaos"),
		temporalBin: filepath.Join("bin", "temporal")}
	s.scale = os.Getenv("CHAOS_SCALE") == "1"
	s.debts = 10_000
	if s.scale {
		s.debts, s.apis = 2000, 2
	}
	if v := os.Getenv("CHAOS_DEBTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 || n > 100_000 {
			return s, errors.New("CHAOS_DEBTS must be a whole number from 10 to 100000")
		}
		s.debts = n
	}
	if v := os.Getenv("CHAOS_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return s, errors.New("CHAOS_TIMEOUT must be a duration such as 25m")
		}
		s.timeout = d
	}
	if v := os.Getenv("CHAOS_DIR"); v != "" {
		s.dir = v
	}
	if v := os.Getenv("INCASSO_TEMPORAL_BIN"); v != "" {
		s.temporalBin = v
	}
	var err error
	s.dir, err = filepath.Abs(s.dir)
	return s, err
}

func run(ctx context.Context) (bool, error) {
	s, err := loadSettings()
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return false, err
	}
	logFile, err := os.Create(filepath.Join(s.dir, "chaos.log"))
	if err != nil {
		return false, err
	}
	defer logFile.Close()
	// This program's own warnings go to its log, beside the processes' logs.
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logFile), &slog.HandlerOptions{Level: slog.LevelWarn}))
	mode := "chaos"
	if s.scale {
		mode = "scale-out"
	}
	fmt.Printf("incasso %s: %d debts, %d workers, %d API, %d CPUs, timeout %s; logs in %s\n",
		mode, s.debts, s.workers, s.apis, runtime.NumCPU(), s.timeout, s.dir)
	began := time.Now()
	st, err := startStack(ctx, s, log)
	if err != nil {
		return false, err
	}
	defer st.close()
	fmt.Printf("  stack ready in %.1f s\n", time.Since(began).Seconds())
	r := &runner{st: st, s: s, log: log}
	if err := r.campaign(ctx); err != nil {
		return false, err
	}
	if err := r.settle(ctx); err != nil {
		return false, err
	}
	ok, err := r.check(ctx)
	fmt.Printf("\n%s run ended in %.0f s: %s\n", mode, time.Since(began).Seconds(), map[bool]string{true: "every check passed", false: "CHECKS FAILED"}[ok && err == nil])
	return ok, err
}
