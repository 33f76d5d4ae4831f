package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/domain/pagopa"
	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/services/audit"
	"incasso/services/search"
)

// audited returns the trail's entries, newest first, as an auditor reads them.
func (e *testEnv) audited(t *testing.T) []AuditEntry {
	t.Helper()
	return e.auditPage(t, e.addClient(t, "revisore", apiclients.Grant{Role: access.Auditor}), "").Entries
}

func TestSearchDebtsOverHTTP(t *testing.T) {
	e := newEnv(t)
	first := e.mustCreateDebt(t, validRequest("TARI-2026-1"))
	other := validRequest("IMU-2026-1")
	other.ServiceCode, other.AmountCents = "IMU", 50000
	other.Debtor.FiscalCode = "VRDLGU70A01H501O"
	e.mustCreateDebt(t, other)
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(first, "R-1")}))

	resp, body := e.get(t, "/v1/debts?service=TARI&status=CREATED,PAID&sort=-amount")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var page search.Page
	require.NoError(t, json.Unmarshal(body, &page))
	require.Len(t, page.Debts, 1)
	require.Equal(t, "TARI-2026-1", page.Debts[0].IUPD)
	require.Equal(t, search.Totals{Debts: 1, IssuedCents: 12345, CollectedCents: 12345}, page.Totals)

	// A fiscal code never travels in a URL: the GET refuses it, the POST takes it.
	resp, body = e.get(t, "/v1/debts?debtor=RSSMRA85T10A562S")
	p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	require.Equal(t, "debtor", p.Errors[0].Field)
	require.Contains(t, p.Errors[0].Message, "POST")
	resp, body = e.postJSON(t, "/v1/debts/search", `{"debtor":"VRDLGU70A01H501O"}`, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, &page))
	require.Len(t, page.Debts, 1)
	require.Equal(t, "IMU-2026-1", page.Debts[0].IUPD)

	resp, body = e.get(t, "/v1/debts?dueFrom=2026-13-01&limit=0&amountMaxCents=x")
	p = requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	var fields []string
	for _, fe := range p.Errors {
		fields = append(fields, fe.Field)
	}
	require.ElementsMatch(t, []string{"dueFrom", "limit", "amountMaxCents"}, fields)
	resp, body = e.postJSON(t, "/v1/debts/search", `{"status":"PAID"}`, e.authHeader())
	requireProblem(t, resp, body, http.StatusBadRequest)

	var searches []AuditEntry
	for _, en := range e.audited(t) {
		if en.Action == "GET /v1/debts" || en.Action == "POST /v1/debts/search" {
			searches = append(searches, en)
		}
	}
	require.Len(t, searches, 5, "every search is audited, refused ones too")
	require.Equal(t, "POST /v1/debts/search", searches[2].Action)
	require.Equal(t, map[string]string{"debtor": audit.Pseudonym(e.srv.auditKey, "VRDLGU70A01H501O"), "debts": "1"}, searches[2].Targets)
	require.Equal(t, http.StatusUnprocessableEntity, searches[3].Outcome)
}

func TestExportDebtsOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("TARI-2026-1"))
	e.mustCreateDebt(t, validRequest("TARI-2026-2"))

	resp, body := e.get(t, "/v1/exports/debts.csv?service=TARI")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Disposition"), `attachment; filename="posizioni-`, resp.Header)
	lines := strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n")
	require.Len(t, lines, 3)
	require.True(t, strings.HasPrefix(lines[0], "\uFEFFiupd;"))
	require.Contains(t, lines[1], ";123,45;0,00;123,45;31/12/2026;")

	resp, body = e.postJSON(t, "/v1/exports/debts.jsonl", `{"debtor":"RSSMRA85T10A562S","iupdPrefix":"TARI-2026-2"}`, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, 1, bytes.Count(body, []byte("\n")))
	require.Contains(t, string(body), `"iupd":"TARI-2026-2"`)

	resp, body = e.get(t, "/v1/exports/debts.jsonl?sort=name")
	requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	entries := e.audited(t)
	require.Equal(t, []any{"GET /v1/exports/debts.jsonl", http.StatusUnprocessableEntity}, []any{entries[0].Action, entries[0].Outcome})
	require.Equal(t, "POST /v1/exports/debts.jsonl", entries[1].Action)
	require.Equal(t, map[string]string{"debtor": audit.Pseudonym(e.srv.auditKey, "RSSMRA85T10A562S")}, entries[1].Targets)
	require.Equal(t, "GET /v1/exports/debts.csv", entries[2].Action)
}

func TestDebtorFile(t *testing.T) {
	e := newEnv(t)
	paid := e.mustCreateDebt(t, validRequest("TARI-2025-1"))
	require.Equal(t, pagopa.OK(), e.sendRT(t, pagopa.SendRTV2Request{Header: e.header(), Receipt: e.receiptFor(paid, "R-1")}))
	open := validRequest("IMU-2026-1")
	open.ServiceCode, open.AmountCents, open.DueDate = "IMU", 50000, "2027-06-16"
	open.Debtor.Email = "nuova@example.it"
	e.mustCreateDebt(t, open)
	stranger := validRequest("TARI-2026-9")
	stranger.Debtor.FiscalCode = "VRDLGU70A01H501O"
	e.mustCreateDebt(t, stranger)

	// A plan on the open debt: its mandate's IBAN comes back masked.
	ctx := context.Background()
	id := e.debtRow(t, "IMU-2026-1").ID
	for _, stmt := range []string{
		`INSERT INTO sdd_mandates (debt_id, reference, debtor_name, iban, signed_on) VALUES ($1, 'UMR1', 'Mario Rossi', 'IT40S0542811101000000654321', '2026-11-01')`,
		`INSERT INTO instalment_plans (debt_id, mandate_id, instalments, request_sha256) VALUES ($1, currval('sdd_mandates_id_seq'), 2, '\x00')`,
		`INSERT INTO instalments (plan_id, seq, amount_cents, due_date, nav)
		 SELECT currval('instalment_plans_id_seq'), s, 25000, '2027-01-31'::date + s * 28, '3' || lpad((900 + s + $1)::text, 17, '0')
		 FROM generate_series(1, 2) s`,
	} {
		_, err := e.pool.Exec(ctx, stmt, id)
		require.NoError(t, err)
	}

	resp, body := e.postJSON(t, "/v1/debtors/file", `{"fiscalCode":"rssmra85t10a562s"}`, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.NotContains(t, string(body), "IT40S0542811101000000654321")
	var file DebtorFile
	require.NoError(t, json.Unmarshal(body, &file))
	require.Equal(t, "nuova@example.it", file.Debtor.Email, "the latest position's contacts")
	require.Len(t, file.Positions, 2)
	require.Equal(t, "IMU-2026-1", file.Positions[0].IUPD, "latest due first")
	require.NotNil(t, file.Positions[0].InstalmentPlan)
	require.Len(t, file.Positions[0].InstalmentPlan.Instalments, 2)
	require.Contains(t, file.Positions[0].InstalmentPlan.Mandate.IBAN, "4 321")
	require.Nil(t, file.Positions[1].InstalmentPlan)
	require.Len(t, file.Positions[1].Receipts, 1)
	require.Equal(t, search.Totals{Debts: 2, IssuedCents: 62345, CollectedCents: 12345, OutstandingCents: 50000}, file.Balance)
	entries := e.audited(t)
	require.Equal(t, "POST /v1/debtors/file", entries[0].Action)
	require.Equal(t, map[string]string{"debtor": audit.Pseudonym(e.srv.auditKey, "RSSMRA85T10A562S")}, entries[0].Targets)

	resp, body = e.postJSON(t, "/v1/debtors/file", `{"fiscalCode":"RSSMRA85T10A562X"}`, e.authHeader())
	p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	require.Equal(t, "fiscalCode", p.Errors[0].Field)
	resp, body = e.postJSON(t, "/v1/debtors/file", `{"fiscalCode":"BNCGNN80A01F205W"}`, e.authHeader())
	requireProblem(t, resp, body, http.StatusNotFound)
}
