package sepa

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateMandateID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, id, errHas string
	}{
		{"generated", "INC-TARI-42", ""},
		{"every allowed character", "azAZ09/-?:().,'+", ""},
		{"single character", "1", ""},
		{"35 characters", strings.Repeat("M", 35), ""},
		{"inner slash", "TARI/2026/42", ""},

		{"empty", "", "length 0, must be 1 to 35"},
		{"36 characters", strings.Repeat("M", 36), "length 36, must be 1 to 35"},
		{"space", "TARI 42", "character at position 5 is not allowed"},
		{"accent", "Città-1", "character at position 5 is not allowed"},
		{"underscore", "TARI_42", "character at position 5 is not allowed"},
		{"leading slash", "/TARI42", "must not start or end with '/'"},
		{"trailing slash", "TARI42/", "must not start or end with '/'"},
		{"double slash", "TARI//42", "must not contain '//'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateMandateID(tc.id)
			require.Equal(t, tc.errHas == "", ValidIdentifier(tc.id))
			if tc.errHas == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidMandateID)
			require.Equal(t, "invalid mandate reference: "+tc.errHas, err.Error())
		})
	}
}

func TestNewMandateID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		prefix string
		n      int64
		want   string
	}{
		{"TARI", 42, "INC-TARI-42"},
		{"A", 0, "INC-A-0"},
		{"0123456789", math.MaxInt64, "INC-0123456789-9223372036854775807"},
		{"0123456789", math.MinInt64, "INC-0123456789--9223372036854775808"},
	} {
		got := NewMandateID(tc.prefix, tc.n)
		require.Equal(t, tc.want, got)
		require.NoError(t, ValidateMandateID(got))
	}
}

func FuzzNewMandateID(f *testing.F) {
	f.Add("TARI", int64(1))
	f.Add("0123456789", int64(math.MinInt64))
	f.Add("a b", int64(-1))
	f.Fuzz(func(t *testing.T, prefix string, n int64) {
		if len(prefix) > 10 || !ValidIdentifier(prefix) || strings.Contains(prefix, "/") {
			return
		}
		id := NewMandateID(prefix, n)
		require.NoError(t, ValidateMandateID(id))
		require.Equal(t, id, NewMandateID(prefix, n))
	})
}

func FuzzValidateMandateID(f *testing.F) {
	for _, s := range []string{"INC-TARI-42", "", "a//b", "/a", "a b", "Città", strings.Repeat("x", 36)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateMandateID(s)
		require.Equal(t, err == nil, ValidIdentifier(s))
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidMandateID)
			if len(s) >= 3 {
				require.NotContains(t, err.Error(), s)
			}
			return
		}
		require.True(t, ValidText(s, 35))
		require.NotContains(t, s, " ")
	})
}
