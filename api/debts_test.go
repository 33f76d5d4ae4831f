package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	enumspb "go.temporal.io/api/enums/v1"

	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/pagopa"
	"incasso/workflows"
)

func TestCreateDebtRequiresAPIKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"iupd":"A1"}`

	t.Run("no key", func(t *testing.T) {
		resp, b := e.do(t, http.MethodPost, "/v1/debts", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
		requireProblem(t, resp, b, http.StatusUnauthorized)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
	})
	t.Run("not a bearer", func(t *testing.T) {
		resp, b := e.do(t, http.MethodPost, "/v1/debts", strings.NewReader(body), http.Header{"Authorization": {"Basic " + e.apiKey}})
		requireProblem(t, resp, b, http.StatusUnauthorized)
	})
	for _, h := range []http.Header{
		{"Authorization": {"Bearer ik_unknown"}},
		{"X-API-Key": {"ik_unknown"}},
		{"Authorization": {"Bearer " + e.apiKey + "x"}},
	} {
		resp, b := e.do(t, http.MethodPost, "/v1/debts", strings.NewReader(body), h)
		requireProblem(t, resp, b, http.StatusUnauthorized)
	}
	t.Run("GET too", func(t *testing.T) {
		resp, b := e.do(t, http.MethodGet, "/v1/debts/A1", nil, nil)
		requireProblem(t, resp, b, http.StatusUnauthorized)
	})
	t.Run("X-API-Key works", func(t *testing.T) {
		resp, b := e.do(t, http.MethodGet, "/v1/debts/A1", nil, http.Header{"X-API-Key": {e.apiKey}})
		requireProblem(t, resp, b, http.StatusNotFound) // authenticated, then not found
	})
	t.Run("disabled key", func(t *testing.T) {
		_, err := e.pool.Exec(context.Background(), "UPDATE api_clients SET disabled_at = now()")
		require.NoError(t, err)
		resp, b := e.do(t, http.MethodGet, "/v1/debts/A1", nil, e.authHeader())
		requireProblem(t, resp, b, http.StatusUnauthorized)
	})
	require.Empty(t, e.fake.Executions())
}

func TestCreateDebt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ec := e.cfg.Creditor.FiscalCode
	req := validRequest("TARI-2026-000123")

	resp, body := e.postDebt(t, req)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	require.Equal(t, "/v1/debts/TARI-2026-000123", resp.Header.Get("Location"))
	require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	var d DebtResponse
	require.NoError(t, json.Unmarshal(body, &d))
	require.Equal(t, workflows.StatusCreated, d.Status)
	nav, err := pagopa.ParseNAV(d.NoticeNumber)
	require.NoError(t, err)
	require.Equal(t, e.cfg.Creditor.Segregation, nav.Segregation)
	require.Equal(t, nav.IUV(), d.IUV)
	require.Equal(t, "debt/"+ec+"/TARI-2026-000123", d.WorkflowID)

	execs := e.fake.Executions()
	require.Len(t, execs, 1)
	x := execs[0]
	require.Equal(t, "debt/"+ec+"/TARI-2026-000123", x.Options.ID)
	require.Equal(t, e.cfg.TaskQueue, x.Options.TaskQueue)
	require.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, x.Options.WorkflowIDConflictPolicy)
	require.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, x.Options.WorkflowIDReusePolicy)
	require.Equal(t, reflect.ValueOf(workflows.Debt).Pointer(), reflect.ValueOf(x.Workflow).Pointer())
	require.NotContains(t, x.Options.StaticSummary, req.Debtor.FiscalCode)
	row := e.debtRow(t, req.IUPD)
	require.Equal(t, []any{workflows.DebtInput{
		DebtID: row.ID, ECFiscalCode: ec, IUPD: req.IUPD, ServiceCode: "TARI",
		Amount: 12345, DueDate: date.Date{Year: 2026, Month: time.December, Day: 31},
	}}, x.Args)
	status, ok := x.Options.TypedSearchAttributes.GetKeyword(workflows.SearchDebtStatus)
	require.True(t, ok)
	require.Equal(t, string(workflows.StatusCreated), status)

	t.Run("same body again is idempotent and starts the workflow again", func(t *testing.T) {
		resp, body := e.postDebt(t, req)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Empty(t, resp.Header.Get("Location"))
		var again DebtResponse
		require.NoError(t, json.Unmarshal(body, &again))
		require.Equal(t, d.NoticeNumber, again.NoticeNumber)
		require.Equal(t, d.CreatedAt, again.CreatedAt)
		execs := e.fake.Executions()
		require.Len(t, execs, 2)
		require.Equal(t, execs[0].Options.ID, execs[1].Options.ID)
	})

	t.Run("same debt written differently is the same debt", func(t *testing.T) {
		same := req
		same.Debtor.FiscalCode = " rssmra85t10a562s "
		same.Debtor.FullName = " Mario Rossi "
		same.Description = req.Description + "  "
		resp, body := e.postDebt(t, same)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	})

	t.Run("workflow already started is not an error", func(t *testing.T) {
		e.fake.failExecute(serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "", "run-1"))
		defer e.fake.failExecute(nil)
		resp, body := e.postDebt(t, req)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	})

	conflicts := map[string]func(r *CreateDebtRequest){
		"amount":      func(r *CreateDebtRequest) { r.AmountCents++ },
		"due date":    func(r *CreateDebtRequest) { r.DueDate = "2027-01-31" },
		"debtor":      func(r *CreateDebtRequest) { r.Debtor.Type, r.Debtor.FiscalCode = "G", "00000000000" },
		"email":       func(r *CreateDebtRequest) { r.Debtor.Email = "altro@example.it" },
		"service":     func(r *CreateDebtRequest) { r.ServiceCode = "IMU" },
		"description": func(r *CreateDebtRequest) { r.Description = "TARI 2026 acconto" },
	}
	for name, mutate := range conflicts {
		t.Run("different "+name+" with the same iupd is a conflict", func(t *testing.T) {
			before := len(e.fake.Executions())
			other := req
			mutate(&other)
			resp, body := e.postDebt(t, other)
			p := requireProblem(t, resp, body, http.StatusConflict)
			require.Contains(t, p.Detail, req.IUPD)
			require.Len(t, e.fake.Executions(), before, "no workflow for a rejected request")
		})
	}

	// The stored debt is untouched by all of the above.
	row = e.debtRow(t, req.IUPD)
	require.Equal(t, int64(12345), row.AmountCents)
	require.Equal(t, d.NoticeNumber, row.Nav)
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM debt_positions").Scan(&n))
	require.Equal(t, 1, n)
}

func TestCreateDebtNAVsAreDistinct(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seen := map[string]bool{}
	for _, iupd := range []string{"A-1", "A-2", "A-3"} {
		d := e.mustCreateDebt(t, validRequest(iupd))
		_, err := pagopa.ParseNAV(d.NoticeNumber)
		require.NoError(t, err)
		require.False(t, seen[d.NoticeNumber], "NAV reused")
		seen[d.NoticeNumber] = true
	}
}

func TestCreateDebtConcurrentSameIUPD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req := validRequest("CONC-1")
	const n = 8
	statuses := make([]int, n)
	navs := make([]string, n)
	errs := make([]error, n)
	payload, err := json.Marshal(req)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { // no require here: FailNow must not be called outside the test goroutine
			hreq, err := http.NewRequest(http.MethodPost, e.url+"/v1/debts", bytes.NewReader(payload))
			if err != nil {
				errs[i] = err
				return
			}
			hreq.Header = e.authHeader()
			resp, err := e.client.Do(hreq)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				errs[i] = err
				return
			}
			var d DebtResponse
			if err := json.Unmarshal(body, &d); err != nil {
				errs[i] = fmt.Errorf("status %d, %s: %w", resp.StatusCode, body, err)
			}
			navs[i] = d.NoticeNumber
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	created := 0
	for i, s := range statuses {
		require.Contains(t, []int{http.StatusCreated, http.StatusOK}, s)
		if s == http.StatusCreated {
			created++
		}
		require.Equal(t, navs[0], navs[i])
	}
	require.Equal(t, 1, created)
	require.Len(t, e.fake.Executions(), n)
}

func TestCreateDebtBadJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name, body string
		detail     []string // substrings of the problem's detail
	}{
		{"empty body", ``, []string{"malformed JSON"}},
		{"not JSON", `iupd=A1`, []string{"syntax error at byte"}},
		{"truncated", `{"iupd":"A1",`, []string{"malformed JSON"}},
		{"array", `[]`, nil},
		{"unknown field", `{"iupd":"A1","amount":100}`, []string{`unknown field "amount"`}},
		{"unknown nested field", `{"iupd":"A1","debtor":{"codiceFiscale":"RSSMRA85T10A562S"}}`, []string{`unknown field "codiceFiscale"`}},
		{"amount as a string", `{"amountCents":"123.45"}`, []string{"amountCents"}},
		{"amount with decimals", `{"amountCents":123.45}`, []string{"amountCents"}},
		{"amount too large for int64", `{"amountCents":99999999999999999999}`, []string{"amountCents"}},
		{"debtor type as a number", `{"debtor":{"type":1}}`, []string{"debtor.type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := e.postDebtRaw(t, tt.body)
			p := requireProblem(t, resp, body, http.StatusBadRequest)
			for _, s := range tt.detail {
				require.Contains(t, p.Detail, s)
			}
			require.NotContains(t, p.Detail, "RSSMRA85T10A562S")
			require.NotContains(t, p.Detail, "123.45", "JSON errors must not echo values")
		})
	}
	require.Empty(t, e.fake.Executions())
}

func TestCreateDebtValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := validRequest("V-1")
	bad.Debtor.FiscalCode = "RSSMRA85T10A562X"
	bad.Debtor.Email = "mario.rossi(at)example.it"
	bad.AmountCents = 0

	resp, body := e.postDebt(t, bad)
	p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	require.Equal(t, "https://incasso.local/problems/validation", p.Type)
	require.Equal(t, []string{"debtor.fiscalCode", "debtor.email", "amountCents"}, fieldsOf(p.Errors))
	require.NotContains(t, string(body), bad.Debtor.FiscalCode)
	require.NotContains(t, string(body), bad.Debtor.Email)
	// Nothing stored, nothing started, no personal data in the log.
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM debt_positions").Scan(&n))
	require.Zero(t, n)
	require.Empty(t, e.fake.Executions())
	require.NotContains(t, e.logs.String(), bad.Debtor.FiscalCode)
	require.NotContains(t, e.logs.String(), bad.Debtor.Email)
}

// The due date is checked against today in Rome, not in UTC.
func TestCreateDebtDueDateTodayInRome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		now     string // UTC
		due     string
		wantErr bool
	}{
		{"2026-11-19T22:59:59Z", "2026-11-19", false}, // 23:59:59 on the 19th in Rome
		{"2026-11-19T23:00:00Z", "2026-11-19", true},  // midnight of the 20th in Rome, still the 19th in UTC
		{"2026-11-19T23:00:00Z", "2026-11-20", false},
		{"2026-07-31T21:59:00Z", "2026-07-31", false}, // summer time: UTC+2
		{"2026-07-31T22:00:00Z", "2026-07-31", true},
	}
	for i, tt := range tests {
		now, err := time.Parse(time.RFC3339, tt.now)
		require.NoError(t, err)
		e.setNow(now)
		req := validRequest("DUE-" + string(rune('A'+i)))
		req.DueDate = tt.due
		resp, body := e.postDebt(t, req)
		if tt.wantErr {
			p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
			require.Equal(t, []string{"dueDate"}, fieldsOf(p.Errors), tt)
		} else {
			require.Equal(t, http.StatusCreated, resp.StatusCode, "%v: %s", tt, body)
		}
	}
}

func TestCreateDebtWorkflowStartFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req := validRequest("FAIL-1")
	e.fake.failExecute(errors.New("temporal: connection refused"))

	resp, body := e.postDebt(t, req)
	p := requireProblem(t, resp, body, http.StatusServiceUnavailable)
	require.Contains(t, p.Detail, "retry")
	require.NotContains(t, p.Detail, "connection refused", "internal errors stay in the log")
	row := e.debtRow(t, req.IUPD) // stored all the same
	require.Equal(t, workflows.StatusCreated, row.Status)
	require.Len(t, e.fake.Executions(), 1)

	e.fake.failExecute(nil)
	resp, body = e.postDebt(t, req)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var d DebtResponse
	require.NoError(t, json.Unmarshal(body, &d))
	require.Equal(t, row.Nav, d.NoticeNumber)
	execs := e.fake.Executions()
	require.Len(t, execs, 2)
	require.Equal(t, row.ID, execs[1].Args[0].(workflows.DebtInput).DebtID)
}

func TestCreateDebtBodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	big := `{"description":"` + strings.Repeat("x", 3<<20) + `"}`
	resp, body := e.postDebtRaw(t, big)
	requireProblem(t, resp, body, http.StatusRequestEntityTooLarge)
}

func TestGetDebt(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // no TemporalUIURL: no workflow link

	t.Run("unknown", func(t *testing.T) {
		resp, body := e.getDebt(t, "NOPE")
		requireProblem(t, resp, body, http.StatusNotFound)
		resp, body = e.do(t, http.MethodGet, "/v1/debts/NOPE/notice.pdf", nil, e.authHeader())
		requireProblem(t, resp, body, http.StatusNotFound)
	})

	req := validRequest("RT-1")
	req.Debtor.FiscalCode = " rssmra85t10a562s "
	req.Debtor.FullName = "Niccolò Lùcà D'Àngelo"
	req.Description = strings.Repeat("é", 140) // 140 characters, 280 bytes: the database must agree
	req.AmountCents = MaxAmount
	created := e.mustCreateDebt(t, req)

	resp, body := e.getDebt(t, "RT-1")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var raw map[string]any
	require.NoError(t, json.Unmarshal(body, &raw))
	require.Equal(t, []any{}, raw["receipts"], "empty lists are [] not null")
	require.Equal(t, []any{}, raw["communications"])
	require.NotContains(t, raw, "paidAt")
	require.Equal(t, float64(MaxAmount), raw["amountCents"])
	require.Equal(t, "2026-12-31", raw["dueDate"])

	var d DebtResponse
	require.NoError(t, json.Unmarshal(body, &d))
	require.Equal(t, created, d)
	require.Equal(t, "RT-1", d.IUPD)
	require.Equal(t, "TARI", d.ServiceCode)
	require.Equal(t, workflows.StatusCreated, d.Status)
	require.Equal(t, MaxAmount, d.AmountCents)
	require.Zero(t, d.PaidCents)
	require.Equal(t, date.Date{Year: 2026, Month: time.December, Day: 31}, d.DueDate)
	require.Equal(t, req.Description, d.Description)
	require.Equal(t, Debtor{Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Niccolò Lùcà D'Àngelo", Email: "mario.rossi@example.it"}, d.Debtor)
	require.Equal(t, d.NoticeNumber[1:], d.IUV)
	require.WithinDuration(t, time.Now(), d.CreatedAt, time.Minute)
	require.Equal(t, "debt/"+e.cfg.Creditor.FiscalCode+"/RT-1", d.WorkflowID)
	require.Equal(t, map[string]string{"self": "/v1/debts/RT-1", "notice": "/v1/debts/RT-1/notice.pdf"}, d.Links)

	t.Run("notice before it exists", func(t *testing.T) {
		resp, body := e.do(t, http.MethodGet, "/v1/debts/RT-1/notice.pdf", nil, e.authHeader())
		p := requireProblem(t, resp, body, http.StatusNotFound)
		require.Contains(t, p.Detail, "notice")
	})

	t.Run("notice once issued", func(t *testing.T) {
		pdf := []byte("%PDF-1.4 test notice")
		sum := sha256.Sum256(pdf)
		_, err := dbgen.New(e.pool).InsertDocument(context.Background(), dbgen.InsertDocumentParams{
			DebtID: e.debtRow(t, "RT-1").ID, Kind: "notice", Filename: "avviso-" + d.NoticeNumber + ".pdf",
			ContentType: "application/pdf", Content: pdf, Sha256: sum[:],
		})
		require.NoError(t, err)
		resp, body := e.do(t, http.MethodGet, "/v1/debts/RT-1/notice.pdf", nil, e.authHeader())
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
		require.Equal(t, `inline; filename="avviso-`+d.NoticeNumber+`.pdf"`, resp.Header.Get("Content-Disposition"))
		require.Equal(t, pdf, body)
	})
}

func TestGetDebtWorkflowLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *Server) { s.TemporalUIURL = "http://temporal.example:8233" })
	e.mustCreateDebt(t, validRequest("LINK-1"))
	resp, body := e.getDebt(t, "LINK-1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var d DebtResponse
	require.NoError(t, json.Unmarshal(body, &d))
	require.Equal(t, "http://temporal.example:8233/namespaces/test-ns/workflows/debt/"+e.cfg.Creditor.FiscalCode+"/LINK-1", d.Links["workflow"])
}

func TestUnknownRouteIsProblem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, body := e.do(t, http.MethodGet, "/v2/nothing", nil, nil)
	requireProblem(t, resp, body, http.StatusNotFound)
	resp, body = e.do(t, http.MethodDelete, "/healthz", nil, nil)
	requireProblem(t, resp, body, http.StatusMethodNotAllowed)
}

// A body is one JSON object: anything after it means the caller sent something else than it
// thinks, and it must not be half-read.
func TestCreateDebtRejectsTrailingData(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body, err := json.Marshal(validRequest("TRAIL-1"))
	require.NoError(t, err)
	for _, trailer := range []string{` {"amountCents":1}`, ` garbage`} {
		resp, out := e.postDebtRaw(t, string(body)+trailer)
		requireProblem(t, resp, out, http.StatusBadRequest)
	}
}
