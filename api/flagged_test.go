package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/domain/money"
	"incasso/domain/pagopa"
	"incasso/services/receipts"
	"incasso/workflows"
)

func (e *testEnv) listFlagged(t *testing.T, path string) FlaggedReceipts {
	t.Helper()
	resp, body := e.do(t, http.MethodGet, path, nil, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var page FlaggedReceipts
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&page), string(body))
	require.NotNil(t, page.Receipts, "an empty page is [] not null")
	return page
}

// A receipt for a notice no debt has is kept, flagged, and shown to the finance office; so is
// a payment of another amount, which still settles its debt.
func TestFlaggedReceipts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ec := e.cfg.Creditor.FiscalCode

	// Unknown notice.
	ghost := DebtResponse{
		NoticeNumber: unknownNotice(t, e.cfg.Creditor.Segregation), AmountCents: 5000, Description: "Avviso sconosciuto",
		Debtor: Debtor{Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Mario Rossi"},
	}
	ghost.IUV = ghost.NoticeNumber[1:]
	r := e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(ghost, "rcpt-ghost-1")})
	e.requireFault(t, r, pagopa.FaultUnknownPayment)
	rc, err := dbgen.New(e.pool).GetReceiptByReceiptID(context.Background(), "rcpt-ghost-1")
	require.NoError(t, err, "the receipt is kept")
	require.False(t, rc.DebtID.Valid)
	require.Equal(t, receipts.FlagUnknownNotice, rc.Flag.String)
	require.Empty(t, e.fake.Signals())

	// Amount that differs.
	d := e.mustCreateDebt(t, validRequest("MISMATCH-1"))
	rt := e.receiptFor(d, "rcpt-mismatch-1")
	rt.PaymentAmount, rt.Transfers[0].TransferAmount = "100.00", "100.00"
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: rt}))
	require.Equal(t, workflows.StatusCreated, e.debtRow(t, "MISMATCH-1").Status, "less than asked: still owed")
	require.Empty(t, e.fake.Signals(), "nothing settled")

	// A receipt that matches is not listed.
	ok := e.mustCreateDebt(t, validRequest("MATCH-1"))
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(ok, "rcpt-match-1")}))

	page := e.listFlagged(t, "/v1/receipts/flagged")
	require.Empty(t, page.Next)
	require.Len(t, page.Receipts, 2)
	// Newest first.
	mismatch, unknown := page.Receipts[0], page.Receipts[1]
	require.Equal(t, "rcpt-mismatch-1", mismatch.ReceiptID)
	require.Equal(t, receipts.FlagUnderpaid, mismatch.Flag)
	require.Equal(t, "MISMATCH-1", mismatch.IUPD)
	require.Equal(t, d.NoticeNumber, mismatch.NoticeNumber)
	require.Equal(t, money.Cents(10000), mismatch.AmountCents)
	require.Contains(t, mismatch.FlagDetail, "100.00")
	require.Contains(t, mismatch.FlagDetail, "123.45")
	require.Equal(t, receipts.SourcePush, mismatch.Source)
	require.Equal(t, "OK", mismatch.Outcome)

	require.Equal(t, "rcpt-ghost-1", unknown.ReceiptID)
	require.Equal(t, receipts.FlagUnknownNotice, unknown.Flag)
	require.Empty(t, unknown.IUPD, "no debt")
	require.Equal(t, ghost.NoticeNumber, unknown.NoticeNumber)
	require.Equal(t, money.Cents(5000), unknown.AmountCents)
	require.NotEmpty(t, unknown.FlagDetail)
	var transfers []map[string]any
	require.NoError(t, json.Unmarshal(unknown.Transfers, &transfers))
	require.Len(t, transfers, 1)
	require.Equal(t, float64(5000), transfers[0]["amountCents"])
	require.Equal(t, ec, transfers[0]["fiscalCodePA"])

	// The debt shows its flagged receipt too.
	resp, body := e.getDebt(t, "MISMATCH-1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got DebtResponse
	require.NoError(t, json.Unmarshal(body, &got))
	require.Len(t, got.Receipts, 1)
	require.Equal(t, receipts.FlagUnderpaid, got.Receipts[0].Flag)
	require.Equal(t, receipts.SourcePush, got.Receipts[0].Source)
}

func TestFlaggedReceiptsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string
	for i, id := range []string{"rcpt-page-1", "rcpt-page-2", "rcpt-page-3"} {
		nav, err := pagopa.NewNAV(e.cfg.Creditor.Segregation, pagopa.MaxIUVBase-int64(i))
		require.NoError(t, err)
		ghost := DebtResponse{NoticeNumber: nav.String(), IUV: nav.IUV(), AmountCents: 1000, Description: "x",
			Debtor: Debtor{Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Mario Rossi"}}
		e.requireFault(t, e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(ghost, id)}), pagopa.FaultUnknownPayment)
		ids = append([]string{id}, ids...) // newest first
	}

	var seen []string
	path := "/v1/receipts/flagged?limit=1"
	for range 10 {
		page := e.listFlagged(t, path)
		require.LessOrEqual(t, len(page.Receipts), 1)
		for _, r := range page.Receipts {
			seen = append(seen, r.ReceiptID)
		}
		if page.Next == "" {
			break
		}
		require.Contains(t, page.Next, "limit=1")
		path = page.Next
	}
	require.Equal(t, ids, seen, "every flagged receipt once, newest first")

	two := e.listFlagged(t, "/v1/receipts/flagged?limit=2")
	require.Len(t, two.Receipts, 2)
	require.NotEmpty(t, two.Next)
	rest := e.listFlagged(t, two.Next)
	require.Len(t, rest.Receipts, 1)
	require.Equal(t, ids[2], rest.Receipts[0].ReceiptID)

	all := e.listFlagged(t, "/v1/receipts/flagged?limit=500")
	require.Len(t, all.Receipts, 3)
	require.Empty(t, all.Next)
}

func TestFlaggedReceiptsValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for query, field := range map[string]string{
		"limit=0":   "limit",
		"limit=501": "limit",
		"limit=-1":  "limit",
		"limit=abc": "limit",
		"limit=1.5": "limit",
		"before=0":  "before",
		"before=x":  "before",
		"before=-5": "before",
	} {
		t.Run(query, func(t *testing.T) {
			resp, body := e.do(t, http.MethodGet, "/v1/receipts/flagged?"+query, nil, e.authHeader())
			p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
			require.Equal(t, []string{field}, fieldsOf(p.Errors))
		})
	}
	t.Run("needs the API key", func(t *testing.T) {
		resp, body := e.do(t, http.MethodGet, "/v1/receipts/flagged", nil, nil)
		requireProblem(t, resp, body, http.StatusUnauthorized)
	})
}
