package workflows

import "go.temporal.io/sdk/temporal"

// DebtStatus is where a debt is in its life, as stored in debt_positions.status (its CHECK
// constraint lists the same values) and shown in the DebtStatus search attribute.
type DebtStatus string

// The statuses of a debt, in the order of its life.
const (
	StatusCreated     DebtStatus = "CREATED"     // stored, its notice not issued yet
	StatusIssued      DebtStatus = "ISSUED"      // payable on pagoPA, the notice sent
	StatusOverdue     DebtStatus = "OVERDUE"     // past its due date, unpaid
	StatusInstalments DebtStatus = "INSTALMENTS" // paid by an instalment plan of SEPA direct debits
	StatusPaid        DebtStatus = "PAID"        // a receipt, or the last instalment, settled it
	StatusCancelled   DebtStatus = "CANCELLED"   // withdrawn from pagoPA by the finance office
	StatusSuperseded  DebtStatus = "SUPERSEDED"  // what is still owed moved to a remainder debt
)

// DebtStatuses returns every status of a debt, in the order of its life.
func DebtStatuses() []DebtStatus {
	return []DebtStatus{StatusCreated, StatusIssued, StatusOverdue, StatusInstalments, StatusPaid, StatusCancelled, StatusSuperseded}
}

// Valid reports whether s is one of the statuses of a debt.
func (s DebtStatus) Valid() bool {
	switch s {
	case StatusCreated, StatusIssued, StatusOverdue, StatusInstalments, StatusPaid, StatusCancelled, StatusSuperseded:
		return true
	}
	return false
}

// Final reports whether the debt's life is over: nothing changes a final status any more.
func (s DebtStatus) Final() bool {
	return s == StatusPaid || s == StatusCancelled || s == StatusSuperseded
}

// SearchAttribute is the DebtStatus search attribute set to s.
func (s DebtStatus) SearchAttribute() temporal.SearchAttributeUpdate {
	return SearchDebtStatus.ValueSet(string(s))
}
