package bankgw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"incasso/clients/internal/backoff"
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
//
// Every request carries "Authorization: Bearer <apiKey>"; errors carry {"error":"..."}. A
// network error, a 5xx or a 429 is retried as the RetryPolicy says; every other answer is
// final. HTTP is safe for concurrent use.
type HTTP struct {
	baseURL string
	apiKey  string
	http    *http.Client
	retry   RetryPolicy
}

// RetryPolicy bounds how the client repeats a request the bank may answer later.
type RetryPolicy = backoff.Policy

// DefaultRetry: 4 attempts, waiting at most 1.4 seconds in all unless the bank asks for longer.
var DefaultRetry = backoff.Default

// Option configures an HTTP gateway.
type Option func(*HTTP)

// WithRetry replaces DefaultRetry.
func WithRetry(p RetryPolicy) Option {
	return func(c *HTTP) { c.retry = p }
}

// NewHTTP returns the gateway of the bank at baseURL (without a trailing slash). timeout
// bounds each attempt, the upload of the file included: choose it for the largest file.
func NewHTTP(baseURL, apiKey string, timeout time.Duration, opts ...Option) *HTTP {
	c := &HTTP{baseURL: baseURL, apiKey: apiKey, http: &http.Client{Timeout: timeout}, retry: DefaultRetry}
	for _, o := range opts {
		o(c)
	}
	return c
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
// A retry must send the file again, so Submit retries only a file it can re-read: one that
// is an io.ReaderAt and an io.Seeker, such as *os.File, *bytes.Reader or *strings.Reader.
// Such a file is sent from its current offset to its end, with a Content-Length, and its
// offset is left at the end. Any other reader is sent once, chunked, and a failure is
// returned as it is: submit again with a fresh reader, which the bank's idempotency on the
// MsgId makes safe. Submit never closes file.
func (c *HTTP) Submit(ctx context.Context, msgID string, file io.Reader) error {
	op := "submit " + msgID
	req, err := c.newRequest(ctx, op, http.MethodPost, "/bank/sdd/files")
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("X-Message-Id", msgID)
	body, size, attempts := func() io.Reader { return file }, int64(-1), 1
	if f, ok := file.(rereadable); ok {
		start, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return fmt.Errorf("bank %s: %w", op, err)
		}
		end, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return fmt.Errorf("bank %s: %w", op, err)
		}
		size, attempts = end-start, c.retry.Attempts
		body = func() io.Reader { return io.NewSectionReader(f, start, size) }
		// The transport may replay the body itself, on a stale keep-alive connection.
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(body()), nil }
	}
	_, _, err = c.send(ctx, op, req, attempts, func(r *http.Request) {
		r.Body, r.ContentLength = io.NopCloser(body()), size
	})
	return err
}

// StatusReport returns the pain.002 of the file msgID; ErrNotReady while the bank has none
// yet, ErrNotFound for a file it does not know.
func (c *HTTP) StatusReport(ctx context.Context, msgID string) ([]byte, error) {
	op := "status report " + msgID
	req, err := c.newRequest(ctx, op, http.MethodGet, "/bank/sdd/reports/"+url.PathEscape(msgID))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/xml")
	resp, data, err := c.send(ctx, op, req, c.retry.Attempts, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusAccepted {
		return nil, statusError(op, resp, data)
	}
	return data, nil
}

// Notifications returns the camt.054 documents published after the cursor after, oldest
// first, at most limit of them; limit <= 0 lets the bank choose how many.
func (c *HTTP) Notifications(ctx context.Context, after string, limit int) ([]Document, error) {
	const op = "notifications"
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/bank/notifications"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	req, err := c.newRequest(ctx, op, http.MethodGet, path)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	_, data, err := c.send(ctx, op, req, c.retry.Attempts, nil)
	if err != nil {
		return nil, err
	}
	var page struct {
		Notifications []struct {
			ID  string `json:"id"`
			XML []byte `json:"xml"` // base64 in JSON
		} `json:"notifications"`
	}
	if err := json.Unmarshal(data, &page); err != nil {
		return nil, fmt.Errorf("bank %s: decode response: %w", op, err)
	}
	docs := make([]Document, len(page.Notifications))
	for i, n := range page.Notifications {
		docs[i] = Document{ID: n.ID, XML: n.XML}
	}
	return docs, nil
}

func (c *HTTP) newRequest(ctx context.Context, op, method, path string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, nil)
	if err != nil {
		return nil, fmt.Errorf("bank %s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	return req, nil
}

// send makes req, up to attempts times while the failure is temporary, setBody (if not nil)
// giving each attempt its body, and returns a 2xx answer with its body read. It gives up at
// once when ctx is done, returning ctx's error with the last one.
func (c *HTTP) send(ctx context.Context, op string, req *http.Request, attempts int, setBody func(*http.Request)) (*http.Response, []byte, error) {
	for n := 1; ; n++ {
		r := req.Clone(ctx)
		if setBody != nil {
			setBody(r)
		}
		resp, data, err := c.try(op, r)
		if err == nil {
			return resp, data, nil
		}
		var se *StatusError
		if (errors.As(err, &se) && !se.temporary()) || n >= attempts || ctx.Err() != nil {
			return nil, nil, err
		}
		var retryAfter time.Duration
		if se != nil {
			retryAfter = se.RetryAfter
		}
		t := time.NewTimer(c.retry.Wait(n, retryAfter))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, fmt.Errorf("bank %s: %w (last attempt: %w)", op, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// try makes one attempt; an answer other than 2xx is a *StatusError.
func (c *HTTP) try(op string, req *http.Request) (*http.Response, []byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("bank %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, nil, fmt.Errorf("bank %s: read response: %w", op, err)
	}
	if len(data) > maxAnswer {
		return nil, nil, fmt.Errorf("bank %s: response larger than %d bytes", op, maxAnswer)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return nil, nil, statusError(op, resp, data)
	}
	return resp, data, nil
}
