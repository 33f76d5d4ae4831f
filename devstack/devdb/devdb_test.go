package devdb

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The fallback when no server answers: a private cluster, started as an unprivileged user
// when we are root, that accepts connections and is reused when started again.
func TestStartPrivateCluster(t *testing.T) {
	if _, err := findBinary("initdb"); err != nil {
		t.Skipf("PostgreSQL binaries not installed, the private cluster cannot be tested: %v", err)
	}
	dir := t.TempDir()
	// The unprivileged user must reach the data directory through every parent.
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()

	server, err := StartPrivate(ctx, dir, port, log)
	require.NoError(t, err)
	t.Cleanup(server.Stop)
	url, drop, err := FreshDatabase(ctx, server, "devdb_test")
	require.NoError(t, err)
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	var one int
	require.NoError(t, conn.QueryRow(ctx, "SELECT 1").Scan(&one))
	require.Equal(t, 1, one)
	require.NoError(t, conn.Close(ctx))
	drop()

	again, err := StartPrivate(ctx, dir, port, log)
	require.NoError(t, err, "a running private cluster is reused")
	require.Equal(t, server.URL, again.URL)
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	s := Server{URL: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"}
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/incasso?sslmode=disable", s.WithDatabase("incasso"))
}
