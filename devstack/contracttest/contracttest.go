// Package contracttest checks HTTP traffic against OpenAPI documents with kin-openapi's
// validator. Serve puts a simulator behind the specs kept in devstack/specs (pagoPA's, and the
// citizen channels' such as App IO, whose Swagger 2.0 is converted to OpenAPI 3), for the
// contract tests of the clients: every request a client sends must match its operation in the
// spec, and so must every answer of the simulator. A Checker (checker.go) checks the requests
// a test sends to incasso's own API and the answers it gets against api/openapi.yaml.
package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"incasso/devstack/specs"
)

// registerXML teaches kin-openapi to read application/xml, in which the receipts API answers
// a receipt (a string in the spec).
var registerXML sync.Once

// Server is the simulator behind the validator.
type Server struct {
	URL string // where it listens: the base paths follow
	mu  sync.Mutex
	bad []string // the mismatches seen
}

func (s *Server) errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bad = append(s.bad, fmt.Sprintf(format, args...))
}

// Mismatches returns what broke the specs so far, in order.
func (s *Server) Mismatches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bad...)
}

// Serve serves sim behind the specs of pagoPA named by base path (e.g. "/fdr-org/service/v1":
// "fdr-organization.json"); requests must carry key in the spec's Ocp-Apim-Subscription-Key
// header. The server stops when t ends.
func Serve(t *testing.T, sim http.Handler, key string, specsByBase map[string]string) *Server {
	t.Helper()
	return ServeWith(t, sim, ServeOptions{Keys: []string{key}, Specs: specsByBase})
}

// ServeOptions say what ServeWith validates against.
type ServeOptions struct {
	// Specs are the spec files by base path: a name alone is one of pagoPA's (in specs/pagopa),
	// "citizen/io-services.yaml" names another folder; JSON or YAML, OpenAPI 3 or Swagger 2.0.
	Specs map[string]string
	// Keys are the API keys accepted in the spec's Ocp-Apim-Subscription-Key header; empty
	// accepts any key that is there (the simulator then tells known keys from unknown ones).
	Keys []string
	// ExactBodies leaves request bodies as the client sent them: the validator sets no
	// defaults in them, so the simulator sees the exact bytes (for a client that archives them).
	ExactBodies bool
}

// ServeWith serves sim behind the specs of opts; the server stops when t ends.
func ServeWith(t *testing.T, sim http.Handler, o ServeOptions) *Server {
	t.Helper()
	specsByBase, key := o.Specs, o.Keys
	registerXML.Do(func() { openapi3filter.RegisterBodyDecoder("application/xml", openapi3filter.PlainBodyDecoder) })
	srv := httptest.NewUnstartedServer(nil)
	ct := &Server{URL: "http://" + srv.Listener.Addr().String()}
	routes := map[string]routers.Router{}
	for base, name := range specsByBase {
		routes[base] = specRouter(t, name, ct.URL+base)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: apiKeyOnly(key),
		SkipSettingDefaults: o.ExactBodies}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var router routers.Router
		for base, rt := range routes {
			if strings.HasPrefix(r.URL.Path, base+"/") {
				router = rt
			}
		}
		if router == nil {
			ct.errorf("%s %s: no spec covers this path", r.Method, r.URL.Path)
			http.Error(w, "not in the specs", http.StatusNotFound)
			return
		}
		route, params, err := router.FindRoute(r)
		if err != nil {
			ct.errorf("%s %s: no operation of the spec: %v", r.Method, r.URL.Path, err)
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			ct.errorf("%s %s: request breaks the spec: %v", r.Method, r.URL.Path, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		err = openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: opts,
		})
		if err != nil {
			ct.errorf("%s %s: the simulator's answer %d breaks the spec: %v", r.Method, r.URL.Path, rec.Code, err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return ct
}

// specRouter loads a shared spec and routes it at url instead of the provider's servers.
func specRouter(t *testing.T, name, url string) routers.Router {
	t.Helper()
	doc := loadSpec(t, name)
	doc.Servers = openapi3.Servers{{URL: url}}
	// The patterns of path parameters are written for Java: \h (horizontal whitespace), which
	// Go's regexp lacks, becomes the space separators and the tab.
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, param := range op.Parameters {
				if s := param.Value.Schema; s != nil && s.Value != nil {
					s.Value.Pattern = strings.ReplaceAll(s.Value.Pattern, `\h`, `\p{Zs}\t`)
				}
			}
		}
	}
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err, name)
	return router
}

// loadSpec reads a spec of devstack/specs as OpenAPI 3, converting a Swagger 2.0 one.
func loadSpec(t *testing.T, name string) *openapi3.T {
	t.Helper()
	if !strings.Contains(name, "/") {
		name = "pagopa/" + name
	}
	data, err := specs.Read(name)
	require.NoError(t, err, name)
	var version struct {
		Swagger string `json:"swagger"`
	}
	jsonData, err := yaml.YAMLToJSON(data) // JSON is YAML too
	require.NoError(t, err, name)
	require.NoError(t, json.Unmarshal(jsonData, &version), name)
	if version.Swagger == "" {
		doc, err := openapi3.NewLoader().LoadFromData(data)
		require.NoError(t, err, name)
		return doc
	}
	var doc2 openapi2.T
	require.NoError(t, doc2.UnmarshalJSON(jsonData), name)
	doc, err := openapi2conv.ToV3(&doc2)
	require.NoError(t, err, name)
	return doc
}

// apiKeyOnly accepts the Ocp-Apim-Subscription-Key scheme with one of keys (any key when there
// are none): incasso never uses the bearer tokens or query keys some operations also accept.
func apiKeyOnly(keys []string) openapi3filter.AuthenticationFunc {
	return func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		s := in.SecurityScheme
		got := in.RequestValidationInput.Request.Header.Get(s.Name)
		if s.Type == "apiKey" && s.In == "header" && got != "" && (len(keys) == 0 || slices.Contains(keys, got)) {
			return nil
		}
		return errors.New("no valid " + in.SecuritySchemeName)
	}
}
