package reconciliation

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"incasso/app/config"
	"incasso/domain/date"
	"incasso/workflows"
)

// IntakeInput is the input of an intake run of day (zero: the run's own day) as configured.
func IntakeInput(cfg config.FdR, day date.Date) workflows.FdRIntakeInput {
	return workflows.FdRIntakeInput{Date: day, LookbackDays: cfg.LookbackDays, LateAfterBusinessDays: cfg.LateAfterBusinessDays}
}

// starter is the part of the Temporal client that starts a run.
type starter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// StartIntake starts an intake run on demand for in.Date (its workflow FdRIntakeWorkflowID),
// or joins the one of that day still running. A day run again stores nothing twice.
func StartIntake(ctx context.Context, c starter, taskQueue string, in workflows.FdRIntakeInput) (client.WorkflowRun, error) {
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.FdRIntakeWorkflowID(in.Date), TaskQueue: taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowExecutionTimeout: 6 * time.Hour,
		StaticSummary:            "FdR intake of " + in.Date.String() + ", on demand",
	}, workflows.FdRIntake, in)
	if err != nil {
		return nil, fmt.Errorf("start the FdR intake of %s: %w", in.Date, err)
	}
	return run, nil
}
