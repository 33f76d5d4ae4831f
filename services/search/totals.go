package search

import (
	"context"
	"fmt"

	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
)

// The totals of a large filter would read every debt it matches. debt_totals keeps them
// summed by service, status, plan, month of due date and month of issue (migration 00021): a
// filter on those alone (no debtor, campaign, amount, flag, iupd or reconciliation, which are
// selective and fast on their own indexes) sums the whole months it covers there, and reads
// from debt_positions only the partial months at the ends of its date ranges.

// days is a range of days, both ends included; a zero end is unbounded.
type days struct{ from, to date.Date }

// months splits r into the whole months it covers, [first, end) by their first days (zero:
// unbounded), and the partial months at its ends (none, one or two ranges). ok is false when
// r covers no whole month.
func (r days) months() (first, end date.Date, edges []days, ok bool) {
	if !r.from.IsZero() {
		if first = monthOf(r.from); first != r.from {
			first = addMonths(first, 1)
			edges = append(edges, days{r.from, addDays(first, -1)})
		}
	}
	if !r.to.IsZero() {
		if end = monthOf(r.to); end != monthOf(addDays(r.to, 1)) {
			end = addMonths(end, 1) // r.to is the last day of its month
		} else {
			edges = append(edges, days{end, r.to})
		}
	}
	ok = first.IsZero() || end.IsZero() || first.Before(end)
	return first, end, edges, ok
}

func monthOf(d date.Date) date.Date          { return date.Date{Year: d.Year, Month: d.Month, Day: 1} }
func addMonths(d date.Date, n int) date.Date { return date.Of(d.Time().AddDate(0, n, 0)) }
func addDays(d date.Date, n int) date.Date   { return date.Of(d.Time().AddDate(0, 0, n)) }

// byMonth tells whether f's totals can be summed from debt_totals.
func (f Filter) byMonth() bool {
	return f.Debtor == "" && f.Campaign == 0 && f.AmountMin == nil && f.AmountMax == nil && f.Flagged == nil &&
		f.IUPDPrefix == "" && f.Reconciliation == ""
}

// dueDays is the range of due dates f keeps: its own, and before the day it is overdue since.
func (f Filter) dueDays() days {
	r := days{f.DueFrom, f.DueTo}
	if !f.OverdueSince.IsZero() {
		if before := addDays(f.OverdueSince, -1); r.to.IsZero() || before.Before(r.to) {
			r.to = before
		}
	}
	return r
}

// totalsOf returns the totals of f: from debt_totals for its whole months and from
// debt_positions for the rest, or all from debt_positions when f filters on more.
func (s Searcher) totalsOf(ctx context.Context, dq *dbgen.Queries, f Filter) (Totals, error) {
	due, issued := f.dueDays(), days{f.IssuedFrom, f.IssuedTo}
	dueFirst, dueEnd, dueEdges, dueOK := due.months()
	issuedFirst, issuedEnd, issuedEdges, issuedOK := issued.months()
	if !f.byMonth() || !dueOK || !issuedOK {
		return totals(ctx, dq, s.totalsParams(f))
	}
	p := dbgen.SearchTotalsByMonthParams{EcFiscalCode: s.ECFiscalCode, Statuses: []string{}, Service: text(f.Service),
		Overdue: !f.OverdueSince.IsZero(), InInstalments: boolean(f.InInstalments),
		DueFrom: pgDate(dueFirst), DueBefore: pgDate(dueEnd),
		Issued: !f.IssuedFrom.IsZero() || !f.IssuedTo.IsZero(), IssuedFrom: pgDate(issuedFirst), IssuedBefore: pgDate(issuedEnd)}
	for _, st := range f.Statuses {
		p.Statuses = append(p.Statuses, string(st))
	}
	t, err := dq.SearchTotalsByMonth(ctx, p)
	if err != nil {
		return Totals{}, fmt.Errorf("search totals by month: %w", err)
	}
	sum := Totals{Debts: t.Debts, IssuedCents: money.Cents(t.IssuedCents),
		CollectedCents: money.Cents(t.CollectedCents), OutstandingCents: money.Cents(t.OutstandingCents)}
	// The partial months: of due date over the whole issue range, then of issue over the
	// whole months of due date, so that no debt is counted twice.
	var parts []Filter
	for _, e := range dueEdges {
		part := f
		part.DueFrom, part.DueTo = e.from, e.to
		parts = append(parts, part)
	}
	for _, e := range issuedEdges {
		part := f
		part.DueFrom, part.DueTo = dueFirst, date.Date{}
		if !dueEnd.IsZero() {
			part.DueTo = addDays(dueEnd, -1)
		}
		part.IssuedFrom, part.IssuedTo = e.from, e.to
		parts = append(parts, part)
	}
	for _, part := range parts {
		t, err := totals(ctx, dq, s.totalsParams(part))
		if err != nil {
			return Totals{}, err
		}
		sum = sum.plus(t)
	}
	return sum, nil
}

// plus is t and o summed.
func (t Totals) plus(o Totals) Totals {
	return Totals{Debts: t.Debts + o.Debts, IssuedCents: t.IssuedCents + o.IssuedCents,
		CollectedCents: t.CollectedCents + o.CollectedCents, OutstandingCents: t.OutstandingCents + o.OutstandingCents}
}
