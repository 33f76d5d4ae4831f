package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/pagopa"
	"incasso/services/receipts"
	"incasso/workflows"
)

func (e *testEnv) postJSON(t *testing.T, path, body string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	h := e.authHeader()
	for k, vs := range header {
		h[k] = vs
	}
	return e.do(t, http.MethodPost, path, strings.NewReader(body), h)
}

func (e *testEnv) cancel(t *testing.T, iupd, body string) (*http.Response, []byte) {
	t.Helper()
	return e.postJSON(t, "/v1/debts/"+iupd+"/cancel", body, nil)
}

func (e *testEnv) change(t *testing.T, iupd, body string) (*http.Response, []byte) {
	t.Helper()
	return e.postJSON(t, "/v1/debts/"+iupd+"/change", body, nil)
}

func decodeDebt(t *testing.T, body []byte) DebtResponse {
	t.Helper()
	var d DebtResponse
	require.NoError(t, json.Unmarshal(body, &d), string(body))
	return d
}

func (e *testEnv) workflowID(iupd string) string {
	return "debt/" + e.cfg.Creditor.FiscalCode + "/" + iupd
}

func TestCancelDebtValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("CV-1"))
	for name, body := range map[string]string{
		"missing":      `{}`,
		"empty":        `{"reason":""}`,
		"blank":        `{"reason":"   \t\n "}`,
		"too long":     `{"reason":"` + strings.Repeat("a", 501) + `"}`,
		"too long too": `{"reason":"` + strings.Repeat("è", 501) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, out := e.cancel(t, "CV-1", body)
			p := requireProblem(t, resp, out, http.StatusUnprocessableEntity)
			require.Equal(t, []string{"reason"}, fieldsOf(p.Errors))
		})
	}
	for name, body := range map[string]string{
		"unknown field":   `{"reason":"x","why":"y"}`,
		"not an object":   `["reason"]`,
		"trailing data":   `{"reason":"x"} {}`,
		"reason number":   `{"reason":5}`,
		"not JSON at all": `reason=x`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, out := e.cancel(t, "CV-1", body)
			requireProblem(t, resp, out, http.StatusBadRequest)
		})
	}
	t.Run("unknown iupd", func(t *testing.T) {
		resp, out := e.cancel(t, "NOPE", `{"reason":"duplicate"}`)
		requireProblem(t, resp, out, http.StatusNotFound)
	})
	t.Run("needs the API key", func(t *testing.T) {
		resp, out := e.do(t, http.MethodPost, "/v1/debts/CV-1/cancel", strings.NewReader(`{"reason":"x"}`), http.Header{"Content-Type": {"application/json"}})
		requireProblem(t, resp, out, http.StatusUnauthorized)
	})
	require.Empty(t, e.fake.Updates())
	require.Equal(t, workflows.StatusCreated, e.debtRow(t, "CV-1").Status)
}

func TestCancelDebt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("CAN-1"))
	// The workflow cancels the debt (here, as CancelPosition would in the database).
	e.fake.setOnUpdate(func(o client.UpdateWorkflowOptions) {
		req := o.Args[0].(workflows.CancelRequest)
		_, err := dbgen.New(e.pool).CancelDebt(context.Background(), dbgen.CancelDebtParams{
			ID: e.debtRow(t, "CAN-1").ID, CancelReason: pgtype.Text{String: req.Reason, Valid: true},
		})
		require.NoError(t, err)
	})

	resp, body := e.cancel(t, "CAN-1", `{"reason":"  Iscrizione duplicata  "}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	d := decodeDebt(t, body)
	require.Equal(t, workflows.StatusCancelled, d.Status)
	require.Equal(t, "Iscrizione duplicata", d.CancelReason)
	require.NotNil(t, d.CancelledAt)

	ups := e.fake.Updates()
	require.Len(t, ups, 1)
	u := ups[0]
	require.Equal(t, e.workflowID("CAN-1"), u.WorkflowID)
	require.Empty(t, u.RunID)
	require.Equal(t, workflows.UpdateCancel, u.UpdateName)
	require.Equal(t, "cancel", u.UpdateName)
	require.Equal(t, []any{workflows.CancelRequest{Reason: "Iscrizione duplicata"}}, u.Args, "the reason is trimmed")
	require.Equal(t, client.WorkflowUpdateStageAccepted, u.WaitForStage)
	require.Empty(t, u.UpdateID, "no Idempotency-Key: Temporal picks the id")

	// Cancelling it again answers the same without bothering the workflow.
	resp, body = e.cancel(t, "CAN-1", `{"reason":"again"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	again := decodeDebt(t, body)
	require.Equal(t, workflows.StatusCancelled, again.Status)
	require.Equal(t, "Iscrizione duplicata", again.CancelReason, "the first reason stays")
	require.Len(t, e.fake.Updates(), 1)
}

func TestCancelDebtIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("IDEM-1"))
	e.mustCreateDebt(t, validRequest("IDEM-2"))
	h := http.Header{"Idempotency-Key": {"8e0c7a1f-2b4d"}}
	resp, body := e.postJSON(t, "/v1/debts/IDEM-1/cancel", `{"reason":"duplicate"}`, h)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	resp, body = e.postJSON(t, "/v1/debts/IDEM-2/change", `{"amountCents":100,"dueDate":"2027-01-31","reason":"ricalcolo"}`, h)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	ups := e.fake.Updates()
	require.Len(t, ups, 2)
	require.Equal(t, "cancel/8e0c7a1f-2b4d", ups[0].UpdateID)
	require.Equal(t, "change/8e0c7a1f-2b4d", ups[1].UpdateID)
}

