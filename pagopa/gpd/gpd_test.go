package gpd_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/internal/specs"
	"incasso/pagopa"
	"incasso/pagopa/gpd"
	"incasso/sim"
)

const (
	testKey = "test-subscription-key"
	testOrg = "00000000000"
)

// startSim serves the simulated pagoPA over real HTTP and returns a client of its GPD.
func startSim(t *testing.T, key string) (*gpd.Client, *sim.PagoPA) {
	t.Helper()
	p := sim.NewPagoPA(testKey, "http://127.0.0.1:1/unused", "node-key", testOrg, testOrg+"_01")
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	return gpd.New(srv.URL+sim.GPDBasePath, key, 5*time.Second), p
}

// samplePosition is a valid position whose IUV comes from base, so tests do not collide.
func samplePosition(t *testing.T, iupd string, base int64) gpd.Position {
	t.Helper()
	nav, err := pagopa.NewNAV(1, base)
	require.NoError(t, err)
	rome, err := time.LoadLocation("Europe/Rome")
	require.NoError(t, err)
	return gpd.Position{
		IUPD: iupd, Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Mario Rossi",
		Email: "mario.rossi@example.it", CompanyName: "Comune di Esempio",
		PaymentOptions: []gpd.PaymentOption{{
			IUV: nav.IUV(), Amount: 12345, Description: "TARI 2026 rata unica",
			DueDate: time.Date(2026, time.December, 31, 23, 59, 59, 0, rome),
			Transfers: []gpd.Transfer{{
				IDTransfer: "1", Amount: 12345, RemittanceInformation: "TARI 2026",
				Category: "9/0101108TS/", IBAN: "IT60X0542811101000000123456",
			}},
		}},
	}
}

func TestCreateAndPublishThenGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := startSim(t, testKey)
	want := samplePosition(t, "IUPD-ROUNDTRIP", 1)

	require.NoError(t, c.CreateAndPublish(ctx, testOrg, want))
	got, err := c.Get(ctx, testOrg, want.IUPD)
	require.NoError(t, err)

	// GPD assigns the NAV (aux digit 3 + IUV) and, with toPublish=true, makes the position VALID.
	require.Equal(t, "VALID", got.Status)
	require.Len(t, got.PaymentOptions, 1)
	require.Equal(t, "3"+want.PaymentOptions[0].IUV, got.PaymentOptions[0].NAV)
	require.True(t, want.PaymentOptions[0].DueDate.Equal(got.PaymentOptions[0].DueDate),
		"due date %s came back as %s", want.PaymentOptions[0].DueDate, got.PaymentOptions[0].DueDate)

	want.Status = "VALID"
	want.PaymentOptions[0].NAV = got.PaymentOptions[0].NAV
	got.PaymentOptions[0].DueDate = want.PaymentOptions[0].DueDate // same instant, location differs
	require.Equal(t, want, got)
}

func TestCreateTwiceConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := startSim(t, testKey)
	p := samplePosition(t, "IUPD-TWICE", 2)
	require.NoError(t, c.CreateAndPublish(ctx, testOrg, p))

	err := c.CreateAndPublish(ctx, testOrg, p)
	require.ErrorIs(t, err, gpd.ErrConflict)
	require.NotErrorIs(t, err, gpd.ErrRejected)
	var se *gpd.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusConflict, se.Status)
	require.Equal(t, "create position", se.Op)
	require.NotEmpty(t, se.Title, "the problem title is kept")

	// Another IUPD reusing the same IUV is a conflict too.
	other := samplePosition(t, "IUPD-TWICE-OTHER", 2)
	require.ErrorIs(t, c.CreateAndPublish(ctx, testOrg, other), gpd.ErrConflict)
}

func TestGetUnknownIsNotFound(t *testing.T) {
	t.Parallel()
	c, _ := startSim(t, testKey)
	_, err := c.Get(context.Background(), testOrg, "NO-SUCH-IUPD")
	require.ErrorIs(t, err, gpd.ErrNotFound)
	require.NotErrorIs(t, err, gpd.ErrRejected)
	var se *gpd.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusNotFound, se.Status)
}

func TestWrongSubscriptionKeyIsRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := startSim(t, "wrong-key")

	err := c.CreateAndPublish(ctx, testOrg, samplePosition(t, "IUPD-KEY", 3))
	require.ErrorIs(t, err, gpd.ErrRejected)
	var se *gpd.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusUnauthorized, se.Status)
	require.Contains(t, se.Title, "subscription key")

	_, err = c.Get(ctx, testOrg, "IUPD-KEY")
	require.ErrorIs(t, err, gpd.ErrRejected)
}

func TestInvalidPositionIsRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := startSim(t, testKey)

	tests := []struct {
		name   string
		mutate func(*gpd.Position)
	}{
		{"transfers do not sum to the amount", func(p *gpd.Position) { p.PaymentOptions[0].Transfers[0].Amount-- }},
		{"no payment option", func(p *gpd.Position) { p.PaymentOptions = nil }},
		{"bad debtor type", func(p *gpd.Position) { p.Type = "X" }},
		{"short IUV", func(p *gpd.Position) { p.PaymentOptions[0].IUV = "123" }},
		{"no transfer", func(p *gpd.Position) { p.PaymentOptions[0].Transfers = nil }},
		{"zero amount", func(p *gpd.Position) {
			p.PaymentOptions[0].Amount = 0
			p.PaymentOptions[0].Transfers[0].Amount = 0
		}},
		{"no due date", func(p *gpd.Position) { p.PaymentOptions[0].DueDate = time.Time{} }},
		{"no company name", func(p *gpd.Position) { p.CompanyName = "" }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := samplePosition(t, "IUPD-INVALID-"+tt.name, int64(100+i))
			tt.mutate(&p)
			err := c.CreateAndPublish(ctx, testOrg, p)
			require.ErrorIs(t, err, gpd.ErrRejected)
			var se *gpd.StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, http.StatusBadRequest, se.Status)

			_, err = c.Get(ctx, testOrg, p.IUPD)
			require.ErrorIs(t, err, gpd.ErrNotFound, "a rejected position is not stored")
		})
	}
}

// TestStatusClassification checks which answers a caller may retry: only 4xx other than
// 404, 409 and 429 are ErrRejected.
func TestStatusClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		body     string
		kind     error // nil: none of the sentinel errors
		retrying bool  // whether retrying makes sense (not ErrRejected)
	}{
		{http.StatusInternalServerError, `{"status":500,"title":"Internal Server Error"}`, nil, true},
		{http.StatusBadGateway, `<html>bad gateway</html>`, nil, true},
		{http.StatusServiceUnavailable, ``, nil, true},
		{http.StatusTooManyRequests, `{"statusCode":429,"message":"Rate limit is exceeded."}`, nil, true},
		{http.StatusBadRequest, `{"status":400,"title":"Bad Request"}`, gpd.ErrRejected, false},
		{http.StatusForbidden, `{"status":403,"title":"Forbidden"}`, gpd.ErrRejected, false},
		{http.StatusUnprocessableEntity, `{}`, gpd.ErrRejected, false},
		{http.StatusNotFound, `{"status":404,"title":"Not Found"}`, gpd.ErrNotFound, true},
		{http.StatusConflict, `{"status":409,"title":"Conflict"}`, gpd.ErrConflict, true},
		{http.StatusMultipleChoices, ``, nil, true},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			c := gpd.New(srv.URL, testKey, 5*time.Second)

			for name, call := range map[string]func() error{
				"create": func() error { return c.CreateAndPublish(context.Background(), testOrg, samplePosition(t, "IUPD-S", 4)) },
				"get":    func() error { _, err := c.Get(context.Background(), testOrg, "IUPD-S"); return err },
			} {
				err := call()
				require.Error(t, err, name)
				var se *gpd.StatusError
				require.ErrorAs(t, err, &se, name)
				require.Equal(t, tt.status, se.Status, name)
				require.Equal(t, !tt.retrying, errors.Is(err, gpd.ErrRejected), "%s: ErrRejected", name)
				for _, sentinel := range []error{gpd.ErrConflict, gpd.ErrNotFound, gpd.ErrRejected} {
					require.Equal(t, sentinel == tt.kind, errors.Is(err, sentinel), "%s: errors.Is(%v)", name, sentinel)
				}
			}
		})
	}
}

func TestTransportFailuresAreNotRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Nobody listens: the connection is refused.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	_, err := gpd.New(url, testKey, time.Second).Get(ctx, testOrg, "X")
	require.Error(t, err)
	require.NotErrorIs(t, err, gpd.ErrRejected)

	// A server slower than the client's timeout.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	_, err = gpd.New(slow.URL, testKey, 50*time.Millisecond).Get(ctx, testOrg, "X")
	require.Error(t, err)
	require.NotErrorIs(t, err, gpd.ErrRejected)

	// A success whose body is not JSON.
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html>maintenance</html>")
	}))
	t.Cleanup(garbage.Close)
	_, err = gpd.New(garbage.URL, testKey, time.Second).Get(ctx, testOrg, "X")
	require.ErrorContains(t, err, "decode response")
}

// recorded is one request a recording handler saw.
type recorded struct {
	Method, Path, RawQuery string // Path is escaped, as on the wire
	Header                 http.Header
	Body                   []byte
}

