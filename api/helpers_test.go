package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/devstack/contracttest"
	"incasso/devstack/specs"
	"incasso/devstack/testdb"
	"incasso/domain/pagopa"
	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/services/receipts"
)

// fakeTemporal implements temporalClient: it records every call and fails when told to.
type fakeTemporal struct {
	mu         sync.Mutex
	executeErr error
	signalErr  error
	healthErr  error
	executions []execution
	signals    []signal
	updates    []client.UpdateWorkflowOptions

	updateErr, updateResultErr error
	// onUpdate, when set, plays the workflow's part of an update that succeeds.
	onUpdate func(client.UpdateWorkflowOptions)
}

type execution struct {
	Options  client.StartWorkflowOptions
	Workflow any
	Args     []any
}

type signal struct {
	WorkflowID, RunID, Name string
	Arg                     any
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.executions = append(f.executions, execution{Options: options, Workflow: workflow, Args: args})
	return nil, f.executeErr
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, workflowID, runID, signalName string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = append(f.signals, signal{WorkflowID: workflowID, RunID: runID, Name: signalName, Arg: arg})
	return f.signalErr
}

// UpdateWorkflow records the update and answers with updateErr, or a handle whose Get
// returns updateResultErr.
func (f *fakeTemporal) UpdateWorkflow(_ context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, options)
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	if f.updateResultErr == nil && f.onUpdate != nil {
		f.onUpdate(options)
	}
	return fakeUpdateHandle{err: f.updateResultErr}, nil
}

type fakeUpdateHandle struct {
	client.WorkflowUpdateHandle
	err error
}

func (h fakeUpdateHandle) Get(context.Context, any) error { return h.err }

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.healthErr != nil {
		return nil, f.healthErr
	}
	return &client.CheckHealthResponse{}, nil
}

func (f *fakeTemporal) failExecute(err error) { f.mu.Lock(); f.executeErr = err; f.mu.Unlock() }
func (f *fakeTemporal) failSignal(err error)  { f.mu.Lock(); f.signalErr = err; f.mu.Unlock() }
func (f *fakeTemporal) failHealth(err error)  { f.mu.Lock(); f.healthErr = err; f.mu.Unlock() }

// failUpdate makes UpdateWorkflow fail with err (nil: accept it), and the update's result
// fail with resultErr (nil: the update succeeds).
func (f *fakeTemporal) failUpdate(err, resultErr error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updateErr, f.updateResultErr = err, resultErr
}

func (f *fakeTemporal) setOnUpdate(fn func(client.UpdateWorkflowOptions)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onUpdate = fn
}

func (f *fakeTemporal) Updates() []client.UpdateWorkflowOptions {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]client.UpdateWorkflowOptions(nil), f.updates...)
}

func (f *fakeTemporal) Executions() []execution {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]execution(nil), f.executions...)
}

func (f *fakeTemporal) Signals() []signal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]signal(nil), f.signals...)
}

// syncBuffer is a goroutine-safe log sink, so tests can check what the server logged.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// defaultNow is the fixed instant of every test server unless changed: 20 November 2026, 11:00 in Rome.
var defaultNow = time.Date(2026, time.November, 20, 10, 0, 0, 0, time.UTC)

const testNodeKey = "test-node-key"

// testEnv is a Server on its own fresh database, served over real HTTP.
type testEnv struct {
	pool   *pgxpool.Pool
	dbURL  string
	cfg    config.Config
	fake   *fakeTemporal
	srv    *Server
	url    string
	apiKey string // a finance key
	pecKey string // the PEC gateway's key
	logs   *syncBuffer
	now    atomic.Int64 // unix nanoseconds returned by srv.Now
	// client is for the requests a test sends from goroutines of its own, where do cannot
	// fail the test: what they break of the contract fails it when it ends.
	client *http.Client
}

// newEnv starts a server; opts change it before it starts serving.
func newEnv(t *testing.T, opts ...func(*Server)) *testEnv {
	t.Helper()
	pool, dbURL := testdb.New(t)
	cfg, err := config.FromEnv()
	require.NoError(t, err)
	cfg.TaskQueue = "incasso-api-test"
	cfg.NodeKey = testNodeKey
	cfg.TemporalNamespace = "test-ns"

	env := &testEnv{pool: pool, dbURL: dbURL, cfg: cfg, fake: &fakeTemporal{}, logs: &syncBuffer{}}
	env.now.Store(defaultNow.UnixNano())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server logged:\n%s", env.logs.String())
		}
	})
	log := slog.New(slog.NewTextHandler(env.logs, nil))
	env.srv = &Server{
		Pool: pool, Temporal: env.fake, Config: cfg, Log: log,
		Receipts: &receipts.Recorder{Pool: pool, Temporal: env.fake, ECFiscalCode: cfg.Creditor.FiscalCode, Log: log},
		Now:      func() time.Time { return time.Unix(0, env.now.Load()) },
	}
	for _, o := range opts {
		o(env.srv)
	}
	ts := httptest.NewServer(env.srv.Handler())
	t.Cleanup(ts.Close)
	env.url = ts.URL
	checker, err := contract()
	require.NoError(t, err)
	transport := &contracttest.Transport{Checker: checker}
	env.client = &http.Client{Transport: transport}
	t.Cleanup(func() { require.Empty(t, transport.Mismatches()) })

	env.apiKey = env.addClient(t, "tributi", apiclients.Grant{Role: access.Finance})
	env.pecKey = env.addClient(t, "pec", apiclients.Grant{Role: access.PECGateway})
	return env
}

