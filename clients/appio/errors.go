package appio

import (
	"encoding/json"
	"errors"
	"net/http"

	"incasso/clients/internal/httpcore"
)

// Errors a caller tells apart. A *StatusError wraps the first three with the HTTP status.
var (
	// ErrNoProfile is a 404 of the profile check: the citizen is not on App IO.
	ErrNoProfile = errors.New("no profile on App IO")
	// ErrUnauthorized is a 401 or 403: the service's API key is wrong or not allowed to.
	ErrUnauthorized = errors.New("the service's key was refused by App IO")
	// ErrRejected is another 4xx but 429 (a 400: the message is invalid): retrying will not help.
	ErrRejected = errors.New("request rejected by App IO")
	// ErrNotEnabled is a call for an incasso service that has no IO key.
	ErrNotEnabled = errors.New("service not enabled for App IO")
	// ErrInvalid is a message that the spec would refuse (Message.Body): the field is named.
	ErrInvalid = errors.New("invalid App IO message")
)

// StatusError is a request IO did not answer with a success: Status is the HTTP status (0
// when no answer came) and Temporary whether the same request may succeed later (no answer,
// a 5xx, a 429). Its message leaves out what IO said, which is in Message.
type StatusError = httpcore.Error

// kind is what a status other than success means: the sentinel it wraps.
func kind(status int) error {
	switch {
	case status == http.StatusNotFound:
		return ErrNoProfile
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrUnauthorized
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		return ErrRejected
	}
	return nil
}

// problemDetail is the title and detail of the problem IO answered, if any.
func problemDetail(body []byte) string {
	var problem struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(body, &problem)
	if problem.Detail != "" {
		return problem.Title + ": " + problem.Detail
	}
	return problem.Title
}
