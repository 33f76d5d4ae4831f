package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"
)

// The error types of the activity and update failures the workflows and their callers tell
// apart: the contract between workflows, activities and the API. Each is a
// temporal.ApplicationError type; FindErrorType finds one in an error's chain.
const (
	// ErrTypeInvalidInput: the activity's input cannot be applied; retrying cannot fix it.
	ErrTypeInvalidInput = "InvalidInput"
	// ErrTypeGPDRejected: pagoPA GPD refused the position for good (a 4xx other than 409).
	ErrTypeGPDRejected = "GPDRejected"
	// ErrTypeMailRejected: the mail relay refused the message for good.
	ErrTypeMailRejected = "MailRejected"
	// ErrTypeBankConflict: the bank holds a file under the message id with other content.
	ErrTypeBankConflict = "BankConflict"
	// ErrTypeMessageIDReused: a bank message's id is archived already with other content; none
	// of the message is applied.
	ErrTypeMessageIDReused = "MessageIDReused"
	// ErrTypeSettled: the activity found the debt already paid or cancelled, so it cannot be
	// changed any more.
	ErrTypeSettled = "DebtSettled"
	// ErrTypeRejected: an update the debt's state does not allow; its message says why and
	// names no personal data.
	ErrTypeRejected = "UpdateRejected"
)

func rejected(msg string) error { return temporal.NewApplicationError(msg, ErrTypeRejected) }

// FindErrorType returns the first application error of the given type in err's chain (an
// update's or an activity's failure wraps the error that says why).
func FindErrorType(err error, typ string) *temporal.ApplicationError {
	for ; err != nil; err = errors.Unwrap(err) {
		if appErr, ok := err.(*temporal.ApplicationError); ok && appErr.Type() == typ {
			return appErr
		}
	}
	return nil
}
