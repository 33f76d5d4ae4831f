package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/workflows"
)

// LoadPolicy returns the latest escalation policy of the debt's service, or the built-in
// ladder (version 0) when the service has none yet, and records the version the debt follows.
func (a *Debts) LoadPolicy(ctx context.Context, debtID int64) (workflows.Policy, error) {
	d, err := a.load(ctx, debtID)
	if err != nil {
		return workflows.Policy{}, err
	}
	p, err := LatestPolicy(ctx, dbgen.New(a.Pool), d.ServiceCode)
	if err != nil {
		return p, err
	}
	p.DayLength = a.LadderDay
	err = dbgen.New(a.Pool).SetDebtPolicy(ctx, dbgen.SetDebtPolicyParams{ID: debtID, PolicyVersion: pgtype.Int4{Int32: int32(p.Version), Valid: true}})
	if err != nil {
		return p, fmt.Errorf("record policy of debt %d: %w", debtID, err)
	}
	return p, nil
}

// LatestPolicy is the service's latest policy, or the built-in ladder as version 0.
func LatestPolicy(ctx context.Context, q *dbgen.Queries, serviceCode string) (workflows.Policy, error) {
	row, err := q.GetLatestPolicy(ctx, serviceCode)
	if errors.Is(db.NotFound(err), db.ErrNotFound) {
		return workflows.Policy{ServiceCode: serviceCode, Version: 0, Steps: workflows.DefaultSteps}, nil
	}
	if err != nil {
		return workflows.Policy{}, fmt.Errorf("load policy of service %s: %w", serviceCode, err)
	}
	return PolicyOf(row)
}

// PolicyOf reads a stored policy version.
func PolicyOf(row dbgen.EscalationPolicy) (workflows.Policy, error) {
	p := workflows.Policy{ServiceCode: row.ServiceCode, Version: int(row.Version)}
	if err := json.Unmarshal(row.Steps, &p.Steps); err != nil {
		return p, fmt.Errorf("policy %s v%d: %w", row.ServiceCode, row.Version, err)
	}
	return p, nil
}
