package sepa

import (
	"fmt"
	"strings"

	"incasso/domain/fiscalcode"
)

const (
	maxCreditorIDLen = 35
	// italianNationalIDLen is the length of an Italian national identifier: the fiscal code
	// left-padded with zeros.
	italianNationalIDLen = 16
	// NoBusinessCode is the creditor business code of a creditor that does not use one.
	NoBusinessCode = "ZZZ"
)

func creditorIDErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidCreditorID}, a...)...)
}

// creditorCheck returns the two check digits of a creditor identifier: ISO 7064 mod 97-10
// over nationalID + country + "00", as 98 - n mod 97. The business code is excluded, so a
// creditor keeps its check digits whatever business code it uses.
func creditorCheck(country, nationalID string) string {
	return fmt.Sprintf("%02d", 98-mod97(nationalID+country+"00"))
}

// NewCreditorID builds a SEPA creditor identifier (Creditor Scheme Identification) from the
// country code (2 upper-case letters), the creditor business code (3 upper-case letters or
// digits, NoBusinessCode when there is none) and the national identifier (1 to 28 upper-case
// letters or digits), computing the check digits: country + check + business code + national
// identifier.
func NewCreditorID(country, businessCode, nationalID string) (string, error) {
	switch {
	case len(country) != 2 || !isUpper(country[0]) || !isUpper(country[1]):
		return "", creditorIDErr("country code must be 2 upper-case letters")
	case len(businessCode) != 3 || upperAlnum(businessCode) >= 0:
		return "", creditorIDErr("business code must be 3 upper-case letters or digits")
	case nationalID == "" || len(nationalID) > maxCreditorIDLen-7 || upperAlnum(nationalID) >= 0:
		return "", creditorIDErr("national identifier must be 1 to %d upper-case letters or digits", maxCreditorIDLen-7)
	}
	return country + creditorCheck(country, nationalID) + businessCode + nationalID, nil
}

// ItalianCreditorID builds the creditor identifier of an Italian creditor from its fiscal code
// (11 digits for an entity such as a comune, 16 characters for a person): the national
// identifier is the fiscal code left-padded with zeros to 16 characters and the business code
// is NoBusinessCode. The fiscal code is normalised and validated first.
func ItalianCreditorID(fiscalCode string) (string, error) {
	fc := fiscalcode.Normalize(fiscalCode)
	if _, err := fiscalcode.Validate(fc); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidCreditorID, err)
	}
	return NewCreditorID("IT", NoBusinessCode, strings.Repeat("0", italianNationalIDLen-len(fc))+fc)
}

// ValidateCreditorID checks a creditor identifier in electronic format (upper case, no
// spaces): country code, two check digits, a business code of 3 letters or digits, a national
// identifier of letters and digits (16 for Italy), 35 characters at most, and check digits
// that match. The error wraps ErrInvalidCreditorID and never contains the identifier.
func ValidateCreditorID(s string) error {
	if i := upperAlnum(s); i >= 0 {
		return creditorIDErr("character at position %d is not an upper-case letter or a digit", i+1)
	}
	if len(s) < 8 || len(s) > maxCreditorIDLen {
		return creditorIDErr("length %d, must be 8 to %d", len(s), maxCreditorIDLen)
	}
	if !isUpper(s[0]) || !isUpper(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		return creditorIDErr("must start with a country code and two check digits")
	}
	country, nationalID := s[:2], s[7:]
	if country == "IT" && len(nationalID) != italianNationalIDLen {
		return creditorIDErr("length %d, IT creditor identifiers have %d", len(s), 7+italianNationalIDLen)
	}
	if s[2:4] != creditorCheck(country, nationalID) {
		return creditorIDErr("check digits do not match")
	}
	return nil
}
