package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"incasso/db/dbgen"
	"incasso/domain/pagopa"
	"incasso/workflows"
)

func TestPaForNodeRequiresNodeKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustCreateDebt(t, validRequest("KEY-1"))
	body := wrapRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(d, "rcpt-key-1")})
	for name, key := range map[string]string{"missing": "", "wrong": "not-the-key", "prefix": testNodeKey[:len(testNodeKey)-1], "longer": testNodeKey + "x"} {
		t.Run(name, func(t *testing.T) {
			resp, out := e.postSOAP(t, body, key)
			requireProblem(t, resp, out, http.StatusUnauthorized)
		})
	}
	require.Zero(t, e.countReceipts(t))
	require.Empty(t, e.fake.Signals())
	require.Equal(t, workflows.StatusCreated, e.debtRow(t, "KEY-1").Status)
}

// INCASSO_NODE_ALLOW also guards the endpoint on the API's own listener: a peer outside it is
// refused before anything is read, whatever secret it sends.
func TestPaForNodeAllowlist(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *Server) { s.Config.Node.Allow = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} })
	d := e.mustCreateDebt(t, validRequest("ALLOW-1"))
	resp, out := e.postSOAP(t, wrapRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(d, "rcpt-allow-1")}), testNodeKey)
	requireProblem(t, resp, out, http.StatusForbidden)
	require.Zero(t, e.countReceipts(t))
	require.Empty(t, e.fake.Signals())
	require.Equal(t, workflows.StatusCreated, e.debtRow(t, "ALLOW-1").Status)

	open := newEnv(t, func(s *Server) { s.Config.Node.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	d = open.mustCreateDebt(t, validRequest("ALLOW-2"))
	require.Equal(t, "OK", open.sendRT(t, pagopa.SendRTV2Request{Header: open.header(), Receipt: open.receiptFor(d, "rcpt-allow-2")}).Outcome)
}

func TestPaForNodeFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustCreateDebt(t, validRequest("FAULT-1"))
	good := func() pagopa.SendRTV2Request {
		return pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(d, "rcpt-fault-1")}
	}
	envelope := func(inner string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="` + pagopa.NSSoapEnv +
			`"><soapenv:Body>` + inner + `</soapenv:Body></soapenv:Envelope>`)
	}
	badAmount := good()
	badAmount.Receipt.PaymentAmount = "12,34"
	badAmountEnv, err := pagopa.Wrap(pagopa.ElemSendRTV2Request, badAmount)
	require.NoError(t, err)
	noReceiptID := good()
	noReceiptID.Receipt.ReceiptID = ""
	noReceiptIDEnv, err := pagopa.Wrap(pagopa.ElemSendRTV2Request, noReceiptID)
	require.NoError(t, err)

	tests := []struct {
		name  string
		body  func() []byte
		fault string
	}{
		{"garbage", func() []byte { return []byte("this is not XML at all") }, pagopa.FaultSyntax},
		{"empty", func() []byte { return nil }, pagopa.FaultSyntax},
		{"XML but not SOAP", func() []byte { return []byte(`<paSendRTV2Request/>`) }, pagopa.FaultSyntax},
		{"empty SOAP body", func() []byte { return envelope("") }, pagopa.FaultSyntax},
		{"broken request element", func() []byte {
			return envelope(`<pafn:paSendRTV2Request xmlns:pafn="` + pagopa.NSPaForNode + `"><idPA>` + e.cfg.Creditor.FiscalCode + `</idPA><receipt><receiptId>`)
		}, pagopa.FaultSyntax},
		{"amount not a stAmount", func() []byte { return badAmountEnv }, pagopa.FaultSyntax},
		{"no receiptId", func() []byte { return noReceiptIDEnv }, pagopa.FaultSyntax},
		{"unsupported operation", func() []byte {
			return envelope(`<pafn:paDemandPaymentNoticeRequest xmlns:pafn="` + pagopa.NSPaForNode + `"/>`)
		}, pagopa.FaultSemantics},
		{"wrong idPA", func() []byte {
			r := good()
			r.IDPA = "99999999999"
			return wrapRT(t, r)
		}, pagopa.FaultWrongDomain},
		{"wrong idBrokerPA", func() []byte {
			r := good()
			r.IDBrokerPA = "88888888888"
			return wrapRT(t, r)
		}, pagopa.FaultWrongBroker},
		{"wrong idStation", func() []byte {
			r := good()
			r.IDStation = e.cfg.Creditor.FiscalCode + "_99"
			return wrapRT(t, r)
		}, pagopa.FaultWrongStation},
		{"receipt for another creditor", func() []byte {
			r := good()
			r.Receipt.FiscalCode = "99999999999"
			return wrapRT(t, r)
		}, pagopa.FaultWrongDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e.requireFault(t, e.sendSOAP(t, tt.body()), tt.fault)
		})
	}
	// None of them stored or signalled anything.
	require.Zero(t, e.countReceipts(t))
	require.Empty(t, e.fake.Signals())
	require.Equal(t, workflows.StatusCreated, e.debtRow(t, "FAULT-1").Status)
}

