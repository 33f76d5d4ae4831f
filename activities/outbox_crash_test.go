package activities_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/activities"
	"incasso/app/config"
	"incasso/clients/mail"
	"incasso/db"
)

// Environment of the helper process that TestOutboxCrash kills.
const (
	crashPointEnv    = "INCASSO_CRASH_POINT" // the crash point; the helper does nothing without it
	crashSMTPEnv     = "INCASSO_CRASH_SMTP"  // the parent's mail sink
	crashDebtEnv     = "INCASSO_CRASH_DEBT"
	crashDocumentEnv = "INCASSO_CRASH_DOCUMENT"
	crashPointLine   = "CRASHPOINT "
)

// TestOutboxCrash kills a worker process with SIGKILL at each point of a delivery where a crash
// could lose or double a message, then retries the delivery as Temporal would: no message is
// ever sent twice, and none is lost unless its fate is recorded as UNCONFIRMED.
func TestOutboxCrash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		point     string
		atCrash   string // the row's status once the process is dead
		discarded int    // messages the sink got in part and threw away
		sentFirst int    // messages the relay accepted from the killed process
		status    string // the row's status after the retry
		sent      int    // messages the relay accepted in all
	}{
		// Nothing recorded, the data never ended: the retry sends it.
		{point: "before-commit", atCrash: "PENDING", discarded: 1, sentFirst: 0, status: "SENT", sent: 1},
		// SENDING recorded, the data never ended: nobody got it, but the retry cannot know.
		{point: "after-commit", atCrash: "SENDING", discarded: 1, sentFirst: 0, status: "UNCONFIRMED", sent: 0},
		// The relay accepted it, SENT never recorded: the retry does not send it again.
		{point: "after-accept", atCrash: "SENDING", discarded: 0, sentFirst: 1, status: "UNCONFIRMED", sent: 1},
	}
	for _, tt := range tests {
		t.Run(tt.point, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			d := f.insertDebt(t, nil)
			docID, err := f.debts.RenderNotice(ctx, d.ID)
			require.NoError(t, err)

			start := time.Now()
			killAt(t, f, tt.point, d.ID, docID)
			t.Logf("%s: killed after %v", tt.point, time.Since(start).Round(time.Millisecond))

			c := f.communication(t, d.ID)
			require.Equal(t, tt.atCrash, c.Status)
			// The sink sees the dead connection in its own time.
			require.Eventually(t, func() bool { return f.sink.Discarded() == tt.discarded }, 5*time.Second, 5*time.Millisecond,
				"discarded %d, want %d", f.sink.Discarded(), tt.discarded)
			time.Sleep(100 * time.Millisecond) // and nothing else arrives late
			require.Equal(t, tt.discarded, f.sink.Discarded())
			require.Equal(t, tt.sentFirst, len(f.messagesTo(d.DebtorEmail)), "messages accepted before the retry")

			// Temporal retries the activity, twice for good measure.
			for range 2 {
				_, err = f.run(t, f.debts.SendNotice, d.ID, docID)
				require.NoError(t, err)
			}
			msgs := f.messagesTo(d.DebtorEmail)
			require.Equal(t, tt.sent, len(msgs), "messages accepted in all")
			require.Equal(t, tt.sent, len(f.sink.Messages()), "nothing went anywhere else")
			require.Equal(t, tt.discarded, f.sink.Discarded())
			for _, m := range msgs {
				require.Equal(t, c.Raw, m.Raw, "the archived bytes")
			}
			c = f.communication(t, d.ID)
			require.Equal(t, tt.status, c.Status)
			require.Equal(t, tt.status == "SENT", c.SentAt.Valid)
		})
	}
}

// killAt runs SendNotice of the debt in a child process that stops at point, kills it with
// SIGKILL there and reaps it.
func killAt(t *testing.T, f *fixture, point string, debtID, docID int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOutboxCrashHelper$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(),
		crashPointEnv+"="+point, "DATABASE_URL="+f.dbURL, crashSMTPEnv+"="+f.smtpAddr,
		crashDebtEnv+"="+strconv.FormatInt(debtID, 10), crashDocumentEnv+"="+strconv.FormatInt(docID, 10))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // if the test fails before the kill

	reached := make(chan string, 1)
	var other []string // the child's other output, read only once reached is closed
	go func() {
		defer close(reached)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), crashPointLine); ok {
				reached <- p
			} else {
				other = append(other, sc.Text())
			}
		}
	}()
	select {
	case p, ok := <-reached:
		if !ok {
			err := cmd.Wait()
			t.Fatalf("the child ended (%v) before %s:\n%s\n%s", err, point, strings.Join(other, "\n"), stderr.String())
		}
		require.Equal(t, point, p)
	case <-time.After(60 * time.Second):
		t.Fatalf("the child did not reach %s in time", point)
	}

	require.NoError(t, cmd.Process.Kill())
	for range reached { // stdout ends with the process
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	ws, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "the child died of SIGKILL, not %v", err)
}

// TestOutboxCrashHelper is the worker that TestOutboxCrash kills: with crashPointEnv set, it
// delivers the notice of the given debt through the real activity, on the parent's database
// and mail sink, and stops at the crash point until it is killed.
func TestOutboxCrashHelper(t *testing.T) {
	point := os.Getenv(crashPointEnv)
	if point == "" {
		return
	}
	ctx := context.Background()
	debtID, err := strconv.ParseInt(os.Getenv(crashDebtEnv), 10, 64)
	require.NoError(t, err)
	docID, err := strconv.ParseInt(os.Getenv(crashDocumentEnv), 10, 64)
	require.NoError(t, err)
	pool, err := db.Open(ctx, os.Getenv("DATABASE_URL"))
	require.NoError(t, err)
	defer pool.Close()
	services, err := config.ParseServices(config.DefaultServices)
	require.NoError(t, err)
	a := &activities.Debts{
		Pool: pool, Mail: mail.NewSender(mail.SMTPConfig{Addr: os.Getenv(crashSMTPEnv), Timeout: time.Minute}),
		Creditor: creditor, Services: services, MailFrom: mailFrom, RetentionYears: 5,
	}
	activities.SetCrashAt(func(p string) {
		if p != point {
			return
		}
		fmt.Println(crashPointLine + p)
		for {
			time.Sleep(time.Hour) // until killed
		}
	})
	err = a.SendNotice(ctx, debtID, docID)
	t.Fatalf("SendNotice returned (%v) without reaching %s", err, point)
}
