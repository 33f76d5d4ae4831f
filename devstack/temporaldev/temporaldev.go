// Package temporaldev runs the Temporal CLI's dev server (`temporal server start-dev`) as a
// child process that cannot outlive the process that started it: on Linux the child is killed
// when its parent dies, so a test binary killed by `go test -timeout`, a panic or Ctrl-C leaves
// no server behind. `make run`, the end-to-end tests and the benchmarks all start it here.
package temporaldev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// Options say how to run the dev server.
type Options struct {
	// Bin is the path of the Temporal CLI.
	Bin string
	// Addr is the frontend's host:port; empty picks a free port on 127.0.0.1.
	Addr string
	// Namespace is created at start (the server always has "default").
	Namespace string
	// DBFile keeps the server's state in a SQLite file; empty keeps it in memory.
	DBFile string
	// UIPort serves the Web UI on that port; empty runs headless.
	UIPort string
	// UICodecEndpoint is the codec server the Web UI calls to show encrypted payloads.
	UICodecEndpoint string
	// LogLevel is the server's log level (default "error").
	LogLevel string
	// Output receives the server's stdout and stderr; nil discards them.
	Output io.Writer
}

// Server is a running dev server.
type Server struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts the dev server and returns once its frontend answers, or fails if it does not
// within a minute (the server is stopped then).
func Start(ctx context.Context, opts Options) (*Server, error) {
	if _, err := exec.LookPath(opts.Bin); err != nil {
		return nil, fmt.Errorf("the Temporal CLI is not at %s (run `make tools`): %w", opts.Bin, err)
	}
	addr := opts.Addr
	if addr == "" {
		var err error
		if addr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("temporal address %q: %w", addr, err)
	}
	namespace := opts.Namespace
	if namespace == "" {
		namespace = "default"
	}
	level := opts.LogLevel
	if level == "" {
		level = "error"
	}
	args := []string{"server", "start-dev", "--ip", host, "--port", port, "--namespace", namespace,
		"--log-level", level, "--dynamic-config-value", "frontend.enableServerVersionCheck=false"}
	if opts.DBFile != "" {
		args = append(args, "--db-filename", opts.DBFile)
	}
	if opts.UIPort != "" {
		args = append(args, "--ui-port", opts.UIPort)
		if opts.UICodecEndpoint != "" {
			args = append(args, "--ui-codec-endpoint", opts.UICodecEndpoint)
		}
	} else {
		args = append(args, "--headless")
	}
	out := opts.Output
	if out == nil {
		out = io.Discard
	}
	s := &Server{addr: addr, done: make(chan struct{})}
	started := make(chan error, 1)
	// The parent-death signal belongs to the thread that forks the child: that thread stays
	// locked, and alive, until the child has exited.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd := exec.Command(opts.Bin, args...)
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = dieWithParent()
		if err := cmd.Start(); err != nil {
			started <- fmt.Errorf("start %s: %w", opts.Bin, err)
			return
		}
		s.cmd = cmd
		started <- nil
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, namespace); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Addr is the frontend's host:port.
func (s *Server) Addr() string { return s.addr }

// Stop interrupts the server and waits for it to exit, killing it after ten seconds.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("interrupt the Temporal dev server: %w", err)
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("the Temporal dev server did not stop within 10s and was killed")
	}
}

func (s *Server) waitReady(ctx context.Context, namespace string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var last error
	for {
		c, err := client.DialContext(ctx, client.Options{HostPort: s.addr, Namespace: namespace, Logger: quiet})
		if err == nil {
			c.Close()
			return nil
		}
		last = err
		select {
		case <-s.done:
			return fmt.Errorf("the Temporal dev server exited at start: %w", last)
		case <-ctx.Done():
			return fmt.Errorf("the Temporal dev server did not answer on %s: %w", s.addr, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// quiet keeps the probes' dial errors out of the logs: waitReady reports the last one.
var quiet = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// freeAddr returns a 127.0.0.1 address with a port nobody listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}
