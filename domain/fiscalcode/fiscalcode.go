// Package fiscalcode validates Italian tax codes (codice fiscale) of persons and of companies.
//
// Error messages never contain the code itself, which is personal data: they
// only name the problem and, where useful, a 1-based character position.
package fiscalcode

import (
	"errors"
	"fmt"
	"strings"

	"incasso/domain/chars"
)

// Kind tells whether a valid code belongs to a person or to a company.
// The zero value is returned together with an error.
type Kind int

const (
	// Person is a natural person's 16-character alphanumeric code.
	Person Kind = iota + 1
	// Company is an entity's 11-digit numeric code (partita IVA style).
	Company
)

// ErrInvalid is wrapped by every error returned by this package.
var ErrInvalid = errors.New("invalid fiscal code")

const (
	personLen  = 16
	companyLen = 11
	months     = "ABCDEHLMPRST" // January..December
	omocodia   = "LMNPQRSTUV"   // letters standing for digits 0..9
)

// isDigitPos reports whether index i of a person's code holds a digit
// (possibly replaced by an omocodia letter).
func isDigitPos(i int) bool {
	switch i {
	case 6, 7, 9, 10, 12, 13, 14:
		return true
	}
	return false
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// Normalize trims surrounding white space and upper-cases s.
func Normalize(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// Validate normalises s and returns its kind, or an error wrapping ErrInvalid
// that says what is wrong (length, character at a 1-based position, month,
// day or check character) without echoing the code.
func Validate(s string) (Kind, error) {
	c := Normalize(s)
	switch len(c) {
	case personLen:
		if err := validatePerson(c); err != nil {
			return 0, err
		}
		return Person, nil
	case companyLen:
		if err := validateCompany(c); err != nil {
			return 0, err
		}
		return Company, nil
	}
	return 0, fmt.Errorf("%w: wrong length %d, want %d or %d", ErrInvalid, len(c), personLen, companyLen)
}

func validatePerson(c string) error {
	for i := range personLen {
		ch := c[i]
		ok := isLetter(ch)
		if isDigitPos(i) {
			ok = isDigit(ch) || strings.IndexByte(omocodia, ch) >= 0
		}
		if !ok {
			return charErr(i)
		}
	}
	if strings.IndexByte(months, c[8]) < 0 {
		return fmt.Errorf("%w: invalid month letter at position 9", ErrInvalid)
	}
	day := digitValue(c[9])*10 + digitValue(c[10])
	if day < 1 || day > 71 || (day > 31 && day < 41) {
		return fmt.Errorf("%w: day out of range at positions 10-11", ErrInvalid)
	}
	want, err := CheckChar(c[:personLen-1])
	if err != nil {
		return err
	}
	if c[personLen-1] != want {
		return fmt.Errorf("%w: check character mismatch", ErrInvalid)
	}
	return nil
}

// digitValue decodes a digit or an omocodia letter; c must be one of them.
func digitValue(c byte) int {
	if isDigit(c) {
		return int(c - '0')
	}
	return strings.IndexByte(omocodia, c)
}

func validateCompany(c string) error {
	sum := 0
	for i := range companyLen {
		if !isDigit(c[i]) {
			return charErr(i)
		}
		d := int(c[i] - '0')
		switch {
		case i == companyLen-1:
		case i%2 == 0: // 1st, 3rd, ... 9th digit
			sum += d
		default: // 2nd, 4th, ... 10th digit
			d *= 2
			if d > 9 {
				d -= 9
			}
			sum += d
		}
	}
	if want := byte('0' + (10-sum%10)%10); c[companyLen-1] != want {
		return fmt.Errorf("%w: check digit mismatch", ErrInvalid)
	}
	return nil
}

// CheckChar computes the check letter of the first 15 characters of a
// person's code (see chars.CheckLetter). first15 must be upper-case letters
// and digits (omocodia letters included); it is not normalised.
func CheckChar(first15 string) (byte, error) {
	if len(first15) != personLen-1 {
		return 0, fmt.Errorf("%w: check character needs %d characters, got %d", ErrInvalid, personLen-1, len(first15))
	}
	letter, bad := chars.CheckLetter(first15)
	if bad >= 0 {
		return 0, charErr(bad)
	}
	return letter, nil
}

// charErr reports an unexpected character at 0-based index i as a 1-based position.
func charErr(i int) error {
	return fmt.Errorf("%w: unexpected character at position %d", ErrInvalid, i+1)
}
