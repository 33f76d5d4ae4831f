package mailsink_test

import (
	"context"
	"net/textproto"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/mail"
	"incasso/devstack/mailsink"
)

// TestDropConnections: an open session is cut, new connections are closed before the
// greeting while the fault lasts, and the sink takes mail again after it.
func TestDropConnections(t *testing.T) {
	t.Parallel()
	sink := mailsink.New()
	addr, err := sink.ListenSMTP(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)

	open, err := textproto.Dial("tcp", addr.String())
	require.NoError(t, err)
	defer open.Close()
	_, _, err = open.ReadResponse(220)
	require.NoError(t, err)
	require.NoError(t, open.PrintfLine("EHLO test"))
	_, _, err = open.ReadResponse(250)
	require.NoError(t, err)

	sink.DropConnections(300 * time.Millisecond)
	require.NoError(t, open.PrintfLine("MAIL FROM:<a@example.org>")) // the write may still go out
	_, _, err = open.ReadResponse(250)
	require.Error(t, err, "the open session is cut")

	sender := mail.NewSender(mail.SMTPConfig{Addr: addr.String(), Timeout: 2 * time.Second})
	raw := notice(t, "dropped@example.org")
	to := []string{"mario.rossi@example.org"}
	require.Error(t, sender.Send(t.Context(), "bounce@example.org", to, raw), "no greeting while dropping")
	require.Equal(t, 2, sink.Dropped())
	require.Empty(t, sink.Messages())

	time.Sleep(350 * time.Millisecond)
	require.NoError(t, sender.Send(t.Context(), "bounce@example.org", to, raw))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	msg, err := sink.WaitFor(ctx, func(mailsink.Message) bool { return true })
	require.NoError(t, err)
	require.Equal(t, raw, msg.Raw)
	require.Equal(t, 2, sink.Dropped())
}
