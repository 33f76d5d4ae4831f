package httpcore

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Error is a call that did not succeed: an answer other than success (Status), or no
// answer at all (Status 0: a network error or a timeout, Err says which).
//
// Its message says the service, the operation, the status and its Kind, never what the
// service said nor the URL: a service may echo the request, and with it personal data,
// and the message ends up in logs and in the workflow history. Message keeps what the
// service said for whoever needs it.
type Error struct {
	Service string // "gpd", "bank"
	Op      string // "get position", "submit MSG-1"
	Status  int    // the HTTP status; 0 when no answer came
	Kind    error  // what the status means to the service, nil if nothing in particular
	Message string // what the service said, if anything: never in Error()
	// RetryAfter is the wait the service asked for with Retry-After (whole seconds only), or 0.
	RetryAfter time.Duration
	Err        error // why no answer came (Status 0), or why a success was not one
}

func (e *Error) Error() string {
	s := e.Service + " " + e.Op + ": "
	if e.Status == 0 {
		return s + cause(e.Err)
	}
	s += fmt.Sprintf("HTTP %d", e.Status)
	if e.Kind != nil {
		s += ": " + e.Kind.Error()
	}
	if e.Err != nil {
		s += ": " + cause(e.Err)
	}
	return s
}

// Unwrap lets errors.Is match Kind, and the cause (context.DeadlineExceeded...) of a call
// that got no answer.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Temporary reports whether the same call may succeed later: no answer, a 5xx or a 429.
// Every other failure is final for the same request.
func (e *Error) Temporary() bool {
	return e.Status == 0 || e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// cause is err without the URL a *url.Error names, whose path and query the message leaves out.
func cause(err error) string {
	if err == nil {
		return "no answer"
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}
