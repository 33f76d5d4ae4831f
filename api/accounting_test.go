package api

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/pagopa"
	"incasso/domain/sepa/camt053"
	"incasso/services/treasury"
)

// A debt paid, its receipt reported by a flow and the flow credited: the day's accounting
// file has the payment under its service and taxonomy; a flow never credited is open.
func TestAccountingExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	d := e.mustCreateDebt(t, validRequest("ACC-1"))
	rt := e.receiptFor(d, "rcpt-acc-1")
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: rt}))
	rc, err := dbgen.New(e.pool).GetReceiptByReceiptID(ctx, "rcpt-acc-1")
	require.NoError(t, err)

	day := date.Date{Year: 2026, Month: time.March, Day: 17}
	// What the FdR intake stores and matches (services of wt-a's part of issue 14).
	var paidFlow int64
	require.NoError(t, e.pool.QueryRow(ctx, `INSERT INTO fdr_flows (flow_id, revision, psp_id, ec_fiscal_code, flow_date, payments, sum_cents, status, raw_json, raw_sha256)
		VALUES ('2026-03-16PSP1-S0001', 1, 'PSP1', $1, $2, 1, $3, 'MATCHED', '{}', repeat('0', 64)) RETURNING id`,
		e.cfg.Creditor.FiscalCode, day.Time(), rc.AmountCents).Scan(&paidFlow))
	var line int64
	require.NoError(t, e.pool.QueryRow(ctx, `INSERT INTO fdr_flow_lines (flow_id, line_index, iuv, iur, transfer_index, amount_cents, pay_status, outcome_code, receipt_id, match)
		VALUES ($1, 1, $2, $3, 1, $4, 'EXECUTED', 0, $5, 'MATCHED') RETURNING id`, paidFlow, d.IUV, rc.ReceiptID, rc.AmountCents, rc.ID).Scan(&line))
	_, err = e.pool.Exec(ctx, `UPDATE receipt_reconciliation SET status = 'MATCHED_FLOW', flow_line_id = $2 WHERE receipt_id = $1`, rc.ID, line)
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `INSERT INTO fdr_flows (flow_id, revision, psp_id, ec_fiscal_code, flow_date, payments, sum_cents, status, raw_json, raw_sha256)
		VALUES ('2026-03-16PSP2-S0001', 1, 'PSP2', $1, $2, 0, 0, 'MATCHED', '{}', repeat('0', 64))`, e.cfg.Creditor.FiscalCode, day.Time())
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, camt053.Write(&buf, camt053.Statement{
		MsgID: "STM-1", Created: day.EndIn(date.Rome), ID: "STM-1", IBAN: "IT60X0542811101000000123456", Date: day,
		Closing: 12345, Entries: []camt053.Entry{{Ref: "BK1", Kind: camt053.FlowCredit, Amount: 12345, Credit: true, BookingDate: day,
			Remittance: camt053.FlowPrefix + "2026-03-16PSP1-S0001", FlowID: "2026-03-16PSP1-S0001"}},
	}))
	in := treasury.Intake{Pool: e.pool}
	_, err = in.Take(ctx, buf.Bytes())
	require.NoError(t, err)
	_, err = in.Match(ctx, day, day)
	require.NoError(t, err)

	resp, body := e.do(t, http.MethodGet, "/v1/reconciliation/accounting.csv?date=2026-03-17", nil, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Disposition"), "contabilita-2026-03-17.csv")
	lines := strings.Split(strings.TrimSpace(string(body)), "\r\n")
	require.Len(t, lines, 2, string(body))
	require.Equal(t, "2026-03-17;PAGOPA;TARI;"+rt.Transfers[0].TransferCategory+";"+rt.Transfers[0].FiscalCodePA+";1;12345", lines[1])

	resp, body = e.do(t, http.MethodGet, "/v1/reconciliation/open.csv?date=2026-03-17", nil, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), ";FLOW_WITHOUT_CREDIT;flow:2026-03-16PSP2-S0001/1;0;;")
	require.NotContains(t, string(body), "RSSMRA85T10A562S")

	for _, q := range []string{"", "?date=17/03/2026"} {
		resp, body = e.do(t, http.MethodGet, "/v1/reconciliation/accounting.csv"+q, nil, e.authHeader())
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		require.Contains(t, string(body), `"field":"date"`)
	}
}
