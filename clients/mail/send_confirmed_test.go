package mail_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/mail"
	"incasso/devstack/mailsink"
)

func TestSendConfirmedCommitsBeforeTheServerAccepts(t *testing.T) {
	t.Parallel()
	sink := mailsink.New()
	sender := mail.NewSender(mail.SMTPConfig{Addr: startSink(t, sink), Timeout: 5 * time.Second})
	raw := rawSample(t)

	commits := 0
	err := sender.SendConfirmed(t.Context(), "a@example.org", []string{"b@example.org"}, raw, func() error {
		commits++
		// Had the final dot gone out already, the message would show up within this wait.
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		_, err := sink.WaitFor(ctx, func(mailsink.Message) bool { return true })
		require.ErrorIs(t, err, context.DeadlineExceeded, "the server has not accepted the message while commit runs")
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, commits)
	msgs := sink.Messages()
	require.Len(t, msgs, 1, "accepted once commit returned nil")
	require.Equal(t, raw, msgs[0].Raw)
	require.Zero(t, sink.Discarded())
}

func TestSendConfirmedCommitErrorCallsTheMessageOff(t *testing.T) {
	t.Parallel()
	sink := mailsink.New()
	sender := mail.NewSender(mail.SMTPConfig{Addr: startSink(t, sink), Timeout: 5 * time.Second})
	errCommit := errors.New("commit failed")

	err := sender.SendConfirmed(t.Context(), "a@example.org", []string{"b@example.org"}, rawSample(t), func() error { return errCommit })
	require.Same(t, errCommit, err, "commit's error comes back as it is")
	require.False(t, mail.IsPermanent(err))
	// The server got the data without its final dot, and threw it away.
	require.Eventually(t, func() bool { return sink.Discarded() == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Empty(t, sink.Messages())
}

func TestSendConfirmedNoCommitWithoutData(t *testing.T) {
	t.Parallel()
	sink := mailsink.New()
	sink.RejectRecipient = func(string) bool { return true }
	sender := mail.NewSender(mail.SMTPConfig{Addr: startSink(t, sink), Timeout: 5 * time.Second})
	called := false
	err := sender.SendConfirmed(t.Context(), "a@example.org", []string{"b@example.org"}, rawSample(t), func() error { called = true; return nil })
	require.True(t, mail.IsPermanent(err))
	require.False(t, called, "a session that fails before the data commits nothing")
}

// TestSendConfirmedCommitSeesTheWholeBody checks, on a server that records the bytes it gets,
// that when commit runs the body has reached the server and the final dot has not.
func TestSendConfirmedCommitSeesTheWholeBody(t *testing.T) {
	t.Parallel()
	srv := startRecorder(t)
	raw := rawSample(t)
	require.Greater(t, len(raw), 4096, "larger than the writer's buffer")
	sender := mail.NewSender(mail.SMTPConfig{Addr: srv.addr, Timeout: 5 * time.Second})

	err := sender.SendConfirmed(t.Context(), "a@example.org", []string{"b@example.org"}, raw, func() error {
		require.Eventually(t, func() bool { return bytes.HasSuffix(srv.received(), raw) }, 5*time.Second, 5*time.Millisecond,
			"the whole body is at the server")
		time.Sleep(50 * time.Millisecond)
		require.True(t, bytes.HasSuffix(srv.received(), raw), "and nothing after it")
		return nil
	})
	require.NoError(t, err)
	require.True(t, bytes.HasSuffix(srv.received(), append(raw, ".\r\n"...)), "the dot came after commit")
}

// recorder is a minimal SMTP server that accepts one message per connection and records
// every byte of its data, the final dot included.
type recorder struct {
	addr string
	mu   sync.Mutex
	data []byte
}

func (r *recorder) received() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.data)
}

func startRecorder(t *testing.T) *recorder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	r := &recorder{addr: l.Addr().String()}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go r.serve(conn)
		}
	}()
	return r
}

func (r *recorder) serve(conn net.Conn) {
	defer conn.Close()
	c := textproto.NewConn(conn)
	_ = c.PrintfLine("220 recorder")
	for {
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		switch verb, _, _ := strings.Cut(strings.ToUpper(line), " "); verb {
		case "EHLO", "HELO", "MAIL", "RCPT":
			_ = c.PrintfLine("250 ok")
		case "DATA":
			_ = c.PrintfLine("354 go ahead")
			if !r.readData(c.R) {
				return
			}
			_ = c.PrintfLine("250 accepted")
		case "QUIT":
			_ = c.PrintfLine("221 bye")
			return
		default:
			_ = c.PrintfLine("502 unknown")
		}
	}
}

// readData records the data as it arrives, byte by byte, up to the final dot line.
func (r *recorder) readData(br *bufio.Reader) bool {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return false
		}
		r.mu.Lock()
		r.data = append(r.data, b)
		done := bytes.HasSuffix(r.data, []byte("\r\n.\r\n"))
		r.mu.Unlock()
		if done {
			return true
		}
	}
}
