package money

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFormats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c                Cents
		decimal, italian string
	}{
		{0, "0.00", "0,00"},
		{5, "0.05", "0,05"},
		{1234, "12.34", "12,34"},
		{123456, "1234.56", "1.234,56"},
		{100000000, "1000000.00", "1.000.000,00"},
		{-1250, "-12.50", "-12,50"},
	} {
		require.Equal(t, tc.decimal, tc.c.Decimal())
		require.Equal(t, tc.italian, tc.c.Italian())
	}
}

func TestParseDecimal(t *testing.T) {
	t.Parallel()
	c, err := ParseDecimal("1234.05")
	require.NoError(t, err)
	require.Equal(t, Cents(123405), c)
	for _, bad := range []string{"", "12", "12.3", "12.345", "-1.00", "1,00", ".50", "a.00", "1.0a", "1234567890123.00"} {
		_, err := ParseDecimal(bad)
		require.ErrorIs(t, err, ErrInvalidAmount, bad)
	}
}

func FuzzDecimalRoundTrip(f *testing.F) {
	f.Add(int64(0))
	f.Add(int64(99999999999))
	f.Fuzz(func(t *testing.T, v int64) {
		if v < 0 || v > 99999999999999 {
			return
		}
		got, err := ParseDecimal(Cents(v).Decimal())
		require.NoError(t, err)
		require.Equal(t, Cents(v), got)
	})
}
