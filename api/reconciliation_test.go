package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/fdr"
	"incasso/devstack/pagopasim"
	"incasso/domain/date"
	"incasso/domain/pagopa"
	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/services/reconciliation"
)

// intakeWith pays in the pagoPA simulator the receipts incasso holds, publishes today's flow
// with faults, and runs the intake over it, as the workflow's activities do.
func (e *testEnv) intakeWith(t *testing.T, faults pagopasim.FlowFaults, paid ...pagopa.ReceiptV2) {
	t.Helper()
	ctx := context.Background()
	sim := pagopasim.NewPagoPA(e.cfg.GPDKey, "http://127.0.0.1:1/unused", "node-key", e.cfg.Creditor.BrokerID, e.cfg.Creditor.StationID)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	for _, rt := range paid {
		cents, err := fdr.Cents(json.Number(rt.PaymentAmount))
		require.NoError(t, err)
		_, err = sim.Pay(ctx, pagopasim.Payment{NAV: rt.NoticeNumber, Organization: rt.FiscalCode, ReceiptID: rt.ReceiptID,
			Amount: cents, Undelivered: true, PSP: rt.IDPSP})
		require.NoError(t, err)
	}
	today := date.InRome(time.Now())
	faults.Date = today
	_, err := sim.PublishFlows(faults)
	require.NoError(t, err)
	in := &reconciliation.Intake{Pool: e.pool, FdR: fdr.New(srv.URL+pagopasim.FdRBasePath, e.cfg.GPDKey, 5*time.Second), Organization: e.cfg.Creditor.FiscalCode}
	refs, err := in.Pending(ctx, today.Time().AddDate(0, 0, -1))
	require.NoError(t, err)
	require.NotEmpty(t, refs)
	for _, ref := range refs {
		_, err := in.Store(ctx, ref, today)
		require.NoError(t, err)
	}
}

func (e *testEnv) differences(t *testing.T, query string) Differences {
	t.Helper()
	resp, body := e.do(t, http.MethodGet, "/v1/reconciliation/differences"+query, nil, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var page Differences
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&page), string(body))
	require.NotNil(t, page.Differences, "an empty page is [] not null")
	return page
}

func (e *testEnv) resolve(t *testing.T, path, key, body string) (*http.Response, []byte) {
	t.Helper()
	return e.do(t, http.MethodPost, path, strings.NewReader(body),
		http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}})
}

