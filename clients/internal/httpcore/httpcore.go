// Package httpcore is how incasso's HTTP clients (GPD, the bank) call their service: the
// request with the service's key, a timeout on each attempt, an answer read up to a bound,
// and every failure as one *Error that says the status, the operation and whether the same
// call may succeed later, and never repeats what the service said.
//
// A call makes ONE attempt. Under Temporal the activity's retry policy is what retries, so
// that each attempt shows in the workflow history; a caller outside an activity that wants
// the client itself to try again asks for it with WithRetry.
package httpcore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Config describes one service.
type Config struct {
	Service   string        // names the service in errors: "gpd", "bank"
	BaseURL   string        // the paths of the calls are appended to it
	KeyHeader string        // the header that carries Key on every request; none when empty
	Key       string        // e.g. the subscription key, or "Bearer " + the API key
	Timeout   time.Duration // bounds each attempt, the upload of the body and the answer included
	MaxAnswer int64         // how much of an answer is read; a longer success is an error
	// Kind is what a status other than success means to the service (one of its sentinel
	// errors, which errors.Is then matches), nil for nothing in particular.
	Kind func(status int) error
	// Message is what the service said in the body of an answer other than success.
	Message func(body []byte) string
	// Retry is how many attempts a call makes, and how far apart; the zero value is one.
	Retry Policy
	// Transport makes the requests (http.DefaultTransport when nil): where they are measured.
	Transport http.RoundTripper
}

// Option changes a Config.
type Option func(*Config)

// WithRetry makes every call try up to p.Attempts times while the failure is temporary.
// Not for activities: their retry policy retries, visibly.
func WithRetry(p Policy) Option {
	return func(c *Config) { c.Retry = p }
}

// WithTransport makes the requests through rt, e.g. one that measures them.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *Config) { c.Transport = rt }
}

// Client calls one service. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a client of the service cfg describes, as opts change it.
func New(cfg Config, opts ...Option) *Client {
	for _, o := range opts {
		o(&cfg)
	}
	return &Client{cfg: cfg, http: &http.Client{Timeout: cfg.Timeout, Transport: cfg.Transport}}
}

// Call is one operation of the service.
type Call struct {
	Op     string      // what the call does, in its errors: "get position", "submit MSG-1"
	Method string      // http.MethodGet...
	Path   string      // after BaseURL, escaped, with its query
	Header http.Header // Accept, Content-Type and the like
	// Body, if not nil, returns the body of an attempt; every reader it returns yields the
	// same Size bytes (-1: unknown, sent chunked).
	Body func() io.Reader
	Size int64
	// Once says the body can be read only once: one attempt whatever Retry says, and the
	// transport cannot replay it on a stale connection.
	Once bool
	// Success says which statuses are a success; nil means any 2xx.
	Success func(status int) bool
}

// Answer is a successful answer.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte // at most Config.MaxAnswer bytes
}

// Do makes the call, again while the failure is temporary and Retry allows, and returns the
// answer of a success. Any other outcome is an *Error; when ctx ends while waiting for the
// next attempt, ctx's error wrapped with the last *Error.
func (c *Client) Do(ctx context.Context, call Call) (Answer, error) {
	attempts := max(c.cfg.Retry.Attempts, 1)
	if call.Once {
		attempts = 1
	}
	for n := 1; ; n++ {
		a, err := c.attempt(ctx, call)
		var e *Error
		if err == nil || n >= attempts || !errors.As(err, &e) || !e.Temporary() || ctx.Err() != nil {
			return a, err
		}
		t := time.NewTimer(c.cfg.Retry.Wait(n, e.RetryAfter))
		select {
		case <-ctx.Done():
			t.Stop()
			return Answer{}, fmt.Errorf("%s %s: %w (last attempt: %w)", c.cfg.Service, call.Op, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// attempt makes the call once.
func (c *Client) attempt(ctx context.Context, call Call) (Answer, error) {
	req, err := http.NewRequestWithContext(ctx, call.Method, c.cfg.BaseURL+call.Path, nil)
	if err != nil {
		return Answer{}, fmt.Errorf("%s %s: %w", c.cfg.Service, call.Op, err)
	}
	if c.cfg.KeyHeader != "" {
		req.Header.Set(c.cfg.KeyHeader, c.cfg.Key)
	}
	for k, vs := range call.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if call.Body != nil {
		req.Body, req.ContentLength = io.NopCloser(call.Body()), call.Size
		if !call.Once {
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(call.Body()), nil }
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Answer{}, c.error(call.Op, 0, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxAnswer+1))
	if err != nil {
		return Answer{}, c.error(call.Op, 0, fmt.Errorf("read answer: %w", err))
	}
	success := call.Success
	if success == nil {
		success = func(status int) bool { return status >= 200 && status < 300 }
	}
	if !success(resp.StatusCode) {
		e := c.error(call.Op, resp.StatusCode, nil)
		e.RetryAfter = retryAfter(resp)
		if c.cfg.Kind != nil {
			e.Kind = c.cfg.Kind(resp.StatusCode)
		}
		if c.cfg.Message != nil {
			e.Message = c.cfg.Message(data)
		}
		return Answer{}, e
	}
	if int64(len(data)) > c.cfg.MaxAnswer {
		return Answer{}, c.error(call.Op, resp.StatusCode, fmt.Errorf("answer larger than %d bytes", c.cfg.MaxAnswer))
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

func (c *Client) error(op string, status int, err error) *Error {
	return &Error{Service: c.cfg.Service, Op: op, Status: status, Err: err}
}
