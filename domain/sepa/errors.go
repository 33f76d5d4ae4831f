package sepa

import "errors"

// Errors returned by this package wrap one of these sentinels; test with errors.Is. Their
// messages say what is wrong and where, never the value itself: an IBAN or a mandate reference
// is the debtor's personal data.
var (
	// ErrInvalidIBAN is wrapped by every error of ValidateIBAN and ItalianCIN.
	ErrInvalidIBAN = errors.New("invalid IBAN")
	// ErrInvalidCreditorID is wrapped by every error of NewCreditorID, ItalianCreditorID and
	// ValidateCreditorID.
	ErrInvalidCreditorID = errors.New("invalid creditor identifier")
	// ErrInvalidMandateID is wrapped by every error of ValidateMandateID.
	ErrInvalidMandateID = errors.New("invalid mandate reference")
)
