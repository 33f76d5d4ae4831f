package httpcore

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var errTeapot = errors.New("a teapot")

// service answers with status and body, and counts the requests and their bodies.
func service(t *testing.T, status int, body string, opts ...Option) (*Client, *atomic.Int64, *atomic.Value) {
	t.Helper()
	var n atomic.Int64
	var first atomic.Value // the key and the body of the first request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if n.Add(1) == 1 {
			first.Store(r.Header.Get("X-Key") + " " + string(b))
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c := New(Config{
		Service: "svc", BaseURL: srv.URL, KeyHeader: "X-Key", Key: "secret", Timeout: time.Second, MaxAnswer: 16,
		Kind: func(status int) error {
			if status == http.StatusTeapot {
				return errTeapot
			}
			return nil
		},
		Message: func(b []byte) string { return string(b) },
	}, opts...)
	return c, &n, &first
}

func TestOneAttemptUnlessRetryIsAsked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	body := func() io.Reader { return strings.NewReader("payload") }
	c, n, first := service(t, http.StatusBadGateway, "")
	_, err := c.Do(ctx, Call{Op: "op", Method: http.MethodPost, Path: "/x", Body: body, Size: 7})
	var e *Error
	require.ErrorAs(t, err, &e)
	require.True(t, e.Temporary())
	require.EqualValues(t, 1, n.Load())
	require.Equal(t, "secret payload", first.Load(), "the key and the body are sent")

	fast := WithRetry(Policy{Attempts: 3, Initial: time.Millisecond, Max: time.Millisecond})
	c, n, _ = service(t, http.StatusBadGateway, "", fast)
	_, err = c.Do(ctx, Call{Op: "op", Method: http.MethodPost, Path: "/x", Body: body, Size: 7})
	require.ErrorAs(t, err, &e)
	require.EqualValues(t, 3, n.Load(), "Attempts")

	c, n, _ = service(t, http.StatusBadGateway, "", fast)
	_, err = c.Do(ctx, Call{Op: "op", Method: http.MethodPost, Path: "/x", Body: body, Size: -1, Once: true})
	require.ErrorAs(t, err, &e)
	require.EqualValues(t, 1, n.Load(), "a body read once is sent once")

	c, n, _ = service(t, http.StatusTeapot, "", fast)
	_, err = c.Do(ctx, Call{Op: "op", Method: http.MethodGet, Path: "/x"})
	require.ErrorIs(t, err, errTeapot)
	require.EqualValues(t, 1, n.Load(), "a final answer is not retried")
}

func TestAnswersAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _, _ := service(t, http.StatusOK, strings.Repeat("x", 16))
	a, err := c.Do(ctx, Call{Op: "op", Method: http.MethodGet, Path: "/x"})
	require.NoError(t, err)
	require.Len(t, a.Body, 16)

	c, _, _ = service(t, http.StatusOK, strings.Repeat("x", 17))
	_, err = c.Do(ctx, Call{Op: "op", Method: http.MethodGet, Path: "/x"})
	require.ErrorContains(t, err, "svc op: HTTP 200: answer larger than 16 bytes")
}

// The text of an error names the service, the operation, the status and its kind: not what
// the service said, nor the URL with its query.
func TestErrorsDoNotEcho(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _, _ := service(t, http.StatusTeapot, "Mario Rossi")
	_, err := c.Do(ctx, Call{Op: "op", Method: http.MethodGet, Path: "/x?fiscalCode=RSSMRA85T10A562S"})
	require.EqualError(t, err, "svc op: HTTP 418: a teapot")
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "Mario Rossi", e.Message)
	require.False(t, e.Temporary())

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c = New(Config{Service: "svc", BaseURL: dead.URL, Timeout: time.Second, MaxAnswer: 16})
	_, err = c.Do(ctx, Call{Op: "op", Method: http.MethodGet, Path: "/x?fiscalCode=RSSMRA85T10A562S"})
	require.ErrorAs(t, err, &e)
	require.Zero(t, e.Status)
	require.True(t, e.Temporary())
	require.NotContains(t, err.Error(), "RSSMRA85T10A562S")
	require.Contains(t, err.Error(), "svc op: ")
}