func TestCancelDebtPaid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("CPAID-1"))
	e.markPaid(t, "CPAID-1")
	resp, body := e.cancel(t, "CPAID-1", `{"reason":"duplicate"}`)
	p := requireProblem(t, resp, body, http.StatusConflict)
	require.Contains(t, p.Detail, "paid")
	resp, body = e.change(t, "CPAID-1", `{"amountCents":100,"dueDate":"2027-01-31","reason":"ricalcolo"}`)
	requireProblem(t, resp, body, http.StatusConflict)
	require.Empty(t, e.fake.Updates(), "a settled debt is not sent to its workflow")
	require.Equal(t, workflows.StatusPaid, e.debtRow(t, "CPAID-1").Status)
}

func TestChangeDebtCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("CHCAN-1"))
	e.markCancelled(t, "CHCAN-1", "duplicate")
	resp, body := e.change(t, "CHCAN-1", `{"amountCents":100,"dueDate":"2027-01-31","reason":"ricalcolo"}`)
	requireProblem(t, resp, body, http.StatusConflict)
	require.Empty(t, e.fake.Updates())
}

// How the update's failures reach the caller.
func TestDebtUpdateFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("UPF-1"))
	const busy = "the notice is still being issued: try again in a moment"
	settledErr := temporal.NewNonRetryableApplicationError("debt 1 is PAID: it cannot be changed", workflows.ErrTypeSettled, nil)
	gpdErr := temporal.NewNonRetryableApplicationError("GPD refused to change debt 1", workflows.ErrTypeGPDRejected, errors.New("HTTP 400"))
	tests := []struct {
		name                 string
		updateErr, resultErr error
		status               int
		detail               string
	}{
		{"rejected by the validator", nil, temporal.NewApplicationError(busy, workflows.ErrTypeRejected), http.StatusConflict, busy},
		{"rejected, wrapped", nil, fmt.Errorf("update: %w", temporal.NewApplicationError(busy, workflows.ErrTypeRejected)), http.StatusConflict, busy},
		{"settled in the meantime", nil,
			temporal.NewApplicationErrorWithCause("cancel position: activity error", "wrapError", settledErr), http.StatusConflict, ""},
		{"settled, wrapped by Go", nil, fmt.Errorf("cancel: %w", settledErr), http.StatusConflict, ""},
		{"GPD rejected", nil,
			temporal.NewApplicationErrorWithCause("change position: activity error", "wrapError", gpdErr), http.StatusBadGateway, ""},
		{"workflow over", serviceerror.NewNotFound("workflow execution already completed"), nil, http.StatusConflict, ""},
		{"Temporal down", errors.New("connection refused"), nil, http.StatusServiceUnavailable, ""},
		{"still running", context.DeadlineExceeded, nil, http.StatusAccepted, ""},
		// The server's poll may end an instant before the API's wait (make chaos met it).
		{"the poll ended first", nil, client.NewWorkflowUpdateServiceTimeoutOrCanceledError(errors.New("stream terminated by RST_STREAM with error code: CANCEL")), http.StatusAccepted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.fake.failUpdate(tt.updateErr, tt.resultErr)
			defer e.fake.failUpdate(nil, nil)
			for _, call := range []func() (*http.Response, []byte){
				func() (*http.Response, []byte) { return e.cancel(t, "UPF-1", `{"reason":"duplicate"}`) },
				func() (*http.Response, []byte) {
					return e.change(t, "UPF-1", `{"amountCents":100,"dueDate":"2027-01-31","reason":"ricalcolo"}`)
				},
			} {
				resp, body := call()
				if tt.status == http.StatusAccepted {
					require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
					require.Contains(t, string(body), "IN_PROGRESS")
					continue
				}
				p := requireProblem(t, resp, body, tt.status)
				if tt.detail != "" {
					require.Equal(t, tt.detail, p.Detail)
				}
				require.NotContains(t, p.Detail, "HTTP 400", "no internals")
				require.NotContains(t, p.Detail, "connection refused", "no internals")
			}
		})
	}
	require.Equal(t, workflows.StatusCreated, e.debtRow(t, "UPF-1").Status)
}

func TestChangeDebtValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // today is 20 November 2026 in Rome
	e.mustCreateDebt(t, validRequest("CHV-1"))
	body := func(amount any, due any, reason any) string {
		m := map[string]any{}
		if amount != nil {
			m["amountCents"] = amount
		}
		if due != nil {
			m["dueDate"] = due
		}
		if reason != nil {
			m["reason"] = reason
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return string(b)
	}
	tests := []struct {
		name   string
		body   string
		fields []string
	}{
		{"amount zero", body(0, "2027-01-31", "r"), []string{"amountCents"}},
		{"amount missing", body(nil, "2027-01-31", "r"), []string{"amountCents"}},
		{"amount negative", body(-5, "2027-01-31", "r"), []string{"amountCents"}},
		{"amount over the maximum", body(int64(MaxAmount)+1, "2027-01-31", "r"), []string{"amountCents"}},
		{"due date missing", body(100, nil, "r"), []string{"dueDate"}},
		{"due date malformed", body(100, "31/01/2027", "r"), []string{"dueDate"}},
		{"due date impossible", body(100, "2027-02-30", "r"), []string{"dueDate"}},
		{"due date in the past", body(100, "2026-11-19", "r"), []string{"dueDate"}},
		{"reason missing", body(100, "2027-01-31", nil), []string{"reason"}},
		{"reason blank", body(100, "2027-01-31", "  "), []string{"reason"}},
		{"reason too long", body(100, "2027-01-31", strings.Repeat("x", 501)), []string{"reason"}},
		{"everything", body(0, "", ""), []string{"reason", "amountCents", "dueDate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, out := e.change(t, "CHV-1", tt.body)
			p := requireProblem(t, resp, out, http.StatusUnprocessableEntity)
			require.ElementsMatch(t, tt.fields, fieldsOf(p.Errors))
		})
	}
	for name, b := range map[string]string{
		"unknown field":     `{"amountCents":100,"dueDate":"2027-01-31","reason":"r","currency":"EUR"}`,
		"amount as decimal": `{"amountCents":1.5,"dueDate":"2027-01-31","reason":"r"}`,
		"amount as string":  `{"amountCents":"100","dueDate":"2027-01-31","reason":"r"}`,
		"trailing data":     `{"amountCents":100,"dueDate":"2027-01-31","reason":"r"}x`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, out := e.change(t, "CHV-1", b)
			requireProblem(t, resp, out, http.StatusBadRequest)
		})
	}
	t.Run("unknown iupd", func(t *testing.T) {
		resp, out := e.change(t, "NOPE", body(100, "2027-01-31", "r"))
		requireProblem(t, resp, out, http.StatusNotFound)
	})
	require.Empty(t, e.fake.Updates())
}

