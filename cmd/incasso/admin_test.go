package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/services/audit"
	"incasso/services/users"
)

func TestAPIKeyCommands(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	cfg, err := config.FromEnv()
	require.NoError(t, err)
	q := dbgen.New(pool)
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := apikeyCommand(ctx, cfg, pool, args, &out)
		return strings.TrimSpace(out.String()), err
	}

	key, err := run("mensa", "--role", "integration", "--services", "MENSA,SALA")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(key, "ik_"))
	p, _, err := apiclients.ByKey(ctx, q, key, time.Now())
	require.NoError(t, err)
	require.Equal(t, access.Principal{Kind: access.KindClient, Name: "mensa", Role: access.Integration, Services: []string{"MENSA", "SALA"}}, p)

	for _, bad := range [][]string{
		{"x", "--role", "capo"},
		{"x"},
		{"x", "--role", "finance", "--services", "MENSA"},
		{"x", "--role", "integration", "--services", "PISCINA"},
		{"rotate"},
		{"disable"},
	} {
		_, err := run(bad...)
		require.Error(t, err, bad)
	}

	newKey, err := run("rotate", "mensa", "--grace", "1h")
	require.NoError(t, err)
	for _, k := range []string{key, newKey} {
		_, _, err := apiclients.ByKey(ctx, q, k, time.Now())
		require.NoError(t, err, "both keys during the grace")
	}
	_, _, err = apiclients.ByKey(ctx, q, key, time.Now().Add(time.Hour+time.Minute))
	require.ErrorIs(t, err, apiclients.ErrUnknown, "the old key after it")

	list, err := run("list")
	require.NoError(t, err)
	require.Contains(t, list, "mensa")
	require.Contains(t, list, "MENSA,SALA")
	require.Contains(t, list, "rotated, old key valid until")
	require.NotContains(t, list, "ik_", "keys are never listed")

	_, err = run("disable", "mensa")
	require.NoError(t, err)
	_, _, err = apiclients.ByKey(ctx, q, newKey, time.Now())
	require.ErrorIs(t, err, apiclients.ErrUnknown)
	list, err = run("list")
	require.NoError(t, err)
	require.Contains(t, list, "disabled")
	_, err = run("rotate", "mensa")
	require.ErrorIs(t, err, apiclients.ErrUnknown)
}

func TestUserCommands(t *testing.T) {
	pool, _ := testdb.New(t)
	ctx := context.Background()
	q := dbgen.New(pool)
	require.NoError(t, userCommand(ctx, pool, []string{"add", "mario", "--role", "operator"}, strings.NewReader("una password lunga\n")))
	_, _, err := users.Login(ctx, q, "mario", "una password lunga", time.Now())
	require.NoError(t, err, "the password from stdin, without its newline")

	t.Setenv("INCASSO_USER_PASSWORD", "un'altra password lunga")
	require.NoError(t, userCommand(ctx, pool, []string{"add", "mario", "--role", "auditor"}, strings.NewReader("")))
	p, _, err := users.Login(ctx, q, "mario", "un'altra password lunga", time.Now())
	require.NoError(t, err, "the password from the environment")
	require.Equal(t, access.Auditor, p.Role)

	require.Error(t, userCommand(ctx, pool, []string{"add", "mario", "--role", "auditor", "--password", "x"}, nil), "never on the command line")
	require.NoError(t, userCommand(ctx, pool, []string{"disable", "mario"}, nil))
	_, _, err = users.Login(ctx, q, "mario", "un'altra password lunga", time.Now())
	require.ErrorIs(t, err, users.ErrRefused)
}

func TestAuditVerifyCommand(t *testing.T) {
	pool, dbURL := testdb.New(t)
	t.Setenv("DATABASE_URL", dbURL)
	ctx := context.Background()
	trail := audit.Trail{Pool: pool}
	for range 3 {
		_, err := trail.Append(ctx, audit.Entry{At: time.Now(), Actor: "client:tributi", Role: access.Finance, Action: "POST /v1/debts", Outcome: 201})
		require.NoError(t, err)
	}
	var out bytes.Buffer
	require.NoError(t, auditCommand(ctx, pool, []string{"verify"}, &out))
	require.Contains(t, out.String(), "3 entries")
	require.NoError(t, auditCommand(ctx, pool, []string{"purge"}, &out))
	require.Contains(t, out.String(), "0 entries older than 10 years deleted")

	for _, stmt := range []string{"ALTER TABLE audit_log DISABLE TRIGGER USER", "UPDATE audit_log SET outcome = 200 WHERE id = 2", "ALTER TABLE audit_log ENABLE TRIGGER USER"} {
		_, err := pool.Exec(ctx, stmt)
		require.NoError(t, err)
	}
	err := run(ctx, "audit", []string{"verify"}, nil) // main exits 1 with it
	require.Error(t, err)
	require.Contains(t, err.Error(), "entry 2")
}
