package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/services/audit"
	"incasso/services/users"
)

// The commands of keys, users and the audit trail, on the database alone. Secrets are
// printed once (a new key) or read from stdin or the environment (a password), never from
// the command line, where ps and the shell's history would show them.

const apikeyUsage = `usage:
  incasso apikey NAME --role ROLE [--services MENSA,SALA] [--all-debts]   create or replace; prints the key once
  incasso apikey list
  incasso apikey rotate NAME [--grace 24h]   a new key; the old one works until the grace ends
  incasso apikey disable NAME
roles: finance, operator, integration, auditor, admin, pec-gateway`

func apikeyCommand(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, args []string, out io.Writer) error {
	q := dbgen.New(pool)
	if len(args) == 0 {
		return errors.New(apikeyUsage)
	}
	switch args[0] {
	case "list":
		rows, err := q.ListAPIClients(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tROLE\tSERVICES\tALL DEBTS\tCREATED\tSTATE")
		for _, r := range rows {
			state := "enabled"
			switch {
			case r.DisabledAt.Valid:
				state = "disabled " + r.DisabledAt.Time.Format(time.DateOnly)
			case r.PreviousValidUntil.Valid && r.PreviousValidUntil.Time.After(time.Now()):
				state = "rotated, old key valid until " + r.PreviousValidUntil.Time.Format(time.RFC3339)
			}
			services := strings.Join(r.Services, ",")
			if services == "" {
				services = "all"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%t\t%s\t%s\n", r.Name, r.Role, services, r.AllDebts, r.CreatedAt.Time.Format(time.DateOnly), state)
		}
		return w.Flush()
	case "rotate":
		fs := flag.NewFlagSet("apikey rotate", flag.ContinueOnError)
		grace := fs.Duration("grace", 24*time.Hour, "how long the old key keeps working")
		if len(args) < 2 {
			return errors.New(apikeyUsage)
		}
		if err := fs.Parse(args[2:]); err != nil || fs.NArg() > 0 || *grace < 0 {
			return errors.New(apikeyUsage)
		}
		key, err := apiclients.NewKey()
		if err != nil {
			return err
		}
		if err := apiclients.Rotate(ctx, q, args[1], key, time.Now(), *grace); err != nil {
			return fmt.Errorf("rotate the key of %s: %w", args[1], err)
		}
		fmt.Fprintln(out, key)
		return nil
	case "disable":
		if len(args) != 2 {
			return errors.New(apikeyUsage)
		}
		return apiclients.Disable(ctx, q, args[1])
	}
	name := args[0]
	fs := flag.NewFlagSet("apikey", flag.ContinueOnError)
	role := fs.String("role", "", "the key's role")
	services := fs.String("services", "", "integration keys: the service codes it may use, comma-separated")
	allDebts := fs.Bool("all-debts", false, "integration keys: read every debt of its services, not only its own")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		return errors.New(apikeyUsage)
	}
	r, err := access.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	g := apiclients.Grant{Role: r, AllDebts: *allDebts}
	if *services != "" {
		for _, s := range strings.Split(*services, ",") {
			if _, ok := cfg.Services.Find(strings.TrimSpace(s)); !ok {
				return fmt.Errorf("--services: %q is not a service of INCASSO_SERVICES", s)
			}
			g.Services = append(g.Services, strings.TrimSpace(s))
		}
	}
	if r != access.Integration && (len(g.Services) > 0 || g.AllDebts) {
		return errors.New("--services and --all-debts are for integration keys")
	}
	key, err := apiclients.NewKey()
	if err != nil {
		return err
	}
	if err := apiclients.Ensure(ctx, q, name, key, g); err != nil {
		return fmt.Errorf("store API key of %s: %w", name, err)
	}
	fmt.Fprintln(out, key)
	return nil
}

const userUsage = `usage:
  incasso user add NAME --role ROLE   the password from INCASSO_USER_PASSWORD, else the first line of stdin
  incasso user disable NAME`

func userCommand(ctx context.Context, pool *pgxpool.Pool, args []string, stdin io.Reader) error {
	q := dbgen.New(pool)
	switch {
	case len(args) >= 2 && args[0] == "add":
		fs := flag.NewFlagSet("user add", flag.ContinueOnError)
		role := fs.String("role", "", "the user's role")
		if err := fs.Parse(args[2:]); err != nil || fs.NArg() > 0 {
			return errors.New(userUsage)
		}
		r, err := access.ParseRole(*role)
		if err != nil {
			return fmt.Errorf("--role: %w", err)
		}
		password := os.Getenv("INCASSO_USER_PASSWORD")
		if password == "" {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("read the password from stdin: %w", err)
			}
			password = strings.TrimRight(line, "\r\n")
		}
		return users.Add(ctx, q, args[1], r, password)
	case len(args) == 2 && args[0] == "disable":
		return users.Disable(ctx, q, args[1])
	default:
		return errors.New(userUsage)
	}
}

func auditCommand(ctx context.Context, pool *pgxpool.Pool, args []string, out io.Writer) error {
	trail := audit.Trail{Pool: pool}
	switch {
	case len(args) == 1 && args[0] == "verify":
		n, err := trail.Verify(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "audit trail verified: %d entries chained, the head matches\n", n)
		return nil
	case len(args) == 1 && args[0] == "purge":
		n, err := trail.Purge(ctx, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "audit trail: %d entries older than %d years deleted\n", n, audit.RetentionYears)
		return nil
	default:
		return errors.New("usage: incasso audit verify | purge")
	}
}
