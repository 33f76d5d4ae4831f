package sepa

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// registryExamples are the example IBANs of the SWIFT IBAN registry, one per country of
// ibanLengths.
var registryExamples = []string{
	"AD1200012030200359100100", "AL47212110090000000235698741", "AT611904300234573201",
	"BE68539007547034", "BG80BNBG96611020345678", "CH9300762011623852957",
	"CY17002001280000001200527600", "CZ6508000000192000145399", "DE89370400440532013000",
	"DK5000400440116243", "EE382200221020145685", "ES9121000418450200051332",
	"FI2112345600000785", "FR1420041010050500013M02606", "GB29NWBK60161331926819",
	"GI75NWBK000000007099453", "GR1601101250000000012300695", "HR1210010051863000160",
	"HU42117730161111101800000000", "IE29AIBK93115212345678", "IS140159260076545510730339",
	"IT60X0542811101000000123456", "LI21088100002324013AA", "LT121000011101001000",
	"LU280019400644750000", "LV80BANK0000435195001", "MC5811222000010123456789030",
	"MD24AG000225100013104168", "ME25505000012345678951", "MK07250120000058984",
	"MT84MALT011000012345MTLCAST001S", "NL91ABNA0417164300", "NO9386011117947",
	"PL61109010140000071219812874", "PT50000201231234567890154", "RO49AAAA1B31007593840000",
	"RS35260005601001611379", "SE4550000000058398257466", "SI56263300012039086",
	"SK3112000000198742637541", "SM86U0322509800000000270100", "VA59001123000012345678",
}

// withCheckDigits builds an IBAN from a country code and a BBAN, computing the check digits.
func withCheckDigits(country, bban string) string {
	return country + creditorCheck(country, bban) + bban
}

func TestValidateIBANRegistryExamples(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, iban := range registryExamples {
		require.NoError(t, ValidateIBAN(iban), iban)
		require.Len(t, iban, ibanLengths[iban[:2]], iban)
		seen[iban[:2]] = true
	}
	require.Len(t, seen, len(ibanLengths), "one example per SEPA country")
}

// TestValidateIBANSingleSubstitution changes every character of every example into every
// other character of its class: mod 97 catches any single substitution, the CIN too.
func TestValidateIBANSingleSubstitution(t *testing.T) {
	t.Parallel()
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for _, iban := range registryExamples {
		for i := 4; i < len(iban); i++ {
			for _, c := range []byte(alnum) {
				if c == iban[i] || isDigit(c) != isDigit(iban[i]) {
					continue
				}
				bad := iban[:i] + string(c) + iban[i+1:]
				require.ErrorIs(t, ValidateIBAN(bad), ErrInvalidIBAN, bad)
			}
		}
	}
}

func TestValidateIBAN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, iban string
		errHas     string // substring of the error; empty means valid
	}{
		{"Italian", "IT60X0542811101000000123456", ""},
		{"Italian letters in account", italianIBAN(t, "03069", "09606", "1000000000AB"), ""},
		{"San Marino", "SM86U0322509800000000270100", ""},
		{"Vatican", "VA59001123000012345678", ""},

		{"empty", "", "empty"},
		{"spaces", "IT60 X054 2811 1010 0000 0123 456", "position 5 is not"},
		{"lower case", "it60X0542811101000000123456", "position 1 is not"},
		{"non-ASCII", "IT60X0542811101000000123456é", "position 28 is not"},
		{"too short for a header", "IT6", "country code and two check digits"},
		{"digit country", "1T60X0542811101000000123456", "country code and two check digits"},
		{"letter in check digits", "ITX0X0542811101000000123456", "country code and two check digits"},
		{"not SEPA", "US60X0542811101000000123456", "country code US is not in SEPA"},
		{"Italian too short", "IT60X054281110100000012345", "length 26, IT IBANs have 27"},
		{"German too long", "DE893704004405320130000", "length 23, DE IBANs have 22"},
		{"check digits 00", "IT00X0542811101000000123456", "out of range"},
		{"check digits 99", "IT99X0542811101000000123456", "out of range"},
		{"check digits 01 passing mod 97", withOne("DE", "3704004405320130"), "out of range"},
		{"wrong check digits", "IT61X0542811101000000123456", "check digits do not match"},
		{"swapped digits", "IT60X0542811101000000124356", "check digits do not match"},
		{"CIN digit", withCheckDigits("IT", "10542811101000000123456"), "CIN at position 5"},
		{"ABI letter", withCheckDigits("IT", "X054A811101000000123456"), "ABI at positions 6-10"},
		{"CAB letter", withCheckDigits("IT", "X05428111B1000000123456"), "CAB at positions 11-15"},
		{"wrong CIN", withCheckDigits("IT", "Y0542811101000000123456"), "CIN letter is wrong"},
		{"wrong CIN San Marino", withCheckDigits("SM", "A0322509800000000270100"), "CIN letter is wrong"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateIBAN(tc.iban)
			if tc.errHas == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidIBAN)
			require.Contains(t, err.Error(), tc.errHas)
			requireNoIBANEcho(t, tc.iban, err)
		})
	}
}

// italianIBAN builds a valid Italian IBAN, computing the CIN and the check digits.
func italianIBAN(t *testing.T, abi, cab, account string) string {
	t.Helper()
	iban, err := ItalianIBAN(abi, cab, account)
	require.NoError(t, err)
	return iban
}

