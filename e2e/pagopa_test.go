package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"incasso/clients/gpd"
	"incasso/devstack/mailsink"
	"incasso/devstack/pagopasim"
	"incasso/devstack/specs"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/pagopa"
	"incasso/services/receipts"
	"incasso/worker/codec"
	"incasso/workflows"
)

// signalsLost stands for a process that dies before it can signal the workflow.
type signalsLost struct{}

func (signalsLost) SignalWorkflow(context.Context, string, string, string, any) error {
	return errors.New("the process died")
}

// createDebt posts a debt of amount cents due in a month and returns it as the API shows it.
func (e *env) createDebt(t *testing.T, iupd string, amount int64) debtView {
	t.Helper()
	body := map[string]any{
		"iupd": iupd, "serviceCode": "TARI", "amountCents": amount,
		"dueDate": time.Now().In(date.Rome).AddDate(0, 1, 0).Format("2006-01-02"), "description": "TARI 2026 " + iupd,
		"debtor": map[string]any{"type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi", "email": strings.ToLower(iupd) + "@example.it"},
	}
	var d debtView
	require.Equal(t, http.StatusCreated, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts", body, &d))
	return d
}

// verify asks the EC about a notice as the Nodo does, checks the answer against the XSD and
// returns its fault code ("" when OK).
func (e *env) verify(t *testing.T, nav string) string {
	t.Helper()
	cfg := e.stack.Deps.Config
	req := pagopa.VerifyPaymentNoticeRequest{
		Header: pagopa.Header{IDPA: cfg.Creditor.FiscalCode, IDBrokerPA: cfg.Creditor.BrokerID, IDStation: cfg.Creditor.StationID},
		QRCode: pagopa.QRCode{FiscalCode: cfg.Creditor.FiscalCode, NoticeNumber: nav},
	}
	body, err := pagopa.Wrap(pagopa.ElemVerifyPaymentNoticeReq, req)
	require.NoError(t, err)
	httpReq, err := http.NewRequest(http.MethodPost, e.stack.APIURL+"/pagopa/paForNode", bytes.NewReader(body))
	require.NoError(t, err)
	httpReq.Header.Set("X-Node-Key", cfg.NodeKey)
	httpReq.Header.Set("SOAPAction", pagopa.OpVerifyPaymentNotice)
	resp, err := e.http.Do(httpReq)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	name, inner, err := pagopa.Unwrap(bytes.NewReader(raw))
	require.NoError(t, err)
	require.Equal(t, pagopa.ElemVerifyPaymentNoticeRes, name.Local)
	specs.RequireValid(t, inner, "pagopa", "paForNode.xsd")
	var res pagopa.VerifyPaymentNoticeResponse
	require.NoError(t, pagopa.DecodeBody(inner, &res))
	if res.Fault != nil {
		return res.Fault.FaultCode
	}
	return ""
}

func (e *env) waitMail(t *testing.T, match func(mailsink.Message) bool) mailsink.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := e.stack.Sink.WaitFor(ctx, match)
	require.NoError(t, err)
	return m
}

type flaggedView struct {
	Receipts []struct {
		ReceiptID string `json:"receiptId"`
		IUPD      string `json:"iupd"`
		Flag      string `json:"flag"`
		Source    string `json:"source"`
	} `json:"receipts"`
}

