package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/app"
	"incasso/app/config"
	"incasso/devstack"
	"incasso/devstack/devdb"
	"incasso/devstack/jsontest"
	"incasso/devstack/mailsink"
	"incasso/devstack/pagopasim"
	"incasso/devstack/temporaldev"
	"incasso/domain/date"
	"incasso/domain/pagopa"
	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/workflows"
)

// env is a running stack and what a test needs to talk to it.
type env struct {
	stack  *devstack.Stack
	apiKey string
	http   *http.Client
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// start brings up Temporal, a fresh database and the stack, all stopped at the end of t;
// configure changes the configuration first.
func start(t *testing.T, configure ...func(*config.Config)) *env {
	t.Helper()
	bin := filepath.Join(repoRoot(), "bin", "temporal")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("INCASSO_REQUIRE_E2E") != "" {
			t.Fatalf("the Temporal CLI is not at %s: run `make tools`", bin)
		}
		t.Skipf("end-to-end test skipped: the Temporal CLI is not at %s (run `make tools`, or `make test`)", bin)
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	temporal, err := temporaldev.Start(ctx, temporaldev.Options{Bin: bin})
	require.NoError(t, err, "start Temporal dev server")
	t.Cleanup(func() { _ = temporal.Stop() })

	server, err := devdb.Find(ctx, filepath.Join(repoRoot(), ".data"), log)
	require.NoError(t, err, "find PostgreSQL") // a private cluster is left running for the next run
	dbURL, drop, err := devdb.FreshDatabase(ctx, server, "incasso_e2e")
	require.NoError(t, err)
	t.Cleanup(drop)

	cfg, err := config.FromEnv()
	require.NoError(t, err)
	require.NoError(t, devstack.Configure(&cfg))
	cfg.DatabaseURL = dbURL
	cfg.TemporalAddress = temporal.Addr()
	cfg.TaskQueue = "incasso-e2e"
	cfg.RecoveryMinAge = 0 // the tests trigger the recovery job themselves
	for _, c := range configure {
		c(&cfg)
	}
	d, err := app.Connect(ctx, cfg, log)
	require.NoError(t, err)
	require.NoError(t, app.RegisterSearchAttributes(ctx, d.Temporal, cfg.TemporalNamespace))
	stack, err := devstack.Start(ctx, d, devstack.Addrs{
		API: "127.0.0.1:0", PagoPASim: "127.0.0.1:0", SMTP: "127.0.0.1:0", PECSMTP: "127.0.0.1:0", MailUI: "127.0.0.1:0",
		Metrics: "127.0.0.1:0", BankDelay: 200 * time.Millisecond,
	}, "", log)
	require.NoError(t, err)
	t.Cleanup(func() {
		cancel()
		require.NoError(t, stack.Wait())
		d.Close()
	})
	key := "e2e-" + fmt.Sprint(time.Now().UnixNano())
	require.NoError(t, app.EnsureAPIClient(ctx, d, "e2e", key, apiclients.Grant{Role: access.Finance}))
	return &env{stack: stack, apiKey: key, http: &http.Client{Timeout: 30 * time.Second}}
}

// call sends a request with the API key and decodes the JSON answer into out.
func (e *env) call(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	status, data := jsontest.Call(t, method, url, body, 0, "Authorization", "Bearer "+e.apiKey)
	if out != nil && len(data) > 0 {
		require.NoError(t, json.Unmarshal(data, out), string(data))
	}
	return status
}

type debtView struct {
	Status       workflows.DebtStatus `json:"status"`
	NoticeNumber string               `json:"noticeNumber"`
	AmountCents  int64                `json:"amountCents"`
	PaidCents    int64                `json:"paidCents"`
	WorkflowID   string               `json:"workflowId"`
	Receipts     []struct {
		ReceiptID string `json:"receiptId"`
	} `json:"receipts"`
	Communications []struct {
		Status string `json:"status"`
		SHA256 string `json:"sha256"`
	} `json:"communications"`
}

type problemView struct {
	Status int `json:"status"`
	Errors []struct {
		Field string `json:"field"`
	} `json:"errors"`
}

func (e *env) waitStatus(t *testing.T, iupd string, status workflows.DebtStatus) debtView {
	t.Helper()
	var d debtView
	require.Eventually(t, func() bool {
		e.call(t, http.MethodGet, e.stack.APIURL+"/v1/debts/"+iupd, nil, &d)
		return d.Status == status
	}, 30*time.Second, 100*time.Millisecond, "debt %s never reached %s", iupd, status)
	return d
}

func (e *env) pay(t *testing.T, nav, query string) pagopasim.PayResult {
	t.Helper()
	resp, err := e.http.Post(e.stack.PagoPASimURL+"/sim/pay/"+nav+query, "", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var res pagopasim.PayResult
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
	return res
}

func TestDebtFromRESTToPaid(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	due := time.Now().In(date.Rome).AddDate(0, 1, 0).Format("2006-01-02")
	body := map[string]any{
		"iupd": "TARI-E2E-1", "serviceCode": "TARI", "amountCents": 12345, "dueDate": due,
		"description": "TARI 2026 rata unica",
		"debtor":      map[string]any{"type": "F", "fiscalCode": "rssmra85t10a562s", "fullName": "Mario Rossi", "email": "mario.rossi@example.it"},
	}

	// No key, no entry.
	resp, err := e.http.Get(e.stack.APIURL + "/v1/debts/TARI-E2E-1")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	var created debtView
	require.Equal(t, http.StatusCreated, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts", body, &created))
	_, err = pagopa.ParseNAV(created.NoticeNumber)
	require.NoError(t, err)

	// The same request again is the same debt; the same iupd with other data is a conflict.
	var again debtView
	require.Equal(t, http.StatusOK, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts", body, &again))
	require.Equal(t, created.NoticeNumber, again.NoticeNumber)
	body["amountCents"] = 999
	require.Equal(t, http.StatusConflict, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts", body, nil))
	body["amountCents"] = 12345

	// The notice reaches the debtor by SMTP, with the PDF attached.
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msg, err := e.stack.Sink.WaitFor(waitCtx, func(m mailsink.Message) bool {
		return strings.Contains(string(m.Raw), created.NoticeNumber)
	})
	require.NoError(t, err)
	require.Equal(t, []string{"mario.rossi@example.it"}, msg.To)
	require.Contains(t, msg.Subject, "Avviso di pagamento")
	require.Contains(t, string(msg.Raw), "application/pdf")

	issued := e.waitStatus(t, "TARI-E2E-1", workflows.StatusIssued)
	require.Len(t, issued.Communications, 1)
	require.Equal(t, "SENT", issued.Communications[0].Status)

	// A PSP pays; the Nodo delivers the receipt to the EC.
	paid := e.pay(t, created.NoticeNumber, "")
	require.Equal(t, "OK", paid.Outcome)
	final := e.waitStatus(t, "TARI-E2E-1", workflows.StatusPaid)
	require.Len(t, final.Receipts, 1)
	require.Equal(t, paid.ReceiptID, final.Receipts[0].ReceiptID)
	require.Equal(t, int64(12345), final.PaidCents)

	// The Nodo re-sends the same receipt: acknowledged as a duplicate, not stored again.
	dup := e.pay(t, created.NoticeNumber, "?receiptId="+paid.ReceiptID)
	require.Equal(t, "KO", dup.Outcome)
	require.Equal(t, pagopa.FaultDuplicateReceipt, dup.FaultCode)
	var rows int
	require.NoError(t, e.stack.Deps.Pool.QueryRow(ctx, "SELECT count(*) FROM receipts").Scan(&rows))
	require.Equal(t, 1, rows)

	// The workflow ended with the receipt.
	var result workflows.DebtResult
	require.NoError(t, e.stack.Deps.Temporal.GetWorkflow(ctx, final.WorkflowID, "").Get(ctx, &result))
	require.Equal(t, workflows.DebtResult{Status: workflows.StatusPaid, ReceiptID: paid.ReceiptID}, result)

	// A receipt for a notice the comune never issued gets the right fault.
	unknown, err := pagopa.NewNAV(1, 9_999_999_999_000)
	require.NoError(t, err)
	res := e.pay(t, unknown.String(), "?organization="+e.stack.Deps.Config.Creditor.FiscalCode)
	require.Equal(t, pagopa.FaultUnknownPayment, res.FaultCode)

	// The debtor gets the quietanza by email, the channel the notice reached them on.
	waitCtx, cancel = context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	quietanza, err := e.stack.Sink.WaitFor(waitCtx, func(m mailsink.Message) bool { return strings.HasPrefix(m.Subject, "Quietanza di pagamento") })
	require.NoError(t, err)
	require.Equal(t, []string{"mario.rossi@example.it"}, quietanza.To)
	require.Contains(t, string(quietanza.Raw), paid.ReceiptID)

	// What happened shows in /metrics: the state from the database, the API's requests, the
	// calls to GPD and the SDK's own metrics.
	m := scrape(t, e.stack.MetricsURL)
	require.Equal(t, 1.0, m.value(t, "incasso_debts", `status="PAID"`))
	require.Equal(t, 12345.0, m.value(t, "incasso_debts_amount_cents", `status="PAID"`))
	require.Equal(t, 12345.0, m.value(t, "incasso_receipts_amount_cents_total", `flag=""`))
	require.Equal(t, 1.0, m.value(t, "incasso_receipts_total", `source="PUSH"`, `outcome="OK"`, `flag=""`))
	require.Equal(t, 1.0, m.value(t, "incasso_receipts_total", `flag="UNKNOWN_NOTICE"`))
	require.Equal(t, 1.0, m.value(t, "incasso_documents_total", `kind="notice"`))
	require.Equal(t, 2.0, m.value(t, "incasso_messages", `channel="email"`, `status="SENT"`), "the notice and the quietanza")
	require.Equal(t, 1.0, m.value(t, "incasso_api_requests_total", `method="POST"`, `route="/v1/debts"`, `status="201"`))
	require.Equal(t, 1.0, m.value(t, "incasso_api_requests_total", `method="GET"`, `route="/v1/debts/:iupd"`, `status="401"`))
	require.Positive(t, m.value(t, "incasso_upstream_request_duration_seconds_count", `service="gpd"`, `outcome="2xx"`))
	require.Positive(t, m.value(t, "temporal_workflow_completed", `workflow_type="Debt"`))
	require.Equal(t, 1.0, m.value(t, "incasso_state_up"))
	require.Equal(t, 0.0, m.value(t, "incasso_debts_stuck", `reason="paid_unacknowledged"`))
	require.NotContains(t, string(m), "RSSMRA85T10A562S", "no personal data in the metrics")
	require.NotContains(t, string(m), "TARI-E2E-1", "no path in the metrics")
}

// metricsText is a scrape of /metrics in Prometheus' text format.
type metricsText string

func scrape(t *testing.T, url string) metricsText {
	t.Helper()
	require.NotEmpty(t, url, "the stack serves no /metrics")
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return metricsText(data)
}

// value is the sum of the samples of metric name whose labels contain every one of labels.
func (m metricsText) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	sum, found := 0.0, false
	for _, line := range strings.Split(string(m), "\n") {
		sample, value, ok := strings.Cut(line, " ")
		if !ok || (sample != name && !strings.HasPrefix(sample, name+"{")) {
			continue
		}
		matches := true
		for _, l := range labels {
			matches = matches && strings.Contains(sample, l)
		}
		if !matches {
			continue
		}
		var v float64
		_, err := fmt.Sscan(value, &v)
		require.NoError(t, err, line)
		sum, found = sum+v, true
	}
	require.True(t, found, "no sample of %s with %v in /metrics", name, labels)
	return sum
}

func TestCreateDebtValidation(t *testing.T) {
	e := start(t)
	body := map[string]any{
		"iupd": "bad iupd with spaces", "serviceCode": "NOPE", "amountCents": 0, "dueDate": "31/12/2026",
		"description": "", "debtor": map[string]any{"type": "X", "fiscalCode": "RSSMRA85T10A562X", "fullName": "", "email": "not-an-email"},
	}
	var p problemView
	require.Equal(t, http.StatusUnprocessableEntity, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts", body, &p))
	var fields []string
	for _, fe := range p.Errors {
		fields = append(fields, fe.Field)
	}
	require.ElementsMatch(t, []string{"iupd", "serviceCode", "amountCents", "dueDate", "description",
		"debtor.type", "debtor.fiscalCode", "debtor.fullName", "debtor.email"}, fields)

	require.Equal(t, http.StatusBadRequest, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts", map[string]any{"iupd": "X", "extra": 1}, nil))
	var count int
	require.NoError(t, e.stack.Deps.Pool.QueryRow(context.Background(), "SELECT count(*) FROM debt_positions").Scan(&count))
	require.Zero(t, count, "invalid requests must change nothing")
}
