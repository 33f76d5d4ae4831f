// Package instalments splits a debt into a plan of monthly instalments (rateizzazione): the
// amounts in integer cents, their due dates, optional interest, and the eligibility table
// that says how many instalments an amount may have.
//
// The package is pure: no I/O, no clock. The rules are those of DOMAIN.md section 5 and
// L. 160/2019 art. 1 c. 796, with the comune's cap of MaxInstalments.
package instalments

import (
	"fmt"
	"slices"
	"time"

	"incasso/domain/date"
	"incasso/domain/money"
)

const (
	// MaxInstalments is the most instalments any plan can have: the comune's cap.
	MaxInstalments = 36
	// MaxAnnualBasisPoints is the highest annual interest rate Build accepts, 100%: anything
	// above is a configuration error.
	MaxAnnualBasisPoints = 10000
	// maxTotal is the largest amount a pagoPA notice or a SEPA transaction can carry,
	// 999.999.999,99 EUR; it also keeps the interest computation far from overflow.
	maxTotal money.Cents = 99_999_999_999
)

// DueRule says on which day of each month an instalment falls due.
type DueRule int

const (
	// LastDayOfMonth, the default, makes instalment k (0-based) due on the last day of the
	// k-th month after the month of the first due date; the day of the first date is ignored.
	LastDayOfMonth DueRule = iota
	// SameDayOfMonth keeps the day of the first due date, moved back to the end of shorter
	// months only: 31 January, 28 (or 29) February, 31 March.
	SameDayOfMonth
)

// Instalment is one row of a plan.
type Instalment struct {
	Seq       int         // 1-based position in the plan
	Principal money.Cents // the share of the debt
	Amount    money.Cents // what the debtor pays: principal plus interest
	DueDate   date.Date
}

// Split divides total into n instalments of integer cents that sum exactly to total. The
// amounts differ by at most one cent: the remainder cents go to the first instalments, so
// 100,00 EUR in 3 is 33,34 + 33,33 + 33,33. n must be 1 to MaxInstalments and total at least
// one cent per instalment.
func Split(total money.Cents, n int) ([]money.Cents, error) {
	if n < 1 || n > MaxInstalments {
		return nil, fmt.Errorf("%w: n is %d, must be 1 to %d", ErrInvalidPlan, n, MaxInstalments)
	}
	if total < money.Cents(n) {
		return nil, fmt.Errorf("%w: total %s EUR is less than one cent for each of %d instalments", ErrInvalidPlan, total.Italian(), n)
	}
	base, rest := total/money.Cents(n), total%money.Cents(n)
	out := make([]money.Cents, n)
	for i := range out {
		out[i] = base
		if money.Cents(i) < rest {
			out[i]++
		}
	}
	return out, nil
}

// DueDates returns the due dates of n monthly instalments, the first in the month of first,
// following rule (a rule other than SameDayOfMonth counts as LastDayOfMonth). It returns no
// dates when n is not positive.
func DueDates(first date.Date, n int, rule DueRule) []date.Date {
	var out []date.Date
	for k := range n {
		// Day 0 of the next month is the last day of month k.
		d := date.Of(time.Date(first.Year, first.Month+time.Month(k)+1, 0, 0, 0, 0, 0, time.UTC))
		if rule == SameDayOfMonth && first.Day < d.Day {
			d.Day = first.Day
		}
		out = append(out, d)
	}
	return out
}

// WithInterest adds simple monthly interest on the declining balance to the principal
// instalments: instalment k gains remaining × annualBasisPoints / 10000 / 12, rounded half up
// to the cent, where remaining is the principal not yet paid before k (instalment k
// included). A rate of zero or less adds nothing. The result is a new slice. Principal
// amounts are positive and, as Build ensures, total at most 999.999.999,99 EUR with a rate of
// at most MaxAnnualBasisPoints, which keeps the arithmetic exact.
func WithInterest(principal []money.Cents, annualBasisPoints int) []money.Cents {
	out := slices.Clone(principal)
	if annualBasisPoints <= 0 {
		return out
	}
	var remaining money.Cents
	for _, p := range principal {
		remaining += p
	}
	bp := money.Cents(annualBasisPoints)
	for k, p := range principal {
		// remaining*bp/120000 rounded half up is (2*remaining*bp + 120000) / 240000.
		out[k] += (2*remaining*bp + 120000) / 240000
		remaining -= p
	}
	return out
}

// Build makes a plan of n monthly instalments for total: Split for the principal, DueDates
// for the dates (from first, following rule) and WithInterest at annualBasisPoints (0 for
// none, the default). It checks its arguments, not eligibility: see Table.Check.
func Build(total money.Cents, n int, first date.Date, rule DueRule, annualBasisPoints int) ([]Instalment, error) {
	switch {
	case total > maxTotal:
		return nil, fmt.Errorf("%w: total %s EUR is more than %s EUR", ErrInvalidPlan, total.Italian(), maxTotal.Italian())
	case first.IsZero() || date.Of(first.Time()) != first:
		return nil, fmt.Errorf("%w: first due date %s does not exist", ErrInvalidPlan, first)
	case rule != LastDayOfMonth && rule != SameDayOfMonth:
		return nil, fmt.Errorf("%w: due rule %d is unknown", ErrInvalidPlan, rule)
	case annualBasisPoints < 0 || annualBasisPoints > MaxAnnualBasisPoints:
		return nil, fmt.Errorf("%w: annual rate %d basis points, must be 0 to %d", ErrInvalidPlan, annualBasisPoints, MaxAnnualBasisPoints)
	}
	principal, err := Split(total, n)
	if err != nil {
		return nil, err
	}
	amounts := WithInterest(principal, annualBasisPoints)
	plan := make([]Instalment, n)
	for i, due := range DueDates(first, n, rule) {
		plan[i] = Instalment{Seq: i + 1, Principal: principal[i], Amount: amounts[i], DueDate: due}
	}
	return plan, nil
}