func (e *testEnv) setNow(t time.Time) { e.now.Store(t.UnixNano()) }

// do sends a request and returns the response with its body read, both checked against
// the contract, api/openapi.yaml (checkContract).
func (e *testEnv) do(t *testing.T, method, path string, body io.Reader, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	require.NoError(t, err)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return e.send(t, req)
}

// send sends req and returns the response with its body read, both checked against the
// contract.
func (e *testEnv) send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	call, err := contracttest.Keep(req)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	checkContract(t, call, resp, b)
	return resp, b
}

func (e *testEnv) authHeader() http.Header {
	return http.Header{"Authorization": {"Bearer " + e.apiKey}, "Content-Type": {"application/json"}}
}

// postDebtRaw posts a raw JSON body to /v1/debts with the test API key.
func (e *testEnv) postDebtRaw(t *testing.T, body string) (*http.Response, []byte) {
	t.Helper()
	return e.do(t, http.MethodPost, "/v1/debts", strings.NewReader(body), e.authHeader())
}

func (e *testEnv) postDebt(t *testing.T, req any) (*http.Response, []byte) {
	t.Helper()
	b, err := json.Marshal(req)
	require.NoError(t, err)
	return e.postDebtRaw(t, string(b))
}

// mustCreateDebt creates a debt through the API and returns it.
func (e *testEnv) mustCreateDebt(t *testing.T, req CreateDebtRequest) DebtResponse {
	t.Helper()
	resp, body := e.postDebt(t, req)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	var d DebtResponse
	require.NoError(t, json.Unmarshal(body, &d))
	return d
}

func (e *testEnv) getDebt(t *testing.T, iupd string) (*http.Response, []byte) {
	t.Helper()
	return e.do(t, http.MethodGet, "/v1/debts/"+iupd, nil, e.authHeader())
}

// requireProblem checks that the response is an RFC 9457 problem with the status and returns it.
func requireProblem(t *testing.T, resp *http.Response, body []byte, status int) Problem {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, string(body))
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var p Problem
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&p), string(body))
	require.Equal(t, status, p.Status)
	require.NotEmpty(t, p.Type)
	require.NotEmpty(t, p.Title)
	return p
}