func TestChangeDebt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("CH-1"))
	// The workflow applies the change (here, as ChangePosition would in the database).
	e.fake.setOnUpdate(func(o client.UpdateWorkflowOptions) {
		req := o.Args[0].(workflows.ChangeRequest)
		q := dbgen.New(e.pool)
		id := e.debtRow(t, "CH-1").ID
		require.NoError(t, q.InsertDebtChange(context.Background(), dbgen.InsertDebtChangeParams{
			DebtID: id, Revision: 2, AmountCents: int64(req.Amount), DueDate: req.DueDate.Time(), Reason: req.Reason,
		}))
		_, err := q.ApplyDebtChange(context.Background(), dbgen.ApplyDebtChangeParams{
			ID: id, Revision: 2, AmountCents: int64(req.Amount), DueDate: req.DueDate.Time(),
		})
		require.NoError(t, err)
	})

	// Today (in Rome) is a valid due date.
	resp, body := e.change(t, "CH-1", `{"amountCents":20000,"dueDate":"2026-11-20","reason":" ricalcolo superficie "}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	d := decodeDebt(t, body)
	require.Equal(t, 2, d.Revision)
	require.Equal(t, money.Cents(20000), d.AmountCents)
	require.Equal(t, "2026-11-20", d.DueDate.String())

	ups := e.fake.Updates()
	require.Len(t, ups, 1)
	u := ups[0]
	require.Equal(t, e.workflowID("CH-1"), u.WorkflowID)
	require.Equal(t, "change", u.UpdateName)
	require.Equal(t, client.WorkflowUpdateStageAccepted, u.WaitForStage)
	due, err := date.Parse("2026-11-20")
	require.NoError(t, err)
	require.Equal(t, []any{workflows.ChangeRequest{Amount: 20000, DueDate: due, Reason: "ricalcolo superficie"}}, u.Args)

	// The largest amount is accepted.
	e.fake.setOnUpdate(nil)
	resp, body = e.change(t, "CH-1", fmt.Sprintf(`{"amountCents":%d,"dueDate":"2027-01-31","reason":"r"}`, MaxAmount))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Len(t, e.fake.Updates(), 2)
}

// GET /v1/debts/{iupd} shows the revisions, the cancellation and every receipt as stored.
func TestGetDebtRevisionsCancellationAndReceipts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	q := dbgen.New(e.pool)
	created := e.mustCreateDebt(t, validRequest("HIST-1"))
	require.Equal(t, 1, created.Revision)
	require.Empty(t, created.Changes)
	require.NotNil(t, created.Changes, "[] not null")
	require.Empty(t, created.CancelReason)
	require.Nil(t, created.CancelledAt)

	id := e.debtRow(t, "HIST-1").ID
	for _, ch := range []struct {
		rev    int32
		amount int64
		due    time.Time
		reason string
	}{
		{2, 20000, time.Date(2027, time.January, 31, 0, 0, 0, 0, time.UTC), "ricalcolo superficie"},
		{3, 15000, time.Date(2027, time.February, 28, 0, 0, 0, 0, time.UTC), "riduzione per compostaggio"},
	} {
		require.NoError(t, q.InsertDebtChange(ctx, dbgen.InsertDebtChangeParams{DebtID: id, Revision: ch.rev, AmountCents: ch.amount, DueDate: ch.due, Reason: ch.reason}))
		_, err := q.ApplyDebtChange(ctx, dbgen.ApplyDebtChangeParams{ID: id, Revision: ch.rev, AmountCents: ch.amount, DueDate: ch.due})
		require.NoError(t, err)
	}

	resp, body := e.getDebt(t, "HIST-1")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	d := decodeDebt(t, body)
	require.Equal(t, 3, d.Revision)
	require.Equal(t, money.Cents(15000), d.AmountCents)
	require.Equal(t, "2027-02-28", d.DueDate.String())
	require.Len(t, d.Changes, 2)
	require.Equal(t, 2, d.Changes[0].Revision)
	require.Equal(t, money.Cents(20000), d.Changes[0].AmountCents)
	require.Equal(t, "2027-01-31", d.Changes[0].DueDate.String())
	require.Equal(t, "ricalcolo superficie", d.Changes[0].Reason)
	require.WithinDuration(t, time.Now(), d.Changes[0].ChangedAt, time.Minute)
	require.Equal(t, 3, d.Changes[1].Revision)
	require.Equal(t, "riduzione per compostaggio", d.Changes[1].Reason)

	// Cancelled, then paid all the same: the receipt is kept and flagged.
	e.markCancelled(t, "HIST-1", "trasferito in altro comune")
	rt := e.receiptFor(d, "rcpt-hist-1")
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: rt}))
	require.Empty(t, e.fake.Signals(), "a cancelled debt's workflow is not told it was paid")

	resp, body = e.getDebt(t, "HIST-1")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	d = decodeDebt(t, body)
	require.Equal(t, workflows.StatusCancelled, d.Status)
	require.Equal(t, "trasferito in altro comune", d.CancelReason)
	require.NotNil(t, d.CancelledAt)
	require.WithinDuration(t, time.Now(), *d.CancelledAt, time.Minute)
	require.Nil(t, d.PaidAt)
	require.Len(t, d.Receipts, 1)
	r := d.Receipts[0]
	require.Equal(t, "rcpt-hist-1", r.ReceiptID)
	require.Equal(t, receipts.FlagPaidAfterCancel, r.Flag)
	require.NotEmpty(t, r.FlagDetail)
	require.Equal(t, receipts.SourcePush, r.Source)
	require.Equal(t, "app", r.ChannelDescription)
	require.Empty(t, r.IUPD, "only the list of flagged receipts names the iupd")
}
