package mailsink_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/mail"
	"incasso/devstack/mailsink"
)

func notice(t *testing.T, id string) []byte {
	t.Helper()
	pdf := append([]byte("%PDF-1.7\n"), make([]byte, 3000)...)
	for i := range pdf[9:] {
		pdf[9+i] = byte(i * 31)
	}
	raw, err := mail.Message{
		From:        `"Comune di Esempio" <tributi@comune.example.it>`,
		To:          "mario.rossi@example.org",
		Subject:     "Avviso di pagamento – TARI più <2026>",
		MessageID:   id,
		Date:        time.Date(2026, time.March, 2, 10, 30, 0, 0, time.UTC),
		Text:        "Gentile contribuente,\nin allegato l'avviso.\n",
		Attachments: []mail.Attachment{{Filename: "avviso.pdf", ContentType: "application/pdf", Data: pdf}},
	}.Bytes()
	require.NoError(t, err)
	return raw
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	sink := mailsink.New()
	addr, err := sink.ListenSMTP(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)
	web := httptest.NewServer(sink.Handler())
	t.Cleanup(web.Close)

	raw := notice(t, "debt-42-notice@incasso.local")
	sender := mail.NewSender(mail.SMTPConfig{Addr: addr.String(), Timeout: 5 * time.Second})
	from, to := "bounce@comune.example.it", []string{"mario.rossi@example.org"}
	sent := make(chan error, 1)
	go func() { sent <- sender.Send(t.Context(), from, to, raw) }()

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	got, err := sink.WaitFor(ctx, func(m mailsink.Message) bool {
		return strings.Contains(string(m.Raw), "<debt-42-notice@incasso.local>")
	})
	require.NoError(t, err)
	require.NoError(t, <-sent)
	require.Equal(t, "Avviso di pagamento – TARI più <2026>", got.Subject)
	require.Equal(t, from, got.From)
	require.Equal(t, to, got.To)
	require.Equal(t, raw, got.Raw)
	require.Equal(t, 1, got.ID)

	resp, body := get(t, web.URL+"/api/messages")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var list []struct {
		ID       int       `json:"id"`
		From     string    `json:"from"`
		To       []string  `json:"to"`
		Subject  string    `json:"subject"`
		Received time.Time `json:"received"`
		Size     int       `json:"size"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list, 1)
	require.Equal(t, got.ID, list[0].ID)
	require.Equal(t, from, list[0].From)
	require.Equal(t, to, list[0].To)
	require.Equal(t, got.Subject, list[0].Subject)
	require.Equal(t, len(raw), list[0].Size)
	require.False(t, list[0].Received.IsZero())

	eml := web.URL + "/messages/" + strconv.Itoa(got.ID)
	resp, body = get(t, eml+".eml")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "message/rfc822", resp.Header.Get("Content-Type"))
	require.Equal(t, raw, body)

	resp, body = get(t, eml)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	page := string(body)
	require.Contains(t, page, "Avviso di pagamento – TARI più &lt;2026&gt;", "decoded and escaped")
	require.Contains(t, page, "Gentile contribuente,")
	require.Contains(t, page, "avviso.pdf")
	require.Contains(t, page, "application/pdf, 3009 bytes")
	require.Contains(t, page, "Message-Id") // header names are canonical

	resp, body = get(t, web.URL+"/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `href="messages/1"`)
	require.Contains(t, string(body), `href="messages/1.eml"`)

	for _, path := range []string{"/messages/2", "/messages/x.eml", "/nope"} {
		resp, _ = get(t, web.URL+path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}

	req, err := http.NewRequest(http.MethodDelete, web.URL+"/api/messages", nil)
	require.NoError(t, err)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Empty(t, sink.Messages())
	_, body = get(t, web.URL+"/api/messages")
	require.JSONEq(t, `[]`, string(body))
}

func TestListNewestFirstAndMessagesOldestFirst(t *testing.T) {
	t.Parallel()
	sink := mailsink.New()
	addr, err := sink.ListenSMTP(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)
	sender := mail.NewSender(mail.SMTPConfig{Addr: addr.String(), Timeout: 5 * time.Second})
	for _, id := range []string{"first@incasso.local", "second@incasso.local"} {
		require.NoError(t, sender.Send(t.Context(), "a@example.org", []string{"b@example.org", "c@example.org"}, notice(t, id)))
	}
	msgs := sink.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, []int{1, 2}, []int{msgs[0].ID, msgs[1].ID})
	require.Equal(t, []string{"b@example.org", "c@example.org"}, msgs[1].To)

	rec := httptest.NewRecorder()
	sink.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	page := rec.Body.String()
	require.Less(t, strings.Index(page, `href="messages/2"`), strings.Index(page, `href="messages/1"`))
}

func TestWaitForGivesUpWithContext(t *testing.T) {
	t.Parallel()
	sink := mailsink.New()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := sink.WaitFor(ctx, func(mailsink.Message) bool { return true })
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestCancelStopsListener(t *testing.T) {
	t.Parallel()
	sink := mailsink.New()
	ctx, cancel := context.WithCancel(t.Context())
	addr, err := sink.ListenSMTP(ctx, "127.0.0.1:0")
	require.NoError(t, err)

	conn, err := net.Dial("tcp", addr.String())
	require.NoError(t, err)
	conn.Close()

	cancel()
	require.Eventually(t, func() bool {
		conn, err := net.DialTimeout("tcp", addr.String(), 100*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err != nil
	}, 2*time.Second, 10*time.Millisecond)
}

// TestDiscardsUnterminatedData checks that a message whose client goes away before the final
// dot is not accepted: a sender relies on it to call off a message at the last moment.
func TestDiscardsUnterminatedData(t *testing.T) {
	t.Parallel()
	sink := mailsink.New()
	addr, err := sink.ListenSMTP(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)
	raw := notice(t, "cut@example.org")
	require.True(t, strings.HasSuffix(string(raw), "\r\n"))

	// session sends the envelope and raw, then tail, and hangs up without waiting.
	session := func(tail string) {
		t.Helper()
		c, err := textproto.Dial("tcp", addr.String())
		require.NoError(t, err)
		defer c.Close()
		_, _, err = c.ReadResponse(220)
		require.NoError(t, err)
		for _, cmd := range []struct {
			line string
			code int
		}{{"EHLO test", 250}, {"MAIL FROM:<a@example.org>", 250}, {"RCPT TO:<b@example.org>", 250}, {"DATA", 354}} {
			id, err := c.Cmd("%s", cmd.line)
			require.NoError(t, err)
			c.StartResponse(id)
			_, _, err = c.ReadResponse(cmd.code)
			c.EndResponse(id)
			require.NoError(t, err, cmd.line)
		}
		w := c.DotWriter()
		_, err = w.Write(raw)
		require.NoError(t, err)
		require.NoError(t, c.W.Flush())
		_, err = c.W.WriteString(tail)
		require.NoError(t, err)
		require.NoError(t, c.W.Flush())
	}

	for i, tail := range []string{"", ".", ".\r"} {
		session(tail)
		require.Eventually(t, func() bool { return sink.Discarded() == i+1 }, 5*time.Second, 5*time.Millisecond,
			"a message cut off after %q is discarded", tail)
		require.Empty(t, sink.Messages())
	}

	// The same bytes with the final dot make a message.
	session(".\r\n")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	msg, err := sink.WaitFor(ctx, func(mailsink.Message) bool { return true })
	require.NoError(t, err)
	require.Equal(t, raw, msg.Raw)
	require.Equal(t, 3, sink.Discarded())
}