// TestPagoPAPaths pays debts through every path pagoPA can take: GPD failing for a while,
// duplicate deliveries, a wrong amount, a receipt before the position is published, a
// cancelled and a changed notice, an unknown notice, and a receipt that was never pushed
// and is found by the recovery job.
func TestPagoPAPaths(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	p := e.stack.PagoPA
	org := e.stack.Deps.Config.Creditor.FiscalCode

	// GPD answers 503 twice: the registration is retried and the notice issued all the same.
	require.NoError(t, p.InjectFaults(pagopasim.Faults{Count: 2, Status: http.StatusServiceUnavailable}))
	dup := e.createDebt(t, "E2E-DUP", 10_000)
	e.waitStatus(t, "E2E-DUP", workflows.StatusIssued)
	require.Equal(t, "", e.verify(t, dup.NoticeNumber))

	// The Nodo delivers one receipt three times: recorded once, the repeats acknowledged.
	res, err := p.Pay(ctx, pagopasim.Payment{NAV: dup.NoticeNumber, Duplicates: 2})
	require.NoError(t, err)
	require.Equal(t, []pagopasim.Push{{Outcome: "OK"}, {Outcome: "KO", FaultCode: pagopa.FaultDuplicateReceipt}, {Outcome: "KO", FaultCode: pagopa.FaultDuplicateReceipt}}, res.Pushes)
	paid := e.waitStatus(t, "E2E-DUP", workflows.StatusPaid)
	require.Len(t, paid.Receipts, 1)
	require.Equal(t, pagopa.FaultDuplicatePayment, e.verify(t, dup.NoticeNumber))

	// A receipt for less than is due is recorded and flagged, and the debt stays open; one
	// for more settles it, flagged for a refund of the excess.
	odd := e.createDebt(t, "E2E-AMOUNT", 20_000)
	e.waitStatus(t, "E2E-AMOUNT", workflows.StatusIssued)
	res, err = p.Pay(ctx, pagopasim.Payment{NAV: odd.NoticeNumber, Amount: money.Cents(15_000)})
	require.NoError(t, err)
	require.Equal(t, "OK", res.Outcome)
	var open debtView
	e.call(t, http.MethodGet, e.stack.APIURL+"/v1/debts/E2E-AMOUNT", nil, &open)
	require.Equal(t, workflows.StatusIssued, open.Status, "150 of 200 euro paid: still owed")
	require.Len(t, open.Receipts, 1)
	more := e.createDebt(t, "E2E-AMOUNT-MORE", 20_000)
	e.waitStatus(t, "E2E-AMOUNT-MORE", workflows.StatusIssued)
	res, err = p.Pay(ctx, pagopasim.Payment{NAV: more.NoticeNumber, Amount: money.Cents(25_000)})
	require.NoError(t, err)
	require.Equal(t, "OK", res.Outcome)
	e.waitStatus(t, "E2E-AMOUNT-MORE", workflows.StatusPaid)

	// A receipt arrives while GPD is too slow to have published the position: the debt is
	// paid, and the notice is never emailed to someone who has paid.
	require.NoError(t, p.InjectFaults(pagopasim.Faults{LatencyMS: 3000}))
	early := e.createDebt(t, "E2E-EARLY", 5_000)
	res, err = p.Pay(ctx, pagopasim.Payment{NAV: early.NoticeNumber, Organization: org, Amount: 5_000, Early: true})
	require.NoError(t, err)
	require.Equal(t, "OK", res.Outcome)
	p.ClearFaults()
	e.waitStatus(t, "E2E-EARLY", workflows.StatusPaid)
	var earlyResult workflows.DebtResult
	require.NoError(t, e.stack.Deps.Temporal.GetWorkflow(ctx, early.WorkflowID, "").Get(ctx, &earlyResult))
	require.Equal(t, workflows.StatusPaid, earlyResult.Status)
	var earlyMails int
	require.NoError(t, e.stack.Deps.Pool.QueryRow(ctx,
		"SELECT count(*) FROM communications c JOIN debt_positions d ON d.id = c.debt_id WHERE d.iupd = 'E2E-EARLY' AND c.kind <> 'receipt'").Scan(&earlyMails))
	require.Zero(t, earlyMails, "no notice for a debt paid before it was issued (only its quietanza)")

	// Cancelled: withdrawn from GPD, the debtor told, the Nodo told it is cancelled.
	cancelled := e.createDebt(t, "E2E-CANCEL", 7_000)
	e.waitStatus(t, "E2E-CANCEL", workflows.StatusIssued)
	var after debtView
	require.Equal(t, http.StatusOK, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts/E2E-CANCEL/cancel",
		map[string]string{"reason": "Iscrizione a ruolo duplicata"}, &after))
	require.Equal(t, workflows.StatusCancelled, after.Status)
	e.waitMail(t, func(m mailsink.Message) bool {
		return strings.HasPrefix(m.Subject, "Annullamento") && strings.Contains(string(m.Raw), "Iscrizione a ruolo duplicata")
	})
	require.Equal(t, pagopa.FaultCancelledPayment, e.verify(t, cancelled.NoticeNumber))
	_, err = p.Pay(ctx, pagopasim.Payment{NAV: cancelled.NoticeNumber})
	require.ErrorIs(t, err, pagopasim.ErrNotPayable, "GPD no longer lets a PSP pay it")
	require.Equal(t, http.StatusConflict, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts/E2E-CANCEL/change",
		map[string]any{"amountCents": 1, "dueDate": time.Now().In(date.Rome).AddDate(0, 2, 0).Format("2006-01-02"), "reason": "x"}, nil))

	// Changed: a new amount and due date, a revised notice, paid at the new amount.
	changed := e.createDebt(t, "E2E-CHANGE", 9_000)
	e.waitStatus(t, "E2E-CHANGE", workflows.StatusIssued)
	newDue := time.Now().In(date.Rome).AddDate(0, 2, 0).Format("2006-01-02")
	require.Equal(t, http.StatusOK, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts/E2E-CHANGE/change",
		map[string]any{"amountCents": 8_000, "dueDate": newDue, "reason": "Riduzione per compostaggio domestico"}, &after))
	require.Equal(t, int64(8_000), after.AmountCents)
	e.waitMail(t, func(m mailsink.Message) bool {
		return strings.Contains(m.Subject, "aggiornato") && strings.Contains(string(m.Raw), money.Cents(8_000).Italian())
	})
	res, err = p.Pay(ctx, pagopasim.Payment{NAV: changed.NoticeNumber})
	require.NoError(t, err)
	require.Equal(t, "OK", res.Outcome)
	changedReceipt := res.ReceiptID
	changedPaid := e.waitStatus(t, "E2E-CHANGE", workflows.StatusPaid)

	// A receipt for a notice the comune never issued is refused, and kept for review.
	unknown, err := pagopa.NewNAV(1, 9_999_999_999_000)
	require.NoError(t, err)
	res, err = p.Pay(ctx, pagopasim.Payment{NAV: unknown.String(), Organization: org, Amount: 1_000, Early: true})
	require.NoError(t, err)
	require.Equal(t, pagopa.FaultUnknownPayment, res.FaultCode)
	require.Equal(t, pagopa.FaultUnknownPayment, e.verify(t, unknown.String()))

	// A receipt pagoPA never pushed is found by the recovery job and settles the debt.
	lost := e.createDebt(t, "E2E-LOST", 4_000)
	e.waitStatus(t, "E2E-LOST", workflows.StatusIssued)
	res, err = p.Pay(ctx, pagopasim.Payment{NAV: lost.NoticeNumber, Undelivered: true})
	require.NoError(t, err)
	require.Empty(t, res.Pushes)
	require.Equal(t, workflows.StatusIssued, e.waitStatus(t, "E2E-LOST", workflows.StatusIssued).Status)
	schedule := e.stack.Deps.Temporal.ScheduleClient().GetHandle(ctx, workflows.ReceiptRecoveryScheduleID)
	require.NoError(t, schedule.Trigger(ctx, client.ScheduleTriggerOptions{}))
	recovered := e.waitStatus(t, "E2E-LOST", workflows.StatusPaid)
	require.Len(t, recovered.Receipts, 1)
	require.Equal(t, res.ReceiptID, recovered.Receipts[0].ReceiptID)

	// The process dies after recording a receipt and before telling the workflow, and pagoPA
	// does not resend it: the recovery job's sweep tells the workflow, which ends PAID.
	crashed := e.createDebt(t, "E2E-CRASH", 3_000)
	e.waitStatus(t, "E2E-CRASH", workflows.StatusIssued)
	res, err = p.Pay(ctx, pagopasim.Payment{NAV: crashed.NoticeNumber, Undelivered: true})
	require.NoError(t, err)
	cfg := e.stack.Deps.Config
	raw, err := gpd.NewReceipts(cfg.GPDReceiptsURL, cfg.GPDKey, 5*time.Second).GetReceipt(ctx, org, crashed.NoticeNumber[1:])
	require.NoError(t, err)
	rt, err := receipts.Parse(raw)
	require.NoError(t, err)
	dying := &receipts.Recorder{Pool: e.stack.Deps.Pool, Temporal: signalsLost{}, ECFiscalCode: org, Log: slog.New(slog.DiscardHandler)}
	_, err = dying.Record(ctx, rt.Receipt, raw, receipts.SourcePush)
	require.ErrorIs(t, err, receipts.ErrSignal)
	require.Equal(t, workflows.StatusPaid, e.waitStatus(t, "E2E-CRASH", workflows.StatusPaid).Status, "recorded")
	var told workflows.DebtStatus
	v, err := e.stack.Deps.Temporal.QueryWorkflow(ctx, crashed.WorkflowID, "", workflows.QueryStatus)
	require.NoError(t, err)
	require.NoError(t, v.Get(&told))
	require.Equal(t, workflows.StatusIssued, told, "the workflow was never told")
	require.NoError(t, schedule.Trigger(ctx, client.ScheduleTriggerOptions{}))
	waitCtx, cancelWait := context.WithTimeout(ctx, 30*time.Second)
	defer cancelWait()
	var crashedResult workflows.DebtResult
	require.NoError(t, e.stack.Deps.Temporal.GetWorkflow(waitCtx, crashed.WorkflowID, "").Get(waitCtx, &crashedResult))
	require.Equal(t, workflows.DebtResult{Status: workflows.StatusPaid, ReceiptID: res.ReceiptID}, crashedResult)

	// What needs the finance office's eyes is listed: the wrong amounts and the unknown notice.
	var flagged flaggedView
	require.Equal(t, http.StatusOK, e.call(t, http.MethodGet, e.stack.APIURL+"/v1/receipts/flagged", nil, &flagged))
	flags := map[string]string{}
	for _, r := range flagged.Receipts {
		flags[r.Flag] = r.IUPD
	}
	require.Equal(t, map[string]string{"UNDERPAID": "E2E-AMOUNT", "AMOUNT_MISMATCH": "E2E-AMOUNT-MORE", "UNKNOWN_NOTICE": ""}, flags)

	var changedResult, cancelledResult workflows.DebtResult
	require.NoError(t, e.stack.Deps.Temporal.GetWorkflow(ctx, changedPaid.WorkflowID, "").Get(ctx, &changedResult))
	require.NoError(t, e.stack.Deps.Temporal.GetWorkflow(ctx, cancelled.WorkflowID, "").Get(ctx, &cancelledResult))
	require.Equal(t, workflows.DebtResult{Status: workflows.StatusPaid, ReceiptID: changedReceipt}, changedResult)
	require.Equal(t, workflows.DebtResult{Status: workflows.StatusCancelled}, cancelledResult)
	e.recordHistory(t, changedPaid.WorkflowID, "debt_changed_then_paid")
	e.recordHistory(t, cancelled.WorkflowID, "debt_cancelled")
}

// recordHistory writes the workflow's history to $INCASSO_RECORD_HISTORIES/<name>.json when
// that variable is set, for the replay tests in workflows/testdata.
func (e *env) recordHistory(t *testing.T, workflowID, name string) {
	t.Helper()
	dir := os.Getenv("INCASSO_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	ctx := context.Background()
	var hist historypb.History
	iter := e.stack.Deps.Temporal.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, ev)
	}
	// Recorded histories are kept in clear: the replayer runs without the codec.
	if keys := e.stack.Deps.Config.PayloadKeys; keys != nil {
		require.NoError(t, codec.DecodeHistory(ctx, &hist, keys))
	}
	data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&hist)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".json"), data, 0o644))
}
