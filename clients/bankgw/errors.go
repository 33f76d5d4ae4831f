package bankgw

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"incasso/clients/internal/httpcore"
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

// StatusError is a request the bank did not answer with a success: Status is the HTTP
// status (0 when no answer came), Op the operation, Message what the bank said, RetryAfter
// the wait it asked for, and Temporary whether the same request may succeed later (no
// answer, a 5xx, a 429). It wraps ErrNotReady, ErrConflict, ErrRejected or ErrNotFound as
// the status says. Its message leaves out what the bank said, which may quote the file.
type StatusError = httpcore.Error

// kind is what a status other than success means: the sentinel it wraps.
func kind(status int) error {
	switch status {
	case http.StatusAccepted:
		return ErrNotReady
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return ErrRejected
	}
	return nil
}

// message is what the bank said: the "error" member of a JSON body, else the body itself.
func message(body []byte) string {
	var msg struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &msg) != nil {
		msg.Error = strings.TrimSpace(string(body))
	}
	return msg.Error
}
