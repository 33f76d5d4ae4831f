package chars

import "testing"

func TestDigits(t *testing.T) {
	t.Parallel()
	for s, n := range map[string]int{"0": 1, "322201151398574181": 18, "": 0} {
		if !Digits(s, n) {
			t.Errorf("Digits(%q, %d) = false", s, n)
		}
	}
	for _, tt := range []struct {
		s string
		n int
	}{{"12", 3}, {"1a", 2}, {"١٢", 2}, {"-1", 2}, {" 1", 2}, {"12", 1}} {
		if Digits(tt.s, tt.n) {
			t.Errorf("Digits(%q, %d) = true", tt.s, tt.n)
		}
	}
}

func TestPrintable(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "Mario Rossi", "Società Àèìòù € ß", "TARI 2026 - rata unica (1/2)"} {
		if !Printable(s) {
			t.Errorf("Printable(%q) = false", s)
		}
	}
	for _, s := range []string{"a\nb", "a\tb", "a\x00b", "a\u0085b", "a\x7fb", "\xff"} {
		if Printable(s) {
			t.Errorf("Printable(%q) = true", s)
		}
	}
}

// TestCheckLetter checks the two users' classic examples; fiscalcode and sepa test the table
// position by position.
func TestCheckLetter(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]byte{
		"RSSMRA85T10A562":        'S', // the codice fiscale of Mario Rossi
		"0542811101000000123456": 'X', // the CIN of IT60X0542811101000000123456
		"":                       'A',
	} {
		if got, bad := CheckLetter(s); got != want || bad != -1 {
			t.Errorf("CheckLetter(%q) = %q, %d; want %q, -1", s, got, bad, want)
		}
	}
	for s, want := range map[string]int{"a": 0, "RSSMRA85t10A562": 8, "AB#": 2, "12ÿ": 2} {
		if got, bad := CheckLetter(s); got != 0 || bad != want {
			t.Errorf("CheckLetter(%q) = %q, %d; want 0, %d", s, got, bad, want)
		}
	}
}
