package reminders

import "errors"

var (
	// ErrInvalid is wrapped by the errors returned for data that cannot be rendered; the
	// message names the field, never its value.
	ErrInvalid = errors.New("invalid reminder data")
	// ErrUnsupported is wrapped by the errors Render returns for a step that sends no message
	// or a channel the step cannot go by.
	ErrUnsupported = errors.New("no message for this step and channel")
)
