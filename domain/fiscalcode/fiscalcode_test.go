package fiscalcode

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Check letters below were computed by hand with the official tables and
// cross-checked against CheckChar in TestCheckChar. For RSSMRA85T10A562:
// odd positions R8+S12+R8+8=19+T14+0=1+5=13+2=5 = 80, even positions
// S18+M12+A0+5+1+A0+6 = 42; 122 mod 26 = 18 -> 'S'.
func TestCheckChar(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		first15 string
		want    byte
	}{
		{"RSSMRA85T10A562", 'S'}, // Mario Rossi, the classic example
		{"RSSMRA85T10A56N", 'H'}, // omocodia: last digit 2 -> N (+15 at an odd position)
		{"RSSMRA85T10A5SN", 'T'}, // omocodia: also 6 -> S (+12 at an even position)
		{"RSSMRA85T50A562", 'W'}, // female: day 10+40 (+4 at an even position)
		{"RSSMRA85T1LA562", 'V'}, // omocodia in the day: 0 -> L (+3 at an odd position)
		{"RSSMRA85T35A562", 'G'}, // day 35, check letter correct on purpose
		{"RSSMRA85T00A562", 'R'}, // day 00, check letter correct on purpose
	} {
		got, err := CheckChar(tc.first15)
		require.NoError(t, err, tc.first15)
		require.Equal(t, string(tc.want), string(got), tc.first15)
	}
	for _, bad := range []string{"", "RSSMRA85T10A56", "RSSMRA85T10A5622", "rssmra85t10a562", "RSSMRA85T10A56#"} {
		_, err := CheckChar(bad)
		require.ErrorIs(t, err, ErrInvalid, bad)
	}
}

// TestOddTable checks every character at an odd position against the official
// table, as listed independently here: the other 14 positions are '0', worth
// 1 each at the 7 remaining odd positions and 0 at the even ones.
func TestOddTable(t *testing.T) {
	t.Parallel()
	odd := map[byte]int{
		'0': 1, '1': 0, '2': 5, '3': 7, '4': 9, '5': 13, '6': 15, '7': 17, '8': 19, '9': 21,
		'A': 1, 'B': 0, 'C': 5, 'D': 7, 'E': 9, 'F': 13, 'G': 15, 'H': 17, 'I': 19, 'J': 21,
		'K': 2, 'L': 4, 'M': 18, 'N': 20, 'O': 11, 'P': 3, 'Q': 6, 'R': 8, 'S': 12, 'T': 14,
		'U': 16, 'V': 10, 'W': 22, 'X': 25, 'Y': 24, 'Z': 23,
	}
	require.Len(t, odd, 36)
	for ch, v := range odd {
		got, err := CheckChar(string(ch) + "00000000000000")
		require.NoError(t, err)
		require.Equal(t, string(rune('A'+(v+7)%26)), string(got), string(ch))
		// Even position: digits 0-9 and letters A-Z count as their index.
		got, err = CheckChar("0" + string(ch) + "0000000000000")
		require.NoError(t, err)
		even := int(ch - 'A')
		if ch <= '9' {
			even = int(ch - '0')
		}
		require.Equal(t, string(rune('A'+(even+8)%26)), string(got), string(ch))
	}
}

