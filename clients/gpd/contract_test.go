package gpd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"incasso/clients/gpd"
	"incasso/devstack/pagopasim"
	"incasso/devstack/specs"
)

// registerXML teaches kin-openapi to read application/xml, in which the receipts API answers
// a receipt (a string in the spec).
var registerXML sync.Once

// contract is the simulator behind a validator: every request must match the shared OpenAPI
// specs (the debt-positions spec under pagopasim.GPDBasePath, the receipts spec under
// pagopasim.ReceiptsBasePath), and so must every answer of the simulator.
type contract struct {
	url string
	mu  sync.Mutex
	bad []string // the mismatches seen
}

func (c *contract) errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bad = append(c.bad, fmt.Sprintf(format, args...))
}

func (c *contract) mismatches() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.bad...)
}

func serveContract(t *testing.T, p *pagopasim.PagoPA) *contract {
	t.Helper()
	registerXML.Do(func() { openapi3filter.RegisterBodyDecoder("application/xml", openapi3filter.PlainBodyDecoder) })
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	ct := &contract{url: url}
	routes := map[string]routers.Router{ // by base path
		pagopasim.GPDBasePath:      specRouter(t, "gpd-debt-positions-v1.json", url+pagopasim.GPDBasePath),
		pagopasim.ReceiptsBasePath: specRouter(t, "gpd-payments-receipts.json", url+pagopasim.ReceiptsBasePath),
	}
	sims := p.Handler()
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: apiKeyOnly}
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
		sims.ServeHTTP(rec, r)
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

// specRouter loads a shared spec and routes it at url instead of pagoPA's servers.
func specRouter(t *testing.T, name, url string) routers.Router {
	t.Helper()
	data, err := specs.Read("pagopa", name)
	require.NoError(t, err, name)
	doc, err := openapi3.NewLoader().LoadFromData(data)
	require.NoError(t, err, name)
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

// apiKeyOnly accepts the Ocp-Apim-Subscription-Key scheme with the test key: incasso never
// uses the bearer tokens some operations also accept.
func apiKeyOnly(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s.Type == "apiKey" && s.In == "header" && in.RequestValidationInput.Request.Header.Get(s.Name) == testKey {
		return nil
	}
	return errors.New("no valid " + in.SecuritySchemeName)
}

// TestContract runs every client operation that the shared specs describe against the
// simulator behind the spec validator, on success and on the usual failures.
func TestContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pagopasim.NewPagoPA(testKey, "http://127.0.0.1:1/unused", "node-key", testOrg, testOrg+"_01")
	ct := serveContract(t, p)
	url := ct.url
	noRetry := gpd.WithRetry(gpd.RetryPolicy{Attempts: 1})
	c := gpd.New(url+pagopasim.GPDBasePath, testKey, 5*time.Second, noRetry)
	receipts := gpd.NewReceipts(url+pagopasim.ReceiptsBasePath, testKey, 5*time.Second, noRetry)

	// Every optional field the client may send, two beneficiaries included.
	pos := samplePosition(t, "IUPD-CONTRACT", 9)
	pos.SwitchToExpired = true
	opt := &pos.PaymentOptions[0]
	transfers, err := gpd.SplitTransfers(opt.Amount, []gpd.Share{
		{BasisPoints: 9000, Category: "9/0101108TS/", IBAN: "IT60X0542811101000000123456", RemittanceInformation: "TARI 2026"},
		{BasisPoints: 1000, Category: "9/0601100TS/", IBAN: "IT02A0301503200000003517230", RemittanceInformation: "TEFA 2026",
			OrganizationFiscalCode: "80012345678", CompanyName: "Provincia di Esempio"},
	})
	require.NoError(t, err)
	opt.Transfers = transfers
	require.NoError(t, c.CreateAndPublish(ctx, testOrg, pos))
	require.ErrorIs(t, c.CreateAndPublish(ctx, testOrg, pos), gpd.ErrConflict)

	got, err := c.Get(ctx, testOrg, pos.IUPD)
	require.NoError(t, err, "%v", ct.mismatches())
	_, err = c.Get(ctx, testOrg, "IUPD-NONE")
	require.ErrorIs(t, err, gpd.ErrNotFound)

	// What Get returned goes back with Update: read-only fields are not sent.
	got.PaymentOptions[0].Description = "TARI 2026 rata unica, rettifica"
	require.NoError(t, c.Update(ctx, testOrg, got))
	require.ErrorIs(t, c.Update(ctx, testOrg, samplePosition(t, "IUPD-NONE", 10)), gpd.ErrNotFound)

	// A receipt, once paid; none before.
	_, err = receipts.GetReceipt(ctx, testOrg, opt.IUV)
	require.ErrorIs(t, err, gpd.ErrNotFound)
	_, err = p.Pay(ctx, pagopasim.Payment{NAV: got.PaymentOptions[0].NAV, Undelivered: true})
	require.NoError(t, err)
	xml, err := receipts.GetReceipt(ctx, testOrg, opt.IUV)
	require.NoError(t, err)
	require.Contains(t, string(xml), "<receiptId>")

	// Paid positions can be neither updated nor invalidated.
	require.ErrorIs(t, c.Update(ctx, testOrg, got), gpd.ErrConflict)
	require.ErrorIs(t, c.Invalidate(ctx, testOrg, pos.IUPD), gpd.ErrConflict)
	other := samplePosition(t, "IUPD-CONTRACT-2", 11)
	other.Email, other.PaymentOptions[0].Transfers[0].IBAN = "", "" // zero optional fields drop no required one
	require.NoError(t, c.CreateAndPublish(ctx, testOrg, other))
	require.NoError(t, c.Invalidate(ctx, testOrg, other.IUPD))
	require.ErrorIs(t, c.Invalidate(ctx, testOrg, "IUPD-NONE"), gpd.ErrNotFound)

	require.Empty(t, ct.mismatches())
}

// TestContractCatchesMismatches proves the validator is not vacuous.
func TestContractCatchesMismatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ct := serveContract(t, pagopasim.NewPagoPA(testKey, "http://127.0.0.1:1/unused", "node-key", testOrg, testOrg+"_01"))
	noRetry := gpd.WithRetry(gpd.RetryPolicy{Attempts: 1})

	bad := samplePosition(t, "IUPD-BAD", 12)
	bad.PaymentOptions[0].Transfers[0].IDTransfer = "7" // not in the enum
	require.ErrorIs(t, gpd.New(ct.url+pagopasim.GPDBasePath, testKey, 5*time.Second, noRetry).CreateAndPublish(ctx, testOrg, bad), gpd.ErrRejected)
	require.Len(t, ct.mismatches(), 1)
	require.Contains(t, ct.mismatches()[0], "idTransfer")

	_, err := gpd.New(ct.url+pagopasim.GPDBasePath, "wrong-key", 5*time.Second, noRetry).Get(ctx, testOrg, "X")
	require.ErrorIs(t, err, gpd.ErrRejected)
	require.Len(t, ct.mismatches(), 2, "the subscription key is checked")

	// MarkPaid is not in the shared spec.
	err = gpd.New(ct.url+pagopasim.GPDBasePath, testKey, 5*time.Second, noRetry).MarkPaid(ctx, testOrg, "301000000000000012", gpd.Paid{Date: time.Now()})
	require.Error(t, err)
	require.Len(t, ct.mismatches(), 3)
	require.Contains(t, ct.mismatches()[2], "no operation of the spec")
}
