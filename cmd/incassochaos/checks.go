package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"incasso/devstack/campaigncsv"
	"incasso/domain/money"
	"incasso/workflows"
)

// noticeSubject starts the subject of every first notice email (activities/messages.go).
const noticeSubject = "Avviso di pagamento pagoPA: "

// check prints the figures and whether each check held; it reports false when one did not.
func (r *runner) check(ctx context.Context) (bool, error) {
	// The checks run even when the run's time is up: on a context of their own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
	defer cancel()
	ok := true
	line := func(held bool, format string, args ...any) {
		mark := "ok  "
		if !held {
			mark, ok = "FAIL", false
		}
		fmt.Printf("  %s %s\n", mark, fmt.Sprintf(format, args...))
	}
	fmt.Println("\nRecovery of the notices' issuing after each fault (rate over 5 s back to half the rate of the 10 s before):")
	for _, f := range r.faults {
		m := measure(r.samples, f, r.rows)
		took := "not within the run"
		switch {
		case m.noWork:
			took = "no work left"
		case m.recovered:
			took = fmt.Sprintf("%.1f s after its end", m.after.Seconds())
		}
		fmt.Printf("  %-52s before %5.1f/s, during %5.1f/s, recovered %s\n", f.what, m.before, m.during, took)
	}

	fmt.Println("\nChecks:")
	debts, err := r.debts(ctx)
	if err != nil {
		return false, err
	}
	var linked, issued int
	if err := r.st.deps.Pool.QueryRow(ctx, `SELECT count(debt_id) FROM campaign_rows WHERE campaign_id = $1`, r.campaignID).Scan(&linked); err != nil {
		return false, err
	}
	navs := map[string]int{}
	for _, d := range debts {
		if d.status != string(workflows.StatusCreated) {
			issued++
		}
		navs[d.nav]++
	}
	// The sink's own count: first notices by recipient, and every message's bytes.
	perRecipient := map[string]int{}
	seen := map[[32]byte]int{}
	msgs := r.st.sink.Messages()
	dupBytes := 0
	for _, m := range msgs {
		if seen[sha256.Sum256(m.Raw)]++; seen[sha256.Sum256(m.Raw)] == 2 {
			dupBytes++
		}
		if strings.HasPrefix(m.Subject, noticeSubject) && len(m.To) == 1 {
			perRecipient[m.To[0]]++
		}
	}
	delivered, twice := 0, 0
	for i := 1; i <= r.rows; i++ {
		switch n := perRecipient[campaigncsv.Email(i)]; {
		case n == 1:
			delivered++
		case n > 1:
			delivered++
			twice++
		}
	}
	line(r.rows == r.s.debts && linked == r.rows && len(debts) == r.rows && issued == r.rows && delivered == r.rows,
		"rows %d = debts %d (rows linked to one %d) = notices issued %d = debtors whose notice the sink received %d: %d lost",
		r.rows, len(debts), linked, issued, delivered, r.rows-min(issued, delivered))
	dupNAV := 0
	for nav, n := range navs {
		if n > 1 || nav == "" {
			dupNAV += n
		}
	}
	line(dupNAV == 0, "duplicate or missing NAV: %d", dupNAV)
	line(dupBytes == 0 && twice == 0, "messages the sink received: %d; the same bytes received twice: %d; debtors sent their notice twice: %d",
		len(msgs), dupBytes, twice)
	fmt.Printf("       the sink dropped %d connections and discarded %d messages cut before their final dot\n", r.st.sink.Dropped(), r.st.sink.Discarded())
	if err := r.outbox(ctx); err != nil {
		return false, err
	}

	if !r.s.scale {
		var receipts int
		var received money.Cents
		if err := r.st.deps.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(amount_cents), 0) FROM receipts`).Scan(&receipts, &received); err != nil {
			return false, err
		}
		var paidPSP money.Cents
		for _, c := range r.paid {
			paidPSP += c
		}
		var settled money.Cents
		var paidDebts int
		if err := r.st.deps.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(amount_cents), 0) FROM debt_positions WHERE iupd = ANY($1) AND status = 'PAID'`,
			append(append([]string(nil), r.pushedTwice...), r.neverPushed...)).Scan(&paidDebts, &settled); err != nil {
			return false, err
		}
		line(r.payFailures == 0 && receipts == len(r.paid) && received == paidPSP && settled == paidPSP,
			"collected %d cents = receipts %d cents (%d receipts for %d payments, %d pushed twice, %d never pushed) = debts PAID %d cents (%d)",
			paidPSP, received, receipts, len(r.paid), len(r.pushedTwice), len(r.neverPushed), settled, paidDebts)
		var plansPaid, collections, rejected int
		if err := r.st.deps.Pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM debt_positions WHERE iupd = ANY($1) AND status = 'PAID'),
			(SELECT count(*) FROM sdd_collections), (SELECT count(*) FROM sdd_collections WHERE status = 'REJECTED')`, r.planned).Scan(&plansPaid, &collections, &rejected); err != nil {
			return false, err
		}
		line(r.planFailures == 0 && plansPaid == len(r.planned), "instalment plans paid to the end: %d of %d (%d collections presented, %d rejected)",
			plansPaid, len(r.planned), collections, rejected)
	} else {
		held, err := r.readThrough(ctx, debts)
		if err != nil {
			return false, err
		}
		line(held == len(debts), "read through %s: %d of %d debts ISSUED with their notice number and one message sent", r.st.apiURLs[1], held, len(debts))
	}

	mismatch, running, err := r.workflowStates(ctx, debts)
	if err != nil {
		return false, err
	}
	line(len(mismatch) == 0, "Debt workflows in the state the database says: %d of %d (%d still running)", len(debts)-len(mismatch), len(debts), running)
	for i, m := range mismatch {
		if i == 10 {
			fmt.Printf("       ... and %d more\n", len(mismatch)-10)
			break
		}
		fmt.Printf("       %s\n", m)
	}
	for _, p := range append(r.st.workers, r.st.apis...) {
		line(p.alive(), "%s running at the end (%d starts)", p.name, p.starts)
	}
	return ok, nil
}

// outbox prints the campaign's messages by outbox status, as the database has them.
func (r *runner) outbox(ctx context.Context) error {
	rows, err := r.st.deps.Pool.Query(ctx, `SELECT c.status, count(*) FROM communications c JOIN debt_positions d ON d.id = c.debt_id
		WHERE d.campaign_id = $1 GROUP BY c.status ORDER BY c.status`, r.campaignID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return err
		}
		parts = append(parts, fmt.Sprintf("%s %d", status, n))
	}
	fmt.Printf("       the outbox of the campaign's debts: %s\n", strings.Join(parts, ", "))
	return rows.Err()
}

// readThrough reads every debt through the last API and counts those ISSUED with a notice
// number and exactly one message.
func (r *runner) readThrough(ctx context.Context, debts []debt) (int, error) {
	held := 0
	for _, d := range debts {
		var v struct {
			Status         string `json:"status"`
			NoticeNumber   string `json:"noticeNumber"`
			Communications []struct {
				Status string `json:"status"`
			} `json:"communications"`
		}
		if err := r.call(ctx, r.st.apiURLs[len(r.st.apiURLs)-1], http.MethodGet, "/v1/debts/"+d.iupd, "", nil, http.StatusOK, &v); err != nil {
			return held, err
		}
		if v.Status == string(workflows.StatusIssued) && v.NoticeNumber == d.nav && len(v.Communications) == 1 && v.Communications[0].Status == "SENT" {
			held++
		}
	}
	return held, nil
}

// workflowStates compares each debt's status with its Debt workflow's DebtStatus search
// attribute and whether it is still running: a final status has a closed workflow.
func (r *runner) workflowStates(ctx context.Context, debts []debt) ([]string, int, error) {
	type state struct {
		status  string
		running bool
	}
	ec := r.st.deps.Config.Creditor.FiscalCode
	byID := map[string]state{}
	var token []byte
	for {
		resp, err := r.st.deps.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: r.st.deps.Config.TemporalNamespace, Query: "WorkflowType = 'Debt'", PageSize: 1000, NextPageToken: token,
		})
		if err != nil {
			return nil, 0, fmt.Errorf("list the Debt workflows: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			var status string
			if p := e.GetSearchAttributes().GetIndexedFields()[workflows.SearchDebtStatus.GetName()]; p != nil {
				status = strings.Trim(string(p.GetData()), `"`)
			}
			id := e.GetExecution().GetWorkflowId()
			if _, dup := byID[id]; dup && !(e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING) {
				continue // an earlier run: the latest is listed first
			}
			byID[id] = state{status: status, running: e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	var mismatch []string
	running := 0
	for _, d := range debts {
		w, found := byID[workflows.DebtWorkflowID(ec, d.iupd)]
		final := d.status == string(workflows.StatusPaid) || d.status == string(workflows.StatusCancelled) || d.status == string(workflows.StatusSuperseded)
		if w.running {
			running++
		}
		switch {
		case !found:
			mismatch = append(mismatch, fmt.Sprintf("%s: %s in the database, no workflow", d.iupd, d.status))
		case w.status != d.status || w.running == final:
			mismatch = append(mismatch, fmt.Sprintf("%s: %s in the database, workflow %s (running: %v)", d.iupd, d.status, w.status, w.running))
		}
	}
	return mismatch, running, nil
}
