package instalments

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
	"incasso/domain/money"
)

func d(s string) date.Date {
	v, err := date.Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func dates(ss ...string) []date.Date {
	var out []date.Date
	for _, s := range ss {
		out = append(out, d(s))
	}
	return out
}

func TestSplit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		total money.Cents
		n     int
		want  []money.Cents
	}{
		{100_00, 3, []money.Cents{33_34, 33_33, 33_33}},
		{10_01, 4, []money.Cents{2_51, 2_50, 2_50, 2_50}},
		{10_03, 4, []money.Cents{2_51, 2_51, 2_51, 2_50}},
		{1_000_00, 5, []money.Cents{200_00, 200_00, 200_00, 200_00, 200_00}},
		{1, 1, []money.Cents{1}},
		{36, 36, slices.Repeat([]money.Cents{1}, 36)},
	} {
		got, err := Split(tc.total, tc.n)
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
	for _, tc := range []struct {
		total money.Cents
		n     int
		msg   string
	}{
		{100_00, 0, "invalid instalment plan: n is 0, must be 1 to 36"},
		{100_00, -1, "invalid instalment plan: n is -1, must be 1 to 36"},
		{100_00, 37, "invalid instalment plan: n is 37, must be 1 to 36"},
		{2, 3, "invalid instalment plan: total 0,02 EUR is less than one cent for each of 3 instalments"},
		{0, 1, "invalid instalment plan: total 0,00 EUR is less than one cent for each of 1 instalments"},
		{-5_00, 1, "invalid instalment plan: total -5,00 EUR is less than one cent for each of 1 instalments"},
	} {
		_, err := Split(tc.total, tc.n)
		require.ErrorIs(t, err, ErrInvalidPlan)
		require.EqualError(t, err, tc.msg)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add(int64(100_00), 3)
	f.Add(int64(36), 36)
	f.Add(int64(99_999_999_999), 7)
	f.Add(int64(2), 3)
	f.Fuzz(func(t *testing.T, total int64, n int) {
		parts, err := Split(money.Cents(total), n)
		if n < 1 || n > MaxInstalments || total < int64(n) {
			require.ErrorIs(t, err, ErrInvalidPlan)
			return
		}
		require.NoError(t, err)
		require.Len(t, parts, n)
		var sum money.Cents
		for _, p := range parts {
			require.GreaterOrEqual(t, p, money.Cents(1))
			sum += p
		}
		require.Equal(t, money.Cents(total), sum)
		require.LessOrEqual(t, slices.Max(parts)-slices.Min(parts), money.Cents(1))
		require.True(t, slices.IsSortedFunc(parts, func(a, b money.Cents) int { return int(b - a) }), "remainder first")
	})
}

func TestDueDates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		first string
		n     int
		rule  DueRule
		want  []date.Date
	}{
		{"last day", "2026-01-15", 4, LastDayOfMonth, dates("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30")},
		{"last day, leap year", "2028-01-01", 2, LastDayOfMonth, dates("2028-01-31", "2028-02-29")},
		{"last day across the year", "2026-11-30", 3, LastDayOfMonth, dates("2026-11-30", "2026-12-31", "2027-01-31")},
		{"same day, clamped and restored", "2028-01-31", 4, SameDayOfMonth, dates("2028-01-31", "2028-02-29", "2028-03-31", "2028-04-30")},
		{"same day 30", "2026-01-30", 3, SameDayOfMonth, dates("2026-01-30", "2026-02-28", "2026-03-30")},
		{"same day 15", "2026-12-15", 2, SameDayOfMonth, dates("2026-12-15", "2027-01-15")},
		{"unknown rule is last day", "2026-06-10", 1, DueRule(9), dates("2026-06-30")},
		{"none", "2026-01-15", 0, LastDayOfMonth, nil},
		{"negative", "2026-01-15", -2, LastDayOfMonth, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, DueDates(d(tc.first), tc.n, tc.rule))
		})
	}
	require.Len(t, DueDates(d("2026-01-31"), MaxInstalments, SameDayOfMonth), MaxInstalments)
	require.Equal(t, d("2028-12-31"), DueDates(d("2026-01-31"), MaxInstalments, SameDayOfMonth)[35])
}

func FuzzDueDates(f *testing.F) {
	f.Add(2026, 1, 31, 36, 0)
	f.Add(2028, 2, 29, 12, 1)
	f.Fuzz(func(t *testing.T, year, month, day, n, rule int) {
		if year < 1900 || year > 2200 || n < 0 || n > MaxInstalments {
			return
		}
		first := date.Of(time.Date(year, time.Month(month%12+1), day%31+1, 0, 0, 0, 0, time.UTC))
		got := DueDates(first, n, DueRule(rule&1))
		require.Len(t, got, n)
		for k, due := range got {
			month := date.Of(time.Date(first.Year, first.Month+time.Month(k), 1, 0, 0, 0, 0, time.UTC))
			require.Equal(t, month.Year, due.Year)
			require.Equal(t, month.Month, due.Month)
			last := date.Of(time.Date(due.Year, due.Month+1, 0, 0, 0, 0, 0, time.UTC)).Day
			if DueRule(rule&1) == SameDayOfMonth {
				require.Equal(t, min(first.Day, last), due.Day)
			} else {
				require.Equal(t, last, due.Day)
			}
		}
	})
}

