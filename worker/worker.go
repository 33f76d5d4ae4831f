// Package worker builds the Temporal worker that runs incasso's workflows and activities on
// the incasso task queue.
package worker

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"incasso/activities"
	"incasso/workflows"
)

// Activities are the structs whose methods are incasso's activities.
type Activities struct {
	Debts     *activities.Debts
	Recovery  *activities.Recovery
	Healer    *activities.Healer
	Archive   *activities.Archive
	Campaigns *activities.Campaigns
	Plans     *activities.Plans
	SDD       *activities.SDD
	FdR       *activities.FdR
}

// New returns a worker for taskQueue, sized by opts, with every workflow and activity
// registered. Activity names are the method names, which package workflows declares as
// constants.
func New(c client.Client, taskQueue string, opts worker.Options, a Activities) worker.Worker {
	w := worker.New(c, taskQueue, opts)
	for _, wf := range workflows.All() {
		w.RegisterWorkflow(wf)
	}
	for _, act := range []any{a.Debts, a.Recovery, a.Healer, a.Archive, a.Campaigns, a.Plans, a.SDD, a.FdR} {
		w.RegisterActivity(act)
	}
	return w
}
