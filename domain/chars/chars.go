// Package chars holds the character checks that several of incasso's formats share: notice
// numbers and fiscal codes are runs of digits, and what goes on a notice, a letter or a file
// for the collection agent must be printable text on one line.
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
