package reminders

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid is wrapped by the errors returned for data that cannot be rendered; the
	// message names the field, never its value.
	ErrInvalid = errors.New("invalid reminder data")
	// ErrUnsupported is wrapped by the errors Render returns for a step that sends no message
	// or a channel the step cannot go by.
	ErrUnsupported = errors.New("no message for this step and channel")
)

// ChannelError is a channel that a policy cannot give a step (ValidateChannels); it wraps
// ErrInvalid. Index is the channel's place in the step's channels, -1 when there are none.
type ChannelError struct {
	Index   int
	Problem string
}

func (e *ChannelError) Error() string {
	if e.Index < 0 {
		return "channels: " + e.Problem
	}
	return fmt.Sprintf("channels[%d]: %s", e.Index, e.Problem)
}

func (e *ChannelError) Unwrap() error { return ErrInvalid }
