package gpd

import (
	"context"
	"net/http"
	"time"

	"incasso/clients/internal/httpcore"
)

// maxAnswer bounds what is read of an answer: a position with its options, or a receipt.
const maxAnswer = 4 << 20

// RetryPolicy bounds how the client repeats a request GPD may answer later. The client makes
// one attempt unless WithRetry says otherwise.
type RetryPolicy = httpcore.Policy

// Option configures a client.
type Option = httpcore.Option

// WithRetry makes the client repeat a request that failed temporarily (a network error, a
// 5xx or a 429) as p says. Not for the clients of activities, whose retry policy retries.
func WithRetry(p RetryPolicy) Option { return httpcore.WithRetry(p) }

// WithTransport makes the requests through rt, e.g. one that measures them.
func WithTransport(rt http.RoundTripper) Option { return httpcore.WithTransport(rt) }

// conn sends requests to one GPD service with the subscription key.
type conn struct {
	core *httpcore.Client
}

func newConn(baseURL, subscriptionKey string, timeout time.Duration, opts []Option) conn {
	return conn{core: httpcore.New(httpcore.Config{
		Service: "gpd", BaseURL: baseURL, KeyHeader: "Ocp-Apim-Subscription-Key", Key: subscriptionKey,
		Timeout: timeout, MaxAnswer: maxAnswer, Kind: kind, Message: problemTitle,
	}, opts...)}
}

// json sends in (if not nil) as JSON and decodes a successful answer into out (if not nil).
func (c *conn) json(ctx context.Context, op, method, path string, in, out any) error {
	return c.core.DoJSON(ctx, httpcore.Call{Op: op, Method: method, Path: path}, in, out)
}

// get returns the body of a successful answer to a GET of path.
func (c *conn) get(ctx context.Context, op, path, accept string) ([]byte, error) {
	a, err := c.core.Do(ctx, httpcore.Call{Op: op, Method: http.MethodGet, Path: path, Header: http.Header{"Accept": {accept}}})
	return a.Body, err
}
