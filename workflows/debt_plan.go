package workflows

import (
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"incasso/domain/target2"
)

// validatePlanRequest accepts a plan for an issued, unpaid debt without one.
func (w *debtWorkflow) validatePlanRequest(req PlanRequest) error {
	if err := w.validateUpdate(); err != nil {
		return err
	}
	switch {
	case req.Instalments < 2 || req.Instalments > 36:
		return rejected("instalments: 2 to 36")
	case req.MandateID < 1:
		return rejected("mandate: required")
	}
	return nil
}

// requestPlan records the plan and its instalments, replaces the notice's single payment
// option in GPD with one option per instalment, and hands the debt to the plan.
func (w *debtWorkflow) requestPlan(ctx workflow.Context, req PlanRequest) (PlanCreated, error) {
	w.busy = true
	defer func() { w.busy = false }()
	if err := w.awaitIssued(ctx); err != nil {
		return PlanCreated{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, issueOptions)
	created, err := run(withSummary(ctx, "Record the instalment plan and publish its instalments in GPD"),
		call2R(PlanActivities.CreatePlan, w.in.DebtID, req))
	if err != nil {
		return created, fmt.Errorf("create plan: %w", err)
	}
	w.plan = &created
	w.events.SendAsync(eventPlan)
	return created, nil
}

// startPlan stops the due date and the reminder ladder, which the plan replaces, and starts
// the InstalmentPlan workflow. The plan outlives a terminated or reset debt workflow.
func (w *debtWorkflow) startPlan(ctx workflow.Context) error {
	if w.cancelDueTimer != nil {
		w.cancelDueTimer()
	}
	if w.ladder.cancel != nil {
		w.ladder.cancel()
	}
	if w.ladder.policy != nil {
		w.ladder.next = len(w.ladder.policy.Steps)
	}
	if err := w.setStatus(ctx, StatusInstalments); err != nil {
		return err
	}
	childCtx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        PlanWorkflowID(w.in.ECFiscalCode, w.in.IUPD),
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		StaticSummary:     fmt.Sprintf("Instalment plan of debt %d: %d instalments", w.in.DebtID, len(w.plan.Instalments)),
	})
	w.planResult = workflow.ExecuteChildWorkflow(childCtx, InstalmentPlan, NewPlanInput(w.in.DebtID, *w.plan))
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Paid in %d instalments by SEPA direct debit: see the plan workflow.", len(w.plan.Instalments)))
	return nil
}

// NewPlanInput is the first input of a plan: every instalment planned for the first business
// day from its due date.
func NewPlanInput(debtID int64, c PlanCreated) PlanInput {
	in := PlanInput{PlanID: c.PlanID, DebtID: debtID, Account: c.Account, Policy: c.Policy, Calendar: c.Calendar}
	for _, p := range c.Instalments {
		in.Instalments = append(in.Instalments, InstalmentState{
			PlannedInstalment: p, Status: InstalmentPlanned, CollectionDate: target2.NextBusinessDay(p.DueDate),
		})
	}
	return in
}

// planEnded closes the debt when its plan ends: paid when everything was collected, else
// superseded by the remainder debt the plan issued.
func (w *debtWorkflow) planEnded(ctx workflow.Context) (DebtResult, error) {
	var result PlanResult
	if err := w.planResult.Get(ctx, &result); err != nil {
		return DebtResult{}, fmt.Errorf("instalment plan: %w", err)
	}
	if result.Remainder == 0 {
		if err := w.setStatus(ctx, StatusPaid); err != nil {
			return DebtResult{}, err
		}
		workflow.SetCurrentDetails(ctx, "Paid: every instalment was collected.")
		return DebtResult{Status: StatusPaid}, nil
	}
	if err := w.setStatus(ctx, StatusSuperseded); err != nil {
		return DebtResult{}, err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Plan %s: %s EUR still owed, due on debt %s.", result.Status, result.Remainder.Decimal(), result.RemainderIUPD))
	return DebtResult{Status: StatusSuperseded, RemainderIUPD: result.RemainderIUPD}, nil
}
