package sepa

import (
	"strings"
	"unicode"
)

// isLatin reports whether r belongs to the SEPA (basic) Latin character set of EPC217-08,
// space excluded: a-z A-Z 0-9 / - ? : ( ) . , ' +
func isLatin(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("/-?:().,'+", r)
}

// substitutions lists, for each replacement, the characters Transliterate turns into it.
var substitutions = []struct{ from, to string }{
	{"àáâãäåāăą", "a"}, {"ÀÁÂÃÄÅĀĂĄ", "A"}, {"æ", "ae"}, {"Æ", "AE"},
	{"çćĉċč", "c"}, {"ÇĆĈĊČ", "C"}, {"ďđð", "d"}, {"ĎĐÐ", "D"},
	{"èéêëēĕėęě", "e"}, {"ÈÉÊËĒĔĖĘĚ", "E"}, {"ĝğġģ", "g"}, {"ĜĞĠĢ", "G"},
	{"ĥħ", "h"}, {"ĤĦ", "H"}, {"ìíîïĩīĭįı", "i"}, {"ÌÍÎÏĨĪĬĮİ", "I"},
	{"ĵ", "j"}, {"Ĵ", "J"}, {"ķ", "k"}, {"Ķ", "K"}, {"ĺļľŀł", "l"}, {"ĹĻĽĿŁ", "L"},
	{"ñńņň", "n"}, {"ÑŃŅŇ", "N"}, {"òóôõöøōŏő", "o"}, {"ÒÓÔÕÖØŌŎŐ", "O"},
	{"œ", "oe"}, {"Œ", "OE"}, {"ŕŗř", "r"}, {"ŔŖŘ", "R"},
	{"śŝşšș", "s"}, {"ŚŜŞŠȘ", "S"}, {"ß", "ss"}, {"ẞ", "SS"},
	{"ţťŧț", "t"}, {"ŢŤŦȚ", "T"}, {"þ", "th"}, {"Þ", "TH"},
	{"ùúûüũūŭůűų", "u"}, {"ÙÚÛÜŨŪŬŮŰŲ", "U"}, {"ŵ", "w"}, {"Ŵ", "W"},
	{"ýÿŷ", "y"}, {"ÝŸŶ", "Y"}, {"źżž", "z"}, {"ŹŻŽ", "Z"},
	{"ª", "a"}, {"º", "o"},
	{"‘’‚‛′`´\"“”„‟«»‹›", "'"},
	{"‐‑‒–—―−_", "-"},
	{"[{", "("}, {"]}", ")"}, {";", ","}, {"&", "+"}, {"€", "EUR"},
}

var substitute = func() map[rune]string {
	m := make(map[rune]string)
	for _, s := range substitutions {
		for _, r := range s.from {
			m[r] = s.to
		}
	}
	return m
}()

// Transliterate turns s into text of the SEPA Latin character set, for names and remittance
// information; it is the one transliteration of incasso's SEPA files (pain008 writes names
// and remittance text through it):
//   - accented and other Latin letters lose their marks, keeping their case (à -> a, È -> E,
//     ç -> c, ñ -> n, ł -> l); ß -> ss, æ -> ae, œ -> oe, þ -> th;
//   - typographic and double quotes and backticks become the apostrophe ', dashes and '_'
//     become '-', square and curly brackets become round ones, ';' becomes ',', '&' becomes
//     '+' (the usual conversion: '&' is not in the set, and a space would lose it) and '€'
//     becomes "EUR";
//   - combining accents and invisible format characters (soft hyphen, zero-width space) are
//     dropped, so a decomposed "e\u0301" becomes "e";
//   - any other character outside the set (tabs, line breaks, '@', '*', '#', '%', '°', other
//     scripts, invalid UTF-8) becomes a space;
//
// then runs of spaces collapse to one and the result is trimmed. Length is not limited: see
// Truncate.
func Transliterate(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch to, ok := substitute[r]; {
		case ok:
			b.WriteString(to)
		case isLatin(r):
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Cf, r): // dropped
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// ValidText reports whether s is 1 to limit characters of the SEPA Latin set, space included,
// as the Max70Text and Max140Text fields (names, remittance information) require.
func ValidText(s string, limit int) bool {
	n := 0
	for _, r := range s {
		if r != ' ' && !isLatin(r) {
			return false
		}
		n++
	}
	return n >= 1 && n <= limit
}

// Truncate returns the first limit characters (runes) of s, or s when it is not longer; ""
// when limit is not positive. It never splits a character. A space left at the end is kept.
func Truncate(s string, limit int) string {
	if limit <= 0 {
		return ""
	}
	n := 0
	for i := range s {
		if n == limit {
			return s[:i]
		}
		n++
	}
	return s
}
