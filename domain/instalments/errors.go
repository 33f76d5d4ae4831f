package instalments

import "errors"

// Errors returned by this package wrap one of these sentinels; test with errors.Is.
var (
	// ErrInvalidPlan is wrapped when the arguments of Split or Build are out of range.
	ErrInvalidPlan = errors.New("invalid instalment plan")
	// ErrNotEligible is wrapped when an amount cannot be paid in instalments at all.
	ErrNotEligible = errors.New("not eligible for instalments")
	// ErrNumberNotAllowed is wrapped when an amount can be paid in instalments, but not in
	// the number asked for.
	ErrNumberNotAllowed = errors.New("number of instalments not allowed")
	// ErrInvalidTable is wrapped by the errors of Table.Validate.
	ErrInvalidTable = errors.New("invalid instalment table")
)
