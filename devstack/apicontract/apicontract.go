// Package apicontract puts a simulator behind the official OpenAPI specification of the
// service it simulates, for contract tests: every request a client makes must match the spec,
// and so must every answer of the simulator. What breaks it is recorded as a mismatch, and the
// request refused, so a test sees both.
package apicontract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Spec is one specification served under a base path of the test server.
type Spec struct {
	Data     []byte // the OpenAPI document, JSON or YAML
	BasePath string // where its paths are mounted, e.g. "/inad/rest/inad/v1/domiciliodigitale"
	// Auth checks a request's credentials against a security scheme of the spec; nil accepts any.
	Auth openapi3filter.AuthenticationFunc
}

// Server is the simulator behind the specs' validators.
type Server struct {
	URL string

	mu  sync.Mutex
	bad []string
}

// Serve starts a test server that passes requests to h through the validators of specs.
// Paths under one of unchecked (pre-signed storage URLs, which no spec describes) go to h as
// they are; any other path no spec covers is a mismatch.
func Serve(t testing.TB, h http.Handler, unchecked []string, specs ...Spec) *Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	s := &Server{URL: "http://" + srv.Listener.Addr().String()}
	type mounted struct {
		base   string
		router routers.Router
		opts   *openapi3filter.Options
	}
	var all []mounted
	for _, sp := range specs {
		doc, err := openapi3.NewLoader().LoadFromData(sp.Data)
		if err != nil {
			t.Fatalf("load spec for %s: %v", sp.BasePath, err)
		}
		doc.Servers = openapi3.Servers{{URL: s.URL + sp.BasePath}}
		for _, ref := range doc.Components.Schemas {
			goPatterns(ref, map[*openapi3.Schema]bool{})
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			t.Fatalf("route spec for %s: %v", sp.BasePath, err)
		}
		auth := sp.Auth
		if auth == nil {
			auth = func(context.Context, *openapi3filter.AuthenticationInput) error { return nil }
		}
		all = append(all, mounted{sp.BasePath, router, &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: auth}})
	}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range unchecked {
			if strings.HasPrefix(r.URL.Path, p) {
				h.ServeHTTP(w, r)
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
			s.errorf("%s %s: no spec covers this path", r.Method, r.URL.Path)
			http.Error(w, "not in the specs", http.StatusNotFound)
			return
		}
		route, params, err := m.router.FindRoute(r)
		if err != nil {
			s.errorf("%s %s: no operation of the spec: %v", r.Method, r.URL.Path, err)
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: m.opts}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			s.errorf("%s %s: request breaks the spec: %v", r.Method, route.Path, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		err = openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: m.opts,
		})
		if err != nil {
			s.errorf("%s %s: the simulator's answer %d breaks the spec: %v", r.Method, route.Path, rec.Code, err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return s
}

// longRepeat is a bounded repetition above the 1000 Go's regexp accepts, as in `^.{0,4096}$`.
var longRepeat = regexp.MustCompile(`\{0,\d{4,}\}`)

// goPatterns rewrites the patterns of a schema written for Java that Go's regexp refuses: a
// repetition bounded above 1000 becomes unbounded (the schema's maxLength still bounds it).
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
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, r := range list {
			goPatterns(r, seen)
		}
	}
	goPatterns(s.Items, seen)
}

func (s *Server) errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bad = append(s.bad, fmt.Sprintf(format, args...))
}

// Mismatches are the breaches of the specs seen so far.
func (s *Server) Mismatches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bad...)
}
