package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"incasso/app/config"
	"incasso/devstack/jsontest"
	"incasso/domain/date"
	"incasso/domain/target2"
	"incasso/services/treasury"
	"incasso/workflows"
)

// checkTreasury closes the bank's day after the plan's collections and a split credit of a
// flow incasso does not know, runs the bank-notifications schedule, and checks that each
// collection file's booking matches its run (the rejected file booked nothing), and that the
// credit of no flow and the split credit are the differences listed as open (the stack's
// treasury grace is 0 days).
func (e *env) checkTreasury(t *testing.T, collectionFiles int) {
	t.Helper()
	ctx := context.Background()
	bank := e.stack.PagoPASimURL + "/sim/bank"
	jsontest.Call(t, http.MethodPost, bank+"/credits", map[string]any{"flowId": "2026-03-16E2EPSP-S0001", "amountCents": 1001, "split": 2}, http.StatusCreated)
	today := date.InRome(time.Now())
	jsontest.Call(t, http.MethodPost, bank+"/statements", map[string]any{"date": today.String()}, http.StatusCreated)

	schedule := e.stack.Deps.Temporal.ScheduleClient().GetHandle(ctx, workflows.BankNotificationsScheduleID)
	matches := func() map[string]int {
		rows, err := e.stack.Deps.Pool.Query(ctx, "SELECT kind || ' ' || match FROM treasury_entries")
		require.NoError(t, err)
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out[s]++
		}
		require.NoError(t, rows.Err())
		return out
	}
	want := map[string]int{"SDD_BATCH MATCHED": collectionFiles, "FLOW_CREDIT UNKNOWN_FLOW": 2}
	require.Eventually(t, func() bool {
		// A run already going makes a trigger skip (overlap SKIP): trigger until one reads it.
		require.NoError(t, schedule.Trigger(ctx, client.ScheduleTriggerOptions{}))
		return len(matches()) == len(want) && matches()["SDD_BATCH MATCHED"] == collectionFiles && matches()["FLOW_CREDIT UNKNOWN_FLOW"] == 2
	}, 60*time.Second, 2*time.Second, "the statement was not matched")
	require.Equal(t, want, matches())

	_, body := jsontest.Call(t, http.MethodGet, e.stack.APIURL+"/v1/reconciliation/open.csv?date="+today.String(), nil, http.StatusOK,
		"Authorization", "Bearer "+e.apiKey)
	require.Contains(t, string(body), ";CREDIT_WITHOUT_FLOW;credit:2026-03-16E2EPSP-S0001;;1001;")
	require.Contains(t, string(body), ";CREDIT_SPLIT;credit:2026-03-16E2EPSP-S0001;;1001;")
	require.Equal(t, 3, strings.Count(string(body), "\r\n"), "the header and the two differences: %s", body)

	desc, err := schedule.Describe(ctx)
	require.NoError(t, err)
	actions := desc.Info.RecentActions
	require.NotEmpty(t, actions)
	last := actions[len(actions)-1].StartWorkflowResult.WorkflowID
	var returns int
	require.NoError(t, e.stack.Deps.Temporal.GetWorkflow(ctx, last, "").Get(ctx, &returns), "the last run ends")
	e.recordHistory(t, last, "bank_notifications_treasury")
}

// publishedFlows are the flows the pagoPA simulator published, by PSP.
func (e *env) publishedFlows(t *testing.T) map[string]string {
	t.Helper()
	var flows []struct {
		FlowID string `json:"flowId"`
		PSPID  string `json:"pspId"`
	}
	require.Equal(t, http.StatusOK, e.call(t, http.MethodGet, e.stack.PagoPASimURL+"/sim/fdr/flows", nil, &flows))
	out := map[string]string{}
	for _, f := range flows {
		out[f.PSPID] = f.FlowID
	}
	return out
}

// readStatements triggers the bank-notifications schedule until done says the treasury's
// entries are read and matched, and waits for that run to end.
func (e *env) readStatements(t *testing.T, done func() bool) {
	t.Helper()
	ctx := context.Background()
	schedule := e.stack.Deps.Temporal.ScheduleClient().GetHandle(ctx, workflows.BankNotificationsScheduleID)
	require.Eventually(t, func() bool {
		if err := schedule.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
			return false
		}
		return done()
	}, 60*time.Second, 2*time.Second, "the statement was not read")
	desc, err := schedule.Describe(ctx)
	require.NoError(t, err)
	for _, a := range desc.Info.RecentActions {
		require.NoError(t, e.stack.Deps.Temporal.GetWorkflow(ctx, a.StartWorkflowResult.WorkflowID, "").Get(ctx, nil))
	}
}

