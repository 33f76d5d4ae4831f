package treasury

import (
	"context"
	"fmt"

	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
)

// Day is the reconciliation of one day, as the console's page Riconciliazione shows it:
// the receipts paid that day by service against what the flows reported and the treasury
// credited, the treasury's entries booked that day, and the differences still open.
type Day struct {
	Date        date.Date
	Services    []ServiceDay
	Entries     []EntryTotal
	Differences []Difference
}

// ServiceDay is one service's receipts of the day and how far they are reconciled.
type ServiceDay struct {
	ServiceCode     string
	Receipts        int64
	ReceiptsCents   money.Cents
	InFlows         int64 // reported by a flow line
	InFlowsCents    money.Cents
	Reconciled      int64 // receipt, flow line and credit agree
	ReconciledCents money.Cents
	Differences     int64
}

// EntryTotal counts the entries of a kind and match booked on the day.
type EntryTotal struct {
	Kind, Match string
	Entries     int64
	Cents       money.Cents
}

// Difference is a difference still open, with its reason code.
type Difference struct {
	ID                           int64
	Reason, Subject, Detail      string
	ExpectedCents, ReportedCents money.Cents
	HasExpected, HasReported     bool
	DetectedOn                   date.Date
}

// maxDifferences bounds the differences a day's page lists.
const maxDifferences = 500

// Day returns the reconciliation of day: its differences are those open and detected on or
// before it, oldest first, at most 500.
func (in *Intake) Day(ctx context.Context, day date.Date) (Day, error) {
	q := dbgen.New(in.Pool)
	d := Day{Date: day}
	services, err := q.ReconciliationByService(ctx, day.Time())
	if err != nil {
		return d, fmt.Errorf("reconciliation of %s by service: %w", day, err)
	}
	for _, s := range services {
		d.Services = append(d.Services, ServiceDay{
			ServiceCode: s.ServiceCode, Receipts: s.Receipts, ReceiptsCents: money.Cents(s.ReceiptsCents),
			InFlows: s.InFlows, InFlowsCents: money.Cents(s.InFlowsCents), Reconciled: s.Reconciled,
			ReconciledCents: money.Cents(s.ReconciledCents), Differences: s.Differences,
		})
	}
	entries, err := q.TreasuryEntriesByMatch(ctx, day.Time())
	if err != nil {
		return d, fmt.Errorf("treasury entries of %s: %w", day, err)
	}
	for _, e := range entries {
		d.Entries = append(d.Entries, EntryTotal{Kind: e.Kind, Match: e.Match, Entries: e.Entries, Cents: money.Cents(e.AmountCents)})
	}
	diffs, err := q.ListOpenDifferences(ctx, day.Time())
	if err != nil {
		return d, fmt.Errorf("open differences to %s: %w", day, err)
	}
	for _, r := range diffs[:min(len(diffs), maxDifferences)] {
		d.Differences = append(d.Differences, Difference{
			ID: r.ID, Reason: r.Reason, Subject: r.Subject, Detail: r.Detail,
			ExpectedCents: money.Cents(r.ExpectedCents.Int64), HasExpected: r.ExpectedCents.Valid,
			ReportedCents: money.Cents(r.ReportedCents.Int64), HasReported: r.ReportedCents.Valid,
			DetectedOn: date.Of(r.DetectedOn),
		})
	}
	return d, nil
}
