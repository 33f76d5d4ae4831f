package activities_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"incasso/workflows"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"incasso/activities"
	"incasso/clients/mail"
	"incasso/db/dbgen"
)

// deadRelay returns a sender to an address nobody listens on: any attempt to send fails with
// a temporary error, so an activity that succeeds with it did not try.
func deadRelay(t *testing.T) *mail.Sender {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return mail.NewSender(mail.SMTPConfig{Addr: addr, Timeout: 2 * time.Second})
}

// pendingNotice archives the notice of a new debt without sending it: the relay is down.
func (f *fixture) pendingNotice(t *testing.T) (dbgen.DebtPosition, int64, dbgen.Communication) {
	t.Helper()
	d := f.insertDebt(t, nil)
	docID, err := f.debts.RenderNotice(context.Background(), d.ID)
	require.NoError(t, err)
	a := *f.debts
	a.Mail = deadRelay(t)
	_, err = activityEnv(&a).ExecuteActivity(a.SendNotice, d.ID, docID)
	requireRetryable(t, err)
	c := f.communication(t, d.ID)
	require.Equal(t, "PENDING", c.Status)
	return d, docID, c
}

func TestDeliverSentIsNotSentAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.insertDebt(t, nil)
	docID, err := f.debts.RenderNotice(context.Background(), d.ID)
	require.NoError(t, err)
	_, err = f.run(t, f.debts.SendNotice, d.ID, docID)
	require.NoError(t, err)
	require.Equal(t, "SENT", f.communication(t, d.ID).Status)

	_, err = f.run(t, f.debts.SendNotice, d.ID, docID)
	require.NoError(t, err)
	a := *f.debts
	a.Mail = deadRelay(t)
	_, err = activityEnv(&a).ExecuteActivity(a.SendNotice, d.ID, docID)
	require.NoError(t, err, "the relay is not even contacted")
	require.Len(t, f.messagesTo(d.DebtorEmail), 1)
}

func TestDeliverRefusedIsFailed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.insertDebt(t, func(p *dbgen.CreateDebtParams) { p.DebtorEmail = "nobody" + rejectedDomain })
	docID, err := f.debts.RenderNotice(context.Background(), d.ID)
	require.NoError(t, err)

	_, err = f.run(t, f.debts.SendNotice, d.ID, docID)
	requireNonRetryable(t, err, workflows.ErrTypeMailRejected)
	c := f.communication(t, d.ID)
	require.Equal(t, "FAILED", c.Status)
	require.Equal(t, "smtp rcpt 550", c.Failure)
	require.NotContains(t, c.Failure, "nobody")

	// A retry gives the same answer without asking the relay.
	a := *f.debts
	a.Mail = deadRelay(t)
	_, err = activityEnv(&a).ExecuteActivity(a.SendNotice, d.ID, docID)
	requireNonRetryable(t, err, workflows.ErrTypeMailRejected)
	require.NotContains(t, err.Error(), "nobody")
	require.Empty(t, f.sink.Messages())
	require.Equal(t, "FAILED", f.communication(t, d.ID).Status)
}

func TestDeliverSendingBecomesUnconfirmed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d, docID, c := f.pendingNotice(t)
	// An attempt recorded SENDING and died before it knew whether the relay took the message.
	n, err := f.q.MarkCommunicationSending(ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	var logs bytes.Buffer
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(f.debts)
	_, err = env.ExecuteActivity(f.debts.SendNotice, d.ID, docID)
	require.NoError(t, err, "the workflow goes on")
	require.Empty(t, f.sink.Messages(), "not sent again")
	got := f.communication(t, d.ID)
	require.Equal(t, "UNCONFIRMED", got.Status)
	require.False(t, got.SentAt.Valid)
	require.Contains(t, logs.String(), "level=WARN")
	require.Contains(t, logs.String(), fmt.Sprintf("communication_id=%d", c.ID))
	require.NotContains(t, logs.String(), d.DebtorEmail)

	// Further retries leave it to the operator.
	require.NoError(t, f.debts.SendNotice(ctx, d.ID, docID))
	require.Empty(t, f.sink.Messages())
	require.Equal(t, "UNCONFIRMED", f.communication(t, d.ID).Status)
}

// TestDeliverCallsOffWhenAnotherAttemptCommitted has a second attempt (two workers running the
// same activity) record SENDING while the first is about to: the first calls its message off.
// Not parallel: it sets the package's crash hook.
func TestDeliverCallsOffWhenAnotherAttemptCommitted(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d, docID, c := f.pendingNotice(t)
	activities.SetCrashAt(func(point string) {
		if point == "before-commit" {
			n, err := f.q.MarkCommunicationSending(ctx, c.ID)
			require.NoError(t, err)
			require.EqualValues(t, 1, n)
		}
	})
	t.Cleanup(func() { activities.SetCrashAt(nil) })

	_, err := f.run(t, f.debts.SendNotice, d.ID, docID)
	requireRetryable(t, err)
	require.Contains(t, err.Error(), "no longer pending")
	require.Eventually(t, func() bool { return f.sink.Discarded() == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Empty(t, f.sink.Messages())
	require.Equal(t, "SENDING", f.communication(t, d.ID).Status)
}

func TestCommunicationsArchiveIsImmutable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.insertDebt(t, nil)
	docID, err := f.debts.RenderNotice(ctx, d.ID)
	require.NoError(t, err)
	require.NoError(t, f.debts.SendNotice(ctx, d.ID, docID))
	c := f.communication(t, d.ID)
	require.Equal(t, "SENT", c.Status)

	requireRefused := func(t *testing.T, sql string, args ...any) {
		t.Helper()
		_, err := f.pool.Exec(ctx, sql, args...)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, "%v", err)
		require.Equal(t, "23000", pgErr.Code, "integrity_constraint_violation: %v", err)
	}
	requireRefused(t, `UPDATE communications SET raw = $2 WHERE id = $1`, c.ID, []byte("altered"))
	requireRefused(t, `UPDATE communications SET subject = 'altered', sha256 = $2 WHERE id = $1`, c.ID, make([]byte, 32))
	requireRefused(t, `UPDATE communications SET retention_until = current_date - 1 WHERE id = $1`, c.ID)
	requireRefused(t, `UPDATE communications SET status = 'PENDING' WHERE id = $1`, c.ID)
	requireRefused(t, `DELETE FROM communications WHERE id = $1`, c.ID)
	got := f.communication(t, d.ID)
	require.Equal(t, c.Raw, got.Raw)
	require.Equal(t, "SENT", got.Status)

	// A message whose retention has expired may go.
	require.NoError(t, f.q.InsertCommunication(ctx, dbgen.InsertCommunicationParams{
		DebtID: d.ID, DedupeKey: "expired", Kind: "notice", Channel: "email", Recipient: d.DebtorEmail, Subject: "old",
		MessageID: "old@example.it", Raw: []byte("old"), Sha256: make([]byte, 32), Sender: mailFrom, Status: "SENT",
		RetentionUntil: time.Now().AddDate(0, 0, -2),
	}))
	tag, err := f.pool.Exec(ctx, `DELETE FROM communications WHERE dedupe_key = 'expired'`)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
}
