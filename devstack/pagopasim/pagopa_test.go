package pagopasim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/gpd"
	"incasso/devstack/pagopasim"
	"incasso/devstack/specs"
	"incasso/domain/money"
	"incasso/domain/pagopa"
)

const (
	testKey     = "test-subscription-key"
	testNodeKey = "test-node-key"
	testOrg     = "00000000000"
	testBroker  = "00000000000"
	testStation = "00000000000_01"
)

// ecCall is one paSendRTV2 the simulated Nodo delivered to the EC.
type ecCall struct {
	Header http.Header
	Body   []byte
}

// fakeEC is a recording paForNode endpoint that answers with the queued responses, then
// with a fixed one.
type fakeEC struct {
	mu      sync.Mutex
	calls   []ecCall
	answers []pagopa.Response
	answer  pagopa.Response
}

func (ec *fakeEC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	ec.mu.Lock()
	ec.calls = append(ec.calls, ecCall{Header: r.Header.Clone(), Body: b})
	answer := ec.answer
	if len(ec.answers) > 0 {
		answer, ec.answers = ec.answers[0], ec.answers[1:]
	}
	ec.mu.Unlock()
	env, err := pagopa.Wrap(pagopa.ElemSendRTV2Response, pagopa.SendRTV2Response{Response: answer})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(env)
}

func (ec *fakeEC) Calls() []ecCall {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	return append([]ecCall(nil), ec.calls...)
}

func (ec *fakeEC) queue(answers ...pagopa.Response) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	ec.answers = append(ec.answers, answers...)
}

func (ec *fakeEC) setAnswer(r pagopa.Response) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	ec.answer = r
}

// simEnv is a simulator served over HTTP, delivering receipts to a fake EC.
type simEnv struct {
	url      string
	sim      *pagopasim.PagoPA
	ec       *fakeEC
	gpd      *gpd.Client
	receipts *gpd.Receipts
}

// start serves a simulator; when the test ends, every receipt it pushed to the EC must
// validate against paForNode.xsd.
func start(t *testing.T) *simEnv {
	t.Helper()
	ec := &fakeEC{answer: pagopa.OK()}
	ecSrv := httptest.NewServer(ec)
	t.Cleanup(ecSrv.Close)
	p := pagopasim.NewPagoPA(testKey, ecSrv.URL+"/pagopa/paForNode", testNodeKey, testBroker, testStation)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		for _, c := range ec.Calls() {
			requireValidReceipt(t, c.Body)
		}
	})
	noRetry := gpd.WithRetry(gpd.RetryPolicy{Attempts: 1})
	return &simEnv{
		url: srv.URL, sim: p, ec: ec,
		gpd:      gpd.New(srv.URL+pagopasim.GPDBasePath, testKey, 5*time.Second, noRetry),
		receipts: gpd.NewReceipts(srv.URL+pagopasim.ReceiptsBasePath, testKey, 5*time.Second, noRetry),
	}
}

// newPosition is a position IUPD-<base> with one option of the given cents, split over
// transfers, whose IUV comes from base.
func newPosition(t *testing.T, base int64, transfers ...int64) gpd.Position {
	t.Helper()
	var total int64
	opt := gpd.PaymentOption{IUV: mustNAV(t, base)[1:], Description: "TARI 2026 rata unica", DueDate: time.Now().Add(30 * 24 * time.Hour)}
	for i, cents := range transfers {
		total += cents
		opt.Transfers = append(opt.Transfers, gpd.Transfer{
			IDTransfer: fmt.Sprint(i + 1), Amount: cents, RemittanceInformation: "TARI 2026",
			Category: "9/0101108TS/", IBAN: "IT60X0542811101000000123456",
		})
	}
	opt.Amount = total
	return gpd.Position{
		IUPD: fmt.Sprintf("IUPD-%d", base), Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Mario Rossi",
		CompanyName: "Comune di Esempio", PaymentOptions: []gpd.PaymentOption{opt},
	}
}

