// Command incasso is the collection back office of a comune. Subcommands:
//
//	incasso api            serve the REST API and the pagoPA SOAP endpoint
//	incasso worker         run the Temporal worker
//	incasso migrate        apply database migrations and register search attributes
//	incasso apikey ...     create, list, rotate and disable API keys, each with a role
//	incasso user ...       add and disable the console's users
//	incasso audit ...      verify the audit trail's hash chain; purge entries over 10 years old
//	incasso rekey-ibans    seal every mandate's IBAN with the newest key of INCASSO_IBAN_KEYS
//	incasso campaign ...   import, launch and follow campaigns through the REST API
//	incasso fdr run        run the reporting-flow (FdR) intake of a day now
//
// Configuration comes from environment variables: see README.md. The whole stack with its
// simulators, for development, is the separate command incasso-dev (make run).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"incasso/app"
	"incasso/app/config"
	"incasso/db"
	"incasso/services/ibans"
)

const usage = `usage: incasso <command>

commands:
  api            serve the REST API and the pagoPA SOAP endpoint
  worker         run the Temporal worker
  migrate        apply database migrations and register Temporal search attributes
  apikey NAME --role ROLE [--services MENSA,SALA] [--all-debts]
                 create or replace the API key of client NAME and print it once;
                 apikey list | rotate NAME [--grace 24h] | disable NAME
  user add NAME --role ROLE   add (or reset) a console user, the password from
                 INCASSO_USER_PASSWORD or stdin; user disable NAME
  audit verify   check the audit trail's hash chain; exits 1 naming the first broken entry
  audit purge    delete the audit entries older than 10 years, keeping the chain verifiable
  rekey-ibans    seal every mandate's IBAN with the newest key of INCASSO_IBAN_KEYS, in batches
                 (after adding a key; IBANs stored in clear before are sealed too)
  campaign       import FILE --name NAME [--valid-only] | launch ID [--rate N] | status ID [--follow]:
                 campaigns through the REST API (incasso campaign help)
  fdr run [--date YYYY-MM-DD]   read and match the reporting flows (FdR) of a day now, as the
                 daily schedule does, and print the result (a day run again changes nothing)
`

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Args[1] == "campaign" { // a client of the REST API, with exit codes of its own
		code := runCampaign(ctx, os.Args[2:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	if err := run(ctx, os.Args[1], os.Args[2:], log); err != nil {
		log.Error("incasso "+os.Args[1]+" stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, args []string, log *slog.Logger) error {
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Print(usage)
		return nil
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	switch cmd {
	case "migrate":
		if err := db.Migrate(ctx, cfg.DatabaseURL, log); err != nil {
			return err
		}
		if cfg.DBAppRole != "" {
			if err := db.GrantApplicationRole(ctx, cfg.DatabaseURL, cfg.DBAppRole); err != nil {
				return err
			}
			log.Info("application role granted", "role", cfg.DBAppRole)
		}
		d, err := app.Connect(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer d.Close()
		return app.RegisterSearchAttributes(ctx, d.Temporal, cfg.TemporalNamespace)
	case "apikey", "user", "audit":
		pool, err := db.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer pool.Close()
		switch cmd {
		case "apikey":
			return apikeyCommand(ctx, cfg, pool, args, os.Stdout)
		case "user":
			return userCommand(ctx, pool, args, os.Stdin)
		default:
			return auditCommand(ctx, pool, args, os.Stdout)
		}
	case "rekey-ibans":
		return rekeyIBANs(ctx, cfg, log)
	case "fdr":
		d, err := app.Connect(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer d.Close()
		return fdrCommand(ctx, cfg, d.Temporal, args, time.Now(), os.Stdout)
	case "api":
		if err := cfg.CheckProduction(); err != nil {
			return err
		}
		d, err := app.Connect(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer d.Close()
		if _, err := app.ServeMetrics(ctx, d); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", cfg.APIAddr)
		if err != nil {
			return err
		}
		return app.RunAPI(ctx, d, ln, os.Getenv("INCASSO_TEMPORAL_UI_URL"))
	case "worker":
		if err := cfg.CheckProduction(); err != nil {
			return err
		}
		d, err := app.Connect(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer d.Close()
		if _, err := app.ServeMetrics(ctx, d); err != nil {
			return err
		}
		return app.RunWorker(ctx, d)
	default:
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// rekeyIBANs seals the mandates' IBANs with the newest key, 500 a transaction.
func rekeyIBANs(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := ibans.Vault{Ring: cfg.SDD.IBANKeys}.Rekey(ctx, pool, 500)
	log.Info("mandates' IBANs sealed with the newest key", "mandates", n)
	return err
}
