package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/devstack/devdb"
	"incasso/devstack/testdb"
	"incasso/domain/pagopa"
)

// IUV bases come from one sequence per EC and segregation code.
func TestIUVBasesPerCreditor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	q := dbgen.New(e.pool)
	ec, seg := e.cfg.Creditor.FiscalCode, e.cfg.Creditor.Segregation

	a := e.mustCreateDebt(t, validRequest("SEQ-1"))
	b := e.mustCreateDebt(t, validRequest("SEQ-2"))
	navA, err := pagopa.ParseNAV(a.NoticeNumber)
	require.NoError(t, err)
	navB, err := pagopa.ParseNAV(b.NoticeNumber)
	require.NoError(t, err)
	require.Equal(t, seg, navA.Segregation, "the configured segregation code")
	require.Equal(t, seg, navB.Segregation)
	require.Equal(t, navA.Base+1, navB.Base, "consecutive bases")
	require.Equal(t, int64(1), navA.Base, "a fresh database starts at 1")

	next := func(ec string, seg int) int64 {
		t.Helper()
		n, err := q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: ec, Segregation: int32(seg)})
		require.NoError(t, err)
		return n
	}
	// Another EC, and another segregation code of this EC, have sequences of their own.
	require.Equal(t, int64(1), next("12345678901", seg))
	require.Equal(t, int64(2), next("12345678901", seg))
	require.Equal(t, int64(1), next(ec, (seg+1)%100))
	require.Equal(t, int64(1), next("12345678901", 0))
	require.Equal(t, int64(1), next("12345678901", 99))
	require.Equal(t, navB.Base+1, next(ec, seg), "this EC's sequence was not moved by the others")

	for _, bad := range []struct {
		ec  string
		seg int
	}{
		{"1234567890", seg}, {"123456789012", seg}, {"1234567890a", seg}, {"", seg},
		{"00000000000'; DROP TABLE debt_positions; --", seg}, {"٠١٢٣٤٥٦٧٨٩٠", seg},
		{ec, 100}, {ec, -1}, {ec, 1000},
	} {
		_, err := q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: bad.ec, Segregation: int32(bad.seg)})
		require.Error(t, err, "ec %q segregation %d", bad.ec, bad.seg)
		require.Contains(t, err.Error(), "next_iuv_base")
	}
	var n int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname LIKE 'iuv_base_%'`).Scan(&n))
	require.Equal(t, 5, n, "no sequence for a refused EC or segregation code")
}

// The first bases of a new EC, drawn at once by many transactions, are all distinct: the
// sequence is created once whoever gets there first.
func TestIUVBaseConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	const n = 20
	for _, ec := range []string{"11111111111", "22222222222", "33333333333"} {
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			got  = map[int64]bool{}
			errs []error
		)
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				v, err := dbgen.New(pool).NextIUVBase(context.Background(), dbgen.NextIUVBaseParams{EcFiscalCode: ec, Segregation: 1})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				got[v] = true
			})
		}
		close(start)
		wg.Wait()
		require.Empty(t, errs)
		require.Len(t, got, n, "distinct bases")
		for i := int64(1); i <= n; i++ {
			require.True(t, got[i], "base %d of %s", i, ec)
		}
	}
}

// A database migrated before per-EC sequences keeps its notices unique: each EC and
// segregation code in use continues after the largest base it has.
func TestMigrationToPerCreditorSequences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	server, err := devdb.Find(ctx, "../.data", log)
	require.NoError(t, err)
	url, drop, err := devdb.FreshDatabase(ctx, server, "incasso_test")
	require.NoError(t, err)
	t.Cleanup(drop)

	cfg, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	sqlDB := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, os.DirFS("../db/migrations"))
	require.NoError(t, err)
	_, err = provider.UpTo(ctx, 1)
	require.NoError(t, err)

	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	// The skeleton drew every base from iuv_base_seq, whatever the EC.
	const ec, other = "00000000000", "12345678901"
	insert := func(ec string, seg int, base int64) {
		t.Helper()
		nav, err := pagopa.NewNAV(seg, base)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO debt_positions (ec_fiscal_code, iupd, service_code, debtor_type,
			debtor_fiscal_code, debtor_name, debtor_email, amount_cents, due_date, description, nav)
			VALUES ($1, $2, 'TARI', 'F', 'RSSMRA85T10A562S', 'Mario Rossi', 'm@example.it', 100, '2026-12-31', 'TARI', $3)`,
			ec, fmt.Sprintf("OLD-%s-%d", ec, base), nav.String())
		require.NoError(t, err)
	}
	for _, base := range []int64{1, 2, 5, 41} {
		insert(ec, 1, base)
	}
	insert(ec, 2, 7)
	insert(other, 1, 3)
	_, err = pool.Exec(ctx, `SELECT setval('iuv_base_seq', 60)`)
	require.NoError(t, err)

	_, err = provider.Up(ctx)
	require.NoError(t, err)
	pool.Reset() // the connections cached plans of the old schema

	q := dbgen.New(pool)
	next := func(ec string, seg int) int64 {
		t.Helper()
		n, err := q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: ec, Segregation: int32(seg)})
		require.NoError(t, err)
		return n
	}
	require.Equal(t, int64(42), next(ec, 1), "after the largest base of the EC and segregation code")
	require.Equal(t, int64(43), next(ec, 1))
	require.Equal(t, int64(8), next(ec, 2))
	require.Equal(t, int64(4), next(other, 1))
	require.Equal(t, int64(1), next(ec, 3), "a segregation code never used starts at 1")
	var exists bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_class WHERE relname = 'iuv_base_seq')`).Scan(&exists))
	require.False(t, exists, "the old sequence is gone")

	// Old rows got the new columns' defaults.
	var revision int32
	require.NoError(t, pool.QueryRow(ctx, `SELECT revision FROM debt_positions WHERE iupd = 'OLD-00000000000-41'`).Scan(&revision))
	require.Equal(t, int32(1), revision)

	// And back: the single sequence continues after every base in use.
	insert(ec, 1, 43)
	_, err = provider.DownTo(ctx, 1)
	require.NoError(t, err)
	pool.Reset()
	var v int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT nextval('iuv_base_seq')`).Scan(&v))
	require.Equal(t, int64(44), v)
	ctxT, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = provider.Up(ctxT)
	require.NoError(t, err, "up again after down")
}
