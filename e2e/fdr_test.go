package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
	"incasso/domain/target2"
	"incasso/services/reconciliation"
	"incasso/workflows"
)

// reconciledDebt is what the FdR test reads of a debt.
type reconciledDebt struct {
	Status   workflows.DebtStatus `json:"status"`
	Receipts []struct {
		ReceiptID      string `json:"receiptId"`
		Reconciliation *struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
			FlowID string `json:"flowId"`
		} `json:"reconciliation"`
	} `json:"receipts"`
}

// issueDebt creates a debt and waits for its notice.
func (e *env) issueDebt(t *testing.T, iupd string, cents int64) string {
	t.Helper()
	due := time.Now().In(date.Rome).AddDate(0, 1, 0).Format("2006-01-02")
	var created debtView
	require.Equal(t, http.StatusCreated, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts", map[string]any{
		"iupd": iupd, "serviceCode": "TARI", "amountCents": cents, "dueDate": due, "description": "TARI 2026 rata unica",
		"debtor": map[string]any{"type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi", "email": "mario.rossi@example.it"},
	}, &created))
	e.waitStatus(t, iupd, workflows.StatusIssued)
	return created.NoticeNumber
}

// reconciliationOf is the state of the debt's one receipt: "STATUS" or "STATUS:REASON".
func (e *env) reconciliationOf(t *testing.T, iupd string) string {
	t.Helper()
	var d reconciledDebt
	require.Equal(t, http.StatusOK, e.call(t, http.MethodGet, e.stack.APIURL+"/v1/debts/"+iupd, nil, &d))
	require.Len(t, d.Receipts, 1, iupd)
	r := d.Receipts[0].Reconciliation
	require.NotNil(t, r, iupd)
	if r.Reason != "" {
		return r.Status + ":" + r.Reason
	}
	return r.Status
}

func (e *env) publishFlows(t *testing.T, faults map[string]any) {
	t.Helper()
	faults["date"] = date.InRome(time.Now()).String()
	require.Equal(t, http.StatusOK, e.call(t, http.MethodPost, e.stack.PagoPASimURL+"/sim/fdr/publish", faults, nil))
}