func TestPaForNodeReceipt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustCreateDebt(t, validRequest("PAY-1"))
	wfID := "debt/" + e.cfg.Creditor.FiscalCode + "/PAY-1"
	req := pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(d, "c8a2f0e1b5d54c1e")}

	r := e.sendRT(t, req)
	require.Equal(t, pagopa.OK(), r)

	require.Equal(t, 1, e.countReceipts(t))
	row := e.debtRow(t, "PAY-1")
	require.Equal(t, workflows.StatusPaid, row.Status)
	require.True(t, row.PaidAt.Valid)
	// paymentDateTime is local time in Italy: 10:11:12 in Rome in November is 09:11:12 UTC.
	require.True(t, time.Date(2026, time.November, 25, 9, 11, 12, 0, time.UTC).Equal(row.PaidAt.Time), row.PaidAt.Time)

	rc, err := dbgen.New(e.pool).GetReceiptByReceiptID(context.Background(), "c8a2f0e1b5d54c1e")
	require.NoError(t, err)
	require.Equal(t, row.ID, rc.DebtID.Int64)
	require.Equal(t, d.NoticeNumber, rc.Nav)
	require.Equal(t, int64(12345), rc.AmountCents)
	require.Equal(t, "OK", rc.Outcome)
	require.Equal(t, "SIMPSP01", rc.PspID)
	require.Equal(t, "PSP Simulato", rc.PspName)
	require.Equal(t, "SIMPSP01_01", rc.ChannelID)
	require.Equal(t, "creditCard", rc.PaymentMethod)
	require.Equal(t, int64(100), rc.FeeCents.Int64)
	require.True(t, rc.FeeCents.Valid)
	require.Contains(t, rc.RawXml, "c8a2f0e1b5d54c1e", "the raw receipt is kept")

	sigs := e.fake.Signals()
	require.Len(t, sigs, 1)
	require.Equal(t, signal{WorkflowID: wfID, RunID: "", Name: workflows.SignalReceipt, Arg: workflows.ReceiptSignal{ReceiptID: "c8a2f0e1b5d54c1e"}}, sigs[0])

	// The API shows the payment.
	resp, body := e.getDebt(t, "PAY-1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got DebtResponse
	require.NoError(t, json.Unmarshal(body, &got))
	require.Equal(t, workflows.StatusPaid, got.Status)
	require.Equal(t, d.AmountCents, got.PaidCents)
	require.NotNil(t, got.PaidAt)
	require.Len(t, got.Receipts, 1)
	require.Equal(t, "c8a2f0e1b5d54c1e", got.Receipts[0].ReceiptID)
	require.Equal(t, int64(100), *got.Receipts[0].FeeCents)

	t.Run("the same receipt again", func(t *testing.T) {
		r := e.sendRT(t, req)
		e.requireFault(t, r, pagopa.FaultDuplicateReceipt)
		require.Equal(t, 1, e.countReceipts(t))
		sigs := e.fake.Signals()
		require.Len(t, sigs, 2, "signalled again, in case the first signal was lost")
		require.Equal(t, sigs[0], sigs[1])
		again := e.debtRow(t, "PAY-1")
		require.Equal(t, row.PaidAt, again.PaidAt, "paid_at is not moved by a duplicate")
	})

	t.Run("the workflow is over and the debt paid", func(t *testing.T) {
		e.fake.failSignal(serviceerror.NewNotFound("workflow execution already completed"))
		defer e.fake.failSignal(nil)
		e.requireFault(t, e.sendRT(t, req), pagopa.FaultDuplicateReceipt)
	})

	t.Run("a second, different receipt for the paid notice", func(t *testing.T) {
		second := req
		second.Receipt.ReceiptID = "second-receipt-01"
		second.Receipt.PaymentDateTime = "2026-11-28T08:00:00"
		require.Equal(t, pagopa.OK(), e.sendRT(t, second))
		require.Equal(t, 2, e.countReceipts(t))
		again := e.debtRow(t, "PAY-1")
		require.Equal(t, row.PaidAt, again.PaidAt, "the first payment's time is kept")
	})
}

func TestPaForNodeSignalFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustCreateDebt(t, validRequest("SIG-1"))
	req := pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(d, "rcpt-sig-1")}

	e.fake.failSignal(errors.New("temporal unavailable"))
	r := e.sendRT(t, req)
	e.requireFault(t, r, pagopa.FaultSystem)
	require.NotContains(t, r.Fault.Description, "temporal unavailable")
	require.Equal(t, 1, e.countReceipts(t), "the receipt is stored before the signal")
	require.Equal(t, workflows.StatusPaid, e.debtRow(t, "SIG-1").Status)
	require.Len(t, e.fake.Signals(), 1)

	// The Nodo resends: the receipt is known, and this time the workflow is told.
	e.fake.failSignal(nil)
	e.requireFault(t, e.sendRT(t, req), pagopa.FaultDuplicateReceipt)
	require.Equal(t, 1, e.countReceipts(t))
	sigs := e.fake.Signals()
	require.Len(t, sigs, 2)
	require.Equal(t, workflows.ReceiptSignal{ReceiptID: "rcpt-sig-1"}, sigs[1].Arg)
}

// A workflow that is not found while the debt was not yet paid is a real problem (the debt's
// process never started, or was lost): the Nodo is told to retry.
func TestPaForNodeWorkflowNotFoundBeforePaid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustCreateDebt(t, validRequest("NF-1"))
	e.fake.failSignal(serviceerror.NewNotFound("workflow not found"))
	e.requireFault(t, e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(d, "rcpt-nf-1")}), pagopa.FaultSystem)
	require.Equal(t, 1, e.countReceipts(t))
}

// A receipt without paymentDateTime still marks the debt paid, at the time it arrived.
func TestPaForNodeReceiptWithoutPaymentTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustCreateDebt(t, validRequest("NOTIME-1"))
	rt := e.receiptFor(d, "rcpt-notime-1")
	rt.PaymentDateTime, rt.Fee, rt.PaymentMethod = "", "", ""
	before := time.Now()
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: rt}))
	row := e.debtRow(t, "NOTIME-1")
	require.Equal(t, workflows.StatusPaid, row.Status)
	require.True(t, row.PaidAt.Valid)
	require.WithinDuration(t, before, row.PaidAt.Time, time.Minute)
	rc, err := dbgen.New(e.pool).GetReceiptByReceiptID(context.Background(), "rcpt-notime-1")
	require.NoError(t, err)
	require.False(t, rc.FeeCents.Valid)
	require.False(t, rc.PaidAt.Valid)
}

func TestPaForNodeResponseNeverLeaksInternals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustCreateDebt(t, validRequest("LEAK-1"))
	// Break the database under the receipt insert: the answer is a plain system error.
	_, err := e.pool.Exec(context.Background(), "ALTER TABLE receipts ADD CONSTRAINT no_receipts CHECK (false)")
	require.NoError(t, err)
	r := e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(d, "rcpt-leak-1")})
	e.requireFault(t, r, pagopa.FaultSystem)
	require.False(t, strings.Contains(r.Fault.Description, "no_receipts"), r.Fault.Description)
	require.Equal(t, workflows.StatusCreated, e.debtRow(t, "LEAK-1").Status, "nothing half-done")
	require.Empty(t, e.fake.Signals())
}

// A KO receipt is kept as evidence but is no payment: the debt stays unpaid and its workflow,
// which takes any receipt signal as the payment, must not be told.
func TestPaForNodeKOReceipt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustCreateDebt(t, validRequest("KO-1"))
	rt := e.receiptFor(d, "rcpt-ko-1")
	rt.Outcome = "KO"
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: rt}))
	require.Equal(t, 1, e.countReceipts(t))
	row := e.debtRow(t, "KO-1")
	require.Equal(t, workflows.StatusCreated, row.Status)
	require.False(t, row.PaidAt.Valid)
	resp, body := e.getDebt(t, "KO-1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got DebtResponse
	require.NoError(t, json.Unmarshal(body, &got))
	require.Zero(t, got.PaidCents)
	require.Len(t, got.Receipts, 1)

	require.Empty(t, e.fake.Signals())
}

// A receipt id already recorded for one notice and sent again for another is not a duplicate
// delivery: the other debt's workflow must not be told it was paid.
func TestPaForNodeReceiptIDReusedForAnotherNotice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustCreateDebt(t, validRequest("REUSE-A"))
	b := e.mustCreateDebt(t, validRequest("REUSE-B"))
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(a, "rcpt-reuse")}))
	require.Len(t, e.fake.Signals(), 1)

	r := e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(b, "rcpt-reuse")})
	require.Equal(t, "KO", r.Outcome)
	require.Equal(t, 1, e.countReceipts(t))
	require.Equal(t, workflows.StatusCreated, e.debtRow(t, "REUSE-B").Status)

	require.NotEqual(t, pagopa.FaultDuplicateReceipt, r.Fault.FaultCode)
	for _, s := range e.fake.Signals() {
		require.NotEqual(t, "debt/"+e.cfg.Creditor.FiscalCode+"/REUSE-B", s.WorkflowID)
	}
}
