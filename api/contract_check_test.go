package api

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/devstack/contracttest"
)

// underContract reports whether a path is the contract's: the API, the Nodo's endpoint and
// the health checks (not the console, the codec server or the docs page).
func underContract(path string) bool {
	return path == "/v1" || strings.HasPrefix(path, "/v1/") || path == nodePath || path == "/healthz" || path == "/readyz"
}

// contract checks the tests' requests and answers against api/openapi.yaml; the Nodo's
// endpoint answers a wrong envelope in the SOAP way, a 200 with a fault.
var contract = sync.OnceValues(func() (*contracttest.Checker, error) {
	doc, err := OpenAPI()
	if err != nil {
		return nil, err
	}
	return contracttest.New(doc, contracttest.Options{Covers: underContract, FaultsInBand: []string{nodePath}})
})

// checkContract checks a request a test sent, and the answer it got, against api/openapi.yaml.
func checkContract(t *testing.T, call contracttest.Call, resp *http.Response, body []byte) {
	t.Helper()
	c, err := contract()
	require.NoError(t, err)
	require.NoError(t, c.Mismatch(call, resp.StatusCode, resp.Header, body))
}

// The check itself fails on what it must catch: an answer missing a required field, of a
// wrong type, of a status or content type the document does not list, a request it refuses
// answered as a success, and a path it does not have answered at all.
func TestContractCheckCatchesMismatches(t *testing.T) {
	t.Parallel()
	key := http.Header{"Authorization": {"Bearer k"}, "Content-Type": {"application/json"}}
	c, err := contract()
	require.NoError(t, err)
	call := func(method, path, body string, h http.Header) contracttest.Call {
		req, err := http.NewRequest(method, "http://incasso.test"+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header = h.Clone()
		return contracttest.Call{Request: req, Body: []byte(body)}
	}
	plainJSON := http.Header{"Content-Type": {"application/json"}}
	problemJSON := http.Header{"Content-Type": {"application/problem+json"}}
	notFound := `{"type":"about:blank","title":"Not Found","status":404,"detail":"no debt with this iupd"}`
	page := `{"receipts":[]}`

	require.NoError(t, c.Mismatch(call("GET", "/v1/debts/X-1", "", key), 404, problemJSON, []byte(notFound)))
	require.NoError(t, c.Mismatch(call("GET", "/v1/receipts/flagged", "", key), 200, plainJSON, []byte(page)))
	require.NoError(t, c.Mismatch(call("GET", "/v1/nothing", "", key), 404, problemJSON, []byte(notFound)))
	require.NoError(t, c.Mismatch(call("GET", "/v1/receipts/flagged?limit=0", "", key), 422, problemJSON,
		[]byte(`{"type":"https://incasso.local/problems/validation","title":"Validation failed","status":422,"errors":[{"field":"limit","message":"m"}]}`)))

	for name, tc := range map[string]struct {
		call   contracttest.Call
		status int
		header http.Header
		body   string
	}{
		"a required field missing": {call("GET", "/v1/receipts/flagged", "", key), 200, plainJSON, `{}`},
		"a field of another type":  {call("GET", "/v1/receipts/flagged", "", key), 200, plainJSON, `{"receipts":[],"next":3}`},
		"a status not listed":      {call("GET", "/v1/debts/X-1", "", key), 418, problemJSON, notFound},
		"an error not a problem":   {call("GET", "/v1/debts/X-1", "", key), 404, plainJSON, `{"error":"no"}`},
		"a problem with more":      {call("GET", "/v1/debts/X-1", "", key), 404, problemJSON, `{"type":"about:blank","title":"t","status":404,"trace":"x"}`},
		"no key, yet a 200":        {call("GET", "/v1/receipts/flagged", "", plainJSON), 200, plainJSON, page},
		"a refused body, a 201":    {call("POST", "/v1/debts", `{"iupd":"X-1"}`, key), 201, plainJSON, `{}`},
		"a path not in it, a 200":  {call("GET", "/v1/nothing", "", key), 200, plainJSON, page},
	} {
		require.Error(t, c.Mismatch(tc.call, tc.status, tc.header, []byte(tc.body)), name)
	}
}