// Hand-computed at 12% a year (1200 bp), 1% a month, on 100,00 EUR in 3: the balance is
// 100,00 before the first instalment (1,00 interest), 66,66 before the second (0,6666 -> 0,67)
// and 33,33 before the third (0,3333 -> 0,33).
func TestWithInterest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		principal []money.Cents
		bp        int
		want      []money.Cents
	}{
		{"one percent a month", []money.Cents{33_34, 33_33, 33_33}, 1200, []money.Cents{34_34, 34_00, 33_66}},
		{"half a cent rounds up", []money.Cents{25, 25}, 1200, []money.Cents{26, 25}}, // 0,5 and 0,25 cents
		{"just under half a cent", []money.Cents{49}, 1200, []money.Cents{49}},        // 0,49 cents
		// Balances 1.200,00, 1.100,00 ... 100,00 at 3.5%/12: 350, 320.83, 291.67, 262.5 (up),
		// 233.33, 204.17, 175, 145.83, 116.67, 87.5 (up), 58.33, 29.17 cents.
		{"3.5% on 1.200,00 in 12", slices.Repeat([]money.Cents{100_00}, 12), 350,
			[]money.Cents{103_50, 103_21, 102_92, 102_63, 102_33, 102_04, 101_75, 101_46, 101_17, 100_88, 100_58, 100_29}},
		{"zero rate", []money.Cents{33_34, 33_33}, 0, []money.Cents{33_34, 33_33}},
		{"negative rate", []money.Cents{33_34, 33_33}, -100, []money.Cents{33_34, 33_33}},
		{"empty", nil, 1200, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := slices.Clone(tc.principal)
			got := WithInterest(in, tc.bp)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.principal, in, "the principal is not modified")
			if len(got) > 0 {
				got[0]++
				require.Equal(t, tc.principal, in, "the result is a copy")
			}
		})
	}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	plan, err := Build(1_000_00, 3, d("2026-01-10"), LastDayOfMonth, 0)
	require.NoError(t, err)
	require.Equal(t, []Instalment{
		{Seq: 1, Principal: 333_34, Amount: 333_34, DueDate: d("2026-01-31")},
		{Seq: 2, Principal: 333_33, Amount: 333_33, DueDate: d("2026-02-28")},
		{Seq: 3, Principal: 333_33, Amount: 333_33, DueDate: d("2026-03-31")},
	}, plan)

	plan, err = Build(100_00, 3, d("2026-01-31"), SameDayOfMonth, 1200)
	require.NoError(t, err)
	require.Equal(t, []Instalment{
		{Seq: 1, Principal: 33_34, Amount: 34_34, DueDate: d("2026-01-31")},
		{Seq: 2, Principal: 33_33, Amount: 34_00, DueDate: d("2026-02-28")},
		{Seq: 3, Principal: 33_33, Amount: 33_66, DueDate: d("2026-03-31")},
	}, plan)

	for _, tc := range []struct {
		name  string
		total money.Cents
		n     int
		first date.Date
		rule  DueRule
		bp    int
		msg   string
	}{
		{"n", 100_00, 37, d("2026-01-31"), LastDayOfMonth, 0, "n is 37, must be 1 to 36"},
		{"total", 2, 3, d("2026-01-31"), LastDayOfMonth, 0, "total 0,02 EUR is less than one cent for each of 3 instalments"},
		{"too much", maxTotal + 1, 3, d("2026-01-31"), LastDayOfMonth, 0, "total 1.000.000.000,00 EUR is more than 999.999.999,99 EUR"},
		{"no first date", 100_00, 3, date.Date{}, LastDayOfMonth, 0, "first due date 0000-00-00 does not exist"},
		{"impossible first date", 100_00, 3, date.Date{Year: 2026, Month: time.February, Day: 30}, LastDayOfMonth, 0, "first due date 2026-02-30 does not exist"},
		{"rule", 100_00, 3, d("2026-01-31"), DueRule(2), 0, "due rule 2 is unknown"},
		{"negative rate", 100_00, 3, d("2026-01-31"), LastDayOfMonth, -1, "annual rate -1 basis points, must be 0 to 10000"},
		{"usury", 100_00, 3, d("2026-01-31"), LastDayOfMonth, 10001, "annual rate 10001 basis points, must be 0 to 10000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Build(tc.total, tc.n, tc.first, tc.rule, tc.bp)
			require.ErrorIs(t, err, ErrInvalidPlan)
			require.EqualError(t, err, "invalid instalment plan: "+tc.msg)
		})
	}
}

func FuzzBuild(f *testing.F) {
	f.Add(int64(1_000_00), 3, 0)
	f.Add(int64(99_999_999_999), 36, 10000)
	f.Add(int64(36), 36, 1)
	f.Fuzz(func(t *testing.T, total int64, n, bp int) {
		plan, err := Build(money.Cents(total), n, d("2026-01-31"), SameDayOfMonth, bp)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidPlan)
			return
		}
		require.Len(t, plan, n)
		var sum money.Cents
		for i, in := range plan {
			require.Equal(t, i+1, in.Seq)
			require.GreaterOrEqual(t, in.Amount, in.Principal)
			if i > 0 {
				require.True(t, plan[i-1].DueDate.Before(in.DueDate))
				require.LessOrEqual(t, in.Amount, plan[i-1].Amount, "interest declines with the balance")
			}
			sum += in.Principal
		}
		require.Equal(t, money.Cents(total), sum)
		// Interest never exceeds the rate on the whole total for every month.
		require.LessOrEqual(t, plan[0].Amount-plan[0].Principal, (money.Cents(total)*money.Cents(bp)+119999)/120000)
	})
}
