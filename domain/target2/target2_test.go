package target2

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
)

func d(s string) date.Date {
	v, err := date.Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestEaster(t *testing.T) {
	t.Parallel()
	for _, want := range []string{
		"2000-04-23", "2008-03-23", "2011-04-24", "2019-04-21", "2024-03-31", "2025-04-20",
		"2026-04-05", "2027-03-28", "2030-04-21", "2038-04-25", "2285-03-22",
	} {
		require.Equal(t, d(want), Easter(d(want).Year), want)
	}
	for y := 1583; y <= 4099; y++ {
		e := Easter(y)
		require.Equal(t, time.Sunday, e.Time().Weekday(), y)
		require.False(t, e.Before(date.Date{Year: y, Month: time.March, Day: 22}), y)
		require.False(t, (date.Date{Year: y, Month: time.April, Day: 25}).Before(e), y)
	}
}

func TestIsBusinessDay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		day  string
		open bool
		why  string
	}{
		{"2026-01-01", false, "New Year, Thursday"},
		{"2026-01-02", true, "Friday"},
		{"2026-01-03", false, "Saturday"},
		{"2026-01-04", false, "Sunday"},
		{"2026-01-06", true, "Epiphany is an Italian holiday only"},
		{"2026-04-02", true, "Maundy Thursday"},
		{"2026-04-03", false, "Good Friday"},
		{"2026-04-06", false, "Easter Monday"},
		{"2026-04-07", true, "Tuesday after Easter"},
		{"2025-04-18", false, "Good Friday"},
		{"2025-04-21", false, "Easter Monday"},
		{"2026-04-25", false, "Liberation Day, but a Saturday"},
		{"2025-04-25", true, "Liberation Day is an Italian holiday only"},
		{"2026-05-01", false, "Labour Day"},
		{"2026-06-02", true, "Republic Day is an Italian holiday only"},
		{"2025-08-15", true, "Ferragosto is an Italian holiday only"},
		{"2026-12-24", true, "Christmas Eve"},
		{"2026-12-25", false, "Christmas"},
		{"2025-12-26", false, "Saint Stephen, Friday"},
		{"2026-12-31", true, "New Year's Eve"},
	} {
		require.Equal(t, tc.open, IsBusinessDay(d(tc.day)), tc.day+" "+tc.why)
	}
	// A date that does not exist counts as the day it normalises to: 2026-04-31 is 1 May.
	require.False(t, IsBusinessDay(date.Date{Year: 2026, Month: time.April, Day: 31}))
}

func TestAddBusinessDays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-04-02", 1, "2026-04-07"},  // over Easter
		{"2026-04-07", -1, "2026-04-02"}, // back over Easter
		{"2026-04-01", 5, "2026-04-10"},  // D+5
		{"2026-12-24", 1, "2026-12-28"},  // over Christmas
		{"2026-12-31", 1, "2027-01-04"},  // over New Year
		{"2027-01-04", -1, "2026-12-31"},
		{"2026-04-03", 0, "2026-04-03"}, // n = 0 keeps a closed day
		{"2026-04-03", 1, "2026-04-07"}, // from a closed day
		{"2026-04-03", -1, "2026-04-02"},
		{"2026-01-01", 20, "2026-01-29"},
	} {
		require.Equal(t, d(tc.want), AddBusinessDays(d(tc.from), tc.n), "%s %+d", tc.from, tc.n)
	}
}

func TestNextAndPreviousBusinessDay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ day, next, previous string }{
		{"2026-04-03", "2026-04-07", "2026-04-02"},
		{"2026-04-07", "2026-04-07", "2026-04-02"},
		{"2026-04-08", "2026-04-08", "2026-04-07"},
		{"2026-12-25", "2026-12-28", "2026-12-24"},
		{"2027-01-01", "2027-01-04", "2026-12-31"},
		{"2026-03-02", "2026-03-02", "2026-02-27"},
	} {
		require.Equal(t, d(tc.next), NextBusinessDay(d(tc.day)), tc.day)
		require.Equal(t, d(tc.previous), PreviousBusinessDay(d(tc.day)), tc.day)
	}
}

func TestBusinessDaysBetween(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2026-04-01", "2026-04-10", 5},
		{"2026-04-02", "2026-04-10", 4},
		{"2026-04-02", "2026-04-07", 1},
		{"2026-04-03", "2026-04-06", 0},
		{"2026-04-07", "2026-04-07", 0},
		{"2026-04-10", "2026-04-02", 0},
		// 2026 starts on a Thursday: 261 weekdays, less 1 Jan, Good Friday, Easter Monday,
		// 1 May and 25 December (26 December is a Saturday).
		{"2025-12-31", "2026-12-31", 256},
	} {
		require.Equal(t, tc.want, BusinessDaysBetween(d(tc.a), d(tc.b)), "%s..%s", tc.a, tc.b)
	}
}

func FuzzAddBusinessDays(f *testing.F) {
	f.Add(2026, 4, 2, 1)
	f.Add(2026, 12, 24, -3)
	f.Add(2027, 1, 1, 0)
	f.Add(2030, 4, 19, 300)
	f.Fuzz(func(t *testing.T, year, month, day, n int) {
		if year < 1970 || year > 2200 || n < -1000 || n > 1000 {
			return
		}
		from := date.Of(time.Date(year, time.Month(month%12+1), day%31+1, 0, 0, 0, 0, time.UTC))
		got := AddBusinessDays(from, n)
		switch {
		case n == 0:
			require.Equal(t, from, got)
		case n > 0:
			require.True(t, IsBusinessDay(got))
			require.True(t, from.Before(got))
			require.Equal(t, n, BusinessDaysBetween(from, got))
			require.Equal(t, got, NextBusinessDay(got))
		default:
			require.True(t, IsBusinessDay(got))
			require.True(t, got.Before(from))
			open := 0
			if IsBusinessDay(from) {
				open = 1
			}
			require.Equal(t, -n-1+open, BusinessDaysBetween(got, from))
		}
		if IsBusinessDay(from) {
			require.Equal(t, from, AddBusinessDays(got, -n))
		}
	})
}
