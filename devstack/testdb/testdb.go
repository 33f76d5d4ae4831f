// Package testdb gives tests a real PostgreSQL database: a fresh, migrated database per call
// on the server devdb finds (DATABASE_URL, the local server, or a private cluster under
// .data), dropped when the test ends.
package testdb

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/db"
	"incasso/devstack/devdb"
)

// New returns a pool on a fresh database with every migration applied, and its URL.
func New(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, file, _, _ := runtime.Caller(0)
	server, err := devdb.Find(ctx, filepath.Join(filepath.Dir(file), "..", "..", ".data"), log)
	require.NoError(t, err, "find PostgreSQL")
	// A private cluster is left running for the other test packages and the next run.
	url, drop, err := devdb.FreshDatabase(ctx, server, "incasso_test")
	require.NoError(t, err)
	t.Cleanup(drop)
	require.NoError(t, db.Migrate(ctx, url, log))
	pool, err := db.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool, url
}
