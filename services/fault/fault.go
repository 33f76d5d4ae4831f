// Package fault is how the application services say that a request cannot be done, so that
// each edge can tell the caller in its own words: the REST API as an RFC 9457 problem with the
// status of the kind, the web console as a sentence in Italian. A fault's message and field
// messages never carry personal data; any other error is the system's, not the caller's.
package fault

import (
	"errors"
	"strings"
)

// Kind is what went wrong for the caller.
type Kind int

const (
	// Invalid: fields of the request are wrong (Fields says which).
	Invalid Kind = iota + 1
	// NotFound: the thing asked for does not exist (or is not the caller's to see).
	NotFound
	// Conflict: the thing's state does not allow the request.
	Conflict
	// Unavailable: a service incasso depends on did not answer; the same request may be repeated.
	Unavailable
)

// FieldError names a field of the request (a dotted path) and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a request that cannot be done.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError // for Invalid
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Message + ": " + strings.Join(parts, "; ")
}

// New returns a fault of kind with message.
func New(kind Kind, message string) *Error { return &Error{Kind: kind, Message: message} }

// InvalidFields returns an Invalid fault naming the fields.
func InvalidFields(fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Message: "the request has invalid fields", Fields: fields}
}

// As returns the fault in err's chain, if any.
func As(err error) (*Error, bool) {
	return errors.AsType[*Error](err)
}
