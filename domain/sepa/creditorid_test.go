package sepa

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/domain/fiscalcode"
)

// Check digits computed by hand, letters as in IBAN (A=10 ... Z=35):
//
//   - EPC's own example IT66ZZZA1B2C3D4E5F6G7H8: national id A1B2C3D4E5F6G7H8, then IT00, reads
//     101112123134145156167178182900; that number mod 97 is 32 and 98 - 32 = 66.
//   - Comune di Palermo, fiscal code 80016350821: padded to 0000080016350821, then IT00
//     (18 29 00), reads 80016350821182900. Piece by piece: 800163508 mod 97 = 32; then
//     3221182900 (32 followed by the remaining digits 21182900) mod 97 = 13; 98 - 13 = 85,
//     so the CI is IT85ZZZ0000080016350821.
//   - Deutsche Bundesbank's test CI DE98ZZZ09999999999: 09999999999 1314 00 is a multiple of
//     97, so the check digits are 98.
func TestNewCreditorID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		country, business, national, want string
	}{
		{"IT", "ZZZ", "A1B2C3D4E5F6G7H8", "IT66ZZZA1B2C3D4E5F6G7H8"},
		{"IT", "ZZZ", "0000080016350821", "IT85ZZZ0000080016350821"},
		{"IT", "AB1", "0000080016350821", "IT85AB10000080016350821"}, // business code excluded
		{"DE", "ZZZ", "09999999999", "DE98ZZZ09999999999"},
		{"DE", "ABC", "09999999999", "DE98ABC09999999999"},
	} {
		got, err := NewCreditorID(tc.country, tc.business, tc.national)
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
		require.NoError(t, ValidateCreditorID(got))
	}
	for _, bad := range [][3]string{
		{"it", "ZZZ", "0000080016350821"},
		{"I1", "ZZZ", "0000080016350821"},
		{"ITA", "ZZZ", "0000080016350821"},
		{"IT", "ZZ", "0000080016350821"},
		{"IT", "zzz", "0000080016350821"},
		{"IT", "ZZZ", ""},
		{"IT", "ZZZ", "00000800163508-1"},
		{"IT", "ZZZ", strings.Repeat("1", 29)},
	} {
		_, err := NewCreditorID(bad[0], bad[1], bad[2])
		require.ErrorIs(t, err, ErrInvalidCreditorID, bad)
	}
}

func TestItalianCreditorID(t *testing.T) {
	t.Parallel()
	got, err := ItalianCreditorID(" 80016350821 ")
	require.NoError(t, err)
	require.Equal(t, "IT85ZZZ0000080016350821", got)

	got, err = ItalianCreditorID("rssmra85t10a562s") // a person's code needs no padding
	require.NoError(t, err)
	require.Regexp(t, `^IT\d\dZZZRSSMRA85T10A562S$`, got)
	require.NoError(t, ValidateCreditorID(got))

	_, err = ItalianCreditorID("80016350822")
	require.ErrorIs(t, err, ErrInvalidCreditorID)
	require.ErrorIs(t, err, fiscalcode.ErrInvalid)
	require.NotContains(t, err.Error(), "80016350822")
}

func TestValidateCreditorID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, id, errHas string
	}{
		{"EPC example", "IT66ZZZA1B2C3D4E5F6G7H8", ""},
		{"comune", "IT85ZZZ0000080016350821", ""},
		{"business code", "IT85X9Z0000080016350821", ""},
		{"German", "DE98ZZZ09999999999", ""},
		{"longest", mustCreditorID(t, "NL", strings.Repeat("9", 28)), ""},

		{"empty", "", "length 0"},
		{"spaces", "IT66 ZZZ A1B2C3D4E5F6G7H8", "position 5"},
		{"lower case", "it66ZZZA1B2C3D4E5F6G7H8", "position 1"},
		{"too short", "DE98ZZZ", "length 7"},
		{"too long", "NL00ZZZ" + strings.Repeat("9", 29), "length 36"},
		{"no check digits", "ITX6ZZZA1B2C3D4E5F6G7H8", "country code and two check digits"},
		{"Italian length", "IT66ZZZA1B2C3D4E5F6G7H", "length 22, IT creditor identifiers have 23"},
		{"wrong check digits", "IT67ZZZA1B2C3D4E5F6G7H8", "check digits do not match"},
		{"wrong national id", "IT85ZZZ0000080016350822", "check digits do not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateCreditorID(tc.id)
			if tc.errHas == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidCreditorID)
			require.Contains(t, err.Error(), tc.errHas)
			requireNoCreditorIDEcho(t, tc.id, err)
		})
	}
}

func mustCreditorID(t *testing.T, country, national string) string {
	t.Helper()
	id, err := NewCreditorID(country, NoBusinessCode, national)
	require.NoError(t, err)
	return id
}

var creditorIDMessageRE = regexp.MustCompile(`^invalid creditor identifier: (` + strings.Join([]string{
	`character at position \d+ is not an upper-case letter or a digit`,
	`length \d+, must be 8 to 35`,
	`must start with a country code and two check digits`,
	`length \d+, IT creditor identifiers have 23`,
	`check digits do not match`,
}, "|") + `)$`)

func requireNoCreditorIDEcho(t *testing.T, id string, err error) {
	t.Helper()
	require.Regexp(t, creditorIDMessageRE, err.Error())
	if len(id) >= 8 {
		require.NotContains(t, err.Error(), id)
	}
}

func FuzzCreditorID(f *testing.F) {
	f.Add("IT", "ZZZ", "0000080016350821")
	f.Add("DE", "ZZZ", "09999999999")
	f.Add("IT", "ZZZ", "A1B2")
	f.Add("it", "z z", "")
	f.Fuzz(func(t *testing.T, country, business, national string) {
		if err := ValidateCreditorID(country + business + national); err != nil {
			require.ErrorIs(t, err, ErrInvalidCreditorID)
			requireNoCreditorIDEcho(t, country+business+national, err)
		}
		id, err := NewCreditorID(country, business, national)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidCreditorID)
			return
		}
		require.Equal(t, country, id[:2])
		require.Equal(t, business+national, id[4:])
		if country == "IT" && len(national) != italianNationalIDLen {
			require.ErrorContains(t, ValidateCreditorID(id), "IT creditor identifiers")
			return
		}
		require.NoError(t, ValidateCreditorID(id))
	})
}
