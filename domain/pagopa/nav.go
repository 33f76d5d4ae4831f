package pagopa

import (
	"errors"
	"fmt"
	"strconv"

	"incasso/domain/chars"
)

// AuxDigit is the NAV auxiliary digit incasso uses: 3, an IUV with a segregation code.
const AuxDigit = "3"

// MaxIUVBase is the largest 13-digit IUV base.
const MaxIUVBase = 9_999_999_999_999

// ErrInvalidNAV is returned for a notice number that is not 18 digits with a valid check.
var ErrInvalidNAV = errors.New("invalid notice number")

// NAV is an 18-digit pagoPA notice number with aux digit 3:
// "3" + segregation code (2 digits) + IUV base (13 digits) + check (2 digits).
type NAV struct {
	Segregation int   // 0..99, assigned by pagoPA to the EC
	Base        int64 // 0..MaxIUVBase, never reused
}

// NewNAV builds a NAV from a segregation code and an IUV base.
func NewNAV(segregation int, base int64) (NAV, error) {
	if segregation < 0 || segregation > 99 {
		return NAV{}, fmt.Errorf("%w: segregation code %d is not two digits", ErrInvalidNAV, segregation)
	}
	if base < 0 || base > MaxIUVBase {
		return NAV{}, fmt.Errorf("%w: IUV base %d is not 13 digits", ErrInvalidNAV, base)
	}
	return NAV{Segregation: segregation, Base: base}, nil
}

// String formats the 18 digits.
func (n NAV) String() string {
	head := fmt.Sprintf("%s%02d%013d", AuxDigit, n.Segregation, n.Base)
	return head + checkDigits(head)
}

// IUV is the last 17 digits of the NAV: segregation code, base and check.
func (n NAV) IUV() string { return n.String()[1:] }

// ParseNAV reads an 18-digit notice number with aux digit 3 and verifies its check digits.
func ParseNAV(s string) (NAV, error) {
	if !chars.Digits(s, 18) {
		return NAV{}, fmt.Errorf("%w: want 18 digits", ErrInvalidNAV)
	}
	if s[:1] != AuxDigit {
		return NAV{}, fmt.Errorf("%w: aux digit %s is not %s", ErrInvalidNAV, s[:1], AuxDigit)
	}
	if want := checkDigits(s[:16]); s[16:] != want {
		return NAV{}, fmt.Errorf("%w: check digits %s, want %s", ErrInvalidNAV, s[16:], want)
	}
	seg, _ := strconv.Atoi(s[1:3])
	base, _ := strconv.ParseInt(s[3:16], 10, 64)
	return NAV{Segregation: seg, Base: base}, nil
}

// checkDigits is the mod-93 check of the first 16 digits, zero-padded to two.
func checkDigits(head16 string) string {
	rem := 0
	for _, r := range head16 { // the number exceeds int64, so reduce digit by digit
		rem = (rem*10 + int(r-'0')) % 93
	}
	return fmt.Sprintf("%02d", rem)
}
