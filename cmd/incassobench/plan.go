package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"incasso/app"
	"incasso/app/config"
	"incasso/devstack"
	"incasso/devstack/devdb"
	"incasso/devstack/temporaldev"
	"incasso/workflows"
)

// benchPlan runs one 36-instalment plan through the whole stack on a compressed calendar,
// with the simulated bank rejecting 10% of the collections AM04, and counts from the recorded
// histories the events of each run of the plan workflow and the Temporal actions it cost.
func benchPlan(ctx context.Context, s settings, server devdb.Server, log *slog.Logger, t *table) error {
	t.section(fmt.Sprintf("Instalment plan: 36 instalments by SDD, 10%% AM04 rejects, a day lasting %s", s.planDay))
	temporal, err := temporaldev.Start(ctx, temporaldev.Options{Bin: s.temporalBin})
	if err != nil {
		return fmt.Errorf("start the Temporal dev server: %w", err)
	}
	defer func() { _ = temporal.Stop() }()
	stack, key, stop, err := startStack(ctx, server, temporal.Addr(), "incasso_bench_plan", log, func(c *config.Config, a *devstack.Addrs) {
		c.SDD.Day, c.SDD.ReportPoll = s.planDay, 100*time.Millisecond
		// Seed 3 draws AM04 for 4 of the 36 first presentations of plan 1: 10% or so.
		a.BankDelay, a.BankRejectRates, a.BankSeed = 50*time.Millisecond, map[string]float64{"AM04": 0.1}, 3
	})
	if err != nil {
		return err
	}
	defer stop()
	call := func(method, path string, body any) error {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, method, stack.APIURL+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %s: %.500s", method, path, resp.Status, msg)
		}
		return nil
	}
	err = call(http.MethodPost, "/v1/debts", map[string]any{
		"iupd": "BENCH-PLAN", "serviceCode": "TARI", "amountCents": 7_200_00, "dueDate": time.Now().AddDate(0, 1, 0).Format("2006-01-02"),
		"description": "TARI 2026", "debtor": map[string]any{"type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi", "email": "mario@example.it"},
	})
	if err != nil {
		return err
	}
	d := stack.Deps
	ec := d.Config.Creditor.FiscalCode
	if err := waitDebt(ctx, d, "BENCH-PLAN", func(status workflows.DebtStatus) bool { return status == workflows.StatusIssued }, time.Minute); err != nil {
		return err
	}
	started := time.Now()
	err = call(http.MethodPost, "/v1/debts/BENCH-PLAN/instalment-plan", map[string]any{
		"instalments": 36, "mandate": map[string]any{"debtorName": "Mario Rossi", "iban": "IT60X0542811101000000123456", "signedOn": time.Now().Format("2006-01-02")},
	})
	if err != nil {
		return err
	}
	ended := func(status workflows.DebtStatus) bool {
		return status == workflows.StatusPaid || status == workflows.StatusSuperseded
	}
	if err := waitDebt(ctx, d, "BENCH-PLAN", ended, s.planTimeout); err != nil {
		return err
	}
	var status workflows.DebtStatus
	if err := d.Pool.QueryRow(ctx, "SELECT status FROM debt_positions WHERE iupd = 'BENCH-PLAN'").Scan(&status); err != nil {
		return err
	}
	t.row("plan run to its end", secs(time.Since(started)), "", "the debt ended "+string(status))

	runs, err := chainHistories(ctx, d.Temporal, workflows.PlanWorkflowID(ec, "BENCH-PLAN"))
	if err != nil {
		return err
	}
	var events, actions, maxEvents int
	for _, h := range runs {
		events += len(h.Events)
		maxEvents = max(maxEvents, len(h.Events))
		actions += countActions(h)
	}
	debtHist, err := chainHistories(ctx, d.Temporal, workflows.DebtWorkflowID(ec, "BENCH-PLAN"))
	if err != nil {
		return err
	}
	debtActions := countActions(debtHist[0])
	var collections, rejected int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'REJECTED') FROM sdd_collections`).Scan(&collections, &rejected); err != nil {
		return err
	}
	t.row(fmt.Sprintf("plan workflow: %d runs (continue-as-new)", len(runs)), "", fmt.Sprintf("%d events in all", events),
		fmt.Sprintf("at most %d events in one run, %d on average", maxEvents, events/len(runs)))
	t.row("collections presented", "", fmt.Sprintf("%d, %d rejected AM04", collections, rejected), "")
	t.row("Temporal actions of the plan", "", fmt.Sprint(actions), fmt.Sprintf("+ %d of its Debt workflow (issue, ladder, hand-over)", debtActions))
	t.row("", "", "", "collection runs are shared by every plan of a date: not counted")
	return nil
}

func waitDebt(ctx context.Context, d *app.Deps, iupd string, done func(workflows.DebtStatus) bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last workflows.DebtStatus
	for time.Now().Before(deadline) {
		if err := d.Pool.QueryRow(ctx, "SELECT status FROM debt_positions WHERE iupd = $1", iupd).Scan(&last); err == nil && done(last) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("debt %s still %s after %s", iupd, last, timeout)
}

// chainHistories returns the histories of every run of a workflow, following continue-as-new
// back from the latest run; the latest comes first.
func chainHistories(ctx context.Context, c client.Client, workflowID string) ([]*historypb.History, error) {
	var out []*historypb.History
	runID := ""
	for {
		h := &historypb.History{}
		iter := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				return nil, fmt.Errorf("history of %s: %w", workflowID, err)
			}
			h.Events = append(h.Events, ev)
		}
		out = append(out, h)
		prev := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if prev == "" {
			return out, nil
		}
		runID = prev
	}
}

// countActions counts what Temporal Cloud bills in a history: the run's start, every activity
// attempt, timers, signals, updates, search attribute upserts, child workflows and signals
// to other workflows.
func countActions(h *historypb.History) int {
	n := 0
	for _, ev := range h.Events {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, enumspb.EVENT_TYPE_TIMER_STARTED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
			enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
			enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
			n++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			n += int(ev.GetActivityTaskStartedEventAttributes().GetAttempt())
		}
	}
	return n
}
