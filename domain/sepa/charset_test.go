package sepa

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestTransliterate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Società Cooperativa Città di Forlì", "Societa Cooperativa Citta di Forli"},
		{"NICCOLÒ PERCHÉ È", "NICCOLO PERCHE E"},
		{"Niccolò D’Àlessio", "Niccolo D'Alessio"},
		{"Müller & Söhne", "Muller + Sohne"},
		{"Straße ẞ", "Strasse SS"},
		{"Ça va? Ñandú", "Ca va? Nandu"},
		{"Łódź, Brno-Žabovřesky", "Lodz, Brno-Zabovresky"},
		{"Ærøskøbing Œuvre", "AEroskobing OEuvre"},
		{"TARI 2026 – rata 1/3: 120 €", "TARI 2026 - rata 1/3: 120 EUR"},
		{`«Rossi» "Mario" ‘x’ ` + "`y´", "'Rossi' 'Mario' 'x' 'y'"},
		{"[TARI]{2026}; IMU_2025", "(TARI)(2026), IMU-2025"},
		{"  Mario\t\tRossi\n", "Mario Rossi"},
		{"Pe\u0301rez", "Perez"},
		{"soft\u00adhyphen zero\u200bwidth", "softhyphen zerowidth"},
		{"mario@example.it *urgente* #5 50%", "mario example.it urgente 5 50"},
		{"via Roma n° 5, 1ª rata", "via Roma n 5, 1a rata"},
		{"日本語", ""},
		{"a\xffb", "a b"},
		{"", ""},
	} {
		got := Transliterate(tc.in)
		require.Equal(t, tc.want, got, tc.in)
		if got != "" {
			require.True(t, ValidText(got, utf8.RuneCountInString(got)), got)
		}
	}
}

func TestValidText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s     string
		limit int
		want  bool
	}{
		{"Mario Rossi", 70, true},
		{"azAZ09/-?:().,'+ ", 70, true},
		{"Mario Rossi", 11, true},
		{"Mario Rossi", 10, false},
		{"", 70, false},
		{"Città", 70, false},
		{"a&b", 70, false},
		{"a\tb", 70, false},
		{"a_b", 70, false},
		{"a\xffb", 70, false},
	} {
		require.Equal(t, tc.want, ValidText(tc.s, tc.limit), tc.s)
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s     string
		limit int
		want  string
	}{
		{"àèìòù", 3, "àèì"},
		{"àèìòù", 5, "àèìòù"},
		{"àèìòù", 6, "àèìòù"},
		{"Mario Rossi", 6, "Mario "},
		{"abc", 0, ""},
		{"abc", -1, ""},
		{"", 3, ""},
	} {
		require.Equal(t, tc.want, Truncate(tc.s, tc.limit), tc.s)
	}
}

func FuzzTransliterate(f *testing.F) {
	for _, s := range []string{"Società", "D’Àlessio & C.", "  a\t b ", "日本", "e\u0301", "\xff", "ß_€"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Transliterate(s)
		require.Equal(t, got, Transliterate(got), "idempotent")
		if got == "" {
			return
		}
		require.True(t, ValidText(got, len(got)))
		require.Equal(t, strings.TrimSpace(got), got)
		require.NotContains(t, got, "  ")
	})
}

func FuzzTruncate(f *testing.F) {
	f.Add("àèìòù", 3)
	f.Add("abc", -1)
	f.Add("a\xffb", 2)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		got := Truncate(s, limit)
		require.True(t, strings.HasPrefix(s, got))
		require.Equal(t, min(max(limit, 0), utf8.RuneCountInString(s)), utf8.RuneCountInString(got))
		if utf8.ValidString(s) {
			require.True(t, utf8.ValidString(got))
		}
	})
}
