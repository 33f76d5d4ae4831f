// Package activities implements the side effects of incasso's workflows: each group of
// activities is a struct of its dependencies with one method per activity, registered by
// the worker under the names declared in package workflows. Every activity is idempotent.
package activities
