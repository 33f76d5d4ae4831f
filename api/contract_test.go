package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// documented reports whether a route Echo registers belongs in api/openapi.yaml: the REST API
// under /v1, the Nodo's SOAP endpoint and the health checks. Not the console (its own HTML
// pages), the codec server (the Temporal UI's), the docs page or Echo's not-found routes.
func documented(method, path string) bool {
	if strings.HasPrefix(method, "echo_") {
		return false
	}
	return strings.HasPrefix(path, "/v1/") || path == nodePath || path == "/healthz" || path == "/readyz"
}

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// openAPIPathOf writes an Echo pattern as an OpenAPI path: /v1/debts/:iupd is /v1/debts/{iupd}.
func openAPIPathOf(echoPath string) string {
	return echoParam.ReplaceAllString(echoPath, "{$1}")
}

// operations lists the document's operations as "METHOD path".
func operations(doc *openapi3.T) []string {
	var ops []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	sort.Strings(ops)
	return ops
}

// The document describes exactly the routes Echo registers: a route added without its
// description, or a description left of a route removed, fails here.
func TestContractHasEveryRoute(t *testing.T) {
	t.Parallel()
	opt, _ := withPayloadKeys(t) // the codec routes too, which stay out
	e := newEnv(t, opt, func(s *Server) { s.Console = sessionConsole{http.NotFoundHandler()} })
	var registered []string
	for _, route := range echoRoutes(t, e) {
		method, path, _ := strings.Cut(route, " ")
		if documented(method, path) {
			registered = append(registered, method+" "+openAPIPathOf(path))
		}
	}
	require.Contains(t, registered, "GET /v1/debts/{iupd}")
	require.Contains(t, registered, "POST "+nodePath)

	doc, err := OpenAPI()
	require.NoError(t, err)
	require.Equal(t, "3.1.0", doc.OpenAPI)
	require.ElementsMatch(t, registered, operations(doc),
		"api/openapi.yaml and the routes of api/server.go differ (the lists above: registered, documented)")
}

// Every operation has an id (the generated client's method names), a summary, a tag and,
// when it takes a body, an example of it; every error of /v1 is a problem+json, every /v1
// operation but the contract itself says what an unauthenticated call gets, every one what
// the rate limit answers, and every POST and PUT what a body over the limit gets.
func TestContractIsComplete(t *testing.T) {
	t.Parallel()
	doc, err := OpenAPI()
	require.NoError(t, err)
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			require.NotEmpty(t, op.OperationID, where)
			require.NotContains(t, ids, op.OperationID, "%s: operationId also of %s", where, ids[op.OperationID])
			ids[op.OperationID] = where
			require.NotEmpty(t, op.Summary, where)
			require.NotEmpty(t, op.Tags, where)
			if op.RequestBody != nil {
				for mt, media := range op.RequestBody.Value.Content {
					if mt == "multipart/form-data" { // the same file as text/csv's example
						continue
					}
					require.True(t, media.Example != nil || len(media.Examples) > 0, "%s: no example of the %s body", where, mt)
				}
			}
			for code, resp := range op.Responses.Map() {
				if code[0] != '4' && code[0] != '5' || !strings.HasPrefix(path, "/v1/") {
					continue // the Nodo's faults are SOAP answers, /readyz's 503 its checks
				}
				_, ok := resp.Value.Content["application/problem+json"]
				require.True(t, ok, "%s: the %s answer is not a problem+json", where, code)
			}
			if strings.HasPrefix(path, "/v1/") && path != openAPIPath {
				require.NotNil(t, op.Responses.Value("401"), "%s: no 401", where)
				require.NotNil(t, op.Responses.Value("403"), "%s: no 403", where)
			}
			require.NotNil(t, op.Responses.Value("429"), "%s: no 429", where) // limitIP: every route
			if method == http.MethodPost || method == http.MethodPut {        // limitBody: a body, wanted or not
				require.NotNil(t, op.Responses.Value("413"), "%s: no 413", where)
			}
		}
	}
}

// The contract is served without a key at /v1/openapi.json, the same document as the file,
// and /docs renders it with the vendored viewer, loading nothing from elsewhere.
func TestContractServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, body := e.do(t, http.MethodGet, openAPIPath, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	served, err := openapi3.NewLoader().LoadFromData(body)
	require.NoError(t, err)
	doc, err := OpenAPI()
	require.NoError(t, err)
	require.Equal(t, operations(doc), operations(served))
	var raw map[string]any
	require.NoError(t, json.Unmarshal(body, &raw))
	require.Equal(t, "3.1.0", raw["openapi"])

	resp, page := e.do(t, http.MethodGet, docsPath, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	require.Contains(t, string(page), `spec-url="`+openAPIPath+`"`)
	require.Contains(t, string(page), `<script src="`+redocPath+`"></script>`)
	require.NotRegexp(t, `(?i)(src|href)="(https?:)?//`, string(page), "the page loads something from elsewhere")
	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self'")
	require.Contains(t, csp, "default-src 'none'")

	resp, js := e.do(t, http.MethodGet, redocPath, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "javascript")
	require.Greater(t, len(js), 500_000)
	require.Contains(t, string(js[:200]), "redoc.standalone.js.LICENSE.txt")
}
