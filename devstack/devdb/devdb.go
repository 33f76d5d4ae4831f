// Package devdb finds a PostgreSQL server for development and tests: DATABASE_URL when set,
// else the local server on 127.0.0.1:5432, else a private cluster it starts under a data
// directory with the PostgreSQL binaries installed on the machine.
package devdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultServerURL is the local server every developer machine is expected to have.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PrivatePort is the port of the private cluster started under the data directory.
const PrivatePort = 55432

// Server is a reachable PostgreSQL server.
type Server struct {
	// URL points at the server's "postgres" database unless DATABASE_URL named another.
	URL string
	// Stop stops the private cluster this package started; it does nothing otherwise.
	Stop func()
}

// WithDatabase returns the server URL with the database name replaced.
func (s Server) WithDatabase(name string) string {
	u, err := url.Parse(s.URL)
	if err != nil {
		return s.URL
	}
	u.Path = "/" + name
	return u.String()
}

// Find returns DATABASE_URL when set, else the default local server when it answers, else a
// private cluster started under dataDir (see StartPrivate).
func Find(ctx context.Context, dataDir string, log *slog.Logger) (Server, error) {
	noop := func() {}
	if env := os.Getenv("DATABASE_URL"); env != "" {
		return Server{URL: env, Stop: noop}, nil
	}
	if answers(ctx, DefaultServerURL) {
		return Server{URL: DefaultServerURL, Stop: noop}, nil
	}
	log.Info("no PostgreSQL answers on 127.0.0.1:5432; starting a private cluster", "dir", dataDir)
	return StartPrivate(ctx, dataDir, PrivatePort, log)
}

func answers(ctx context.Context, dsn string) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false
	}
	_ = conn.Close(ctx)
	return true
}

// StartPrivate initialises (once) and starts a cluster in dataDir/pg listening on 127.0.0.1
// at port with trust authentication, or reuses it when it already runs. As root it runs PostgreSQL as the unprivileged
// user "nobody", since initdb refuses to run as root.
func StartPrivate(ctx context.Context, dataDir string, port int, log *slog.Logger) (Server, error) {
	initdb, err := findBinary("initdb")
	if err != nil {
		return Server{}, err
	}
	pgctl, err := findBinary("pg_ctl")
	if err != nil {
		return Server{}, err
	}
	pgdata, err := filepath.Abs(filepath.Join(dataDir, "pg"))
	if err != nil {
		return Server{}, err
	}
	cred, err := runAs()
	if err != nil {
		return Server{}, err
	}
	if err := os.MkdirAll(pgdata, 0o700); err != nil {
		return Server{}, fmt.Errorf("create %s: %w", pgdata, err)
	}
	// Test packages run in parallel processes: one of them initialises and starts the cluster.
	lock, err := os.OpenFile(pgdata+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return Server{}, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return Server{}, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	if cred != nil {
		if err := os.Chown(pgdata, int(cred.Uid), int(cred.Gid)); err != nil {
			return Server{}, fmt.Errorf("chown %s: %w", pgdata, err)
		}
	}
	if _, err := os.Stat(filepath.Join(pgdata, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := run(ctx, cred, initdb, "-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions"); err != nil {
			return Server{}, fmt.Errorf("initdb in %s (as root it runs as nobody, who must be able to enter every parent directory): %w", pgdata, err)
		}
	}
	server := Server{URL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
	if !answers(ctx, server.URL) {
		opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s", port, pgdata)
		if err := run(ctx, cred, pgctl, "-D", pgdata, "-o", opts, "-l", filepath.Join(pgdata, "server.log"), "-w", "start"); err != nil {
			return Server{}, fmt.Errorf("pg_ctl start (log in %s/server.log): %w", pgdata, err)
		}
	}
	server.Stop = func() {
		if err := run(context.Background(), cred, pgctl, "-D", pgdata, "-m", "fast", "-w", "stop"); err != nil {
			log.Warn("stop private PostgreSQL", "err", err)
		}
	}
	return server, nil
}

func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	return "", fmt.Errorf("no PostgreSQL answers and %s is not installed: install PostgreSQL or set DATABASE_URL", name)
}

// runAs returns the credentials of "nobody" when running as root, nil otherwise.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the user nobody for PostgreSQL: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func run(ctx context.Context, cred *syscall.Credential, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = os.TempDir()
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// FreshDatabase creates an empty database with a unique name on the server and returns its
// URL and a function that drops it.
func FreshDatabase(ctx context.Context, server Server, prefix string) (string, func(), error) {
	name := fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), time.Now().UnixNano())
	conn, err := pgx.Connect(ctx, server.WithDatabase("postgres"))
	if err != nil {
		return "", nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, server.WithDatabase("postgres"))
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	return server.WithDatabase(name), drop, nil
}