// A day of payments reconciles: debts paid through pagoPA, the next day's flows read by the
// FdR intake, the bank's statement crediting each flow read by the treasury intake; every
// receipt whose flow was credited is RECONCILED and in the accounting export. The faults: a
// flow the PSP never credited stays MATCHED_FLOW and is FLOW_WITHOUT_CREDIT; a flow credited
// in two bookings reconciles and is flagged CREDIT_SPLIT. Reading the day again changes
// nothing.
func TestDayReconciles(t *testing.T) {
	e := start(t, func(c *config.Config) { c.SDD.TreasuryGraceDays = 0 })
	ctx := context.Background()
	psps := map[string]string{"REC-E2E-1": "PSPREC01", "REC-E2E-2": "PSPREC01", "REC-E2E-SPLIT": "PSPSPLIT01", "REC-E2E-NOCREDIT": "PSPNOCRED01"}
	var total int64
	for i, iupd := range []string{"REC-E2E-1", "REC-E2E-2", "REC-E2E-SPLIT", "REC-E2E-NOCREDIT"} {
		cents := int64(10_00 + i)
		nav := e.issueDebt(t, iupd, cents)
		require.Equal(t, "OK", e.pay(t, nav, "?psp="+psps[iupd]).Outcome)
		e.waitStatus(t, iupd, workflows.StatusPaid)
		if iupd != "REC-E2E-NOCREDIT" {
			total += cents
		}
	}
	e.publishFlows(t, map[string]any{})
	res := e.runFdR(t)
	require.Len(t, res.Flows, 3, "one flow per PSP")
	flows := e.publishedFlows(t)

	today := date.InRome(time.Now())
	jsontest.Call(t, http.MethodPost, e.stack.PagoPASimURL+"/sim/bank/statements", map[string]any{
		"date": today.String(), "missing": []string{flows["PSPNOCRED01"]}, "split": []string{flows["PSPSPLIT01"]},
	}, http.StatusCreated)
	reconciled := func() bool { return e.reconciliationOf(t, "REC-E2E-SPLIT") == "RECONCILED" }
	e.readStatements(t, reconciled)
	for _, iupd := range []string{"REC-E2E-1", "REC-E2E-2", "REC-E2E-SPLIT"} {
		require.Equal(t, "RECONCILED", e.reconciliationOf(t, iupd), iupd)
	}
	require.Equal(t, "MATCHED_FLOW", e.reconciliationOf(t, "REC-E2E-NOCREDIT"))

	auth := []string{"Authorization", "Bearer " + e.apiKey}
	_, accounting := jsontest.Call(t, http.MethodGet, e.stack.APIURL+"/v1/reconciliation/accounting.csv?date="+today.String(), nil, http.StatusOK, auth...)
	lines := strings.Split(strings.TrimSpace(string(accounting)), "\r\n")
	require.Len(t, lines, 2, string(accounting))
	require.True(t, strings.HasPrefix(lines[1], today.String()+";PAGOPA;TARI;"), lines[1])
	require.True(t, strings.HasSuffix(lines[1], fmt.Sprintf(";3;%d", total)), lines[1])
	_, open := jsontest.Call(t, http.MethodGet, e.stack.APIURL+"/v1/reconciliation/open.csv?date="+today.String(), nil, http.StatusOK, auth...)
	require.Contains(t, string(open), ";CREDIT_SPLIT;credit:"+flows["PSPSPLIT01"]+";")
	require.Equal(t, 2, strings.Count(string(open), "\r\n"), "the header and the split credit: %s", open)

	// A business day after the flows' date (the grace is 0 days), the flow never credited is a
	// difference. The schedule's activity matches as of today: the later day is matched here
	// through the same service.
	later := target2.AddBusinessDays(today, 2)
	_, err := (&treasury.Intake{Pool: e.stack.Deps.Pool}).Match(ctx, later, target2.AddBusinessDays(later, -1))
	require.NoError(t, err)
	_, open = jsontest.Call(t, http.MethodGet, e.stack.APIURL+"/v1/reconciliation/open.csv?date="+later.String(), nil, http.StatusOK, auth...)
	require.Contains(t, string(open), ";FLOW_WITHOUT_CREDIT;flow:"+flows["PSPNOCRED01"]+"/1;")
	require.Equal(t, 3, strings.Count(string(open), "\r\n"), "the header and the two differences: %s", open)

	// The day again: the bank's next statement has nothing, the intakes store nothing new.
	var before string
	state := `SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT e::text AS x FROM treasury_entries e
		UNION ALL SELECT d.id || d.reason || coalesce(d.resolution, '') FROM reconciliation_differences d
		UNION ALL SELECT r.receipt_id || r.status FROM receipt_reconciliation r) s`
	require.NoError(t, e.stack.Deps.Pool.QueryRow(ctx, state).Scan(&before))
	require.Empty(t, e.runFdR(t).Flows)
	jsontest.Call(t, http.MethodPost, e.stack.PagoPASimURL+"/sim/bank/statements", map[string]any{"date": today.String()}, http.StatusCreated)
	var statements int
	e.readStatements(t, func() bool {
		require.NoError(t, e.stack.Deps.Pool.QueryRow(ctx, "SELECT count(*) FROM treasury_statements").Scan(&statements))
		return statements == 2
	})
	var after string
	require.NoError(t, e.stack.Deps.Pool.QueryRow(ctx, state).Scan(&after))
	require.Equal(t, before, after, "a day read again changes nothing")
}
