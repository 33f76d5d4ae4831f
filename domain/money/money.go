// Package money holds amounts of euro as integer cents, the only representation of money in
// incasso, and converts them to and from the decimal strings that external formats use.
package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"incasso/domain/chars"
)

// Cents is an amount of euro cents. It is never a float.
type Cents int64

// ErrInvalidAmount is returned when a decimal amount cannot be read as euro and cents.
var ErrInvalidAmount = errors.New("invalid amount")

// Decimal formats c as euro with two decimals and a dot, as SOAP and SEPA want: 1234 -> "12.34".
func (c Cents) Decimal() string {
	sign := ""
	v := int64(c)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Italian formats c the way Italian documents print it: 123456 -> "1.234,56".
func (c Cents) Italian() string {
	d := c.Decimal()
	sign := ""
	if strings.HasPrefix(d, "-") {
		sign, d = "-", d[1:]
	}
	whole, frac, _ := strings.Cut(d, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return sign + b.String() + "," + frac
}

// ParseDecimal reads a non-negative euro amount with exactly two decimals separated by a dot,
// as in the pagoPA stAmount type ("12.34").
func ParseDecimal(s string) (Cents, error) {
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) != 2 || whole == "" || len(whole) > 12 || !chars.Digits(whole, len(whole)) || !chars.Digits(frac, 2) {
		return 0, fmt.Errorf("%w: %q is not euro with two decimals", ErrInvalidAmount, s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	return Cents(w*100 + f), nil
}
