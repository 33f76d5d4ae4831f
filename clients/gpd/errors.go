package gpd

import (
	"encoding/json"
	"errors"
	"net/http"

	"incasso/clients/internal/httpcore"
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

// StatusError is a request GPD did not answer with a success: Status is the HTTP status
// (0 when no answer came), Op the operation, Message the problem title GPD returned, if any,
// and Temporary whether the same request may succeed later (no answer, a 5xx, a 429). It
// wraps ErrConflict, ErrNotFound or ErrRejected as the status says. Its message leaves out
// what GPD said.
type StatusError = httpcore.Error

// kind is what a status other than success means: the sentinel it wraps.
func kind(status int) error {
	switch {
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusNotFound:
		return ErrNotFound
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		return ErrRejected
	}
	return nil
}

// problemTitle is the title of the problem GPD answered, if any.
func problemTitle(body []byte) string {
	var problem struct {
		Title string `json:"title"`
	}
	_ = json.Unmarshal(body, &problem)
	return problem.Title
}