func (e *env) runFdR(t *testing.T) workflows.FdRIntakeResult {
	t.Helper()
	var out struct {
		WorkflowID string                     `json:"workflowId"`
		Result     *workflows.FdRIntakeResult `json:"result"`
	}
	require.Equal(t, http.StatusOK, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/reconciliation/fdr-runs", map[string]any{}, &out))
	require.NotNil(t, out.Result)
	require.Equal(t, workflows.FdRIntakeWorkflowID(date.InRome(time.Now())), out.WorkflowID)
	return *out.Result
}

// Debts paid through the simulator are reported by the next day's flows, read and matched by
// the intake; a run again changes nothing; then each injected fault becomes its flag.
func TestFdRIntakeMatchesEveryReceipt(t *testing.T) {
	e := start(t)
	ctx := context.Background()

	for i := 1; i <= 3; i++ {
		nav := e.issueDebt(t, fmt.Sprintf("FDR-E2E-%d", i), int64(10000+i))
		require.Equal(t, "OK", e.pay(t, nav, "").Outcome)
		e.waitStatus(t, fmt.Sprintf("FDR-E2E-%d", i), workflows.StatusPaid)
	}
	lost := e.issueDebt(t, "FDR-E2E-LOST", 5000)
	e.pay(t, lost, "?deliver=false") // GPD has the receipt; incasso not: the intake asks for it
	e.publishFlows(t, map[string]any{})

	res := e.runFdR(t)
	require.Len(t, res.Flows, 1, "one PSP, one flow")
	require.Empty(t, res.Failed)
	require.Equal(t, map[string]int64{"MATCHED": 4}, res.Flows[0].Lines)
	require.Equal(t, 1, res.Flows[0].Recovered)
	for _, iupd := range []string{"FDR-E2E-1", "FDR-E2E-2", "FDR-E2E-3", "FDR-E2E-LOST"} {
		require.Equal(t, "MATCHED_FLOW", e.reconciliationOf(t, iupd), iupd)
	}
	e.waitStatus(t, "FDR-E2E-LOST", workflows.StatusPaid)
	e.recordHistory(t, workflows.FdRIntakeWorkflowID(date.InRome(time.Now())), "fdr_intake_all_matched")

	again := e.runFdR(t)
	require.Empty(t, again.Flows, "a day run again stores nothing")
	var flows, lines int
	require.NoError(t, e.stack.Deps.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM fdr_flows), (SELECT count(*) FROM fdr_flow_lines)").Scan(&flows, &lines))
	require.Equal(t, []int{1, 4}, []int{flows, lines})

	// Faults, one PSP each: a wrong amount, a missing line, totals that do not add up.
	pays := map[string]string{"FDR-E2E-WRONG": "PSPWRONG01", "FDR-E2E-KEPT": "PSPMISS01", "FDR-E2E-MISSING": "PSPMISS01", "FDR-E2E-BAD": "PSPBAD01"}
	for _, iupd := range []string{"FDR-E2E-WRONG", "FDR-E2E-KEPT", "FDR-E2E-MISSING", "FDR-E2E-BAD"} {
		nav := e.issueDebt(t, iupd, 7000)
		require.Equal(t, "OK", e.pay(t, nav, "?psp="+pays[iupd]).Outcome)
		e.waitStatus(t, iupd, workflows.StatusPaid)
	}
	e.publishFlows(t, map[string]any{"psp": "PSPWRONG01", "wrongAmountCents": 7})
	e.publishFlows(t, map[string]any{"psp": "PSPMISS01", "missingLine": true})
	e.publishFlows(t, map[string]any{"psp": "PSPBAD01", "badTotals": true})
	res = e.runFdR(t)
	require.Len(t, res.Flows, 3)
	malformed := 0
	for _, f := range res.Flows {
		if f.Malformed != "" {
			malformed++
		}
	}
	require.Equal(t, 1, malformed, "the malformed flow is kept and flagged, the others go on")
	require.Equal(t, "DIFFERENCE:AMOUNT_DIFFERS", e.reconciliationOf(t, "FDR-E2E-WRONG"))
	require.Equal(t, "MATCHED_FLOW", e.reconciliationOf(t, "FDR-E2E-KEPT"))
	require.Equal(t, "UNMATCHED", e.reconciliationOf(t, "FDR-E2E-MISSING"))
	require.Equal(t, "UNMATCHED", e.reconciliationOf(t, "FDR-E2E-BAD"))

	// Three business days on, the receipts no line reported are flagged.
	later := target2.AddBusinessDays(date.InRome(time.Now()), 3)
	run, err := reconciliation.StartIntake(ctx, e.stack.Deps.Temporal, e.stack.Deps.Config.TaskQueue,
		reconciliation.IntakeInput(e.stack.Deps.Config.FdR, later))
	require.NoError(t, err)
	var late workflows.FdRIntakeResult
	require.NoError(t, run.Get(ctx, &late))
	require.EqualValues(t, 2, late.LateReceipts)
	require.Equal(t, "DIFFERENCE:NO_FLOW_LINE", e.reconciliationOf(t, "FDR-E2E-MISSING"))
	require.Equal(t, "DIFFERENCE:NO_FLOW_LINE", e.reconciliationOf(t, "FDR-E2E-BAD"))

	var diffs struct {
		Differences []struct {
			Reason string `json:"reason"`
		} `json:"differences"`
	}
	require.Equal(t, http.StatusOK, e.call(t, http.MethodGet, e.stack.APIURL+"/v1/reconciliation/differences", nil, &diffs))
	var reasons []string
	for _, d := range diffs.Differences {
		reasons = append(reasons, d.Reason)
	}
	require.ElementsMatch(t, []string{"AMOUNT_DIFFERS", "MALFORMED_FLOW", "NO_FLOW_LINE", "NO_FLOW_LINE"}, reasons)

	// The PSP publishes a corrected revision: the late line arrives, its difference closes.
	e.publishFlows(t, map[string]any{"psp": "PSPMISS01", "secondRevision": true})
	res = e.runFdR(t)
	require.Len(t, res.Flows, 1)
	require.Equal(t, int64(2), res.Flows[0].Revision)
	require.Equal(t, "MATCHED_FLOW", e.reconciliationOf(t, "FDR-E2E-MISSING"))
	require.Equal(t, "MATCHED_FLOW", e.reconciliationOf(t, "FDR-E2E-KEPT"))
}
