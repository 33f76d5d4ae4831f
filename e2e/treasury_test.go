package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"incasso/devstack/jsontest"
	"incasso/domain/date"
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
