package bankgw

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"incasso/clients/internal/backoff"
)

// Errors a caller tells apart. A *StatusError wraps them with the HTTP status and the bank's
// message.
var (
	// ErrNotReady is the answer of StatusReport while the bank has no report for the file yet:
	// ask again later (StatusError.RetryAfter says when, if the bank said).
	ErrNotReady = errors.New("status report not ready")
	// ErrConflict is a Submit of a message id the bank holds with other content.
	ErrConflict = errors.New("message id already used for another file")
	// ErrRejected is a request the bank refused as invalid, for Submit the file: not a valid
	// pain.008, too large, or not the message id it was submitted under. Retrying will not help.
	ErrRejected = errors.New("rejected by the bank")
	// ErrNotFound is a StatusReport for a file the bank does not know.
	ErrNotFound = errors.New("unknown to the bank")
)

// StatusError is an answer of the bank other than success.
type StatusError struct {
	Op      string
	Status  int
	Message string // what the bank said, if anything
	// RetryAfter is the wait the bank asked for with Retry-After (whole seconds only), or 0.
	RetryAfter time.Duration
	kind       error
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("bank %s: HTTP %d", e.Op, e.Status)
	if e.kind != nil {
		s += ": " + e.kind.Error()
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap lets callers match ErrNotReady, ErrConflict, ErrRejected and ErrNotFound.
func (e *StatusError) Unwrap() error { return e.kind }

// temporary reports whether the same request may succeed later: a 5xx or a 429.
func (e *StatusError) temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// statusError reads an answer that is not a success: the message is the "error" member of a
// JSON body, else the body itself.
func statusError(op string, resp *http.Response, body []byte) *StatusError {
	var msg struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &msg) != nil {
		msg.Error = strings.TrimSpace(string(body))
	}
	e := &StatusError{Op: op, Status: resp.StatusCode, Message: msg.Error}
	e.RetryAfter = backoff.RetryAfter(resp)
	switch resp.StatusCode {
	case http.StatusAccepted:
		e.kind = ErrNotReady
	case http.StatusNotFound:
		e.kind = ErrNotFound
	case http.StatusConflict:
		e.kind = ErrConflict
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		e.kind = ErrRejected
	}
	return e
}
