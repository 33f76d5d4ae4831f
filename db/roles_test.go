package db_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/domain/date"
	"incasso/services/access"
	"incasso/services/audit"
	"incasso/services/debts"
)

// The application's role does what the API and the worker do, its first notice number
// included, and nothing that would rewrite what is kept: no UPDATE or TRUNCATE of the audit
// trail, no change of a legal receipt, no disabling or dropping of a trigger.
func TestApplicationRole(t *testing.T) {
	ctx := context.Background()
	owner, ownerURL := testdb.New(t)
	role := fmt.Sprintf("incasso_app_test_%d", time.Now().UnixNano())
	_, err := owner.Exec(ctx, "CREATE ROLE "+role+" LOGIN")
	require.NoError(t, err)
	t.Cleanup(func() {
		// Its grants go with this database, then the role with the cluster.
		_, _ = owner.Exec(ctx, "DROP OWNED BY "+role)
		_, _ = owner.Exec(ctx, "DROP ROLE "+role)
	})
	require.NoError(t, db.GrantApplicationRole(ctx, ownerURL, role))
	require.NoError(t, db.GrantApplicationRole(ctx, ownerURL, role), "granting again changes nothing")

	cfg, err := pgxpool.ParseConfig(ownerURL)
	require.NoError(t, err)
	cfg.ConnConfig.User = role
	app, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(app.Close)

	creditor := config.Creditor{FiscalCode: "00000000000", Segregation: 7}
	d, created, err := debts.Store(ctx, dbgen.New(app), creditor, debts.New{
		IUPD: "ROLE-1", ServiceCode: "TARI", Amount: 100, DueDate: date.Date{Year: 2027, Month: 1, Day: 31}, Description: "TARI",
		Debtor: debts.Debtor{Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Mario Rossi", Email: "m@example.it"},
	})
	require.NoError(t, err, "the first notice number of a segregation code creates its sequence, as the owner")
	require.True(t, created)
	require.Equal(t, "307", d.Nav[:3])
	_, err = (audit.Trail{Pool: app}).Append(ctx, audit.Entry{At: time.Now(), Actor: "client:test", Role: access.Finance, Action: "POST /v1/debts", Outcome: 201})
	require.NoError(t, err)

	for _, stmt := range []string{
		"UPDATE audit_log SET actor = 'client:other'",
		"TRUNCATE audit_log",
		"ALTER TABLE audit_log DISABLE TRIGGER ALL",
		"DROP TRIGGER audit_log_no_update ON audit_log",
		"UPDATE communication_receipts SET kind = kind",
		"DELETE FROM enforcement_exports",
		"TRUNCATE debt_positions",
		"DELETE FROM goose_db_version",
		"UPDATE events SET type = type",
		"DELETE FROM treasury_statements",
		"UPDATE legal_facts SET id = id",
		"UPDATE domicile_lookups SET id = id",
		"CREATE TABLE shadow (id int)",
	} {
		_, err := app.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "%s: %v", stmt, err)
		require.Contains(t, []string{"42501"}, pgErr.Code, "%s: %v (insufficient privilege, or not the owner)", stmt, err)
	}
	var entries int
	require.NoError(t, owner.QueryRow(ctx, "SELECT count(*) FROM audit_log").Scan(&entries))
	require.Equal(t, 1, entries)

	err = db.GrantApplicationRole(ctx, ownerURL, "incasso_nobody")
	require.ErrorContains(t, err, "role incasso_nobody does not exist")
	var owned string
	require.NoError(t, owner.QueryRow(ctx, "SELECT current_user").Scan(&owned))
	require.ErrorContains(t, db.GrantApplicationRole(ctx, ownerURL, owned), "superuser")
}
