package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/devstack/mailsink"
	"incasso/devstack/specs"
	"incasso/domain/date"
	"incasso/workflows"
)

type planView struct {
	ID          int64  `json:"id"`
	Status      string `json:"status"`
	Instalments []struct {
		Seq         int    `json:"seq"`
		AmountCents int64  `json:"amountCents"`
		Status      string `json:"status"`
	} `json:"instalments"`
	Collections []struct {
		Seq          int    `json:"seq"`
		Attempt      int    `json:"attempt"`
		EndToEndID   string `json:"endToEndId"`
		SequenceType string `json:"sequenceType"`
		Status       string `json:"status"`
		ReasonCode   string `json:"reasonCode"`
	} `json:"collections"`
	Mandate struct {
		Reference string `json:"reference"`
		IBAN      string `json:"iban"`
	} `json:"mandate"`
}

// TestInstalmentPlanBySDD runs a 3-instalment plan on a compressed calendar (a day lasts
// 300 ms) against the simulated bank: the first collection is rejected AM04 (insufficient
// funds) and presented again with a new EndToEndId; every instalment is pre-notified,
// collected, final after D+5 business days and marked paid in GPD, and the debt ends PAID.
// Every pain.008 sent is valid against the XSD. The day's treasury statement then matches
// each file's booking to its run (checkTreasury).
func TestInstalmentPlanBySDD(t *testing.T) {
	e := start(t, func(c *config.Config) {
		c.SDD.Day, c.SDD.PrenotifyDays, c.SDD.ReportPoll = 300*time.Millisecond, 2, 100*time.Millisecond
		c.SDD.TreasuryGraceDays = 0
	})
	ctx := context.Background()
	debt := e.createDebt(t, "PLAN-1", 300_00)
	e.waitStatus(t, "PLAN-1", workflows.StatusIssued)
	base := e.stack.APIURL + "/v1/debts/PLAN-1/instalment-plan"

	// Bad requests name the field and change nothing.
	var bad problemView
	require.Equal(t, http.StatusUnprocessableEntity, e.call(t, http.MethodPost, base, map[string]any{
		"instalments": 3, "mandate": map[string]any{"debtorName": "Mario Rossi", "iban": "IT60X0542811101000000123457", "signedOn": "2026-01-10"},
	}, &bad))
	require.Equal(t, "mandate.iban", bad.Errors[0].Field)
	require.Equal(t, http.StatusUnprocessableEntity, e.call(t, http.MethodPost, base, map[string]any{
		"instalments": 6, "mandate": map[string]any{"debtorName": "Mario Rossi", "iban": "IT60X0542811101000000123456", "signedOn": "2026-01-10"},
	}, &bad))
	require.Equal(t, "instalments", bad.Errors[0].Field)
	require.Equal(t, http.StatusNotFound, e.call(t, http.MethodGet, base, nil, nil))

	// The bank will refuse the first collection of this mandate for insufficient funds.
	rule := `{"mandateId":"E2E-MANDATE-1","code":"AM04","times":1}`
	resp, err := e.http.Post(e.stack.PagoPASimURL+"/sim/bank/rules", "application/json", strings.NewReader(rule))
	require.NoError(t, err)
	resp.Body.Close()
	require.Less(t, resp.StatusCode, 300)

	first := time.Now().In(date.Rome).AddDate(0, 0, 5).Format("2006-01-02")
	var plan planView
	require.Equal(t, http.StatusCreated, e.call(t, http.MethodPost, base, map[string]any{
		"instalments": 3, "firstDueDate": first,
		"mandate": map[string]any{"debtorName": "Mario Rossi", "iban": "IT60 X054 2811 1010 0000 0123 456", "reference": "E2E-MANDATE-1", "signedOn": "2026-01-10"},
	}, &plan))
	require.Len(t, plan.Instalments, 3)
	require.Equal(t, "IT60 **** **** **** **** ***3 456", plan.Mandate.IBAN)
	var row string // the stack seals IBANs as production does: none in clear in the database
	require.NoError(t, e.stack.Deps.Pool.QueryRow(ctx, "SELECT t::text FROM sdd_mandates t WHERE reference = 'E2E-MANDATE-1'").Scan(&row))
	require.NotContains(t, row, "0000000123456")
	var sum int64
	for _, in := range plan.Instalments {
		sum += in.AmountCents
	}
	require.Equal(t, int64(300_00), sum)
	e.waitStatus(t, "PLAN-1", workflows.StatusInstalments)
	require.Equal(t, http.StatusConflict, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts/PLAN-1/cancel", map[string]any{"reason": "test"}, nil))

	if !assert.Eventually(t, func() bool {
		e.call(t, http.MethodGet, e.stack.APIURL+"/v1/debts/PLAN-1", nil, &debt)
		return debt.Status == workflows.StatusPaid
	}, 90*time.Second, 250*time.Millisecond, "the plan never paid the debt") {
		var body json.RawMessage
		e.call(t, http.MethodGet, base, nil, &body)
		t.Logf("plan: %s", body)
		v, err := e.stack.Deps.Temporal.QueryWorkflow(ctx, workflows.PlanWorkflowID(e.stack.Deps.Config.Creditor.FiscalCode, "PLAN-1"), "", workflows.QueryPlan)
		if err == nil {
			var view workflows.PlanView
			_ = v.Get(&view)
			t.Logf("process: %+v", view)
		}
		t.FailNow()
	}

	require.Equal(t, http.StatusOK, e.call(t, http.MethodGet, base, nil, &plan))
	require.Equal(t, workflows.PlanCompleted, plan.Status)
	for _, in := range plan.Instalments {
		require.Equal(t, workflows.InstalmentPaid, in.Status, "instalment %d", in.Seq)
	}
	require.Len(t, plan.Collections, 4, "3 instalments, one presented twice")
	c := plan.Collections
	require.Equal(t, []any{1, 1, "REJECTED", "AM04", "FRST"}, []any{c[0].Seq, c[0].Attempt, c[0].Status, c[0].ReasonCode, c[0].SequenceType})
	require.Equal(t, []any{1, 2, "ACCEPTED", "FRST"}, []any{c[1].Seq, c[1].Attempt, c[1].Status, c[1].SequenceType}, "a rejected FRST is not a first collection")
	require.NotEqual(t, c[0].EndToEndID, c[1].EndToEndID)
	require.Equal(t, "RCUR", c[2].SequenceType)
	require.Equal(t, "RCUR", c[3].SequenceType)

	// The plan's history is in Temporal, as operators see it in the Web UI.
	var result workflows.PlanResult
	require.NoError(t, e.stack.Deps.Temporal.GetWorkflow(ctx, workflows.PlanWorkflowID(e.stack.Deps.Config.Creditor.FiscalCode, "PLAN-1"), "").Get(ctx, &result))
	require.Equal(t, workflows.PlanResult{Status: workflows.PlanCompleted, Collected: 300_00}, result)

	// Every file sent is kept, gzipped, and valid against pain.008.001.08.
	rows, err := e.stack.Deps.Pool.Query(ctx, "SELECT msg_id, content_gz FROM sdd_messages WHERE direction = 'OUT'")
	require.NoError(t, err)
	files := 0
	for rows.Next() {
		var msgID string
		var gz []byte
		require.NoError(t, rows.Scan(&msgID, &gz))
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		require.NoError(t, err)
		doc, err := io.ReadAll(zr)
		require.NoError(t, err)
		specs.RequireValid(t, doc, "sepa", "pain.008.001.08.xsd")
		require.Contains(t, string(doc), msgID)
		files++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 4, files, "one file per collection date")
	var reports int
	require.NoError(t, e.stack.Deps.Pool.QueryRow(ctx, "SELECT count(*) FROM sdd_messages WHERE direction = 'IN' AND msg_type = 'pain.002'").Scan(&reports))
	require.Equal(t, 4, reports, "one status report per file")

	// Each instalment was pre-notified to the debtor, once.
	prenotified := 0
	for _, m := range e.stack.Sink.Messages() {
		if strings.HasPrefix(m.Subject, "Addebito SEPA della rata") && m.To[0] == "plan-1@example.it" {
			prenotified++
		}
	}
	require.Equal(t, 3, prenotified)
	e.waitMail(t, func(m mailsink.Message) bool { return strings.HasPrefix(m.Subject, "Rateizzazione accolta") })
	end := e.waitMail(t, func(m mailsink.Message) bool { return strings.HasPrefix(m.Subject, "Quietanza di pagamento") })
	require.Contains(t, string(end.Raw), "Tutte le rate sono state pagate")
	require.Contains(t, string(end.Raw), "vale come quietanza")
	e.waitMail(t, func(m mailsink.Message) bool { return strings.HasPrefix(m.Subject, "Addebito SEPA della rata 3") })
	e.recordHistory(t, workflows.PlanWorkflowID(e.stack.Deps.Config.Creditor.FiscalCode, "PLAN-1"), "plan_am04_then_paid")
	e.recordHistory(t, debt.WorkflowID, "debt_paid_in_instalments")

	// The treasury's statement of the day: the three files collected are credited and matched
	// to their runs (the first, rejected, credited nothing).
	e.checkTreasury(t, 3)
}
