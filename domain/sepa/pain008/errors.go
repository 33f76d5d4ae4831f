package pain008

import (
	"errors"
	"fmt"
	"strings"

	"incasso/domain/money"
)

// ErrTotals is matched (errors.Is) by the errors reporting a number of transactions or a
// control sum that differs from the one declared.
var ErrTotals = errors.New("totals differ from those declared")

// errClosed is returned by a Writer used after Close.
var errClosed = errors.New("pain008: the writer is closed")

// FieldError reports a field that cannot be written or, from Parse, read. It never holds the
// value of a name or an IBAN, which are personal data.
type FieldError struct {
	PmtInfID   string // the payment information's ID, when the field is in one
	EndToEndID string // the transaction's EndToEndID, when the field is in one
	Field      string // e.g. "Transaction.DebtorIBAN"; from Parse, an element path
	Problem    string // what is wrong, e.g. "is not an IBAN ..."
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("pain008: ")
	if e.PmtInfID != "" {
		fmt.Fprintf(&b, "payment information %q: ", e.PmtInfID)
	}
	if e.EndToEndID != "" {
		fmt.Fprintf(&b, "transaction %q: ", e.EndToEndID)
	}
	b.WriteString(e.Field + " " + e.Problem)
	return b.String()
}

// totalsError reports that what declares n transactions for sum has got (or holds) gotN for
// gotSum.
func totalsError(what string, n int, sum money.Cents, gotN int, gotSum money.Cents) error {
	return fmt.Errorf("pain008: %s declares %d transactions for %s EUR but has %d for %s EUR: %w",
		what, n, sum.Decimal(), gotN, gotSum.Decimal(), ErrTotals)
}
