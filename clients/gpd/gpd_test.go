package gpd_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/gpd"
	"incasso/devstack/pagopasim"
	"incasso/domain/pagopa"
)

const (
	testKey = "test-subscription-key"
	testOrg = "00000000000"
)

// startSim serves the simulated pagoPA over real HTTP and returns a client of its GPD and
// the server's URL.
func startSim(t *testing.T, key string) (*gpd.Client, *pagopasim.PagoPA, string) {
	t.Helper()
	p := pagopasim.NewPagoPA(testKey, "http://127.0.0.1:1/unused", "node-key", testOrg, testOrg+"_01")
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	return gpd.New(srv.URL+pagopasim.GPDBasePath, key, 5*time.Second), p, srv.URL
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
	c, _, _ := startSim(t, testKey)
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
	c, _, _ := startSim(t, testKey)
	p := samplePosition(t, "IUPD-TWICE", 2)
	require.NoError(t, c.CreateAndPublish(ctx, testOrg, p))

	err := c.CreateAndPublish(ctx, testOrg, p)
	require.ErrorIs(t, err, gpd.ErrConflict)
	require.NotErrorIs(t, err, gpd.ErrRejected)
	var se *gpd.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusConflict, se.Status)
	require.Equal(t, "create position", se.Op)
	require.NotEmpty(t, se.Message, "the problem title is kept")

	// Another IUPD reusing the same IUV is a conflict too.
	other := samplePosition(t, "IUPD-TWICE-OTHER", 2)
	require.ErrorIs(t, c.CreateAndPublish(ctx, testOrg, other), gpd.ErrConflict)
}

func TestGetUnknownIsNotFound(t *testing.T) {
	t.Parallel()
	c, _, _ := startSim(t, testKey)
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
	c, _, _ := startSim(t, "wrong-key")

	err := c.CreateAndPublish(ctx, testOrg, samplePosition(t, "IUPD-KEY", 3))
	require.ErrorIs(t, err, gpd.ErrRejected)
	var se *gpd.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusUnauthorized, se.Status)
	require.Contains(t, se.Message, "subscription key")

	_, err = c.Get(ctx, testOrg, "IUPD-KEY")
	require.ErrorIs(t, err, gpd.ErrRejected)
}

func TestInvalidPositionIsRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _, _ := startSim(t, testKey)

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

// TestStatusClassification checks which answers a caller may retry: only 4xx other than 404,
// 409 and 429 are ErrRejected, and only 5xx and 429 are temporary for the same request.
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
				require.Equal(t, tt.status >= 500 || tt.status == http.StatusTooManyRequests, se.Temporary(), "%s: Temporary", name)
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
	var se *gpd.StatusError
	require.ErrorAs(t, err, &se)
	require.Zero(t, se.Status, "no answer")
	require.True(t, se.Temporary())
	require.NotContains(t, err.Error(), url, "the message does not name the URL")

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
	require.ErrorAs(t, err, &se)
	require.True(t, se.Temporary(), "a timeout may pass")

	// A success whose body is not JSON.
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html>maintenance</html>")
	}))
	t.Cleanup(garbage.Close)
	_, err = gpd.New(garbage.URL, testKey, time.Second).Get(ctx, testOrg, "X")
	require.ErrorContains(t, err, "decode answer")
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

func TestGetSendsKeyAndEscapesPath(t *testing.T) {
	t.Parallel()
	rec := &recorder{status: http.StatusOK, body: `{"iupd":"A/B C","type":"F","status":"VALID"}`}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c := gpd.New(srv.URL+pagopasim.GPDBasePath, testKey, 5*time.Second)

	p, err := c.Get(context.Background(), testOrg, "A/B C")
	require.NoError(t, err)
	require.Equal(t, "A/B C", p.IUPD)
	require.Equal(t, "VALID", p.Status)

	reqs := rec.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, http.MethodGet, reqs[0].Method)
	require.Equal(t, pagopasim.GPDBasePath+"/organizations/"+testOrg+"/debtpositions/A%2FB%20C", reqs[0].Path, "the IUPD is one escaped path segment")
	require.Equal(t, testKey, reqs[0].Header.Get("Ocp-Apim-Subscription-Key"))
	require.Empty(t, reqs[0].Body)
}

