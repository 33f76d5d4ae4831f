package gpd_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/gpd"
)

// fast retries without waiting to speak of, for the tests of WithRetry.
var fast = gpd.WithRetry(gpd.RetryPolicy{Attempts: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond})

// answer is one scripted response.
type answer struct {
	status     int
	retryAfter string
	body       string
	hangUp     bool // close the connection without answering
}

// script answers requests with its answers in turn, repeating the last, and records them.
type script struct {
	mu       sync.Mutex
	answers  []answer
	requests []recorded
	seen     chan struct{} // receives after each request, if not nil
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	a := s.answers[min(len(s.requests), len(s.answers)-1)]
	s.requests = append(s.requests, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), b})
	s.mu.Unlock()
	if s.seen != nil {
		s.seen <- struct{}{}
	}
	if a.hangUp {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func (s *script) Requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.requests...)
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// operation is one of the client's operations, with the status and body of its success.
type operation struct {
	name   string
	status int
	body   string
	call   func(*gpd.Client, *gpd.Receipts) error
}

// operations are all the client's operations on pos.
func operations(ctx context.Context, pos gpd.Position) []operation {
	return []operation{
		{"create", http.StatusCreated, `{}`, func(c *gpd.Client, _ *gpd.Receipts) error { return c.CreateAndPublish(ctx, testOrg, pos) }},
		{"get", http.StatusOK, `{"iupd":"` + pos.IUPD + `"}`, func(c *gpd.Client, _ *gpd.Receipts) error { _, err := c.Get(ctx, testOrg, pos.IUPD); return err }},
		{"update", http.StatusOK, `{}`, func(c *gpd.Client, _ *gpd.Receipts) error { return c.Update(ctx, testOrg, pos) }},
		{"invalidate", http.StatusOK, `{}`, func(c *gpd.Client, _ *gpd.Receipts) error { return c.Invalidate(ctx, testOrg, pos.IUPD) }},
		{"mark paid", http.StatusOK, `{}`, func(c *gpd.Client, _ *gpd.Receipts) error {
			return c.MarkPaid(ctx, testOrg, "3"+pos.PaymentOptions[0].IUV, gpd.Paid{Date: time.Now(), Method: "SDD"})
		}},
		{"get receipt", http.StatusOK, `<xml/>`, func(_ *gpd.Client, r *gpd.Receipts) error {
			_, err := r.GetReceipt(ctx, testOrg, pos.PaymentOptions[0].IUV)
			return err
		}},
	}
}

// TestEveryOperationMakesOneAttempt runs each operation, with the default options of the
// activities' clients, against 503 then success: one request, and a temporary error for the
// activity's retry policy to retry.
func TestEveryOperationMakesOneAttempt(t *testing.T) {
	t.Parallel()
	for _, op := range operations(context.Background(), samplePosition(t, "IUPD-ONCE", 5)) {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			s := &script{answers: []answer{{status: 503}, {status: op.status, body: op.body}}}
			url := serve(t, s)
			err := op.call(gpd.New(url, testKey, time.Second), gpd.NewReceipts(url, testKey, time.Second))
			var se *gpd.StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, http.StatusServiceUnavailable, se.Status)
			require.True(t, se.Temporary())
			require.NotErrorIs(t, err, gpd.ErrRejected)
			require.Len(t, s.Requests(), 1, "not retried in the process")
		})
	}
}

// A network error and a 429 are temporary too, and not retried by default.
func TestOneAttemptOnNetworkErrorsAnd429(t *testing.T) {
	t.Parallel()
	for _, a := range []answer{{hangUp: true}, {status: http.StatusTooManyRequests, retryAfter: "7"}} {
		s := &script{answers: []answer{a, {status: http.StatusOK, body: `{}`}}}
		_, err := gpd.New(serve(t, s), testKey, time.Second).Get(context.Background(), testOrg, "X")
		var se *gpd.StatusError
		require.ErrorAs(t, err, &se)
		require.True(t, se.Temporary(), "%v", err)
		require.Equal(t, "get position", se.Op)
		require.Len(t, s.Requests(), 1)
		if a.retryAfter != "" {
			require.Equal(t, 7*time.Second, se.RetryAfter, "the wait GPD asked for is kept")
		}
	}
}

// TestEveryOperationRetriesWithTheOption runs each operation, with WithRetry, against 503,
// 503 then success: it succeeds with three identical requests.
func TestEveryOperationRetriesWithTheOption(t *testing.T) {
	t.Parallel()
	for _, op := range operations(context.Background(), samplePosition(t, "IUPD-RETRY", 6)) {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			s := &script{answers: []answer{{status: 503}, {status: 503}, {status: op.status, body: op.body}}}
			url := serve(t, s)
			require.NoError(t, op.call(gpd.New(url, testKey, time.Second, fast), gpd.NewReceipts(url, testKey, time.Second, fast)))
			reqs := s.Requests()
			require.Len(t, reqs, 3)
			for _, r := range reqs[1:] {
				require.Equal(t, reqs[0], r, "a retry repeats the request exactly, body included")
			}
		})
	}
}

