package gpd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"incasso/clients/internal/backoff"
)

// RetryPolicy bounds how the client repeats a request GPD may answer later.
type RetryPolicy = backoff.Policy

// DefaultRetry: 4 attempts, waiting at most 1.4 seconds in all unless GPD asks for longer.
var DefaultRetry = backoff.Default

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
		t := time.NewTimer(c.retry.Wait(n, retryAfter))
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
