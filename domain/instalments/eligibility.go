package instalments

import (
	"fmt"

	"incasso/domain/money"
)

// Band is a row of an eligibility table: amounts above the previous band's UpTo (above zero
// for the first band) and up to UpTo can be paid in Min to Max instalments. Min = Max = 0
// means they cannot be paid in instalments at all.
type Band struct {
	UpTo     money.Cents
	Min, Max int
}

// Table is an eligibility table, its bands in ascending UpTo. Amounts above the last band's
// UpTo follow the last band. A configured table should pass Validate.
type Table []Band

// DefaultTable follows DOMAIN.md section 5, that is the schedule of L. 160/2019 art. 1
// c. 796 capped at MaxInstalments by the comune:
//
//	up to 100,00 EUR              not eligible
//	100,01 to 500,00 EUR          2 to 4 instalments
//	500,01 to 3.000,00 EUR        5 to 12
//	3.000,01 to 6.000,00 EUR      13 to 24
//	above 6.000,00 EUR            25 to 36 (the law's 37 to 72 above 20.000,00 EUR is capped)
//
// The ranges are read literally, minimum included, as the law writes them ("da cinque a
// dodici rate"): 1.000,00 EUR cannot be paid in 3 instalments. A comune whose regulation lets
// the debtor choose fewer configures a table with a lower Min. The law's "up to 4" for
// 100,01 to 500,00 EUR has Min 2, since one instalment is no plan. Treat DefaultTable as read-only.
var DefaultTable = Table{
	{UpTo: 100_00},
	{UpTo: 500_00, Min: 2, Max: 4},
	{UpTo: 3_000_00, Min: 5, Max: 12},
	{UpTo: 6_000_00, Min: 13, Max: 24},
	{UpTo: 20_000_00, Min: 25, Max: 36},
}

// Validate checks a configured table: at least one band, UpTo positive and strictly
// ascending, every band either not eligible (Min = Max = 0, allowed for the first band only,
// so that "amounts up to" messages hold) or with 2 <= Min <= Max <= MaxInstalments, and at
// least one eligible band. Errors wrap ErrInvalidTable and name the 1-based band.
func (t Table) Validate() error {
	if len(t) == 0 {
		return fmt.Errorf("%w: no bands", ErrInvalidTable)
	}
	for i, b := range t {
		switch {
		case b.UpTo <= 0:
			return fmt.Errorf("%w: band %d: UpTo %s EUR is not positive", ErrInvalidTable, i+1, b.UpTo.Italian())
		case i > 0 && b.UpTo <= t[i-1].UpTo:
			return fmt.Errorf("%w: band %d: UpTo %s EUR is not above the previous band's", ErrInvalidTable, i+1, b.UpTo.Italian())
		case b.Min == 0 && b.Max == 0 && i > 0:
			return fmt.Errorf("%w: band %d: only the first band can be not eligible", ErrInvalidTable, i+1)
		case b.Min == 0 && b.Max == 0: // the first band, not eligible
		case b.Min < 2 || b.Min > b.Max || b.Max > MaxInstalments:
			return fmt.Errorf("%w: band %d: Min %d and Max %d, want 2 <= Min <= Max <= %d", ErrInvalidTable, i+1, b.Min, b.Max, MaxInstalments)
		}
	}
	if len(t) == 1 && t[0].Max == 0 {
		return fmt.Errorf("%w: no band allows instalments", ErrInvalidTable)
	}
	return nil
}

// band returns the band of amount: the first whose UpTo is not below it, else the last one.
// t must not be empty.
func (t Table) band(amount money.Cents) Band {
	for _, b := range t {
		if amount <= b.UpTo {
			return b
		}
	}
	return t[len(t)-1]
}

// Allowed returns the fewest and the most instalments t allows for amount: 0, 0 when amount
// cannot be paid in instalments (or t is empty).
func (t Table) Allowed(amount money.Cents) (fewest, most int) {
	if len(t) == 0 {
		return 0, 0
	}
	b := t.band(amount)
	return b.Min, b.Max
}

// Check says whether amount may be paid in n instalments under t, a valid table: the error
// wraps ErrNotEligible when amount cannot be paid in instalments at all, and
// ErrNumberNotAllowed when n is outside the band's range. The amount is no personal data and
// appears in the message, in Italian format.
func (t Table) Check(amount money.Cents, n int) error {
	if len(t) == 0 {
		return fmt.Errorf("%w: no bands", ErrInvalidTable)
	}
	b := t.band(amount)
	switch {
	case b.Max == 0:
		return fmt.Errorf("%w: amounts up to %s EUR cannot be paid in instalments", ErrNotEligible, b.UpTo.Italian())
	case n > b.Max:
		return fmt.Errorf("%w: %d is more than the %d allowed for %s EUR", ErrNumberNotAllowed, n, b.Max, amount.Italian())
	case n < b.Min:
		return fmt.Errorf("%w: %d is fewer than the %d required for %s EUR", ErrNumberNotAllowed, n, b.Min, amount.Italian())
	}
	return nil
}