// A paid receipt shows UNMATCHED on its debt until its flow line comes; a flow line of
// another amount makes it a DIFFERENCE, listed with its code and resolvable by finance only,
// with a reason, once.
func TestReconciliationStateAndDifferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ok := e.mustCreateDebt(t, validRequest("RECON-OK"))
	okRT := e.receiptFor(ok, "rcpt-recon-ok")
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: okRT}))
	off := e.mustCreateDebt(t, validRequest("RECON-OFF"))
	offRT := e.receiptFor(off, "rcpt-recon-off")
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: offRT}))

	_, body := e.getDebt(t, "RECON-OK")
	require.Equal(t, &ReceiptReconciliation{Status: "UNMATCHED"}, decodeDebt(t, body).Receipts[0].Reconciliation)

	// The flow reports the first payment (RECON-OFF) 3 cents more than its receipt.
	e.intakeWith(t, pagopasim.FlowFaults{WrongAmountCents: 3}, offRT, okRT)
	_, body = e.getDebt(t, "RECON-OK")
	okState := decodeDebt(t, body).Receipts[0].Reconciliation
	require.Equal(t, "MATCHED_FLOW", okState.Status)
	require.NotEmpty(t, okState.FlowID)
	require.NotNil(t, okState.MatchedAt)
	_, body = e.getDebt(t, "RECON-OFF")
	offState := decodeDebt(t, body).Receipts[0].Reconciliation
	require.Equal(t, "DIFFERENCE", offState.Status)
	require.Equal(t, reconciliation.ReasonAmountDiffers, offState.Reason)

	page := e.differences(t, "")
	require.Len(t, page.Differences, 1)
	diff := page.Differences[0]
	require.Equal(t, reconciliation.ReasonAmountDiffers, diff.Reason)
	require.Equal(t, "rcpt-recon-off", diff.ReceiptID)
	require.Equal(t, "RECON-OFF", diff.IUPD)
	require.EqualValues(t, off.AmountCents, *diff.ExpectedCents)
	require.EqualValues(t, off.AmountCents+3, *diff.ReportedCents)
	require.Empty(t, e.differences(t, "?reason=NO_RECEIPT").Differences)

	path := "/v1/reconciliation/differences/" + strconv.FormatInt(diff.ID, 10) + "/resolve"
	operator := e.addClient(t, "sportello", apiclients.Grant{Role: access.Operator})
	resp, body := e.resolve(t, path, operator, `{"resolution":"ACCEPTED","reason":"commissione trattenuta dal PSP"}`)
	requireProblem(t, resp, body, http.StatusForbidden)

	resp, body = e.resolve(t, path, e.apiKey, `{"resolution":"FORGIVEN"}`)
	p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	require.ElementsMatch(t, []string{"resolution", "reason"}, []string{p.Errors[0].Field, p.Errors[1].Field})
	require.Len(t, e.differences(t, "").Differences, 1, "a refused request changes nothing")

	good := `{"resolution":"ACCEPTED","reason":"commissione trattenuta dal PSP"}`
	for range 2 { // the same resolution again: the same answer
		resp, body = e.resolve(t, path, e.apiKey, good)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var got reconciliation.Difference
		require.NoError(t, json.Unmarshal(body, &got))
		require.Equal(t, reconciliation.Accepted, got.Resolution.Resolution)
		require.Equal(t, "client:tributi", got.Resolution.By)
	}
	resp, body = e.resolve(t, path, e.apiKey, `{"resolution":"WRITTEN_OFF","reason":"altro"}`)
	requireProblem(t, resp, body, http.StatusConflict)
	resp, body = e.resolve(t, "/v1/reconciliation/differences/999999/resolve", e.apiKey, good)
	requireProblem(t, resp, body, http.StatusNotFound)

	require.Empty(t, e.differences(t, "").Differences, "resolved: no longer open")
	require.Len(t, e.differences(t, "?resolved=true").Differences, 1)
	resp, body = e.do(t, http.MethodGet, "/v1/reconciliation/differences?resolved=maybe", nil, e.authHeader())
	require.Equal(t, "resolved", requireProblem(t, resp, body, http.StatusUnprocessableEntity).Errors[0].Field)

	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_log WHERE action = 'POST /v1/reconciliation/differences/:id/resolve' AND reason = 'commissione trattenuta dal PSP'`).Scan(&n))
	require.Positive(t, n, "audited with its reason")
}

// A flagged receipt is resolved like a difference; a receipt not flagged is not found.
func TestResolveFlaggedReceipt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ghost := DebtResponse{
		NoticeNumber: unknownNotice(t, e.cfg.Creditor.Segregation), AmountCents: 5000, Description: "Avviso sconosciuto",
		Debtor: Debtor{Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Mario Rossi"},
	}
	ghost.IUV = ghost.NoticeNumber[1:]
	e.requireFault(t, e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(ghost, "rcpt-ghost-9")}), pagopa.FaultUnknownPayment)
	d := e.mustCreateDebt(t, validRequest("FLAG-NONE"))
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(d, "rcpt-plain-9")}))

	body := `{"resolution":"REFUND_REQUESTED","reason":"avviso non emesso dal comune: rimborso al pagatore"}`
	for range 2 {
		resp, b := e.resolve(t, "/v1/receipts/flagged/rcpt-ghost-9/resolve", e.apiKey, body)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		var got reconciliation.Difference
		require.NoError(t, json.Unmarshal(b, &got))
		require.Equal(t, reconciliation.ReasonReceiptFlag, got.Reason)
		require.Equal(t, "rcpt-ghost-9", got.ReceiptID)
		require.Equal(t, reconciliation.RefundRequested, got.Resolution.Resolution)
	}
	require.Len(t, e.differences(t, "?resolved=true").Differences, 1, "one review, however often it is sent")
	resp, b := e.resolve(t, "/v1/receipts/flagged/rcpt-plain-9/resolve", e.apiKey, body)
	requireProblem(t, resp, b, http.StatusNotFound)
}
