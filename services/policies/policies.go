// Package policies keeps the escalation policies of the reminder ladder: one list of steps per
// service, stored as numbered versions that never change (a new PUT is a new version), with
// the built-in ladder as version 0 of a service that has none. The REST API writes and reads
// them; the debt activities load the latest for each new debt.
package policies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/workflows"
)

// Save stores steps (already validated with workflows.ValidateSteps) as the service's next
// version, created by client, and returns it.
func Save(ctx context.Context, pool *pgxpool.Pool, service string, steps []workflows.Step, client string) (workflows.Policy, error) {
	data, err := json.Marshal(steps)
	if err != nil {
		return workflows.Policy{}, err
	}
	var row dbgen.EscalationPolicy
	err = db.InTx(ctx, pool, func(q *dbgen.Queries) error {
		if err := q.LockPolicies(ctx, service); err != nil {
			return err
		}
		row, err = q.InsertPolicy(ctx, dbgen.InsertPolicyParams{ServiceCode: service, Steps: data, CreatedBy: client})
		return err
	})
	if err != nil {
		return workflows.Policy{}, fmt.Errorf("save policy of service %s: %w", service, err)
	}
	return of(row)
}

// Latest is the service's latest policy, or the built-in ladder as version 0.
func Latest(ctx context.Context, q *dbgen.Queries, service string) (workflows.Policy, error) {
	row, err := q.GetLatestPolicy(ctx, service)
	if errors.Is(db.NotFound(err), db.ErrNotFound) {
		return workflows.Policy{ServiceCode: service, Version: 0, Steps: workflows.DefaultSteps}, nil
	}
	if err != nil {
		return workflows.Policy{}, fmt.Errorf("load policy of service %s: %w", service, err)
	}
	return of(row)
}

// Version is one stored version of the service's policy; db.ErrNotFound when there is none.
func Version(ctx context.Context, q *dbgen.Queries, service string, version int32) (workflows.Policy, error) {
	row, err := q.GetPolicy(ctx, dbgen.GetPolicyParams{ServiceCode: service, Version: version})
	if err = db.NotFound(err); err != nil {
		return workflows.Policy{}, err
	}
	return of(row)
}

// of reads a stored policy version.
func of(row dbgen.EscalationPolicy) (workflows.Policy, error) {
	p := workflows.Policy{ServiceCode: row.ServiceCode, Version: int(row.Version)}
	if err := json.Unmarshal(row.Steps, &p.Steps); err != nil {
		return p, fmt.Errorf("policy %s v%d: %w", row.ServiceCode, row.Version, err)
	}
	return p, nil
}