// withCheck appends the computed check letter to a 15-character prefix.
func withCheck(t *testing.T, first15 string) string {
	t.Helper()
	c, err := CheckChar(first15)
	require.NoError(t, err)
	return first15 + string(c)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, code string
		kind       Kind
		errHas     string // substring of the error; empty means valid
	}{
		{"person", "RSSMRA85T10A562S", Person, ""},
		{"normalised", "  rssmra85t10a562s\t", Person, ""},
		{"omocodic", "RSSMRA85T10A56NH", Person, ""},
		{"omocodic twice", "RSSMRA85T10A5SNT", Person, ""},
		{"omocodic day", "RSSMRA85T1LA562V", Person, ""},
		{"fully omocodic", withCheck(t, "RSSMRAURTMLARSN"), Person, ""},
		{"female", "RSSMRA85T50A562W", Person, ""},
		{"female day 71", withCheck(t, "RSSMRA85T71A562"), Person, ""},
		{"company Roma Capitale", "02438750586", Company, ""},
		{"company Comune di Palermo", "80016350821", Company, ""},
		{"company Agenzia Entrate", "06363391001", Company, ""},
		{"company padded", " 01199250158 ", Company, ""},

		{"wrong check letter", "RSSMRA85T10A562X", 0, "check character"},
		{"omocodic wrong check", "RSSMRA85T10A56NS", 0, "check character"},
		{"bad month letter", "RSSMRA85F10A562S", 0, "month"},
		{"day 35", "RSSMRA85T35A562G", 0, "day"},
		{"day 00", "RSSMRA85T00A562R", 0, "day"},
		{"day 72", withCheck(t, "RSSMRA85T72A562"), 0, "day"},
		{"omocodic day 37", withCheck(t, "RSSMRA85TPTA562"), 0, "day"},
		{"too short", "RSSMRA85T10A562", 0, "length"},
		{"too long", "RSSMRA85T10A562SS", 0, "length"},
		{"empty", "   ", 0, "length"},
		{"illegal char", "RSSMRA85T10A56#S", 0, "position 15"},
		{"digit in name", "R5SMRA85T10A562S", 0, "position 2"},
		{"non-omocodia letter", "RSSMRA8AT10A562S", 0, "position 8"},
		{"digit as check", "RSSMRA85T10A5621", 0, "position 16"},
		{"inner space", "RSSMRA85T10 562S", 0, "position 12"},
		{"company flipped check", "02438750587", 0, "check digit"},
		{"company flipped check 2", "80016350822", 0, "check digit"},
		{"company letter", "0243875058A", 0, "position 11"},
		{"non-ASCII", "RSSMRA85T10A56é", 0, "position 15"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kind, err := Validate(tc.code)
			if tc.errHas == "" {
				require.NoError(t, err)
				require.Equal(t, tc.kind, kind)
				return
			}
			require.ErrorIs(t, err, ErrInvalid)
			require.Zero(t, kind)
			require.Contains(t, err.Error(), tc.errHas)
			requireNoEcho(t, tc.code, err)
		})
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	require.Equal(t, "RSSMRA85T10A562S", Normalize(" \trssMRA85t10a562s\n"))
	require.Equal(t, "", Normalize("  "))
}

// messageRE lists every message shape the package can produce: fixed
// lower-case wording plus small numbers, so no code can be echoed.
var messageRE = regexp.MustCompile(`^invalid fiscal code: (` + strings.Join([]string{
	`wrong length \d+, want 16 or 11`,
	`unexpected character at position \d{1,2}`,
	`invalid month letter at position 9`,
	`day out of range at positions 10-11`,
	`check character mismatch`,
	`check digit mismatch`,
}, "|") + `)$`)

// requireNoEcho asserts that err neither has an unexpected shape nor
// contains the normalised code. Codes shorter than 11 characters are not
// checked for containment: a string like "1" can occur in the wording.
func requireNoEcho(t *testing.T, code string, err error) {
	t.Helper()
	msg := err.Error()
	require.Regexp(t, messageRE, msg)
	if n := Normalize(code); len(n) >= companyLen {
		require.NotContains(t, msg, n)
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		"RSSMRA85T10A562S", "rssmra85t10a56nh", "RSSMRA85T50A562W", "RSSMRA85T35A562G",
		"02438750586", "02438750587", "", " ", "RSSMRA85T10A562", "RSSMRA85T10A56#S", "RSSMRA85T10A56é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, err := Validate(s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			require.Zero(t, kind)
			requireNoEcho(t, s, err)
			return
		}
		n := Normalize(s)
		switch kind {
		case Person:
			require.Len(t, n, 16)
			c, err := CheckChar(n[:15])
			require.NoError(t, err)
			require.Equal(t, n[15], c)
		case Company:
			require.Len(t, n, 11)
		default:
			t.Fatalf("unexpected kind %d", kind)
		}
	})
}
