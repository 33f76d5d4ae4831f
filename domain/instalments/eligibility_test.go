package instalments

import (
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/domain/money"
)

func TestDefaultTable(t *testing.T) {
	t.Parallel()
	require.NoError(t, DefaultTable.Validate())
	for _, tc := range []struct {
		amount       money.Cents
		fewest, most int
	}{
		{0, 0, 0},
		{100_00, 0, 0},
		{100_01, 2, 4},
		{500_00, 2, 4},
		{500_01, 5, 12},
		{3_000_00, 5, 12},
		{3_000_01, 13, 24},
		{6_000_00, 13, 24},
		{6_000_01, 25, 36},
		{20_000_00, 25, 36},
		{20_000_01, 25, 36},
		{99_999_999_999, 25, 36},
	} {
		fewest, most := DefaultTable.Allowed(tc.amount)
		require.Equal(t, [2]int{tc.fewest, tc.most}, [2]int{fewest, most}, tc.amount.Italian())
	}
	fewest, most := Table{}.Allowed(1_000_00)
	require.Zero(t, fewest)
	require.Zero(t, most)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		amount money.Cents
		n      int
		err    error
		msg    string
	}{
		{100_01, 2, nil, ""},
		{500_00, 4, nil, ""},
		{1_000_00, 5, nil, ""},
		{1_000_00, 12, nil, ""},
		{7_500_00, 36, nil, ""},
		{50_000_00, 36, nil, ""},

		{50_00, 2, ErrNotEligible, "not eligible for instalments: amounts up to 100,00 EUR cannot be paid in instalments"},
		{100_00, 1, ErrNotEligible, "not eligible for instalments: amounts up to 100,00 EUR cannot be paid in instalments"},
		{7_500_00, 40, ErrNumberNotAllowed, "number of instalments not allowed: 40 is more than the 36 allowed for 7.500,00 EUR"},
		{400_00, 5, ErrNumberNotAllowed, "number of instalments not allowed: 5 is more than the 4 allowed for 400,00 EUR"},
		{400_00, 1, ErrNumberNotAllowed, "number of instalments not allowed: 1 is fewer than the 2 required for 400,00 EUR"},
		{1_000_00, 3, ErrNumberNotAllowed, "number of instalments not allowed: 3 is fewer than the 5 required for 1.000,00 EUR"},
		{1_000_00, 0, ErrNumberNotAllowed, "number of instalments not allowed: 0 is fewer than the 5 required for 1.000,00 EUR"},
	} {
		err := DefaultTable.Check(tc.amount, tc.n)
		if tc.err == nil {
			require.NoError(t, err)
			continue
		}
		require.ErrorIs(t, err, tc.err)
		require.EqualError(t, err, tc.msg)
	}
	require.ErrorIs(t, Table{}.Check(1_000_00, 5), ErrInvalidTable)
}

// TestLowerMinimum shows the reading of a comune that lets the debtor choose fewer
// instalments than the law's schedule.
func TestLowerMinimum(t *testing.T) {
	t.Parallel()
	lenient := Table{{UpTo: 100_00}, {UpTo: 500_00, Min: 2, Max: 4}, {UpTo: 3_000_00, Min: 2, Max: 12}, {UpTo: 20_000_00, Min: 2, Max: 36}}
	require.NoError(t, lenient.Validate())
	require.NoError(t, lenient.Check(1_000_00, 3))
	require.NoError(t, lenient.Check(50_000_00, 2))
	require.Error(t, DefaultTable.Check(1_000_00, 3))
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		table Table
		msg   string
	}{
		{"empty", Table{}, "no bands"},
		{"nothing eligible", Table{{UpTo: 100_00}}, "no band allows instalments"},
		{"zero UpTo", Table{{UpTo: 0, Min: 2, Max: 4}}, "band 1: UpTo 0,00 EUR is not positive"},
		{"not ascending", Table{{UpTo: 500_00, Min: 2, Max: 4}, {UpTo: 500_00, Min: 5, Max: 12}}, "band 2: UpTo 500,00 EUR is not above the previous band's"},
		{"descending", Table{{UpTo: 500_00, Min: 2, Max: 4}, {UpTo: 100_00, Min: 5, Max: 12}}, "band 2: UpTo 100,00 EUR is not above the previous band's"},
		{"not eligible in the middle", Table{{UpTo: 500_00, Min: 2, Max: 4}, {UpTo: 600_00}}, "band 2: only the first band can be not eligible"},
		{"min 1", Table{{UpTo: 500_00, Min: 1, Max: 4}}, "band 1: Min 1 and Max 4, want 2 <= Min <= Max <= 36"},
		{"min 0 max 4", Table{{UpTo: 500_00, Max: 4}}, "band 1: Min 0 and Max 4, want 2 <= Min <= Max <= 36"},
		{"min above max", Table{{UpTo: 500_00, Min: 5, Max: 4}}, "band 1: Min 5 and Max 4, want 2 <= Min <= Max <= 36"},
		{"above the cap", Table{{UpTo: 500_00, Min: 2, Max: 72}}, "band 1: Min 2 and Max 72, want 2 <= Min <= Max <= 36"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.table.Validate()
			require.ErrorIs(t, err, ErrInvalidTable)
			require.EqualError(t, err, "invalid instalment table: "+tc.msg)
		})
	}
}
