// Command incasso-dev runs the whole of incasso on this machine, for `make run`: a Temporal
// dev server with its Web UI (or one already running on 127.0.0.1:7233), PostgreSQL (see
// devstack/devdb), the worker and the API, wired to the pagoPA, bank and mail simulators.
// It is a separate binary so that the production `incasso` links no simulator.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"incasso/app"
	"incasso/app/config"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/devstack"
	"incasso/devstack/devdb"
	"incasso/devstack/temporaldev"
	"incasso/domain/keyring"
	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/services/users"
)

// Where `incasso-dev` listens: the well-known local ports.
const (
	temporalAddr  = "127.0.0.1:7233"
	temporalUIURL = "http://127.0.0.1:8233"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runDev(ctx, log); err != nil {
		log.Error("incasso-dev stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

// runDev starts (or reuses) the Temporal dev server and PostgreSQL, then the whole stack.
func runDev(ctx context.Context, log *slog.Logger) error {
	dataDir := envOr("INCASSO_DATA_DIR", ".data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	server, err := devdb.Find(ctx, dataDir, log)
	if err != nil {
		return err
	}
	defer server.Stop()
	if os.Getenv("DATABASE_URL") == "" {
		os.Setenv("DATABASE_URL", server.WithDatabase("incasso"))
	}
	// On a laptop a receipt the simulator never pushed is recovered within a minute or two,
	// and the simulated bank's reports, returns and refunds are read within seconds.
	// Temporal's state and the database outlive a run: so do the keys that encrypt them.
	for _, k := range []struct{ keys, toggle, file string }{
		{"INCASSO_PAYLOAD_KEYS", "INCASSO_PAYLOAD_ENCRYPTION", "dev-payload-key"},
		{"INCASSO_IBAN_KEYS", "INCASSO_IBAN_ENCRYPTION", "dev-iban-key"},
	} {
		if os.Getenv(k.keys) != "" || os.Getenv(k.toggle) == "off" {
			continue
		}
		keys, err := devSecret(dataDir, k.file, func() (string, error) { return keyring.Generate("dev") })
		if err != nil {
			return err
		}
		os.Setenv(k.keys, keys)
	}
	for name, value := range map[string]string{
		"INCASSO_RECOVERY_EVERY": "1m", "INCASSO_RECOVERY_MIN_AGE": "1m",
		"INCASSO_SDD_REPORT_POLL": "5s", "INCASSO_SDD_NOTIFICATIONS_EVERY": "30s",
	} {
		if os.Getenv(name) == "" {
			os.Setenv(name, value)
		}
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if err := devstack.Configure(&cfg); err != nil {
		return err
	}
	if err := db.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	cfg.TemporalAddress = temporalAddr
	stopTemporal, err := startTemporal(ctx, dataDir, cfg.TemporalNamespace, "http://"+cfg.APIAddr+"/codec", log)
	if err != nil {
		return err
	}
	defer stopTemporal()

	d, err := app.Connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := app.RegisterSearchAttributes(ctx, d.Temporal, cfg.TemporalNamespace); err != nil {
		return err
	}
	if len(d.Config.IO.Keys) == 0 { // TARI sends by App IO, to the simulator
		d.Config.IO.Keys = map[string]string{"TARI": config.DevIOKey}
	}
	stack, err := devstack.Start(ctx, d, devstack.Addrs{
		API: cfg.APIAddr, PagoPASim: "127.0.0.1:8090", SMTP: "127.0.0.1:1025", PECSMTP: "127.0.0.1:1026", MailUI: "127.0.0.1:8025",
		Metrics: envOr("INCASSO_METRICS_ADDR", "127.0.0.1:9464"),
	}, temporalUIURL, log)
	if err != nil {
		return err
	}
	key, err := devSecret(dataDir, "dev-api-key", apiclients.NewKey)
	if err != nil {
		return err
	}
	if err := app.EnsureAPIClient(ctx, d, "dev", key, apiclients.Grant{Role: access.Finance}); err != nil {
		return err
	}
	password, err := devSecret(dataDir, "dev-console-password", apiclients.NewKey) // random, long enough
	if err != nil {
		return err
	}
	if err := users.Add(ctx, dbgen.New(d.Pool), "dev", access.Finance, password); err != nil {
		return err
	}
	// The debtor of the example below has an App IO profile: TARI's notices reach them there.
	stack.IO.AddProfile(demoFiscalCode)
	printWelcome(stack, key, password)
	return stack.Wait()
}

// startTemporal reuses a Temporal server already answering on temporalAddr, or starts the
// dev server (./bin/temporal, or INCASSO_TEMPORAL_BIN) keeping its state in dataDir, its Web
// UI decoding payloads with the API's codec server at codecEndpoint.
func startTemporal(ctx context.Context, dataDir, namespace, codecEndpoint string, log *slog.Logger) (func(), error) {
	probeCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if c, err := client.DialContext(probeCtx, client.Options{HostPort: temporalAddr, Namespace: namespace}); err == nil {
		c.Close()
		log.Info("reusing the Temporal server already running", "addr", temporalAddr)
		return func() {}, nil
	}
	logFile, err := os.OpenFile(filepath.Join(dataDir, "temporal.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	log.Info("starting the Temporal dev server", "state", filepath.Join(dataDir, "temporal.db"), "log", logFile.Name())
	srv, err := temporaldev.Start(ctx, temporaldev.Options{
		Bin:             envOr("INCASSO_TEMPORAL_BIN", filepath.Join("bin", "temporal")),
		Addr:            temporalAddr,
		Namespace:       namespace,
		DBFile:          filepath.Join(dataDir, "temporal.db"),
		UIPort:          "8233",
		UICodecEndpoint: codecEndpoint,
		LogLevel:        "warn",
		Output:          logFile,
	})
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start Temporal dev server (see %s): %w", logFile.Name(), err)
	}
	return func() {
		if err := srv.Stop(); err != nil {
			log.Warn("stop Temporal dev server", "err", err)
		}
		logFile.Close()
	}, nil
}

// devSecret returns the development secret kept in dataDir/name, creating it with create once.
func devSecret(dataDir, name string, create func() (string, error)) (string, error) {
	path := filepath.Join(dataDir, name)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	secret, err := create()
	if err != nil {
		return "", err
	}
	return secret, os.WriteFile(path, []byte(secret+"\n"), 0o600)
}

// demoFiscalCode is the debtor of the welcome's example debt, who has an App IO profile.
const demoFiscalCode = "RSSMRA85T10A562S"

func printWelcome(s *devstack.Stack, key, password string) {
	due := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	fmt.Printf(`
incasso is running. Ctrl-C stops everything.

  Temporal Web UI     %s
  Finance console     %s/console/  (user dev, password %s; or the API key)
  REST API            %s  (API key: %s)
  pagoPA simulator    %s  (pay a notice: curl -X POST %s/sim/pay/<noticeNumber>)
  Bank simulator      %s/bank/  (SEPA direct debit; what it received: %s/sim/bank/files)
  App IO simulator    %s/sim/io/messages  (TARI sends by IO; %s has a profile; give one:
                      curl -X POST %s/sim/io/profiles -d '{"fiscalCode":"..."}')
  Mail sink (web)     %s  (SMTP on %s)
  Metrics             %s  (Prometheus)

Create a debt:

  curl -s -X POST %s/v1/debts \
    -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \
    -d '{"iupd":"TARI-2026-0001","serviceCode":"TARI","amountCents":12345,"dueDate":"%s",
         "description":"TARI 2026 rata unica",
         "debtor":{"type":"F","fiscalCode":"%s","fullName":"Mario Rossi","email":"mario.rossi@example.it"}}'

Then read it:  curl -s -H 'Authorization: Bearer %s' %s/v1/debts/TARI-2026-0001

Or load a campaign of 1,000 debts in the console: docs/examples/campagna-tari-2026.csv
Pay it in instalments by SEPA direct debit: README, "Instalment plans by SEPA direct debit".

`, temporalUIURL, s.APIURL, password, s.APIURL, key, s.PagoPASimURL, s.PagoPASimURL, s.PagoPASimURL, s.PagoPASimURL,
		s.PagoPASimURL, demoFiscalCode, s.PagoPASimURL, s.MailUIURL, s.SMTPAddr, s.MetricsURL, s.APIURL, key, due, demoFiscalCode, key, s.APIURL)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