// withOne builds an IBAN whose check digits are 01 and still satisfy mod 97, which happens
// when the right ones are 98. The last two digits of the BBAN take 100 consecutive values, so
// one of them gives 98.
func withOne(country, bbanPrefix string) string {
	for n := range 100 {
		if iban := withCheckDigits(country, fmt.Sprintf("%s%02d", bbanPrefix, n)); iban[2:4] == "98" {
			return country + "01" + iban[4:]
		}
	}
	panic("unreachable: 100 consecutive numbers cover every remainder mod 97")
}

func TestNormalizeIBAN(t *testing.T) {
	t.Parallel()
	require.Equal(t, "IT60X0542811101000000123456", NormalizeIBAN(" it60 x054\t2811 1010\u00a00000 0123 456\n"))
	require.NoError(t, ValidateIBAN(NormalizeIBAN("it60 x054 2811 1010 0000 0123 456")))
	require.Equal(t, "", NormalizeIBAN("  "))
}

func TestItalianCIN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		abi, cab, account string
		want              byte
	}{
		{"05428", "11101", "000000123456", 'X'}, // the classic example IBAN
		{"03225", "09800", "000000270100", 'U'}, // San Marino registry example
		// By hand, positions 1-22 of 0000000000000000123456: the eight '0' at odd
		// positions 1-15 are worth 1 each, then 1 -> 0, 3 -> 7, 5 -> 13 at 17, 19, 21: 28;
		// at even positions '0' is 0, then 2 + 4 + 6 at 18, 20, 22: 12. 40 mod 26 = 14 -> 'O'.
		{"00000", "00000", "000000123456", 'O'},
		// Ten '0' at odd positions 1-19: 10; 'A' at odd 21: 1; 'Z' at even 22: 25.
		// 36 mod 26 = 10 -> 'K'.
		{"00000", "00000", "0000000000AZ", 'K'},
	} {
		got, err := ItalianCIN(tc.abi, tc.cab, tc.account)
		require.NoError(t, err)
		require.Equal(t, string(tc.want), string(got), tc.abi+tc.cab+tc.account)
	}
	for _, bad := range [][3]string{
		{"0542", "11101", "000000123456"},
		{"05428", "1110A", "000000123456"},
		{"05428", "11101", "00000012345"},
		{"05428", "11101", "00000012345a"},
	} {
		_, err := ItalianCIN(bad[0], bad[1], bad[2])
		require.ErrorIs(t, err, ErrInvalidIBAN)
	}
}

func TestItalianIBAN(t *testing.T) {
	t.Parallel()
	iban, err := ItalianIBAN("05428", "11101", "000000123456")
	require.NoError(t, err)
	require.Equal(t, "IT60X0542811101000000123456", iban, "the registry's example")
	require.Equal(t, withCheckDigits("IT", iban[4:]), iban)
	_, err = ItalianIBAN("0542", "11101", "000000123456")
	require.ErrorIs(t, err, ErrInvalidIBAN)
}

func TestMaskIBAN(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"IT60X0542811101000000123456":       "IT60 **** **** **** **** ***3 456",
		"it60 x054 2811 1010 0000 0123 456": "IT60 **** **** **** **** ***3 456",
		"NO9386011117947":                   "NO93 **** ***7 947",
		"IT60X05428":                        "**** **** **",
		"":                                  "",
	} {
		require.Equal(t, want, MaskIBAN(in), in)
	}
}

// ibanMessageRE lists every message shape ValidateIBAN can produce.
var ibanMessageRE = regexp.MustCompile(`^invalid IBAN: (` + strings.Join([]string{
	`empty`,
	`character at position \d+ is not an upper-case letter or a digit`,
	`must start with a country code and two check digits`,
	`country code [A-Z]{2} is not in SEPA`,
	`length \d+, [A-Z]{2} IBANs have \d+`,
	`check digits out of range 02-98`,
	`check digits do not match`,
	`CIN at position 5 must be a letter`,
	`ABI at positions 6-10 must be 5 digits`,
	`CAB at positions 11-15 must be 5 digits`,
	`CIN letter is wrong`,
}, "|") + `)$`)

// requireNoIBANEcho asserts that err has a known shape and does not contain the IBAN. Inputs
// shorter than 8 characters are not checked for containment: "IT" occurs in the wording.
func requireNoIBANEcho(t *testing.T, iban string, err error) {
	t.Helper()
	msg := err.Error()
	require.Regexp(t, ibanMessageRE, msg)
	if len(iban) >= 8 {
		require.NotContains(t, msg, iban)
	}
}

func FuzzValidateIBAN(f *testing.F) {
	for _, s := range registryExamples {
		f.Add(s)
	}
	for _, s := range []string{"", "IT", "IT60", "US60X0542811101000000123456", "it60 x054", "IT00X0542811101000000123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateIBAN(s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidIBAN)
			requireNoIBANEcho(t, s, err)
			return
		}
		require.Equal(t, NormalizeIBAN(s), s)
		require.Len(t, s, ibanLengths[s[:2]])
		require.Equal(t, 1, mod97(s[4:]+s[:4]))
		require.Equal(t, strings.Count(MaskIBAN(s), "*"), len(s)-8)
	})
}
