package gpd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// RetryPolicy bounds how a client repeats a request that GPD may answer later: after a
// network error, a 5xx or a 429. Every other answer is final.
type RetryPolicy struct {
	Attempts int           // tries in all, the first included; less than 1 means 1
	Initial  time.Duration // wait after the first failure, doubled after each further one
	Max      time.Duration // cap on every wait, Retry-After included
}

// DefaultRetry is the policy of New and NewReceipts: 4 attempts, waiting at most 1.4
// seconds in all unless GPD asks for longer with Retry-After.
var DefaultRetry = RetryPolicy{Attempts: 4, Initial: 200 * time.Millisecond, Max: 5 * time.Second}

// wait returns how long to wait after the n-th failed attempt: Retry-After when the server
// asked for it, else Initial*2^(n-1) with equal jitter (half fixed, half random), so that
// clients failing together do not retry together. Both are capped at Max.
func (p RetryPolicy) wait(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, p.Max)
	}
	d := p.Initial
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// Option configures a client.
type Option func(*conn)

// WithRetry replaces DefaultRetry.
func WithRetry(p RetryPolicy) Option {
	return func(c *conn) { c.retry = p }
}

// conn sends requests to one GPD service with the subscription key, retrying as policy says.
type conn struct {
	baseURL         string
	subscriptionKey string
	http            *http.Client
	retry           RetryPolicy
}

func newConn(baseURL, subscriptionKey string, timeout time.Duration, opts []Option) conn {
	c := conn{baseURL: baseURL, subscriptionKey: subscriptionKey, http: &http.Client{Timeout: timeout}, retry: DefaultRetry}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// json sends in (if not nil) as JSON and decodes a successful answer into out (if not nil).
func (c *conn) json(ctx context.Context, op, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("gpd %s: %w", op, err)
		}
	}
	data, err := c.send(ctx, op, method, path, body, "application/json")
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("gpd %s: decode response: %w", op, err)
	}
	return nil
}

// send makes the request, with the same body on every attempt, and returns the body of a
// 2xx answer. It gives up at once when ctx is done, returning ctx's error with the last one.
func (c *conn) send(ctx context.Context, op, method, path string, body []byte, accept string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, nil)
	if err != nil {
		return nil, fmt.Errorf("gpd %s: %w", op, err)
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", c.subscriptionKey)
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for n := 1; ; n++ {
		data, err := c.try(op, req, body)
		if err == nil {
			return data, nil
		}
		var se *StatusError
		if (errors.As(err, &se) && !se.temporary()) || n >= c.retry.Attempts || ctx.Err() != nil {
			return nil, err
		}
		var retryAfter time.Duration
		if se != nil {
			retryAfter = se.retryAfter
		}
		t := time.NewTimer(c.retry.wait(n, retryAfter))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("gpd %s: %w (last attempt: %w)", op, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// try makes one attempt; a non-2xx answer is a *StatusError.
func (c *conn) try(op string, req *http.Request, body []byte) ([]byte, error) {
	r := req.Clone(req.Context())
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	resp, err := c.http.Do(r)
	if err != nil {
		return nil, fmt.Errorf("gpd %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("gpd %s: read response: %w", op, err)
	}
	if resp.StatusCode >= 300 {
		return nil, statusError(op, resp, data)
	}
	return data, nil
}
