package activities

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"incasso/db/dbgen"
	"incasso/services/policies"
	"incasso/workflows"
)

// LoadPolicy returns the latest escalation policy of the debt's service, or the built-in
// ladder (version 0) when the service has none yet, and records the version the debt follows.
func (a *Debts) LoadPolicy(ctx context.Context, debtID int64) (workflows.Policy, error) {
	d, err := a.load(ctx, debtID)
	if err != nil {
		return workflows.Policy{}, err
	}
	p, err := policies.Latest(ctx, dbgen.New(a.Pool), d.ServiceCode)
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
