package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"incasso/app"
	"incasso/app/config"
	"incasso/db"
	"incasso/devstack/banksim"
	"incasso/devstack/devdb"
	"incasso/devstack/mailsink"
	"incasso/devstack/pagopasim"
	"incasso/devstack/specs"
	"incasso/devstack/temporaldev"
	"incasso/domain/keyring"
	"incasso/services/access"
	"incasso/services/apiclients"
)

// stack is incasso as production runs it, on loopback: a private PostgreSQL cluster, the
// Temporal dev server, `incasso worker` and `incasso api` processes; and, in this process,
// the pagoPA and bank simulators and the SMTP sink, which count what reached them.
type stack struct {
	dir      string
	log      *slog.Logger
	pgPort   int
	pgStop   func()
	pgMu     sync.Mutex
	temporal *temporaldev.Server

	deps    *app.Deps // this program's own pool and Temporal client, for the checks
	key     string    // the API key
	apiURLs []string
	simURL  string
	sink    *mailsink.Sink
	pagopa  *pagopasim.PagoPA
	bank    *banksim.Bank
	workers []*proc
	apis    []*proc
}

// startStack starts everything and returns once the APIs are ready. The context ends the
// simulators; close stops the rest.
func startStack(ctx context.Context, s settings, log *slog.Logger) (st *stack, err error) {
	if err := specs.CheckValidator(); err != nil {
		return nil, fmt.Errorf("the bank simulator validates every file against its XSD: %w", err)
	}
	started := &stack{dir: s.dir, log: log}
	st = started
	defer func() {
		if err != nil { // st is nil by then
			started.close()
		}
	}()
	// A fresh cluster every run: the one under dir is this program's alone.
	if err := os.RemoveAll(filepath.Join(s.dir, "pg")); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	bin := filepath.Join(s.dir, "incasso")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/incasso").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/incasso: %w: %s", err, out)
	}
	if st.pgPort, err = freePort(); err != nil {
		return nil, err
	}
	if err := st.startPostgres(ctx); err != nil {
		return nil, err
	}
	tlog, err := os.Create(filepath.Join(s.dir, "temporal.log"))
	if err != nil {
		return nil, err
	}
	st.temporal, err = temporaldev.Start(ctx, temporaldev.Options{Bin: s.temporalBin, LogLevel: "warn", Output: tlog})
	if err != nil {
		return nil, fmt.Errorf("start the Temporal dev server: %w", err)
	}

	// The simulators and the sink, on free loopback ports.
	st.sink = mailsink.New()
	smtpAddr, err := st.sink.ListenSMTP(ctx, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	pecAddr, err := st.sink.ListenSMTP(ctx, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	st.simURL = "http://" + simLn.Addr().String()
	apiAddrs := make([]string, s.apis)
	for i := range apiAddrs {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		apiAddrs[i] = "127.0.0.1:" + strconv.Itoa(port)
		st.apiURLs = append(st.apiURLs, "http://"+apiAddrs[i])
	}

	// The production binaries refuse development secrets: every secret is made for this run.
	secrets := map[string]string{}
	for _, name := range []string{"INCASSO_NODE_KEY", "INCASSO_GPD_SUBSCRIPTION_KEY", "INCASSO_BANK_KEY"} {
		if secrets[name], err = randomSecret(); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"INCASSO_PAYLOAD_KEYS", "INCASSO_IBAN_KEYS"} {
		if secrets[name], err = keyring.Generate("chaos"); err != nil {
			return nil, err
		}
	}
	providers, err := pecProviders(s.dir)
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"INCASSO_PEC_PROVIDERS":    providers,
		"DATABASE_URL":             st.databaseURL(),
		"INCASSO_TEMPORAL_ADDRESS": st.temporal.Addr(),
		"INCASSO_GPD_URL":          st.simURL + pagopasim.GPDBasePath,
		"INCASSO_GPD_RECEIPTS_URL": st.simURL + pagopasim.ReceiptsBasePath,
		"INCASSO_BANK_URL":         st.simURL,
		"INCASSO_SMTP_ADDR":        smtpAddr.String(), "INCASSO_SMTP_STARTTLS": "false",
		"INCASSO_PEC_SMTP_ADDR": pecAddr.String(), "INCASSO_PEC_STARTTLS": "false",
		// The recovery job sweeps every unpaid notice within a minute or so; a day of the
		// instalment plans lasts 300 ms; the API lets this program read every debt.
		"INCASSO_RECOVERY_EVERY": "10s", "INCASSO_RECOVERY_MIN_AGE": "10s", "INCASSO_RECOVERY_BATCH": "2500",
		"INCASSO_SDD_DAY": "300ms", "INCASSO_SDD_PRENOTIFY_DAYS": "2", "INCASSO_SDD_REPORT_POLL": "1s",
		"INCASSO_RATE_PER_CLIENT": "100000", "INCASSO_RATE_PER_IP": "100000",
		"INCASSO_RATE_PER_CLIENT_BURST": "100000", "INCASSO_RATE_PER_IP_BURST": "100000",
	}
	for k, v := range secrets {
		env[k] = v
	}
	for k, v := range env {
		os.Setenv(k, v)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if err := db.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, cfg.DatabaseURL, log); err != nil {
		return nil, err
	}
	if st.deps, err = app.Connect(ctx, cfg, log); err != nil {
		return nil, err
	}
	if err := app.RegisterSearchAttributes(ctx, st.deps.Temporal, cfg.TemporalNamespace); err != nil {
		return nil, err
	}
	if st.key, err = apiclients.NewKey(); err != nil {
		return nil, err
	}
	if err := app.EnsureAPIClient(ctx, st.deps, "chaos", st.key, apiclients.Grant{Role: access.Finance}); err != nil {
		return nil, err
	}

	st.pagopa = pagopasim.NewPagoPA(cfg.GPDKey, st.apiURLs[0]+"/pagopa/paForNode", cfg.NodeKey, cfg.Creditor.BrokerID, cfg.Creditor.StationID)
	st.bank = banksim.New(banksim.Config{Delay: 200 * time.Millisecond, APIKey: cfg.SDD.BankKey, Logger: log.With("component", "banksim")})
	sims := http.NewServeMux()
	sims.Handle("/", st.pagopa.Handler())
	sims.Handle("/bank/", st.bank.Handler())
	sims.Handle("/sim/bank/", st.bank.Handler())
	go func() {
		if err := app.Serve(ctx, simLn, sims); err != nil {
			log.Error("simulators stopped", "err", err)
		}
	}()

	base := os.Environ()
	for i := range s.workers {
		st.workers = append(st.workers, newProc(fmt.Sprintf("worker-%d", i+1), bin, s.dir, base, "worker"))
	}
	for i, addr := range apiAddrs {
		st.apis = append(st.apis, newProc(fmt.Sprintf("api-%d", i+1), bin, s.dir, append(base, "INCASSO_API_ADDR="+addr), "api"))
	}
	for _, p := range append(st.workers, st.apis...) {
		if err := p.start(); err != nil {
			return nil, err
		}
	}
	for _, u := range st.apiURLs {
		if err := waitReady(ctx, u, time.Minute); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (st *stack) databaseURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/incasso?sslmode=disable", st.pgPort)
}

func (st *stack) startPostgres(ctx context.Context) error {
	st.pgMu.Lock()
	defer st.pgMu.Unlock()
	server, err := devdb.StartPrivate(ctx, st.dir, st.pgPort, st.log)
	if err != nil {
		return err
	}
	st.pgStop = server.Stop
	return nil
}

// restartPostgres stops the cluster (fast: every connection is cut) and starts it again.
func (st *stack) restartPostgres(ctx context.Context) error {
	st.pgMu.Lock()
	stop := st.pgStop
	st.pgStop = nil
	st.pgMu.Unlock()
	if stop != nil {
		stop()
	}
	return st.startPostgres(ctx)
}

// close stops the processes, then Temporal and PostgreSQL.
func (st *stack) close() {
	for _, p := range append(st.apis, st.workers...) {
		if err := p.stop(10 * time.Second); err != nil {
			st.log.Warn("stop", "process", p.name, "err", err)
		}
	}
	if st.deps != nil {
		st.deps.Close()
	}
	if st.temporal != nil {
		if err := st.temporal.Stop(); err != nil {
			st.log.Warn("stop Temporal", "err", err)
		}
	}
	st.pgMu.Lock()
	defer st.pgMu.Unlock()
	if st.pgStop != nil {
		st.pgStop()
	}
}

// waitReady polls url's /readyz until it answers 200.
func waitReady(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", url, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", errors.New("no randomness for the secrets")
	}
	return hex.EncodeToString(b), nil
}
