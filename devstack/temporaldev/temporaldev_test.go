package temporaldev_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/devstack/temporaldev"
)

func temporalBin(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(file), "..", "..", "bin", "temporal")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("INCASSO_REQUIRE_E2E") != "" {
			t.Fatalf("the Temporal CLI is not at %s: run `make tools`", bin)
		}
		t.Skipf("the Temporal CLI is not at %s (run `make tools`)", bin)
	}
	return bin
}

// TestMain lets the test binary play the parent that dies: with INCASSO_TEMPORALDEV_PARENT
// set it starts a server, prints the server's pid and waits to be killed.
func TestMain(m *testing.M) {
	if bin := os.Getenv("INCASSO_TEMPORALDEV_PARENT"); bin != "" {
		srv, err := temporaldev.Start(context.Background(), temporaldev.Options{Bin: bin})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("pid", srv.PID())
		select {}
	}
	os.Exit(m.Run())
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	// A zombie has exited: only its parent has not reaped it yet.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !zombie(stat)
}

// zombie reads the state in /proc/<pid>/stat: "pid (name) S ...".
func zombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

func TestStartAndStop(t *testing.T) {
	bin := temporalBin(t)
	srv, err := temporaldev.Start(context.Background(), temporaldev.Options{Bin: bin, Namespace: "incasso-test"})
	require.NoError(t, err)
	pid := srv.PID()
	require.True(t, alive(pid))
	require.NotEmpty(t, srv.Addr())
	require.NoError(t, srv.Stop())
	require.False(t, alive(pid), "the server still runs after Stop")
	require.NoError(t, srv.Stop(), "a second Stop is a no-op")
}

func TestServerDiesWithItsParent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux only")
	}
	bin := temporalBin(t)
	self, err := os.Executable()
	require.NoError(t, err)
	parent := exec.Command(self, "-test.run=^$")
	parent.Env = append(os.Environ(), "INCASSO_TEMPORALDEV_PARENT="+bin)
	out, err := parent.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, parent.Start())
	t.Cleanup(func() { _ = parent.Process.Kill(); _ = parent.Wait() })

	var word string
	var pid int
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	_, err = fmt.Sscan(line, &word, &pid)
	require.NoError(t, err, line)
	require.Equal(t, "pid", word, line)
	require.True(t, alive(pid))

	require.NoError(t, parent.Process.Kill()) // SIGKILL: no cleanup runs in the parent
	_ = parent.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("the Temporal dev server (pid %s) outlived the process that started it", strconv.Itoa(pid))
	}
}