// TestLifecycle drives a position through the simulator: created, updated, paid by a PSP
// whose receipt never reached the EC, then recovered from the receipts API.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, p, url := startSim(t, testKey)
	pos := samplePosition(t, "IUPD-LIFE", 13)
	require.NoError(t, c.CreateAndPublish(ctx, testOrg, pos))

	pos.PaymentOptions[0].Amount, pos.PaymentOptions[0].Transfers[0].Amount = 20000, 20000
	require.NoError(t, c.Update(ctx, testOrg, pos))
	got, err := c.Get(ctx, testOrg, pos.IUPD)
	require.NoError(t, err)
	require.Equal(t, int64(20000), got.PaymentOptions[0].Amount)

	nav := got.PaymentOptions[0].NAV
	res, err := p.Pay(ctx, pagopasim.Payment{NAV: nav, Undelivered: true})
	require.NoError(t, err)
	receipts := gpd.NewReceipts(url+pagopasim.ReceiptsBasePath, testKey, 5*time.Second)
	raw, err := receipts.GetReceipt(ctx, testOrg, pos.PaymentOptions[0].IUV)
	require.NoError(t, err)
	require.Contains(t, string(raw), "<receiptId>"+res.ReceiptID+"</receiptId>")
	require.Contains(t, string(raw), "<paymentAmount>200.00</paymentAmount>")

	require.ErrorIs(t, c.MarkPaid(ctx, testOrg, nav, gpd.Paid{Date: time.Now()}), gpd.ErrConflict, "paid already")
	require.ErrorIs(t, c.Update(ctx, testOrg, pos), gpd.ErrConflict)
}

// MarkPaid is not in the shared spec: its wire format is checked here.
func TestMarkPaidRequest(t *testing.T) {
	t.Parallel()
	rec := &recorder{status: http.StatusOK, body: `{"nav":"301000000000000012","status":"PO_PAID"}`}
	c := gpd.New(serve(t, rec)+pagopasim.GPDBasePath, testKey, 5*time.Second)
	at := time.Date(2026, time.March, 2, 10, 30, 0, 0, time.UTC)
	require.NoError(t, c.MarkPaid(context.Background(), testOrg, "301000000000000012",
		gpd.Paid{Date: at, Method: "SDD", PSPCompany: "Banca di Esempio"}))

	reqs := rec.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, pagopasim.GPDBasePath+"/organizations/"+testOrg+"/paymentoptions/paids/301000000000000012", r.Path)
	require.Empty(t, r.RawQuery)
	require.Equal(t, testKey, r.Header.Get("Ocp-Apim-Subscription-Key"))
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.JSONEq(t, `{"paymentDate":"2026-03-02T10:30:00Z","paymentMethod":"SDD","pspCompany":"Banca di Esempio"}`, string(r.Body))

	// Only the date is needed.
	require.NoError(t, c.MarkPaid(context.Background(), testOrg, "301000000000000012", gpd.Paid{Date: at}))
	require.JSONEq(t, `{"paymentDate":"2026-03-02T10:30:00Z"}`, string(rec.Requests()[1].Body))
}

func TestGetReceiptRequest(t *testing.T) {
	t.Parallel()
	const xml = `<?xml version="1.0"?><soapenv:Envelope/>`
	rec := &recorder{status: http.StatusOK, body: xml}
	r := gpd.NewReceipts(serve(t, rec)+pagopasim.ReceiptsBasePath, testKey, 5*time.Second)
	got, err := r.GetReceipt(context.Background(), testOrg, "01000000000000012")
	require.NoError(t, err)
	require.Equal(t, xml, string(got), "the body as GPD sent it")

	req := rec.Requests()[0]
	require.Equal(t, http.MethodGet, req.Method)
	require.Equal(t, pagopasim.ReceiptsBasePath+"/payments/"+testOrg+"/receipts/01000000000000012", req.Path)
	require.Equal(t, testKey, req.Header.Get("Ocp-Apim-Subscription-Key"))
	require.Equal(t, "application/xml", req.Header.Get("Accept"))

	missing := &recorder{status: http.StatusNotFound, body: `{"status":404,"title":"No receipt found"}`}
	r = gpd.NewReceipts(serve(t, missing)+pagopasim.ReceiptsBasePath, testKey, 5*time.Second)
	_, err = r.GetReceipt(context.Background(), testOrg, "01000000000000012")
	require.ErrorIs(t, err, gpd.ErrNotFound)
	var se *gpd.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "get receipt", se.Op)
	require.Equal(t, "No receipt found", se.Message)
}
