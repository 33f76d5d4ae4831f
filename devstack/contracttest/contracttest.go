// Package contracttest checks HTTP traffic against OpenAPI documents with kin-openapi's
// validator. Serve and ServeSpecs put a simulator behind the official specs kept in
// devstack/specs (pagoPA's, and the citizen services': App IO, whose Swagger 2.0 is converted
// to OpenAPI 3, INAD, INI-PEC, SEND), for the contract
// tests of the clients: every request a client sends must match its operation in the spec, and
// so must every answer of the simulator; what breaks a spec is recorded as a mismatch and the
// request refused, so a test sees both. A Checker (checker.go) checks the requests a test sends
// to incasso's own API and the answers it gets against api/openapi.yaml.
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
	"regexp"
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

// Spec is one specification served under a base path.
type Spec struct {
	Dir, Name string // the file in devstack/specs, e.g. "citizen", "send-b2b-pa.yaml"
	BasePath  string // where its paths are mounted, e.g. "/inipec"; "" for the root
	// Auth checks a request's credentials against a security scheme of the spec.
	Auth openapi3filter.AuthenticationFunc
	// ExactBodies leaves request bodies as the client sent them: the validator sets no
	// defaults in them, so the simulator sees the exact bytes (for a client that archives them).
	ExactBodies bool
}

// Serve serves sim behind the specs of pagoPA named by base path (e.g. "/fdr-org/service/v1":
// "fdr-organization.json"); requests must carry key in the spec's Ocp-Apim-Subscription-Key
// header. The server stops when t ends.
func Serve(t *testing.T, sim http.Handler, key string, specsByBase map[string]string) *Server {
	t.Helper()
	var list []Spec
	for base, name := range specsByBase {
		list = append(list, Spec{Dir: "pagopa", Name: name, BasePath: base, Auth: APIKey("Ocp-Apim-Subscription-Key", key)})
	}
	return ServeSpecs(t, sim, nil, list...)
}

// ServeSpecs serves sim behind the specs. Paths under one of unchecked (pre-signed storage
// URLs, which no spec describes) reach sim as they are; any other path no spec covers is a
// mismatch. The server stops when t ends.
func ServeSpecs(t *testing.T, sim http.Handler, unchecked []string, list ...Spec) *Server {
	t.Helper()
	registerXML.Do(func() { openapi3filter.RegisterBodyDecoder("application/xml", openapi3filter.PlainBodyDecoder) })
	srv := httptest.NewUnstartedServer(nil)
	ct := &Server{URL: "http://" + srv.Listener.Addr().String()}
	type mounted struct {
		base   string
		router routers.Router
		opts   *openapi3filter.Options
	}
	var all []mounted
	for _, sp := range list {
		all = append(all, mounted{sp.BasePath, specRouter(t, sp.Dir, sp.Name, ct.URL+sp.BasePath),
			&openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: sp.Auth, SkipSettingDefaults: sp.ExactBodies}})
	}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range unchecked {
			if strings.HasPrefix(r.URL.Path, p) {
				sim.ServeHTTP(w, r)
				return
			}
		}
		var m *mounted
		for i := range all {
			if strings.HasPrefix(r.URL.Path, all[i].base+"/") {
				m = &all[i]
			}
		}
		if m == nil {
			ct.errorf("%s %s: no spec covers this path", r.Method, r.URL.Path)
			http.Error(w, "not in the specs", http.StatusNotFound)
			return
		}
		route, params, err := m.router.FindRoute(r)
		if err != nil {
			ct.errorf("%s %s: no operation of the spec: %v", r.Method, r.URL.Path, err)
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		// Errors name the route's pattern, not the path, which may hold a fiscal code.
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: m.opts}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			ct.errorf("%s %s: request breaks the spec: %v", r.Method, route.Path, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		err = openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: m.opts,
		})
		if err != nil {
			ct.errorf("%s %s: the simulator's answer %d breaks the spec: %v", r.Method, route.Path, rec.Code, err)
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

// specRouter loads a spec and routes it at url instead of its servers.
func specRouter(t *testing.T, dir, name, url string) routers.Router {
	t.Helper()
	doc := loadSpec(t, dir, name)
	doc.Servers = openapi3.Servers{{URL: url}}
	// The patterns are written for Java: \h (horizontal whitespace), which Go's regexp lacks,
	// becomes the space separators and the tab; a repetition bounded above the 1000 Go's
	// regexp accepts (`^.{0,4096}$`) becomes unbounded, the schema's maxLength still bounding it.
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, param := range op.Parameters {
				if s := param.Value.Schema; s != nil && s.Value != nil {
					s.Value.Pattern = strings.ReplaceAll(s.Value.Pattern, `\h`, `\p{Zs}\t`)
				}
			}
		}
	}
	seen := map[*openapi3.Schema]bool{}
	for _, ref := range doc.Components.Schemas {
		goPatterns(ref, seen)
	}
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err, name)
	return router
}

// loadSpec reads a spec of devstack/specs as OpenAPI 3, converting a Swagger 2.0 one.
func loadSpec(t *testing.T, dir, name string) *openapi3.T {
	t.Helper()
	data, err := specs.Read(dir, name)
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

// longRepeat is a bounded repetition above the 1000 Go's regexp accepts.
var longRepeat = regexp.MustCompile(`\{0,\d{4,}\}`)

// goPatterns makes the patterns of a schema and those it holds readable by Go's regexp.
func goPatterns(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	s.Pattern = longRepeat.ReplaceAllString(s.Pattern, "*")
	for _, p := range s.Properties {
		goPatterns(p, seen)
	}
	for _, refs := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, r := range refs {
			goPatterns(r, seen)
		}
	}
	goPatterns(s.Items, seen)
}

// APIKey accepts an apiKey scheme in the header name with one of keys, or with any key when
// there are none (the simulator then tells known keys from unknown ones): incasso never uses
// the bearer tokens or query keys some operations also accept.
func APIKey(name string, keys ...string) openapi3filter.AuthenticationFunc {
	return func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		s := in.SecurityScheme
		got := in.RequestValidationInput.Request.Header.Get(s.Name)
		if s.Type == "apiKey" && s.In == "header" && strings.EqualFold(s.Name, name) && got != "" && (len(keys) == 0 || slices.Contains(keys, got)) {
			return nil
		}
		return errors.New("no valid " + in.SecuritySchemeName)
	}
}

// Bearer accepts an http bearer scheme with token, or with any token when token is empty (the
// simulator then checks which).
func Bearer(token string) openapi3filter.AuthenticationFunc {
	return func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		got, ok := strings.CutPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ")
		if in.SecurityScheme.Type == "http" && ok && (token == "" || got == token) {
			return nil
		}
		return errors.New("no valid " + in.SecuritySchemeName)
	}
}
