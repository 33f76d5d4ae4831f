// Package workflows holds incasso's Temporal workflows: deterministic code only. Each file
// declares its workflow's contract (ID helper, signal and query names, input and result) at
// the top. Activities are called by name; package activities implements them.
package workflows
