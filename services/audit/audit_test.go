package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/devstack/testdb"
	"incasso/services/access"
)

func entry(i int) Entry {
	return Entry{
		At:    time.Date(2026, 12, 6, 10, 0, 0, 123456789, time.UTC).Add(time.Duration(i) * time.Second),
		Actor: "client:tributi", Role: access.Finance, Action: "POST /v1/debts/:iupd/cancel",
		Targets: map[string]string{"iupd": fmt.Sprintf("TARI-%d", i)}, Reason: "iscrizione duplicata",
		IP: "192.0.2.7", Outcome: 200,
	}
}

func appendN(t *testing.T, trail Trail, n int) {
	t.Helper()
	for i := range n {
		_, err := trail.Append(context.Background(), entry(i))
		require.NoError(t, err)
	}
}

// untouchable runs a statement that bypasses the append-only trigger, as a database owner
// with bad intentions could.
func untouchable(t *testing.T, pool *pgxpool.Pool, stmt string) {
	t.Helper()
	ctx := context.Background()
	_, err := pool.Exec(ctx, "ALTER TABLE audit_log DISABLE TRIGGER USER")
	require.NoError(t, err)
	_, err = pool.Exec(ctx, stmt)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "ALTER TABLE audit_log ENABLE TRIGGER USER")
	require.NoError(t, err)
}

func TestChainVerifies(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	trail := Trail{Pool: pool}
	n, err := trail.Verify(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "an empty trail verifies")

	// Concurrent writers are chained one after the other.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { appendN(t, trail, 5) })
	}
	wg.Wait()
	n, err = trail.Verify(context.Background())
	require.NoError(t, err)
	require.Equal(t, 20, n)
}

// The table refuses UPDATE, DELETE and TRUNCATE; done anyway by whoever can turn the trigger
// off, each is found and the first entry affected named.
func TestTamperingIsFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, stmt := range []string{
		"UPDATE audit_log SET reason = 'nessuno' WHERE id = 1",
		"DELETE FROM audit_log WHERE id = 1",
		"TRUNCATE audit_log",
	} {
		pool, _ := testdb.New(t)
		appendN(t, Trail{Pool: pool}, 1)
		_, err := pool.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, stmt)
		require.Contains(t, pgErr.Message, "append-only")
	}

	for _, tc := range []struct {
		stmt string
		id   int64
	}{
		{"UPDATE audit_log SET reason = 'nessuno' WHERE id = 3", 3},
		{"UPDATE audit_log SET at = at + interval '1 day' WHERE id = 2", 2},
		{"UPDATE audit_log SET targets = '{\"iupd\": \"ALTRO\"}' WHERE id = 4", 4},
		{"DELETE FROM audit_log WHERE id = 2", 3},
		{"DELETE FROM audit_log WHERE id = 5", 0}, // the newest: the head says so
		{"DELETE FROM audit_log WHERE id >= 4", 0},
	} {
		t.Run(tc.stmt, func(t *testing.T) {
			t.Parallel()
			pool, _ := testdb.New(t)
			trail := Trail{Pool: pool}
			appendN(t, trail, 5)
			untouchable(t, pool, tc.stmt)
			_, err := trail.Verify(ctx)
			var broken *BrokenError
			require.True(t, errors.As(err, &broken), "%v", err)
			require.Equal(t, tc.id, broken.ID, broken.Error())
		})
	}
}

func TestSearch(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	trail := Trail{Pool: pool}
	appendN(t, trail, 5)
	_, err := trail.Append(context.Background(), Entry{At: entry(9).At, Actor: "user:revisore", Role: access.Auditor, Action: "GET /v1/audit", Outcome: 200})
	require.NoError(t, err)

	all, err := trail.Search(context.Background(), Filter{Limit: 100})
	require.NoError(t, err)
	require.Len(t, all, 6)
	require.Equal(t, int64(6), all[0].ID, "newest first")
	require.Equal(t, "TARI-4", all[1].Targets["iupd"])
	require.Equal(t, entry(4).At.Truncate(time.Microsecond), all[1].At.UTC())

	for name, tc := range map[string]struct {
		f    Filter
		want []int64
	}{
		"actor":  {Filter{Actor: "user:revisore"}, []int64{6}},
		"action": {Filter{Action: "POST /v1/debts/:iupd/cancel", Before: 3}, []int64{2, 1}},
		"target": {Filter{Target: map[string]string{"iupd": "TARI-2"}}, []int64{3}},
		"period": {Filter{From: entry(1).At.Truncate(time.Second), To: entry(3).At.Truncate(time.Second)}, []int64{3, 2}},
		"limit":  {Filter{Limit: 2}, []int64{6, 5}},
	} {
		if tc.f.Limit == 0 {
			tc.f.Limit = 100
		}
		got, err := trail.Search(context.Background(), tc.f)
		require.NoError(t, err, name)
		var ids []int64
		for _, g := range got {
			ids = append(ids, g.ID)
		}
		require.Equal(t, tc.want, ids, name)
	}
}

func TestPseudonym(t *testing.T) {
	t.Parallel()
	a := Pseudonym([]byte("k1"), "RSSMRA85T10A562S")
	require.Equal(t, a, Pseudonym([]byte("k1"), "RSSMRA85T10A562S"))
	require.NotEqual(t, a, Pseudonym([]byte("k2"), "RSSMRA85T10A562S"), "keyed")
	require.NotContains(t, a, "RSSMRA")
}

// Entries older than 10 years go, the chain still verifies from the anchor they leave; the
// younger ones stay, and the trigger refuses to delete them even to the purge's transaction.
func TestPurge(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	ctx := context.Background()
	trail := Trail{Pool: pool}
	now := time.Now()
	for _, at := range []time.Time{now.AddDate(-12, 0, 0), now.AddDate(-11, 0, 0), now.AddDate(-10, 0, 1), now} {
		e := entry(0)
		e.At = at
		_, err := trail.Append(ctx, e)
		require.NoError(t, err)
	}
	n, err := trail.Purge(ctx, now)
	require.NoError(t, err)
	require.Equal(t, int64(2), n)
	n, err = trail.Purge(ctx, now)
	require.NoError(t, err)
	require.Zero(t, n, "again: nothing more")
	checked, err := trail.Verify(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, checked)

	_, err = pool.Exec(ctx, "BEGIN; SELECT set_config('incasso.audit_purge', 'on', true); DELETE FROM audit_log; COMMIT")
	require.ErrorContains(t, err, "append-only")
	var left int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM audit_log").Scan(&left))
	require.Equal(t, 2, left)

	// Removing the oldest entry left is still found: it no longer follows the anchor.
	untouchable(t, pool, "DELETE FROM audit_log WHERE id = 3")
	_, err = trail.Verify(ctx)
	var broken *BrokenError
	require.ErrorAs(t, err, &broken)
	require.Equal(t, int64(4), broken.ID)
}

// BenchmarkAppend is the cost of one entry, chained under the head's lock.
func BenchmarkAppend(b *testing.B) {
	pool, _ := testdb.New(b)
	trail := Trail{Pool: pool}
	for i := 0; b.Loop(); i++ {
		if _, err := trail.Append(context.Background(), entry(i)); err != nil {
			b.Fatal(err)
		}
	}
}
