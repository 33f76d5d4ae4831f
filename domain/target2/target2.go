// Package target2 is the TARGET2 business day calendar (the T2 calendar since 2023) that sets
// the settlement dates of SEPA direct debit: collection dates, the D-1 submission deadline,
// the D+5 end of returns. Every day is a business day except Saturdays, Sundays, 1 January,
// Good Friday, Easter Monday, 1 May, 25 and 26 December. National holidays, such as 2 June
// or 15 August in Italy, are business days.
//
// The calendar holds from 2002 on (31 December was closed too in 2000 and 2001); the package
// does not check the year. It is pure: no I/O, no clock.
package target2

import (
	"time"

	"incasso/domain/date"
)

// Easter returns Easter Sunday of a year of the Gregorian calendar, computed with the
// anonymous Gregorian algorithm (Meeus/Jones/Butcher).
func Easter(year int) date.Date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return date.Date{Year: year, Month: time.Month(month), Day: day}
}

// addDays returns the date n days after d (before it when n is negative).
func addDays(d date.Date, n int) date.Date {
	return date.Of(d.Time().AddDate(0, 0, n))
}

// IsBusinessDay reports whether TARGET2 is open on d.
func IsBusinessDay(d date.Date) bool {
	t := d.Time()
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, m, day := t.Date()
	switch {
	case m == time.January && day == 1,
		m == time.May && day == 1,
		m == time.December && (day == 25 || day == 26):
		return false
	}
	d = date.Of(t)
	easter := Easter(d.Year)
	return d != addDays(easter, -2) && d != addDays(easter, 1) // Good Friday, Easter Monday
}

// AddBusinessDays returns the n-th business day after d, or before d when n is negative.
// With n = 0 it returns d unchanged, even when d is not a business day: use NextBusinessDay
// to move to an open day.
func AddBusinessDays(d date.Date, n int) date.Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = addDays(d, step)
		if IsBusinessDay(d) {
			n--
		}
	}
	return d
}

// NextBusinessDay returns d when it is a business day, else the first business day after it.
func NextBusinessDay(d date.Date) date.Date {
	for !IsBusinessDay(d) {
		d = addDays(d, 1)
	}
	return d
}

// PreviousBusinessDay returns the last business day strictly before d, whether d is one or
// not: the D-1 of a collection on d.
func PreviousBusinessDay(d date.Date) date.Date {
	return AddBusinessDays(d, -1)
}

// BusinessDaysBetween counts the business days after a up to b included, in (a, b]; zero
// when b is not after a.
func BusinessDaysBetween(a, b date.Date) int {
	n := 0
	for d := addDays(a, 1); !b.Before(d); d = addDays(d, 1) {
		if IsBusinessDay(d) {
			n++
		}
	}
	return n
}
