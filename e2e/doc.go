// Package e2e holds the end-to-end tests: the whole stack (API, worker, simulators, mail
// sink) in process, against a real Temporal dev server (./bin/temporal) and a real
// PostgreSQL with a fresh database per run.
package e2e
