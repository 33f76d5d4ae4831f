package mail_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/textproto"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/mail"
	"incasso/devstack/mailsink"
)

// startSink serves a mailsink on a free local port until the test ends.
func startSink(t *testing.T, sink *mailsink.Sink) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	addr, err := sink.ListenSMTP(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	return addr.String()
}

func rawSample(t *testing.T) []byte {
	t.Helper()
	raw, err := sample().Bytes()
	require.NoError(t, err)
	return raw
}

func TestSendWithAuth(t *testing.T) {
	t.Parallel()
	sink := mailsink.New()
	sender := mail.NewSender(mail.SMTPConfig{
		Addr: startSink(t, sink), Username: "incasso", Password: "secret",
		Timeout: 5 * time.Second, HeloName: "incasso.test",
	})
	raw := rawSample(t)
	require.NoError(t, sender.Send(t.Context(), "bounce@comune.example.it", []string{"mario.rossi@example.org"}, raw))
	msgs := sink.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, raw, msgs[0].Raw)
}

func TestSendToClosedPortFailsFast(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	start := time.Now()
	err = mail.NewSender(mail.SMTPConfig{Addr: addr}).Send(t.Context(), "a@example.org", []string{"b@example.org"}, rawSample(t))
	require.Error(t, err)
	require.Less(t, time.Since(start), 2*time.Second)
	var e *mail.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "dial", e.Step)
	require.False(t, mail.IsPermanent(err))
}

func TestSendRejectedRecipientIsPermanent(t *testing.T) {
	t.Parallel()
	sink := mailsink.New()
	sink.RejectRecipient = func(addr string) bool { return addr == "nobody@example.org" }
	sender := mail.NewSender(mail.SMTPConfig{Addr: startSink(t, sink), Timeout: 5 * time.Second})

	err := sender.Send(t.Context(), "a@example.org", []string{"nobody@example.org"}, rawSample(t))
	require.Error(t, err)
	require.True(t, mail.IsPermanent(err))
	var e *mail.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "rcpt", e.Step)
	require.Equal(t, 550, e.Code)
	require.NotContains(t, err.Error(), "nobody")
	var reply *textproto.Error
	require.ErrorAs(t, err, &reply, "the server's reply stays reachable")
	require.Empty(t, sink.Messages())

	require.False(t, mail.IsPermanent(errors.New("550 lookalike")))
	require.False(t, mail.IsPermanent(nil))
}

func TestSendRequiresStartTLSWhenConfigured(t *testing.T) {
	t.Parallel()
	sink := mailsink.New() // offers no STARTTLS
	sender := mail.NewSender(mail.SMTPConfig{Addr: startSink(t, sink), StartTLS: true, Timeout: 5 * time.Second})
	err := sender.Send(t.Context(), "a@example.org", []string{"b@example.org"}, rawSample(t))
	var e *mail.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "starttls", e.Step)
	require.Empty(t, sink.Messages())
}

func TestSendHonoursContext(t *testing.T) {
	t.Parallel()
	// A server that accepts connections and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); _ = c.Close() }()
		}
	}()
	sender := mail.NewSender(mail.SMTPConfig{Addr: l.Addr().String()})

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = sender.Send(ctx, "a@example.org", []string{"b@example.org"}, rawSample(t))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)

	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	err = sender.Send(ctx, "a@example.org", []string{"b@example.org"}, rawSample(t))
	require.ErrorIs(t, err, context.Canceled)

	sender = mail.NewSender(mail.SMTPConfig{Addr: l.Addr().String(), Timeout: 100 * time.Millisecond})
	err = sender.Send(t.Context(), "a@example.org", []string{"b@example.org"}, rawSample(t))
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
