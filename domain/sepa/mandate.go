package sepa

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxIdentifierLen is the length of the SEPA identifiers (Max35Text).
const maxIdentifierLen = 35

// identifierProblem says why s is not a SEPA identifier, or returns "" when it is one. The
// rules are those of the EPC implementation guidelines for references: 1 to 35 characters of
// the SEPA Latin set without space, not starting or ending with '/', no "//".
func identifierProblem(s string) string {
	if n := utf8.RuneCountInString(s); n == 0 || n > maxIdentifierLen {
		return fmt.Sprintf("length %d, must be 1 to %d", n, maxIdentifierLen)
	}
	pos := 0
	for _, r := range s {
		pos++
		if !isLatin(r) {
			return fmt.Sprintf("character at position %d is not allowed", pos)
		}
	}
	switch {
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/"):
		return "must not start or end with '/'"
	case strings.Contains(s, "//"):
		return "must not contain '//'"
	}
	return ""
}

// ValidIdentifier reports whether s can be a SEPA identifier or reference (message id,
// payment information id, end-to-end id, mandate reference): 1 to 35 characters of the set
// A-Z a-z 0-9 / - ? : ( ) . , ' + not starting or ending with '/' and without "//". Space is
// excluded: the mandate reference forbids it, and although the other identifiers may hold
// one, incasso never writes it there.
func ValidIdentifier(s string) bool { return identifierProblem(s) == "" }

// ValidateMandateID checks a unique mandate reference (UMR) with the rules of ValidIdentifier
// and says what is wrong. The error wraps ErrInvalidMandateID and never contains the
// reference.
func ValidateMandateID(s string) error {
	if p := identifierProblem(s); p != "" {
		return fmt.Errorf("%w: %s", ErrInvalidMandateID, p)
	}
	return nil
}

// NewMandateID returns the mandate reference "INC-<prefix>-<n>", the same for the same
// arguments. It is valid by construction when prefix is 1 to 10 characters of the identifier
// set (see ValidIdentifier) without '/': the longest n, a negative int64, then still fits in
// 35 characters. n is meant to be a sequence number.
func NewMandateID(prefix string, n int64) string {
	return fmt.Sprintf("INC-%s-%d", prefix, n)
}
