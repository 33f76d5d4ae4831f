package api

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/services/access"
	"incasso/services/apiclients"
)

// echoRoutes are the routes the real server registers, as "METHOD path".
func echoRoutes(t *testing.T, e *testEnv) []string {
	t.Helper()
	var routes []string
	for _, r := range e.srv.Handler().Routes() {
		routes = append(routes, r.Method+" "+r.Path)
	}
	sort.Strings(routes)
	return routes
}

// Every route Echo registers has a line in the rule table: a route added without one fails
// here (and is refused to every role in the meantime).
func TestEveryRouteHasARule(t *testing.T) {
	t.Parallel()
	opt, _ := withPayloadKeys(t) // the codec routes too
	e := newEnv(t, opt, func(s *Server) { s.Console = sessionConsole{http.NotFoundHandler()} })
	routes := echoRoutes(t, e)
	require.Contains(t, routes, "POST /codec/decode")
	require.Contains(t, routes, "GET /console")
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		_, ok := access.RuleOf(method, path)
		require.True(t, ok, "%s has no rule in services/access/rules.go", route)
	}
}

// Every role against every route of /v1 and the codec: what its rule allows is answered by
// the handler (whatever it says of the empty request), everything else is a 403 with nothing
// changed in the database. Open routes answer without a key.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	opt, _ := withPayloadKeys(t)
	e := newEnv(t, opt)
	d := e.mustCreateDebt(t, validRequest("MATRIX-1"))
	keys := map[access.Role]string{}
	for _, role := range access.Roles {
		keys[role] = e.addClient(t, "matrix-"+string(role), apiclients.Grant{Role: role})
	}
	before := dbFingerprint(t, e.pool)

	checked := 0
	for _, route := range echoRoutes(t, e) {
		method, path, _ := strings.Cut(route, " ")
		rule, _ := access.RuleOf(method, path)
		if rule.Open {
			continue
		}
		for _, role := range access.Roles {
			resp, body := e.do(t, method, samplePath(path, d.IUPD), strings.NewReader("{}"),
				http.Header{"Authorization": {"Bearer " + keys[role]}, "Content-Type": {"application/json"}})
			if rule.Allows(role) {
				require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusMethodNotAllowed}, resp.StatusCode,
					"%s as %s: %s", route, role, body)
				before = dbFingerprint(t, e.pool) // what it did, if anything, is its own test's
			} else {
				requireProblem(t, resp, body, http.StatusForbidden)
				require.Equal(t, before, dbFingerprint(t, e.pool), "%s as %s changed the database", route, role)
			}
			checked++
		}
	}
	require.Greater(t, checked, 30*len(access.Roles))
}

// The rules the comune asked for, spelled out: the matrix above checks that the server
// enforces the table; this checks the table says what the issue says.
func TestRulesSayWhatTheComuneAsked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		route string
		roles []access.Role
	}{
		{"POST /v1/communications/:id/receipts", []access.Role{access.PECGateway}},
		{"GET /v1/audit", []access.Role{access.Auditor, access.Admin}},
		{"POST /v1/debts", []access.Role{access.Finance, access.Integration}},
		{"GET /v1/debts/:iupd", []access.Role{access.Finance, access.Operator, access.Integration, access.Auditor}},
		{"POST /v1/debts/:iupd/cancel", []access.Role{access.Finance}},
		{"PUT /v1/policies/:service", []access.Role{access.Finance}},
		{"POST /v1/campaigns/:id/withdraw", []access.Role{access.Finance}},
		{"POST /v1/debts/:iupd/instalment-plan/suspend", []access.Role{access.Finance, access.Operator}},
		{"GET /v1/communications", []access.Role{access.Finance, access.Operator, access.Auditor}},
		{"POST /codec/decode", []access.Role{access.Finance, access.Operator, access.Auditor}},
	} {
		method, path, _ := strings.Cut(tc.route, " ")
		for _, role := range access.Roles {
			want := false
			for _, r := range tc.roles {
				want = want || r == role
			}
			require.Equal(t, want, access.Allowed(role, method, path), "%s as %s", tc.route, role)
		}
	}
	for _, role := range []access.Role{access.Auditor, access.Admin} { // read-only, or nothing about money
		for _, route := range []string{"POST /v1/debts", "POST /v1/campaigns", "POST /v1/enforcement/exports", "POST /v1/debts/:iupd/change"} {
			method, path, _ := strings.Cut(route, " ")
			require.False(t, access.Allowed(role, method, path), "%s as %s", route, role)
		}
	}
}