// recorder answers every request with status and body and keeps what it received.
type recorder struct {
	mu       sync.Mutex
	requests []recorded
	status   int
	body     string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.requests = append(rc.requests, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), b})
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rc.status)
	_, _ = io.WriteString(w, rc.body)
}

func (rc *recorder) Requests() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recorded(nil), rc.requests...)
}

// requiredFields reads the "required" arrays of the named schemas of the GPD OpenAPI spec.
func requiredFields(t *testing.T, schemas ...string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(specs.Path("pagopa", "gpd-debt-positions-v1.json"))
	require.NoError(t, err, "the shared GPD OpenAPI spec")
	var spec struct {
		Components struct {
			Schemas map[string]struct {
				Required []string `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(data, &spec))
	out := map[string][]string{}
	for _, name := range schemas {
		s, ok := spec.Components.Schemas[name]
		require.True(t, ok, "schema %s is in the spec", name)
		require.NotEmpty(t, s.Required, "schema %s lists required fields", name)
		out[name] = s.Required
	}
	return out
}

// TestRequestMatchesContract is a light contract test: the body CreateAndPublish sends has
// every field the shared OpenAPI spec requires, at every level.
func TestRequestMatchesContract(t *testing.T) {
	t.Parallel()
	req := requiredFields(t, "PaymentPositionModel", "PaymentOptionModel", "TransferModel")

	rec := &recorder{status: http.StatusCreated, body: `{}`}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c := gpd.New(srv.URL+sim.GPDBasePath, testKey, 5*time.Second)

	// The zero values of optional fields must not make required ones disappear.
	p := samplePosition(t, "IUPD-CONTRACT", 5)
	p.Email = ""
	p.PaymentOptions[0].Transfers[0].IBAN = ""
	p.PaymentOptions[0].IsPartialPayment = false
	p.SwitchToExpired = false
	require.NoError(t, c.CreateAndPublish(context.Background(), testOrg, p))

	reqs := rec.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, sim.GPDBasePath+"/organizations/"+testOrg+"/debtpositions", r.Path)
	require.Equal(t, "toPublish=true", r.RawQuery)
	require.Equal(t, testKey, r.Header.Get("Ocp-Apim-Subscription-Key"))
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))

	var body map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &body), "body %s", r.Body)
	requireKeys(t, "PaymentPositionModel", body, req["PaymentPositionModel"])
	_, hasStatus := body["status"]
	require.False(t, hasStatus, "status is read-only in the spec and must not be sent")

	opts, ok := body["paymentOption"].([]any)
	require.True(t, ok, "paymentOption is an array")
	require.Len(t, opts, 1)
	for _, o := range opts {
		opt, ok := o.(map[string]any)
		require.True(t, ok)
		requireKeys(t, "PaymentOptionModel", opt, req["PaymentOptionModel"])
		_, err := time.Parse(time.RFC3339, opt["dueDate"].(string))
		require.NoError(t, err, "dueDate is a date-time")
		transfers, ok := opt["transfer"].([]any)
		require.True(t, ok, "transfer is an array")
		require.NotEmpty(t, transfers)
		for _, tr := range transfers {
			m, ok := tr.(map[string]any)
			require.True(t, ok)
			requireKeys(t, "TransferModel", m, req["TransferModel"])
			require.IsType(t, float64(0), m["amount"], "amount is an integer number of cents")
		}
	}
}

func requireKeys(t *testing.T, schema string, obj map[string]any, keys []string) {
	t.Helper()
	for _, k := range keys {
		_, ok := obj[k]
		require.True(t, ok, "%s: required field %q is missing from %v", schema, k, obj)
	}
}

func TestGetSendsKeyAndEscapesPath(t *testing.T) {
	t.Parallel()
	rec := &recorder{status: http.StatusOK, body: `{"iupd":"A/B C","type":"F","status":"VALID"}`}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c := gpd.New(srv.URL+sim.GPDBasePath, testKey, 5*time.Second)

	p, err := c.Get(context.Background(), testOrg, "A/B C")
	require.NoError(t, err)
	require.Equal(t, "A/B C", p.IUPD)
	require.Equal(t, "VALID", p.Status)

	reqs := rec.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, http.MethodGet, reqs[0].Method)
	require.Equal(t, sim.GPDBasePath+"/organizations/"+testOrg+"/debtpositions/A%2FB%20C", reqs[0].Path, "the IUPD is one escaped path segment")
	require.Equal(t, testKey, reqs[0].Header.Get("Ocp-Apim-Subscription-Key"))
	require.Empty(t, reqs[0].Body)
}