// validRequest is a debt the API accepts, due after defaultNow.
func validRequest(iupd string) CreateDebtRequest {
	return CreateDebtRequest{
		IUPD: iupd, ServiceCode: "TARI",
		Debtor:      Debtor{Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Mario Rossi", Email: "mario.rossi@example.it"},
		AmountCents: 12345, DueDate: "2026-12-31", Description: "TARI 2026 rata unica",
	}
}

// --- SOAP ---

// header is the paForNode header the Nodo sends to this creditor.
func (e *testEnv) header() pagopa.Header {
	c := e.cfg.Creditor
	return pagopa.Header{IDPA: c.FiscalCode, IDBrokerPA: c.BrokerID, IDStation: c.StationID}
}

// receiptFor is a valid OK receipt (as in pagopa/soap_test.go) for the debt's notice.
func (e *testEnv) receiptFor(d DebtResponse, receiptID string) pagopa.ReceiptV2 {
	ec := e.cfg.Creditor.FiscalCode
	r := pagopa.ReceiptV2{
		ReceiptID: receiptID, NoticeNumber: d.NoticeNumber, FiscalCode: ec,
		Outcome: "OK", CreditorReferenceID: d.IUV, PaymentAmount: d.AmountCents.Decimal(),
		Description: d.Description, CompanyName: e.cfg.Creditor.Name,
		IDPSP: "SIMPSP01", PSPCompanyName: "PSP Simulato", IDChannel: "SIMPSP01_01",
		ChannelDescription: "app", PaymentMethod: "creditCard", Fee: "1.00",
		PaymentDateTime: "2026-11-25T10:11:12", ApplicationDate: "2026-11-25", TransferDate: "2026-11-26",
	}
	r.Debtor.UniqueIdentifier.Type = d.Debtor.Type
	r.Debtor.UniqueIdentifier.Value = d.Debtor.FiscalCode
	r.Debtor.FullName = d.Debtor.FullName
	r.Transfers = []pagopa.ReceiptTransfer{{
		IDTransfer: "1", TransferAmount: d.AmountCents.Decimal(), FiscalCodePA: ec,
		IBAN: e.cfg.Creditor.IBAN, RemittanceInformation: "TARI 2026", TransferCategory: "9/0101108TS/",
	}}
	return r
}

// wrapRT builds a paSendRTV2Request envelope; the request itself must validate against the XSD
// so that the server's answers are judged on inputs the Nodo could really send.
func wrapRT(t *testing.T, req pagopa.SendRTV2Request) []byte {
	t.Helper()
	return wrapRequest(t, pagopa.ElemSendRTV2Request, req)
}

// wrapRequest builds the envelope of any paForNode request, checking it against the XSD.
func wrapRequest(t *testing.T, element string, req any) []byte {
	t.Helper()
	env, err := pagopa.Wrap(element, req)
	require.NoError(t, err)
	_, inner, err := pagopa.Unwrap(bytes.NewReader(env))
	require.NoError(t, err)
	requireValidXSD(t, inner)
	return env
}

// postSOAP posts body to the paForNode endpoint with the given X-Node-Key ("" for none).
func (e *testEnv) postSOAP(t *testing.T, body []byte, nodeKey string) (*http.Response, []byte) {
	t.Helper()
	return e.postSOAPAction(t, pagopa.OpSendRTV2, body, nodeKey)
}

// postSOAPAction posts body to the paForNode endpoint with the SOAPAction header ("" for
// none) and the given X-Node-Key ("" for none).
func (e *testEnv) postSOAPAction(t *testing.T, action string, body []byte, nodeKey string) (*http.Response, []byte) {
	t.Helper()
	h := http.Header{"Content-Type": {"text/xml; charset=utf-8"}}
	if action != "" {
		h.Set("SOAPAction", action)
	}
	if nodeKey != "" {
		h.Set("X-Node-Key", nodeKey)
	}
	return e.do(t, http.MethodPost, "/pagopa/paForNode", bytes.NewReader(body), h)
}

// sendSOAP posts body with the right node key and returns the paSendRTV2Response, after
// checking that it is a SOAP envelope whose body validates against paForNode.xsd.
func (e *testEnv) sendSOAP(t *testing.T, body []byte) pagopa.Response {
	t.Helper()
	var r pagopa.SendRTV2Response
	e.callSOAP(t, pagopa.OpSendRTV2, body, pagopa.ElemSendRTV2Response, &r)
	return r.Response
}

// callSOAP posts body with the SOAPAction and the right node key, checks that the answer is
// a SOAP envelope whose body is the paForNode element wantElement and validates against
// paForNode.xsd, and decodes that element into out.
func (e *testEnv) callSOAP(t *testing.T, action string, body []byte, wantElement string, out any) {
	t.Helper()
	resp, raw := e.postSOAPAction(t, action, body, testNodeKey)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml"), resp.Header.Get("Content-Type"))
	name, inner, err := pagopa.Unwrap(bytes.NewReader(raw))
	require.NoError(t, err, string(raw))
	require.Equal(t, pagopa.NSPaForNode, name.Space)
	require.Equal(t, wantElement, name.Local, string(raw))
	requireValidXSD(t, inner)
	require.NoError(t, pagopa.DecodeBody(inner, out))
}

func (e *testEnv) sendRT(t *testing.T, req pagopa.SendRTV2Request) pagopa.Response {
	t.Helper()
	return e.sendSOAP(t, wrapRT(t, req))
}

// requireValidXSD checks an element (a SOAP body's content) against paForNode.xsd.
func requireValidXSD(t *testing.T, doc []byte) {
	t.Helper()
	specs.RequireValid(t, doc, "pagopa", "paForNode.xsd")
}

// requireFault checks a KO response with the fault code, answered in the creditor's name.
func (e *testEnv) requireFault(t *testing.T, r pagopa.Response, code string) {
	t.Helper()
	require.Equal(t, "KO", r.Outcome)
	require.NotNil(t, r.Fault)
	require.Equal(t, code, r.Fault.FaultCode, r.Fault.Description)
	require.Equal(t, code, r.Fault.FaultString)
	require.Equal(t, e.cfg.Creditor.FiscalCode, r.Fault.ID)
}

func (e *testEnv) countReceipts(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM receipts").Scan(&n))
	return n
}

func (e *testEnv) debtRow(t *testing.T, iupd string) dbgen.DebtPosition {
	t.Helper()
	d, err := dbgen.New(e.pool).GetDebtByIUPD(context.Background(), dbgen.GetDebtByIUPDParams{EcFiscalCode: e.cfg.Creditor.FiscalCode, Iupd: iupd})
	require.NoError(t, err)
	return d
}
