package activities

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// withContext wraps err with what was being done, except an application error, which is
// returned alone: Temporal decides whether to retry from the outermost error only, so a
// wrapped non-retryable error would be retried. Its own message says what it is about.
func withContext(err error, format string, args ...any) error {
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &appErr):
		return appErr
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
