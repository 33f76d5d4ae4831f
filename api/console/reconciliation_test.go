package console

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
	"incasso/domain/sepa/camt053"
	"incasso/services/access"
	"incasso/services/treasury"
)

// The page of a day: a debt's receipt reported by a flow and credited is reconciled under
// its service; a flow without credit is listed as an open difference with its code.
func TestReconciliationPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := seedCampaign(t, e, "TARI 2026", 1, 1)
	var debtID int64
	var service string
	require.NoError(t, e.pool.QueryRow(ctx, "SELECT id, service_code FROM debt_positions WHERE iupd = $1", fmt.Sprintf("C%d-1", id)).Scan(&debtID, &service))
	day := date.Date{Year: 2026, Month: time.March, Day: 17}
	var rid, fid, lid int64
	require.NoError(t, e.pool.QueryRow(ctx, `INSERT INTO receipts (receipt_id, debt_id, nav, amount_cents, outcome, psp_id, psp_name, channel_id, raw_xml, paid_at)
		VALUES ('rcpt-1', $1, '301', 12345, 'OK', 'PSP1', 'PSP', 'CH', '<x/>', $2) RETURNING id`, debtID, day.EndIn(date.Rome).Add(-time.Hour)).Scan(&rid))
	require.NoError(t, e.pool.QueryRow(ctx, `INSERT INTO fdr_flows (flow_id, revision, psp_id, ec_fiscal_code, flow_date, payments, sum_cents, status, raw_json, raw_sha256)
		VALUES ('F-1', 1, 'PSP1', '0', $1, 1, 12345, 'MATCHED', '{}', repeat('0', 64)) RETURNING id`, day.Time()).Scan(&fid))
	require.NoError(t, e.pool.QueryRow(ctx, `INSERT INTO fdr_flow_lines (flow_id, line_index, iuv, iur, transfer_index, amount_cents, pay_status, outcome_code, receipt_id, match)
		VALUES ($1, 1, '01', 'rcpt-1', 1, 12345, 'EXECUTED', 0, $2, 'MATCHED') RETURNING id`, fid, rid).Scan(&lid))
	_, err := e.pool.Exec(ctx, `UPDATE receipt_reconciliation SET status = 'MATCHED_FLOW', flow_line_id = $2 WHERE receipt_id = $1`, rid, lid)
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `INSERT INTO fdr_flows (flow_id, revision, psp_id, ec_fiscal_code, flow_date, payments, sum_cents, status, raw_json, raw_sha256)
		VALUES ('F-2', 1, 'PSP2', '0', $1, 0, 700, 'MATCHED', '{}', repeat('0', 64))`, day.Time())
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, camt053.Write(&buf, camt053.Statement{MsgID: "STM-1", Created: day.EndIn(date.Rome), ID: "STM-1",
		IBAN: "IT60X0542811101000000123456", Date: day, Closing: 12345, Entries: []camt053.Entry{{Ref: "BK1", Kind: camt053.FlowCredit,
			Amount: 12345, Credit: true, BookingDate: day, Remittance: camt053.FlowPrefix + "F-1", FlowID: "F-1"}}}))
	in := treasury.Intake{Pool: e.pool}
	_, err = in.Take(ctx, buf.Bytes())
	require.NoError(t, err)
	_, err = in.Match(ctx, day, day)
	require.NoError(t, err)

	e.addUser(t, "anna", access.Auditor)
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.loginUser(t, "anna", password).status)
	p := b.get(t, "/console/riconciliazione?giorno=2026-03-17")
	require.Equal(t, http.StatusOK, p.status, p.body)
	for _, want := range []string{"Riconciliazione del 17/03/2026", "<td>" + service + "</td>", "123,45", "FLOW_CREDIT", "MATCHED",
		"<code>FLOW_WITHOUT_CREDIT</code>", "flow:F-2/1", "7,00", `href="/v1/reconciliation/accounting.csv?date=2026-03-17"`} {
		require.Contains(t, p.body, want)
	}
	require.Contains(t, b.get(t, "/console/riconciliazione?giorno=2026-03-18").body, "Nessuna ricevuta pagata in questo giorno.")
	require.Equal(t, http.StatusBadRequest, b.get(t, "/console/riconciliazione?giorno=17/03/2026").status)

	// The auditor may not resolve; a finance user resolves with a reason, which is required.
	var diff int64
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT id FROM reconciliation_differences WHERE reason = 'FLOW_WITHOUT_CREDIT'`).Scan(&diff))
	resolve := fmt.Sprintf("/console/riconciliazione/differenze/%d", diff)
	form := url.Values{"csrf": {b.csrf(t)}, "giorno": {"2026-03-17"}, "resolution": {"WRITTEN_OFF"}, "reason": {"PSP chiuso"}}
	require.Equal(t, http.StatusForbidden, b.post(t, resolve, form).status)
	e.addUser(t, "franco", access.Finance)
	f := e.browser(t)
	require.Equal(t, http.StatusSeeOther, f.loginUser(t, "franco", password).status)
	form.Set("csrf", f.csrf(t))
	form.Set("reason", " ")
	p = f.post(t, resolve, form)
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, `id="errore"`)
	form.Set("reason", "PSP chiuso")
	p = f.post(t, resolve, form)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, "/console/riconciliazione?esito=risolta&giorno=2026-03-17", p.header.Get("Location"))
	var resolution, by string
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT resolution, resolved_by FROM reconciliation_differences WHERE id = $1`, diff).Scan(&resolution, &by))
	require.Equal(t, []string{"WRITTEN_OFF", "user:franco"}, []string{resolution, by})
	p = f.get(t, "/console/riconciliazione?giorno=2026-03-17&esito=risolta")
	require.Contains(t, p.body, "Differenza risolta.")
	require.Contains(t, p.body, "Nessuna differenza aperta.")
}