// An integration key scoped to MENSA: it creates MENSA debts only, and reads only its own; a
// debt of another service or another client answers exactly as a missing one.
func TestIntegrationScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mensa := e.addClient(t, "mensa", apiclients.Grant{Role: access.Integration, Services: []string{"MENSA"}})
	mensaAll := e.addClient(t, "mensa-all", apiclients.Grant{Role: access.Integration, Services: []string{"MENSA"}, AllDebts: true})
	auth := func(key string) http.Header {
		return http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}}
	}
	tari := e.mustCreateDebt(t, validRequest("SCOPE-TARI")) // the finance key's
	byFinance := validRequest("SCOPE-MENSA-F")
	byFinance.ServiceCode = "MENSA"
	e.mustCreateDebt(t, byFinance)

	own := validRequest("SCOPE-MENSA-1")
	own.ServiceCode = "MENSA"
	resp, body := e.do(t, http.MethodPost, "/v1/debts", strings.NewReader(mustJSON(t, own)), auth(mensa))
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	require.Equal(t, "client:mensa", e.debtRow(t, own.IUPD).CreatedBy)

	before := dbFingerprint(t, e.pool)
	other := validRequest("SCOPE-TARI-2")
	resp, body = e.do(t, http.MethodPost, "/v1/debts", strings.NewReader(mustJSON(t, other)), auth(mensa))
	p := requireProblem(t, resp, body, http.StatusForbidden)
	require.Contains(t, p.Detail, "serviceCode")
	// The same iupd and data as another client's debt: not shown, a conflict.
	resp, body = e.do(t, http.MethodPost, "/v1/debts", strings.NewReader(mustJSON(t, byFinance)), auth(mensa))
	requireProblem(t, resp, body, http.StatusConflict)
	require.NotContains(t, string(body), byFinance.Debtor.FiscalCode)
	require.Equal(t, before, dbFingerprint(t, e.pool), "nothing stored")

	_, missing := e.do(t, http.MethodGet, "/v1/debts/NO-SUCH-DEBT", nil, auth(mensa))
	for _, path := range []string{"/v1/debts/" + tari.IUPD, "/v1/debts/" + byFinance.IUPD, "/v1/debts/" + tari.IUPD + "/notice.pdf"} {
		resp, body := e.do(t, http.MethodGet, path, nil, auth(mensa))
		requireProblem(t, resp, body, http.StatusNotFound)
		require.JSONEq(t, string(missing), string(body), "%s answers as a missing debt", path)
	}
	resp, body = e.do(t, http.MethodGet, "/v1/debts/"+own.IUPD, nil, auth(mensa))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))

	// Granted all of MENSA: the finance office's MENSA debt too, never the TARI one.
	resp, body = e.do(t, http.MethodGet, "/v1/debts/"+byFinance.IUPD, nil, auth(mensaAll))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	resp, body = e.do(t, http.MethodGet, "/v1/debts/"+tari.IUPD, nil, auth(mensaAll))
	requireProblem(t, resp, body, http.StatusNotFound)
}

// Keys that must not get in: disabled, rotated past the grace period; the old key of a
// rotation works during the grace. None changes anything.
func TestKeysThatMustNotGetIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	q := dbgen.New(e.pool)
	disabled := e.addClient(t, "gone", apiclients.Grant{Role: access.Finance})
	require.NoError(t, apiclients.Disable(ctx, q, "gone"))
	require.ErrorIs(t, apiclients.Disable(ctx, q, "gone"), apiclients.ErrUnknown, "disabled already")

	old := e.addClient(t, "rotated", apiclients.Grant{Role: access.Finance})
	fresh, err := apiclients.NewKey()
	require.NoError(t, err)
	require.NoError(t, apiclients.Rotate(ctx, q, "rotated", fresh, defaultNow, time.Hour))

	post := func(key, iupd string) (*http.Response, []byte) {
		return e.do(t, http.MethodPost, "/v1/debts", strings.NewReader(mustJSON(t, validRequest(iupd))),
			http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}})
	}
	before := dbFingerprint(t, e.pool)
	resp, body := post(disabled, "IN-1")
	requireProblem(t, resp, body, http.StatusUnauthorized)
	e.setNow(defaultNow.Add(time.Hour + time.Second))
	resp, body = post(old, "IN-2")
	requireProblem(t, resp, body, http.StatusUnauthorized)
	require.Equal(t, before, dbFingerprint(t, e.pool))

	e.setNow(defaultNow.Add(59 * time.Minute))
	resp, body = post(old, "IN-3")
	require.Equal(t, http.StatusCreated, resp.StatusCode, "the old key during the grace: %s", body)
	resp, body = post(fresh, "IN-4")
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
