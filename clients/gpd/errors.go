package gpd

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"incasso/clients/internal/backoff"
)

// Errors a caller tells apart. A *StatusError wraps them with the HTTP status.
var (
	// ErrConflict is a 409: the position or notice exists already, or its state forbids the
	// change (it is paid or invalid). A request retried after a lost answer may get it for
	// its own first attempt: read the position back.
	ErrConflict = errors.New("conflicts with what GPD holds")
	// ErrNotFound is a 404: no such position, notice or receipt.
	ErrNotFound = errors.New("not found in GPD")
	// ErrRejected is a 4xx other than 404, 409 and 429: retrying will not help.
	ErrRejected = errors.New("request rejected by GPD")
	// ErrInvalidShares is returned by SplitTransfers for shares that cannot split an amount.
	ErrInvalidShares = errors.New("invalid transfer shares")
)

// StatusError is a response GPD answered with a status other than success.
type StatusError struct {
	Op     string
	Status int
	Title  string // the problem title GPD returned, if any
	kind   error
	// retryAfter is the delay a 429 or 503 asked for in Retry-After (whole seconds only).
	retryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("gpd %s: HTTP %d %s", e.Op, e.Status, e.Title)
}

// Unwrap lets callers match ErrConflict, ErrNotFound, ErrRejected.
func (e *StatusError) Unwrap() error { return e.kind }

// temporary reports whether the same request may succeed later: a 5xx or a 429.
func (e *StatusError) temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

func statusError(op string, resp *http.Response, body []byte) *StatusError {
	var problem struct {
		Title string `json:"title"`
	}
	_ = json.Unmarshal(body, &problem)
	e := &StatusError{Op: op, Status: resp.StatusCode, Title: problem.Title}
	e.retryAfter = backoff.RetryAfter(resp)
	switch status := resp.StatusCode; {
	case status == http.StatusConflict:
		e.kind = ErrConflict
	case status == http.StatusNotFound:
		e.kind = ErrNotFound
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		e.kind = ErrRejected
	}
	return e
}
