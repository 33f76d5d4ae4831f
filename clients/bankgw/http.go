package bankgw

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"incasso/clients/internal/httpcore"
)

// maxAnswer bounds what is read of an answer: a pain.002 listing every transaction of the
// largest file, or a page of notifications.
const maxAnswer = 256 << 20

// HTTP is the Gateway of a bank speaking a generic corporate-banking REST API, the one
// package banksim simulates:
//
//	POST /bank/sdd/files                     the pain.008 (header X-Message-Id: its MsgId):
//	                                         202 new, 200 the same file again, 409 the MsgId
//	                                         with other content, 400 or 413 refused
//	GET  /bank/sdd/reports/{msgId}           200 the pain.002, 202 not ready (Retry-After), 404 unknown
//	GET  /bank/notifications?after=&limit=   200 {"notifications":[{"id":"...","xml":"<base64>"}]}
//	GET  /bank/statements?after=&limit=      200 {"statements":[{"id":"...","xml":"<base64>"}]}
//
// Every request carries "Authorization: Bearer <apiKey>"; errors carry {"error":"..."}. Each
// call makes one attempt: a network error, a 5xx or a 429 is a StatusError that is
// Temporary, for the caller to retry (an activity's retry policy does, visibly in the
// workflow history), unless WithRetry makes the gateway try again itself; every other answer
// is final. HTTP is safe for concurrent use.
type HTTP struct {
	core *httpcore.Client
}

// RetryPolicy bounds how the gateway repeats a request the bank may answer later. The
// gateway makes one attempt unless WithRetry says otherwise.
type RetryPolicy = httpcore.Policy

// Option configures an HTTP gateway.
type Option = httpcore.Option

// WithRetry makes the gateway repeat a request that failed temporarily as p says. Not for
// the gateway of activities, whose retry policy retries.
func WithRetry(p RetryPolicy) Option { return httpcore.WithRetry(p) }

// WithTransport makes the requests through rt, e.g. one that measures them.
func WithTransport(rt http.RoundTripper) Option { return httpcore.WithTransport(rt) }

// NewHTTP returns the gateway of the bank at baseURL (without a trailing slash). timeout
// bounds each attempt, the upload of the file included: choose it for the largest file.
func NewHTTP(baseURL, apiKey string, timeout time.Duration, opts ...Option) *HTTP {
	return &HTTP{core: httpcore.New(httpcore.Config{
		Service: "bank", BaseURL: baseURL, KeyHeader: "Authorization", Key: "Bearer " + apiKey,
		Timeout: timeout, MaxAnswer: maxAnswer, Kind: kind, Message: message,
	}, opts...)}
}

// rereadable is a file Submit can send again: each attempt reads it with its own
// io.SectionReader, so an abandoned attempt still being written cannot disturb the next.
type rereadable interface {
	io.ReaderAt
	io.Seeker
}

// Submit streams file to the bank, with X-Message-Id: msgID so that the bank refuses a file
// whose MsgId is another (ErrRejected).
//
// A file that is an io.ReaderAt and an io.Seeker, such as *os.File, *bytes.Reader or
// *strings.Reader, is sent from its current offset to its end, with a Content-Length, and
// its offset is left at the end; the transport may send it again on a stale connection, and
// so may WithRetry. Any other reader is sent once, chunked, and a failure is returned as it
// is: submit again with a fresh reader, which the bank's idempotency on the MsgId makes
// safe. Submit never closes file.
func (c *HTTP) Submit(ctx context.Context, msgID string, file io.Reader) error {
	call := httpcore.Call{
		Op: "submit " + msgID, Method: http.MethodPost, Path: "/bank/sdd/files",
		Header: http.Header{"Content-Type": {"application/xml"}, "X-Message-Id": {msgID}},
		Body:   func() io.Reader { return file }, Size: -1, Once: true,
	}
	if f, ok := file.(rereadable); ok {
		start, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return fmt.Errorf("bank %s: %w", call.Op, err)
		}
		end, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return fmt.Errorf("bank %s: %w", call.Op, err)
		}
		size := end - start
		call.Body, call.Size, call.Once = func() io.Reader { return io.NewSectionReader(f, start, size) }, size, false
	}
	_, err := c.core.Do(ctx, call)
	return err
}

// StatusReport returns the pain.002 of the file msgID; ErrNotReady while the bank has none
// yet, ErrNotFound for a file it does not know.
func (c *HTTP) StatusReport(ctx context.Context, msgID string) ([]byte, error) {
	a, err := c.core.Do(ctx, httpcore.Call{
		Op: "status report " + msgID, Method: http.MethodGet, Path: "/bank/sdd/reports/" + url.PathEscape(msgID),
		Header:  http.Header{"Accept": {"application/xml"}},
		Success: func(status int) bool { return status >= 200 && status < 300 && status != http.StatusAccepted },
	})
	return a.Body, err
}

// Notifications returns the camt.054 documents published after the cursor after, oldest
// first, at most limit of them; limit <= 0 lets the bank choose how many.
func (c *HTTP) Notifications(ctx context.Context, after string, limit int) ([]Document, error) {
	return c.documents(ctx, "notifications", after, limit)
}

// Statements returns the camt.053 statements published after the cursor after, oldest
// first, at most limit of them; limit <= 0 lets the bank choose how many.
func (c *HTTP) Statements(ctx context.Context, after string, limit int) ([]Document, error) {
	return c.documents(ctx, "statements", after, limit)
}

// documents reads a page of GET /bank/<kind>, whose answer lists them under kind.
func (c *HTTP) documents(ctx context.Context, kind, after string, limit int) ([]Document, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/bank/" + kind
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	a, err := c.core.Do(ctx, httpcore.Call{Op: kind, Method: http.MethodGet, Path: path, Header: http.Header{"Accept": {"application/json"}}})
	if err != nil {
		return nil, err
	}
	var page map[string][]struct {
		ID  string `json:"id"`
		XML []byte `json:"xml"` // base64 in JSON
	}
	if err := json.Unmarshal(a.Body, &page); err != nil {
		return nil, fmt.Errorf("bank %s: decode response: %w", kind, err)
	}
	docs := make([]Document, len(page[kind]))
	for i, n := range page[kind] {
		docs[i] = Document{ID: n.ID, XML: n.XML}
	}
	return docs, nil
}