func TestRetryGivesUpAfterAttempts(t *testing.T) {
	t.Parallel()
	s := &script{answers: []answer{{status: http.StatusBadGateway, body: `{"title":"Bad Gateway"}`}}}
	c := gpd.New(serve(t, s), testKey, time.Second, fast)
	_, err := c.Get(context.Background(), testOrg, "X")
	var se *gpd.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusBadGateway, se.Status)
	require.Len(t, s.Requests(), 4)
}

func TestRetryStopsAtFinalAnswers(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			s := &script{answers: []answer{{status: status}, {status: http.StatusOK, body: `{}`}}}
			c := gpd.New(serve(t, s), testKey, time.Second, fast)
			_, err := c.Get(context.Background(), testOrg, "X")
			require.Error(t, err)
			require.Len(t, s.Requests(), 1, "not retried")
		})
	}
}

// A create whose first attempt reached GPD but whose answer was lost meets 409 on retry:
// the caller gets ErrConflict and reads the position back.
func TestRetriedCreateConflicts(t *testing.T) {
	t.Parallel()
	s := &script{answers: []answer{{status: http.StatusServiceUnavailable}, {status: http.StatusConflict, body: `{"title":"Conflict"}`}}}
	c := gpd.New(serve(t, s), testKey, time.Second, fast)
	err := c.CreateAndPublish(context.Background(), testOrg, samplePosition(t, "IUPD-LOST", 7))
	require.ErrorIs(t, err, gpd.ErrConflict)
	require.Len(t, s.Requests(), 2)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	s := &script{answers: []answer{{status: http.StatusTooManyRequests, retryAfter: "1"}, {status: http.StatusOK, body: `{}`}}}
	c := gpd.New(serve(t, s), testKey, time.Second,
		gpd.WithRetry(gpd.RetryPolicy{Attempts: 2, Initial: time.Millisecond, Max: 3 * time.Second}))
	start := time.Now()
	_, err := c.Get(context.Background(), testOrg, "X")
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), time.Second, "waited as Retry-After asked")
	require.Len(t, s.Requests(), 2)
}

func TestRetryAfterIsCapped(t *testing.T) {
	t.Parallel()
	s := &script{answers: []answer{{status: http.StatusServiceUnavailable, retryAfter: "3600"}, {status: http.StatusOK, body: `{}`}}}
	c := gpd.New(serve(t, s), testKey, time.Second,
		gpd.WithRetry(gpd.RetryPolicy{Attempts: 2, Initial: time.Millisecond, Max: 20 * time.Millisecond}))
	start := time.Now()
	_, err := c.Get(context.Background(), testOrg, "X")
	require.NoError(t, err)
	require.Less(t, time.Since(start), 2*time.Second, "Retry-After is capped at Max")
}

func TestRetryNetworkErrors(t *testing.T) {
	t.Parallel()
	s := &script{answers: []answer{{hangUp: true}, {status: http.StatusCreated, body: `{}`}}}
	c := gpd.New(serve(t, s), testKey, time.Second, fast)
	require.NoError(t, c.CreateAndPublish(context.Background(), testOrg, samplePosition(t, "IUPD-HANGUP", 8)))
	reqs := s.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, reqs[0].Body, reqs[1].Body)
}

func TestRetryStopsWhenContextIsDone(t *testing.T) {
	t.Parallel()
	s := &script{answers: []answer{{status: http.StatusServiceUnavailable}}, seen: make(chan struct{}, 10)}
	c := gpd.New(serve(t, s), testKey, time.Second,
		gpd.WithRetry(gpd.RetryPolicy{Attempts: 10, Initial: time.Minute, Max: time.Minute}))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-s.seen
		time.Sleep(100 * time.Millisecond) // the client has the answer and waits to retry
		cancel()
	}()
	start := time.Now()
	_, err := c.Get(ctx, testOrg, "X")
	require.Less(t, time.Since(start), 5*time.Second, "did not wait for the next attempt")
	require.ErrorIs(t, err, context.Canceled)
	var se *gpd.StatusError
	require.ErrorAs(t, err, &se, "the last answer is kept")
	require.Equal(t, http.StatusServiceUnavailable, se.Status)
	require.Len(t, s.Requests(), 1)

	// A context already done sends nothing more.
	_, err = c.Get(ctx, testOrg, "X")
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
	require.Len(t, s.Requests(), 1)
}
