// This file checks an API's own traffic (a Checker, a Transport): every test of incasso's
// API is also a test of its contract, api/openapi.yaml. A request the document refuses must
// be refused by the server too; a request it accepts must get an answer it describes.

package contracttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// MaxBody is the largest request body checked: a larger one (a 64 MB campaign file) is sent
// as it is, and only its answer checked.
const MaxBody = 8 << 20

// plainTypes are the media types read as bytes, to check against a schema of type string.
var plainTypes = []string{"text/csv", "application/csv", "application/vnd.ms-excel", "application/octet-stream",
	"text/plain", "application/jsonl", "application/pdf", "message/rfc822", "text/xml"}

var registerPlain sync.Once

// Checker checks requests and their answers against one document.
type Checker struct {
	router routers.Router
	opts   Options
}

// Options say which paths the document covers and how they answer.
type Options struct {
	// Covers reports whether the document describes a path; the others are not checked.
	Covers func(path string) bool
	// FaultsInBand are paths that answer a request the document refuses in their body, with
	// a success status (a SOAP endpoint's faults).
	FaultsInBand []string
}

// New returns a Checker of doc.
func New(doc *openapi3.T, opts Options) (*Checker, error) {
	registerPlain.Do(func() {
		for _, mt := range plainTypes {
			openapi3filter.RegisterBodyDecoder(mt, openapi3filter.PlainBodyDecoder)
		}
	})
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the document: %w", err)
	}
	return &Checker{router: router, opts: opts}, nil
}

// Call is a request that was sent, kept to be checked with its answer.
type Call struct {
	Request *http.Request
	Body    []byte // nil when too large to keep
}

// Keep reads the body of req so that it can be checked after it is sent, leaving req as it
// was to send: the same bytes, the same Content-Length.
func Keep(req *http.Request) (Call, error) {
	call := Call{Request: req, Body: []byte{}}
	if req.Body == nil || req.Body == http.NoBody {
		return call, nil
	}
	head, err := io.ReadAll(io.LimitReader(req.Body, MaxBody+1))
	if err != nil {
		return call, fmt.Errorf("read the request body: %w", err)
	}
	if len(head) <= MaxBody {
		call.Body = head
		req.Body = io.NopCloser(bytes.NewReader(head))
	} else {
		call.Body = nil
		req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(head), req.Body))
	}
	return call, nil
}

// Mismatch says how a request and its answer differ from the document, or nil. A request to a
// path or method the document does not have must get a 401, 404, 405 or 429.
func (c *Checker) Mismatch(call Call, status int, header http.Header, body []byte) error {
	if c.opts.Covers != nil && !c.opts.Covers(call.Request.URL.Path) {
		return nil
	}
	where := call.Request.Method + " " + call.Request.URL.Path
	route, params, err := c.router.FindRoute(call.Request)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		switch status {
		case http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusTooManyRequests:
			return nil
		}
		return fmt.Errorf("%s is not in the document, yet the server answered it %d: %s", where, status, body)
	} else if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}

	in := &openapi3filter.RequestValidationInput{
		Request: call.Request.Clone(context.Background()), PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: credentialsPresent, MultiError: true},
	}
	if call.Body == nil {
		in.Options.ExcludeRequestBody = true
	} else {
		in.Request.Body = io.NopCloser(bytes.NewReader(call.Body))
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if reqErr != nil && (status < 400 || status > 499) && !slices.Contains(c.opts.FaultsInBand, route.Path) {
		return fmt.Errorf("%s: the document refuses the request (%v), the server answered %d: %s", where, reqErr, status, body)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s: the answer %d is not as the document describes it: %w\n%s", where, status, err, body)
	}
	return nil
}

// credentialsPresent is authentication as a client sees it: the request carries credentials
// where the scheme says. Whether they are valid is the server's to say (a 401).
func credentialsPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	var ok bool
	switch s := in.SecurityScheme; {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		ok = strings.HasPrefix(h.Get("Authorization"), "Bearer ")
	case s.Type == "apiKey" && s.In == "header":
		ok = h.Get(s.Name) != ""
	default:
		return fmt.Errorf("security scheme %s: only bearer and header keys are checked", in.SecuritySchemeName)
	}
	if !ok {
		return fmt.Errorf("no credentials for %s", in.SecuritySchemeName)
	}
	return nil
}

// Transport is an http.RoundTripper that checks every request and answer through Base (nil:
// http.DefaultTransport) and keeps the mismatches, for a client a test does not drive itself.
type Transport struct {
	Checker *Checker
	Base    http.RoundTripper

	mu         sync.Mutex
	mismatches []error
}

// RoundTrip sends req and checks it with its answer, whose body it reads and hands on.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	call, err := Keep(req)
	if err != nil {
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := t.Checker.Mismatch(call, resp.StatusCode, resp.Header, body); err != nil {
		t.mu.Lock()
		t.mismatches = append(t.mismatches, err)
		t.mu.Unlock()
	}
	return resp, nil
}

// Mismatches are those seen so far.
func (t *Transport) Mismatches() []error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.mismatches)
}
