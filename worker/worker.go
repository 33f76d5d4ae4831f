// Package worker builds the Temporal worker that runs incasso's workflows and activities on
// the incasso task queue.
package worker

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"incasso/activities"
	"incasso/workflows"
)

// New returns a worker for taskQueue with every workflow and activity registered. Activity
// names are the method names, which package workflows declares as constants.
func New(c client.Client, taskQueue string, debts *activities.Debts, recovery *activities.Recovery, archive *activities.Archive) worker.Worker {
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(workflows.Debt)
	w.RegisterWorkflow(workflows.ReceiptRecovery)
	w.RegisterWorkflow(workflows.ArchivePurge)
	w.RegisterActivity(debts)
	w.RegisterActivity(recovery)
	w.RegisterActivity(archive)
	return w
}
