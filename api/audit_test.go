package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/services/audit"
)

func (e *testEnv) auditPage(t *testing.T, key, query string) AuditPage {
	t.Helper()
	resp, body := e.do(t, http.MethodGet, "/v1/audit?"+query, nil, http.Header{"Authorization": {"Bearer " + key}})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var p AuditPage
	require.NoError(t, json.Unmarshal(body, &p))
	return p
}

// Every change and every read of personal data leaves an entry, refusals too; reads of other
// things do not; no fiscal code is ever written in the trail.
func TestAuditTrailRecordsRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	auditor := e.addClient(t, "revisore", apiclients.Grant{Role: access.Auditor})
	d := e.mustCreateDebt(t, validRequest("AUDIT-1"))

	resp, _ := e.getDebt(t, d.IUPD)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = e.do(t, http.MethodGet, "/v1/policies/TARI", nil, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = e.do(t, http.MethodPost, "/v1/communications/search", strings.NewReader(`{"debtor": "`+d.Debtor.FiscalCode+`"}`),
		http.Header{"Authorization": e.authHeader()["Authorization"], "Content-Type": {"application/json"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := e.do(t, http.MethodPost, "/v1/debts/"+d.IUPD+"/cancel", strings.NewReader(`{"reason":"iscrizione duplicata"}`),
		http.Header{"Authorization": {"Bearer " + auditor}, "Content-Type": {"application/json"}})
	requireProblem(t, resp, body, http.StatusForbidden)
	resp, body = e.do(t, http.MethodPost, "/v1/debts/"+d.IUPD+"/cancel", strings.NewReader(`{"reason":"iscrizione duplicata"}`), e.authHeader())
	cancelStatus := resp.StatusCode
	require.Less(t, cancelStatus, 300, string(body))

	page := e.auditPage(t, auditor, "")
	var got []string
	for _, en := range page.Entries {
		got = append(got, en.Action)
	}
	require.Equal(t, []string{
		"POST /v1/debts/:iupd/cancel", "POST /v1/debts/:iupd/cancel", "POST /v1/communications/search",
		"GET /v1/debts/:iupd", "POST /v1/debts",
	}, got, "newest first; the policy read is not personal data")

	cancel, refused, search, read, create := page.Entries[0], page.Entries[1], page.Entries[2], page.Entries[3], page.Entries[4]
	require.Equal(t, AuditEntry{
		ID: cancel.ID, At: defaultNow, Actor: "client:tributi", Role: access.Finance, Action: "POST /v1/debts/:iupd/cancel",
		Targets: map[string]string{"iupd": d.IUPD}, Reason: "iscrizione duplicata", IP: "127.0.0.1", Outcome: cancelStatus, Hash: cancel.Hash,
	}, cancel)
	require.Equal(t, []any{"client:revisore", access.Auditor, http.StatusForbidden}, []any{refused.Actor, refused.Role, refused.Outcome})
	require.Equal(t, map[string]string{"debtor": audit.Pseudonym(e.srv.auditKey, d.Debtor.FiscalCode)}, search.Targets)
	require.Equal(t, map[string]string{"iupd": d.IUPD}, read.Targets)
	require.Equal(t, map[string]string{"iupd": d.IUPD}, create.Targets, "from the body")
	require.Equal(t, http.StatusCreated, create.Outcome)

	var leaks int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		"SELECT count(*) FROM audit_log a WHERE a::text ILIKE '%' || $1 || '%' OR a::text ILIKE '%' || $2 || '%'",
		d.Debtor.FiscalCode, d.Debtor.FullName).Scan(&leaks))
	require.Zero(t, leaks, "no personal data in the trail")

	n, err := audit.Trail{Pool: e.pool}.Verify(context.Background())
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 6, "the reads of the trail are in it too")
}

func TestAuditQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.addClient(t, "admin", apiclients.Grant{Role: access.Admin})
	for _, iupd := range []string{"Q-1", "Q-2", "Q-3"} {
		e.mustCreateDebt(t, validRequest(iupd))
	}
	p := e.auditPage(t, admin, "action="+url.QueryEscape("POST /v1/debts")+"&limit=2")
	require.Len(t, p.Entries, 2)
	require.Equal(t, "Q-3", p.Entries[0].Targets["iupd"])
	require.NotEmpty(t, p.Next)
	resp, body := e.do(t, http.MethodGet, p.Next, nil, http.Header{"Authorization": {"Bearer " + admin}})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var next AuditPage
	require.NoError(t, json.Unmarshal(body, &next))
	require.Len(t, next.Entries, 1)
	require.Equal(t, "Q-1", next.Entries[0].Targets["iupd"])

	require.Len(t, e.auditPage(t, admin, "target=iupd:Q-2").Entries, 1)
	require.Len(t, e.auditPage(t, admin, "actor=client:tributi&from=2026-11-20&to=2026-11-20").Entries, 3)
	require.Empty(t, e.auditPage(t, admin, "actor=client:tributi&from=2026-11-21").Entries)

	resp, body = e.do(t, http.MethodGet, "/v1/audit?target=iupd&from=ieri&limit=0", nil, http.Header{"Authorization": {"Bearer " + admin}})
	pr := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	var fields []string
	for _, f := range pr.Errors {
		fields = append(fields, f.Field)
	}
	require.ElementsMatch(t, []string{"target", "from", "limit"}, fields)

	resp, body = e.do(t, http.MethodGet, "/v1/audit", nil, e.authHeader())
	requireProblem(t, resp, body, http.StatusForbidden)
}
