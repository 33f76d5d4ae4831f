package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"
)

// contractRouter finds the operation of api/openapi.yaml a request calls.
var contractRouter = sync.OnceValues(func() (routers.Router, error) {
	for _, mt := range []string{"text/csv", "application/csv", "application/vnd.ms-excel", "application/octet-stream", "text/plain", "application/jsonl", "application/pdf", "message/rfc822", "text/xml"} {
		openapi3filter.RegisterBodyDecoder(mt, openapi3filter.PlainBodyDecoder) // bytes, typed string
	}
	doc, err := OpenAPI()
	if err != nil {
		return nil, err
	}
	return gorillamux.NewRouter(doc)
})

// maxCheckedBody is the largest request body checked against the contract (a campaign file
// of 64 MB is sent, and answered, unchecked).
const maxCheckedBody = 8 << 20

// underContract reports whether a path is the contract's: the API, the Nodo's endpoint and
// the health checks (not the console, the codec server or the docs page).
func underContract(path string) bool {
	return path == "/v1" || strings.HasPrefix(path, "/v1/") || path == nodePath || path == "/healthz" || path == "/readyz"
}

// contractCall is a request sent by a test, kept to be checked with its answer.
type contractCall struct {
	req  *http.Request
	body []byte // nil when unknown (too large to keep)
}

// keepForContract reads the body of req so that it can be checked after it is sent, leaving
// req as it was to send (the same bytes, the same Content-Length).
func keepForContract(t *testing.T, req *http.Request) contractCall {
	t.Helper()
	call := contractCall{req: req}
	if req.Body == nil || req.Body == http.NoBody {
		call.body = []byte{}
		return call
	}
	head, err := io.ReadAll(io.LimitReader(req.Body, maxCheckedBody+1))
	require.NoError(t, err)
	if len(head) <= maxCheckedBody {
		call.body = head
		req.Body = io.NopCloser(bytes.NewReader(head))
	} else {
		req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(head), req.Body))
	}
	return call
}

// checkContract checks a request a test sent, and the answer it got, against api/openapi.yaml
// (contractMismatch).
func checkContract(t *testing.T, call contractCall, resp *http.Response, body []byte) {
	t.Helper()
	require.NoError(t, contractMismatch(call, resp.StatusCode, resp.Header, body))
}

// contractMismatch says how a request and its answer differ from api/openapi.yaml, or nil.
// A request the document accepts must get an answer it describes. A request it refuses (the
// tests send wrong ones on purpose) must be refused by the server too, with a 4xx it
// describes; one to a path or method it does not have, with a 401, 404, 405 or 429. The
// Nodo's endpoint answers a wrong envelope in the SOAP way, a 200 with a fault.
func contractMismatch(call contractCall, status int, header http.Header, body []byte) error {
	if !underContract(call.req.URL.Path) {
		return nil
	}
	where := call.req.Method + " " + call.req.URL.Path
	router, err := contractRouter()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(call.req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		switch status {
		case http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusTooManyRequests:
			return nil
		}
		return fmt.Errorf("%s is not in api/openapi.yaml, yet the server answered it %d: %s", where, status, body)
	} else if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}

	in := &openapi3filter.RequestValidationInput{
		Request: call.req.Clone(context.Background()), PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: keyPresent, MultiError: true},
	}
	if call.body == nil {
		in.Options.ExcludeRequestBody = true
	} else {
		in.Request.Body = io.NopCloser(bytes.NewReader(call.body))
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if reqErr != nil && (status < 400 || status > 499) && route.Path != nodePath {
		return fmt.Errorf("%s: api/openapi.yaml refuses the request (%v), the server answered %d: %s", where, reqErr, status, body)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s: the answer %d is not as api/openapi.yaml describes it: %w\n%s", where, status, err, body)
	}
	return nil
}

// keyPresent is the contract's authentication as a client sees it: the request carries the
// key where the scheme says. Whether the key is valid is the server's to say (a 401).
func keyPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	var ok bool
	switch in.SecuritySchemeName {
	case "bearer":
		ok = strings.HasPrefix(h.Get("Authorization"), "Bearer ")
	default: // apiKey, nodeKey: a header
		ok = h.Get(in.SecurityScheme.Name) != ""
	}
	if !ok {
		return fmt.Errorf("no credentials for %s", in.SecuritySchemeName)
	}
	return nil
}

// The check itself fails on what it must catch: an answer missing a required field, of a
// wrong type, of a status or content type the document does not list, a request it refuses
// answered as a success, and a path it does not have answered at all.
func TestContractCheckCatchesMismatches(t *testing.T) {
	t.Parallel()
	key := http.Header{"Authorization": {"Bearer k"}, "Content-Type": {"application/json"}}
	call := func(method, path, body string, h http.Header) contractCall {
		req, err := http.NewRequest(method, "http://incasso.test"+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header = h.Clone()
		return contractCall{req: req, body: []byte(body)}
	}
	json := http.Header{"Content-Type": {"application/json"}}
	problemJSON := http.Header{"Content-Type": {"application/problem+json"}}
	notFound := `{"type":"about:blank","title":"Not Found","status":404,"detail":"no debt with this iupd"}`
	page := `{"receipts":[]}`

	require.NoError(t, contractMismatch(call("GET", "/v1/debts/X-1", "", key), 404, problemJSON, []byte(notFound)))
	require.NoError(t, contractMismatch(call("GET", "/v1/receipts/flagged", "", key), 200, json, []byte(page)))
	require.NoError(t, contractMismatch(call("GET", "/v1/nothing", "", key), 404, problemJSON, []byte(notFound)))
	require.NoError(t, contractMismatch(call("GET", "/v1/receipts/flagged?limit=0", "", key), 422, problemJSON,
		[]byte(`{"type":"https://incasso.local/problems/validation","title":"Validation failed","status":422,"errors":[{"field":"limit","message":"m"}]}`)))

	for name, c := range map[string]struct {
		call   contractCall
		status int
		header http.Header
		body   string
	}{
		"a required field missing": {call("GET", "/v1/receipts/flagged", "", key), 200, json, `{}`},
		"a field of another type":  {call("GET", "/v1/receipts/flagged", "", key), 200, json, `{"receipts":[],"next":3}`},
		"a status not listed":      {call("GET", "/v1/debts/X-1", "", key), 418, problemJSON, notFound},
		"an error not a problem":   {call("GET", "/v1/debts/X-1", "", key), 404, json, `{"error":"no"}`},
		"a problem with more":      {call("GET", "/v1/debts/X-1", "", key), 404, problemJSON, `{"type":"about:blank","title":"t","status":404,"trace":"x"}`},
		"no key, yet a 200":        {call("GET", "/v1/receipts/flagged", "", json), 200, json, page},
		"a refused body, a 201":    {call("POST", "/v1/debts", `{"iupd":"X-1"}`, key), 201, json, `{}`},
		"a path not in it, a 200":  {call("GET", "/v1/nothing", "", key), 200, json, page},
	} {
		require.Error(t, contractMismatch(c.call, c.status, c.header, []byte(c.body)), name)
	}
}
