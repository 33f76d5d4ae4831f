// Package sepa holds the checks and conversions that SEPA direct debit needs before a
// collection file is built: IBAN validation (with the Italian CIN), the creditor identifier
// (CI), the unique mandate reference (UMR) and the SEPA Latin character set with the
// transliteration of names and remittance text into it.
//
// The package is pure: no I/O, no clock. Error messages say what is wrong and where, never the
// value checked, since IBANs and mandate references are the debtor's personal data.
package sepa

import (
	"fmt"
	"strings"

	"incasso/domain/chars"
)

// ibanLengths is the IBAN length of every country code that can start a SEPA IBAN, from the
// SWIFT IBAN registry. Territories that use another country's IBAN (the French overseas
// departments, Åland, Jersey, Guernsey, the Isle of Man, the Azores, Madeira, the Canaries)
// need no entry of their own. AL, MD, ME, MK and RS joined the SEPA schemes in 2025-2026.
var ibanLengths = map[string]int{
	"AD": 24, "AL": 28, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24,
	"DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23,
	"GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
	"LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MT": 31, "NL": 18,
	"NO": 15, "PL": 28, "PT": 25, "RO": 24, "RS": 22, "SE": 24, "SI": 19, "SK": 24,
	"SM": 27, "VA": 22,
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// upperAlnum returns the 0-based index of the first byte of s that is not an upper-case ASCII
// letter or digit, or -1.
func upperAlnum(s string) int {
	for i := range len(s) {
		if !isUpper(s[i]) && !isDigit(s[i]) {
			return i
		}
	}
	return -1
}

// mod97 is the ISO 7064 mod 97-10 remainder of s, an upper-case alphanumeric string read as a
// number once each letter is replaced by two digits (A=10 ... Z=35).
func mod97(s string) int {
	r := 0
	for i := range len(s) {
		if c := s[i]; isUpper(c) {
			r = (r*100 + int(c-'A') + 10) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return r
}

func ibanErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidIBAN}, a...)...)
}

// NormalizeIBAN turns an IBAN as people write it ("it60 x054 ...") into the electronic format:
// white space removed, letters upper-cased.
func NormalizeIBAN(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// ValidateIBAN checks an IBAN in electronic format (see NormalizeIBAN): a SEPA country code,
// the length of that country, two check digits in 02..98 that satisfy ISO 7064 mod 97-10, and
// for Italy and San Marino the BBAN structure (CIN letter, ABI 5 digits, CAB 5 digits, account
// 12 letters or digits) with the CIN letter computed as ItalianCIN does. The error wraps
// ErrInvalidIBAN and never contains the IBAN.
func ValidateIBAN(s string) error {
	if s == "" {
		return ibanErr("empty")
	}
	if i := upperAlnum(s); i >= 0 {
		return ibanErr("character at position %d is not an upper-case letter or a digit", i+1)
	}
	if len(s) < 4 || !isUpper(s[0]) || !isUpper(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		return ibanErr("must start with a country code and two check digits")
	}
	country, check := s[:2], s[2:4]
	want, ok := ibanLengths[country]
	if !ok {
		return ibanErr("country code %s is not in SEPA", country)
	}
	if len(s) != want {
		return ibanErr("length %d, %s IBANs have %d", len(s), country, want)
	}
	if check < "02" || check > "98" {
		return ibanErr("check digits out of range 02-98")
	}
	italian := country == "IT" || country == "SM"
	if italian {
		if err := italianStructure(s[4:]); err != nil {
			return err
		}
	}
	if mod97(s[4:]+s[:4]) != 1 {
		return ibanErr("check digits do not match")
	}
	if italian {
		cin, _ := ItalianCIN(s[5:10], s[10:15], s[15:]) // the structure is checked above
		if s[4] != cin {
			return ibanErr("CIN letter is wrong")
		}
	}
	return nil
}

// italianStructure checks the 23-character BBAN of an Italian or San Marino IBAN, already
// known to be upper-case letters and digits.
func italianStructure(bban string) error {
	switch {
	case !isUpper(bban[0]):
		return ibanErr("CIN at position 5 must be a letter")
	case !chars.Digits(bban[1:6], 5):
		return ibanErr("ABI at positions 6-10 must be 5 digits")
	case !chars.Digits(bban[6:11], 5):
		return ibanErr("CAB at positions 11-15 must be 5 digits")
	}
	return nil
}

// ItalianCIN computes the CIN check letter of an Italian (or San Marino) BBAN from the ABI
// bank code (5 digits), the CAB branch code (5 digits) and the account number (12 upper-case
// letters or digits): the check letter of the 22 characters, computed as the codice fiscale's
// (chars.CheckLetter).
func ItalianCIN(abi, cab, account string) (byte, error) {
	switch {
	case !chars.Digits(abi, 5):
		return 0, ibanErr("ABI must be 5 digits")
	case !chars.Digits(cab, 5):
		return 0, ibanErr("CAB must be 5 digits")
	case len(account) != 12 || upperAlnum(account) >= 0:
		return 0, ibanErr("account must be 12 upper-case letters or digits")
	}
	cin, _ := chars.CheckLetter(abi + cab + account) // upper-case letters and digits, checked above
	return cin, nil
}

// ItalianIBAN builds the IBAN of an Italian account from its ABI (5 digits), CAB (5 digits)
// and account number (12 upper-case letters or digits): the CIN letter (ItalianCIN), then the
// check digits.
func ItalianIBAN(abi, cab, account string) (string, error) {
	cin, err := ItalianCIN(abi, cab, account)
	if err != nil {
		return "", err
	}
	bban := string(cin) + abi + cab + account
	return fmt.Sprintf("IT%02d%s", 98-mod97(bban+"IT00"), bban), nil
}

// MaskIBAN hides an IBAN for letters to the debtor: the country code, the check digits and
// the last four characters stay, the rest become '*', in groups of four
// ("IT60 **** **** **** **** ***3 456"). An IBAN shorter than 12 characters is all '*'.
func MaskIBAN(iban string) string {
	r := []rune(NormalizeIBAN(iban))
	var b strings.Builder
	for i, c := range r {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		if len(r) < 12 || (i >= 4 && i < len(r)-4) {
			c = '*'
		}
		b.WriteRune(c)
	}
	return b.String()
}