// register publishes newPosition(base, transfers...) and returns its NAV.
func (e *simEnv) register(t *testing.T, base int64, transfers ...int64) string {
	t.Helper()
	require.NoError(t, e.gpd.CreateAndPublish(context.Background(), testOrg, newPosition(t, base, transfers...)))
	return mustNAV(t, base)
}

// pay calls /sim/pay/{nav} with the query and returns the status and body.
func (e *simEnv) pay(t *testing.T, nav, query string) (int, []byte) {
	t.Helper()
	u := e.url + "/sim/pay/" + nav
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func decodeResult(t *testing.T, b []byte) pagopasim.PayResult {
	t.Helper()
	var res pagopasim.PayResult
	require.NoError(t, json.Unmarshal(b, &res), "body %s", b)
	return res
}

// receiptOf checks the SOAP call the EC got and returns the request it carried.
func receiptOf(t *testing.T, call ecCall) pagopa.SendRTV2Request {
	t.Helper()
	require.Equal(t, testNodeKey, call.Header.Get("X-Node-Key"))
	require.Equal(t, pagopa.OpSendRTV2, call.Header.Get("SOAPAction"))
	require.True(t, strings.HasPrefix(call.Header.Get("Content-Type"), "text/xml"), call.Header.Get("Content-Type"))
	inner := requireValidReceipt(t, call.Body)
	var req pagopa.SendRTV2Request
	require.NoError(t, pagopa.DecodeBody(inner, &req))
	return req
}

// requireValidReceipt checks that envelope is a paSendRTV2Request valid against paForNode.xsd
// and returns the request element.
func requireValidReceipt(t *testing.T, envelope []byte) []byte {
	t.Helper()
	name, inner, err := pagopa.Unwrap(bytes.NewReader(envelope))
	require.NoError(t, err)
	require.Equal(t, xml.Name{Space: pagopa.NSPaForNode, Local: pagopa.ElemSendRTV2Request}, name)
	specs.RequireValid(t, inner, "pagopa", "paForNode.xsd")
	return inner
}

var twoDecimals = regexp.MustCompile(`^[0-9]+\.[0-9]{2}$`)

func TestPayDeliversValidReceipt(t *testing.T) {
	t.Parallel()
	e := start(t)
	nav := e.register(t, 1, 10000, 2345) // 123.45 euros over two transfers

	status, body := e.pay(t, nav, "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	res := decodeResult(t, body)
	require.Equal(t, "OK", res.Outcome)
	require.Empty(t, res.FaultCode)
	require.NotEmpty(t, res.ReceiptID)

	calls := e.ec.Calls()
	require.Len(t, calls, 1)
	req := receiptOf(t, calls[0])
	require.Equal(t, pagopa.Header{IDPA: testOrg, IDBrokerPA: testBroker, IDStation: testStation}, req.Header)
	r := req.Receipt
	require.Equal(t, res.ReceiptID, r.ReceiptID)
	require.Equal(t, nav, r.NoticeNumber)
	require.Equal(t, nav[1:], r.CreditorReferenceID, "the IUV")
	require.Equal(t, testOrg, r.FiscalCode)
	require.Equal(t, "OK", r.Outcome)
	require.Equal(t, "Comune di Esempio", r.CompanyName)
	require.Equal(t, "RSSMRA85T10A562S", r.Debtor.UniqueIdentifier.Value)
	require.Equal(t, "F", r.Debtor.UniqueIdentifier.Type)

	// Amounts are decimal euros with two decimals, equal to the position's cents.
	require.Equal(t, "123.45", r.PaymentAmount)
	require.Len(t, r.Transfers, 2)
	for i, want := range []string{"100.00", "23.45"} {
		tr := r.Transfers[i]
		require.Regexp(t, twoDecimals, tr.TransferAmount)
		require.Equal(t, want, tr.TransferAmount)
		require.Equal(t, fmt.Sprint(i+1), tr.IDTransfer)
		require.Equal(t, testOrg, tr.FiscalCodePA)
	}
	require.Regexp(t, twoDecimals, r.Fee)
}

func TestPayAmountsHaveTwoDecimals(t *testing.T) {
	t.Parallel()
	e := start(t)
	for i, cents := range []int64{1, 10, 100, 12340, 999999999} {
		t.Run(fmt.Sprint(cents), func(t *testing.T) {
			nav := e.register(t, int64(10+i), cents)
			status, body := e.pay(t, nav, "")
			require.Equal(t, http.StatusOK, status, "%s", body)
			res := decodeResult(t, body)
			var r pagopa.ReceiptV2
			for _, c := range e.ec.Calls() {
				if got := receiptOf(t, c); got.Receipt.ReceiptID == res.ReceiptID {
					r = got.Receipt
				}
			}
			require.Equal(t, nav, r.NoticeNumber)
			require.Regexp(t, twoDecimals, r.PaymentAmount)
			back, err := money.ParseDecimal(r.PaymentAmount)
			require.NoError(t, err)
			require.Equal(t, money.Cents(cents), back)
			require.Equal(t, r.PaymentAmount, r.Transfers[0].TransferAmount)
		})
	}
}

func TestPayTwice(t *testing.T) {
	t.Parallel()
	e := start(t)
	nav := e.register(t, 20, 5000)

	status, body := e.pay(t, nav, "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	first := decodeResult(t, body)

	// A second payment of a paid notice is refused without calling the EC.
	status, body = e.pay(t, nav, "")
	require.Equal(t, http.StatusConflict, status, "%s", body)
	require.Contains(t, string(body), "PAA_PAGAMENTO_DUPLICATO")
	require.Len(t, e.ec.Calls(), 1)

	// Re-sending its receipt is allowed and reuses the receipt id.
	status, body = e.pay(t, nav, "receiptId="+first.ReceiptID)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Equal(t, first.ReceiptID, decodeResult(t, body).ReceiptID)
	calls := e.ec.Calls()
	require.Len(t, calls, 2)
	require.Equal(t, first.ReceiptID, receiptOf(t, calls[1]).Receipt.ReceiptID)
}

func TestPayRefusedByECStaysUnpaid(t *testing.T) {
	t.Parallel()
	e := start(t)
	nav := e.register(t, 30, 5000)
	e.ec.setAnswer(pagopa.KO(pagopa.FaultSystem, "try later", testOrg))

	status, body := e.pay(t, nav, "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	res := decodeResult(t, body)
	require.Equal(t, "KO", res.Outcome)
	require.Equal(t, pagopa.FaultSystem, res.FaultCode)

	// Not paid: the PSP may try again, and this time the EC accepts.
	e.ec.setAnswer(pagopa.OK())
	status, body = e.pay(t, nav, "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Equal(t, "OK", decodeResult(t, body).Outcome)
	status, _ = e.pay(t, nav, "")
	require.Equal(t, http.StatusConflict, status)
}

func TestPayUnknownNotice(t *testing.T) {
	t.Parallel()
	e := start(t)
	unknown, err := pagopa.NewNAV(1, 999)
	require.NoError(t, err)
	nav := unknown.String()

	tests := []struct {
		name   string
		nav    string
		query  string
		status int
		amount string // paymentAmount the EC receives, when delivered
	}{
		{"no organization", nav, "", http.StatusBadRequest, ""},
		{"short organization", nav, "organization=123", http.StatusBadRequest, ""},
		{"bad amount", nav, "organization=" + testOrg + "&amount=abc", http.StatusBadRequest, ""},
		{"zero amount", nav, "organization=" + testOrg + "&amount=0", http.StatusBadRequest, ""},
		{"invalid check digits", nav[:16] + "99", "organization=" + testOrg, http.StatusBadRequest, ""},
		{"not a NAV", "abc", "organization=" + testOrg, http.StatusBadRequest, ""},
		{"default amount", nav, "organization=" + testOrg, http.StatusOK, "1.00"},
		{"given amount", nav, "organization=" + testOrg + "&amount=4250", http.StatusOK, "42.50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.ec.Calls())
			status, body := e.pay(t, tt.nav, tt.query)
			require.Equal(t, tt.status, status, "%s", body)
			calls := e.ec.Calls()
			if tt.status != http.StatusOK {
				require.Len(t, calls, before, "nothing is sent to the EC")
				return
			}
			require.Len(t, calls, before+1)
			r := receiptOf(t, calls[len(calls)-1]).Receipt
			require.Equal(t, testOrg, r.FiscalCode)
			require.Equal(t, tt.amount, r.PaymentAmount)
			require.Equal(t, tt.amount, r.Transfers[0].TransferAmount)
		})
	}
}

func TestPayECUnreachable(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	p := pagopasim.NewPagoPA(testKey, deadURL, testNodeKey, testBroker, testStation)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)

	resp, err := http.Post(srv.URL+"/sim/pay/"+mustNAV(t, 1)+"?organization="+testOrg, "", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
}

func mustNAV(t *testing.T, base int64) string {
	t.Helper()
	n, err := pagopa.NewNAV(1, base)
	require.NoError(t, err)
	return n.String()
}

func TestGPDRequests(t *testing.T) {
	t.Parallel()
	e := start(t)
	base := e.url + pagopasim.GPDBasePath + "/organizations/" + testOrg + "/debtpositions"

	tests := []struct {
		name, method, url, key, body string
		status                       int
	}{
		{"create without key", http.MethodPost, base, "", `{}`, http.StatusUnauthorized},
		{"get with wrong key", http.MethodGet, base + "/X", "nope", ``, http.StatusUnauthorized},
		{"malformed JSON", http.MethodPost, base, testKey, `{`, http.StatusBadRequest},
		{"missing fields", http.MethodPost, base, testKey, `{"iupd":"X"}`, http.StatusBadRequest},
		{"get unknown", http.MethodGet, base + "/X", testKey, ``, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), tt.method, tt.url, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.key != "" {
				req.Header.Set("Ocp-Apim-Subscription-Key", tt.key)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tt.status, resp.StatusCode)
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"), "the media type GPD declares for ProblemJson")
			var problem struct {
				Status int    `json:"status"`
				Title  string `json:"title"`
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&problem))
			require.Equal(t, tt.status, problem.Status)
			require.NotEmpty(t, problem.Title)
		})
	}
}

func TestCreateWithoutPublishIsDraft(t *testing.T) {
	t.Parallel()
	e := start(t)
	nav := mustNAV(t, 40)
	body, err := json.Marshal(gpd.Position{
		IUPD: "IUPD-DRAFT", Type: "G", FiscalCode: "02438750586", FullName: "Roma Capitale", CompanyName: "Comune di Esempio",
		PaymentOptions: []gpd.PaymentOption{{IUV: nav[1:], Amount: 100, Description: "x", DueDate: time.Now(),
			Transfers: []gpd.Transfer{{IDTransfer: "1", Amount: 100, RemittanceInformation: "x", Category: "9/0101108TS/"}}}},
	})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost,
		e.url+pagopasim.GPDBasePath+"/organizations/"+testOrg+"/debtpositions", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Ocp-Apim-Subscription-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	got, err := e.gpd.Get(context.Background(), testOrg, "IUPD-DRAFT")
	require.NoError(t, err)
	require.Equal(t, "DRAFT", got.Status)
	require.Equal(t, nav, got.PaymentOptions[0].NAV)

	// Positions are per organization.
	_, err = e.gpd.Get(context.Background(), "11111111111", "IUPD-DRAFT")
	require.ErrorIs(t, err, gpd.ErrNotFound)
}
