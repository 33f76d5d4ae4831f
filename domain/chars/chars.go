// Package chars holds the character checks that several of incasso's formats share: notice
// numbers and fiscal codes are runs of digits, what goes on a notice, a letter or a file for
// the collection agent must be printable text on one line, and the codice fiscale and the CIN
// of an Italian IBAN end in the same kind of check letter.
package chars

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Digits reports whether s is exactly n ASCII digits.
func Digits(s string, n int) bool {
	return len(s) == n && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// Printable reports whether s is valid UTF-8 without control characters (line breaks, tabs,
// NUL...).
func Printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// oddValues is what a character is worth at an odd (1-based) position of a check letter, for
// A..Z; a digit is worth what the letter of its rank is (0 as A, 9 as J). The table is the
// codice fiscale's, which the Italian CIN borrows.
var oddValues = [26]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// CheckLetter computes the check letter of s, upper-case ASCII letters and digits, as the
// codice fiscale does over its first 15 characters and the CIN of an Italian IBAN over ABI,
// CAB and account: at an even (1-based) position a character is worth its rank (A and 0 are
// 0, B and 1 are 1, ...), at an odd one its oddValues entry, and the letter is 'A' + the sum
// mod 26. It returns the letter and -1, or 0 and the index of the first byte of s that is
// neither an upper-case letter nor a digit.
func CheckLetter(s string) (letter byte, bad int) {
	sum := 0
	for i := range len(s) {
		var v int
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c - 'A')
		default:
			return 0, i
		}
		if i%2 == 0 { // odd 1-based position
			v = oddValues[v]
		}
		sum += v
	}
	return byte('A' + sum%26), -1
}
