package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/services/campaigns"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"incasso/api"
	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/services/debts"
	"incasso/workflows"
)

// fakeTemporal records what the API asks of Temporal.
type fakeTemporal struct {
	mu         sync.Mutex
	executions []client.StartWorkflowOptions
	args       []any
	signals    []string
	signalErr  error
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.executions = append(f.executions, o)
	f.args = append(f.args, args...)
	return nil, nil
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, id, _ string, name string, _ any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = append(f.signals, id+" "+name)
	return f.signalErr
}

func (f *fakeTemporal) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, fmt.Errorf("not in these tests")
}

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, nil
}

func (f *fakeTemporal) started() []client.StartWorkflowOptions {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]client.StartWorkflowOptions(nil), f.executions...)
}

// env is the API with its console on a fresh database, over real HTTP.
type env struct {
	pool *pgxpool.Pool
	cfg  config.Config
	srv  *api.Server
	con  *Console
	fake *fakeTemporal
	url  string
	key  string
	now  atomic.Int64
}

// newEnv starts the API with its console on a fresh database; opts change the console's options.
func newEnv(t *testing.T, opts ...func(*Options)) *env {
	t.Helper()
	pool, _ := testdb.New(t)
	cfg, err := config.FromEnv()
	require.NoError(t, err)
	cfg.TemporalNamespace = "test-ns"
	e := &env{pool: pool, cfg: cfg, fake: &fakeTemporal{}}
	e.now.Store(time.Now().UnixNano())
	e.serve(t, opts...)
	e.key, err = apiclients.NewKey()
	require.NoError(t, err)
	require.NoError(t, apiclients.Ensure(context.Background(), dbgen.New(pool), "tributi", e.key, apiclients.Grant{Role: access.Finance}))
	return e
}

// serve starts an API instance with its console on e's database, and makes it e's.
func (e *env) serve(t *testing.T, opts ...func(*Options)) {
	t.Helper()
	e.srv = &api.Server{
		Pool: e.pool, Temporal: e.fake, Config: e.cfg, TemporalUIURL: "http://temporal.example:8233",
		Log: slog.New(slog.DiscardHandler),
	}
	e.srv.Campaigns = &campaigns.Service{Pool: e.pool, Temporal: e.fake, TaskQueue: e.cfg.TaskQueue, Log: e.srv.Log}
	o := Options{Now: func() time.Time { return time.Unix(0, e.now.Load()) }}
	for _, opt := range opts {
		opt(&o)
	}
	e.con = New(Deps{Pool: e.pool, Config: e.cfg, Campaigns: e.srv.Campaigns, WorkflowURL: e.srv.WorkflowURL, Log: e.srv.Log,
		Debt: e.srv.ConsoleDebt, DebtorFile: e.srv.ConsoleDebtorFile}, o)
	e.srv.Console = e.con
	ts := httptest.NewServer(e.srv.Handler())
	t.Cleanup(ts.Close)
	e.url = ts.URL
}

// instance is another API instance on the same database, with the console options opts.
func (e *env) instance(t *testing.T, opts ...func(*Options)) *env {
	t.Helper()
	other := &env{pool: e.pool, cfg: e.cfg, fake: e.fake, key: e.key}
	other.now.Store(e.now.Load())
	other.serve(t, opts...)
	return other
}

func (e *env) advance(d time.Duration) { e.now.Add(int64(d)) }

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	e    *env
	http *http.Client
}

func (e *env) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(t *testing.T, req *http.Request) page {
	t.Helper()
	resp, err := b.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return page{resp.StatusCode, resp.Header, string(body)}
}

func (b *browser) get(t *testing.T, path string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.url+path, nil)
	require.NoError(t, err)
	return b.do(t, req)
}

func (b *browser) post(t *testing.T, path string, form url.Values) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.url+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(t, req)
}

func (b *browser) upload(t *testing.T, fields map[string]string, filename, content string) page {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if filename != "" {
		fw, err := mw.CreateFormFile("file", filename)
		require.NoError(t, err)
		_, _ = fw.Write([]byte(content))
	}
	require.NoError(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, b.e.url+"/console/campagne/nuova", &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(t, req)
}

// login fills in the login form, as a browser does: the page first (its CSRF token and
// cookie), then the form.
func (b *browser) login(t *testing.T, key string) page {
	t.Helper()
	return b.post(t, "/console/login", url.Values{"chiave": {key}, "csrf": {b.loginToken(t)}})
}

// loginToken opens the login page and returns its form's CSRF token.
func (b *browser) loginToken(t *testing.T) string {
	t.Helper()
	return b.tokenOf(t, "/console/login")
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a console page.
func (b *browser) csrf(t *testing.T) string {
	t.Helper()
	return b.tokenOf(t, "/console/campagne")
}

// tokenOf opens the page at path and returns the CSRF token of its forms.
func (b *browser) tokenOf(t *testing.T, path string) string {
	t.Helper()
	p := b.get(t, path)
	require.Equal(t, http.StatusOK, p.status)
	m := csrfPattern.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no CSRF token in %s", path)
	return m[1]
}

func (b *browser) cookie() *http.Cookie {
	u, _ := url.Parse(b.e.url)
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

func requireLoginRedirect(t *testing.T, p page) {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, "/console/login", p.header.Get("Location"))
}

func TestLoginLogout(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)

	requireLoginRedirect(t, b.get(t, "/console/campagne"))
	requireLoginRedirect(t, b.get(t, "/console/campagne/1"))
	require.Equal(t, "/console/", b.get(t, "/console").header.Get("Location"))
	require.Equal(t, "/console/campagne", b.get(t, "/console/").header.Get("Location"))
	login := b.get(t, "/console/login")
	require.Equal(t, http.StatusOK, login.status)
	require.Contains(t, login.body, `name="chiave"`)
	require.Contains(t, login.header.Get("Content-Security-Policy"), "default-src 'none'")

	bad := b.login(t, "ik_not-a-key")
	require.Equal(t, http.StatusUnauthorized, bad.status)
	require.Contains(t, bad.body, "non validi")
	require.Nil(t, b.cookie())

	ok := b.login(t, e.key)
	require.Equal(t, http.StatusSeeOther, ok.status)
	require.Equal(t, "/console/campagne", ok.header.Get("Location"))
	setCookie := ok.header.Get("Set-Cookie")
	require.Contains(t, setCookie, cookieName+"=")
	require.Contains(t, setCookie, "HttpOnly")
	require.Contains(t, setCookie, "SameSite=Strict")
	require.Contains(t, setCookie, "Path=/")
	require.Contains(t, setCookie, "Max-Age=28800")
	require.NotContains(t, setCookie, "Secure", "plain HTTP: no Secure flag")
	require.NotContains(t, setCookie, "tributi", "the client's name is encoded, not in clear")

	list := b.get(t, "/console/campagne")
	require.Equal(t, http.StatusOK, list.status)
	require.Contains(t, list.body, "tributi")
	require.Contains(t, list.body, "Nessuna campagna finora")

	// The session reads the API's GET endpoints, and nothing else.
	require.Equal(t, http.StatusOK, b.get(t, "/v1/campaigns").status)
	req, _ := http.NewRequest(http.MethodPost, e.url+"/v1/campaigns/1/launch", nil)
	require.Equal(t, http.StatusUnauthorized, b.do(t, req).status)

	old := b.cookie()
	require.NotNil(t, old)
	out := b.post(t, "/console/logout", url.Values{})
	requireLoginRedirect(t, out)
	require.Contains(t, out.header.Get("Set-Cookie"), "Max-Age=0")
	require.Nil(t, b.cookie())
	requireLoginRedirect(t, b.get(t, "/console/campagne"))

	// The cookie of the session logged out is dead, also if someone kept it.
	thief := e.browser(t)
	u, _ := url.Parse(e.url)
	thief.http.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: old.Value}})
	requireLoginRedirect(t, thief.get(t, "/console/campagne"))
	require.Equal(t, http.StatusUnauthorized, thief.get(t, "/v1/campaigns").status)
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	e.advance(SessionLength - time.Minute)
	require.Equal(t, http.StatusOK, b.get(t, "/console/campagne").status)
	require.Equal(t, http.StatusOK, b.get(t, "/v1/campaigns").status)
	e.advance(time.Minute)
	requireLoginRedirect(t, b.get(t, "/console/campagne"))
	require.Equal(t, http.StatusUnauthorized, b.get(t, "/v1/campaigns").status)
	// The login page is there again, and a new login works.
	require.Equal(t, http.StatusOK, b.get(t, "/console/login").status)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	require.Equal(t, http.StatusOK, b.get(t, "/console/campagne").status)
}

func TestSessionEndsWithItsKey(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	require.Equal(t, http.StatusOK, b.get(t, "/console/campagne").status)
	newKey, err := apiclients.NewKey()
	require.NoError(t, err)
	require.NoError(t, apiclients.Ensure(context.Background(), dbgen.New(e.pool), "tributi", newKey, apiclients.Grant{Role: access.Finance}))
	requireLoginRedirect(t, b.get(t, "/console/campagne"))
	require.Equal(t, http.StatusUnauthorized, b.login(t, e.key).status)
	require.Equal(t, http.StatusSeeOther, b.login(t, newKey).status)
	require.Equal(t, http.StatusOK, b.get(t, "/console/campagne").status)
}

func TestForgedCookiesAreRefused(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, apiclients.Ensure(context.Background(), dbgen.New(e.pool), "admin", "other", apiclients.Grant{Role: access.Finance}))
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	value := b.cookie().Value
	payload, mac, _ := strings.Cut(value, ".")
	raw, err := b64.DecodeString(payload)
	require.NoError(t, err)
	admin, fp, _ := apiclients.ByName(context.Background(), dbgen.New(e.pool), "admin")

	later := time.Unix(0, e.now.Load()).Add(100 * SessionLength)
	other := newSessions("", nil) // another process's key
	for name, forged := range map[string]string{
		"other client, same MAC": b64.EncodeToString([]byte(strings.Replace(string(raw), "tributi", "admin", 1))) + "." + mac,
		"longer expiry":          b64.EncodeToString([]byte(strings.Replace(string(raw), "|", "|9", 1))) + "." + mac,
		"another key":            other.issue(admin, fp, later),
		"no MAC":                 payload,
		"garbage":                "%%%.%%%",
	} {
		t.Run(name, func(t *testing.T) {
			f := e.browser(t)
			u, _ := url.Parse(e.url)
			f.http.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: forged}})
			requireLoginRedirect(t, f.get(t, "/console/campagne"))
			require.Equal(t, http.StatusUnauthorized, f.get(t, "/v1/campaigns").status)
		})
	}
}

func TestCookieIsSecureOverTLS(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		target, proto string
	}{{"https://console.example/console/login", ""}, {"http://console.example/console/login", "https"}} {
		form := httptest.NewRequest(http.MethodGet, strings.Replace(tc.target, "https", "http", 1), nil)
		rec := httptest.NewRecorder()
		e.con.ServeHTTP(rec, form)
		token := csrfPattern.FindStringSubmatch(rec.Body.String())[1]
		req := httptest.NewRequest(http.MethodPost, tc.target, strings.NewReader(url.Values{"chiave": {e.key}, "csrf": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range rec.Result().Cookies() {
			req.AddCookie(c)
		}
		if tc.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		rec = httptest.NewRecorder()
		e.con.ServeHTTP(rec, req)
		require.Equal(t, http.StatusSeeOther, rec.Code)
		require.Contains(t, rec.Header().Get("Set-Cookie"), "; Secure")
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	id := seedCampaign(t, e, "Mensa 2026", 3, 0)
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	token := b.csrf(t)

	other := e.browser(t) // the same operator in another browser has another token
	require.Equal(t, http.StatusSeeOther, other.login(t, e.key).status)
	otherToken := other.csrf(t)
	require.NotEqual(t, token, otherToken)

	path := fmt.Sprintf("/console/campagne/%d/avvia", id)
	for name, form := range map[string]url.Values{
		"no token":              {"rate": {"200"}},
		"empty token":           {"rate": {"200"}, "csrf": {""}},
		"another session's":     {"rate": {"200"}, "csrf": {otherToken}},
		"a token made up":       {"rate": {"200"}, "csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
		"the token of a cookie": {"rate": {"200"}, "csrf": {b.cookie().Value}},
	} {
		p := b.post(t, path, form)
		require.Equal(t, http.StatusForbidden, p.status, name)
		require.Contains(t, p.body, "Richiesta rifiutata", name)
	}
	p := b.upload(t, map[string]string{"name": "Senza token"}, "c.csv", validCSV)
	require.Equal(t, http.StatusForbidden, p.status)
	require.Empty(t, e.fake.started(), "nothing may happen without the token")
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM campaigns").Scan(&n))
	require.Equal(t, 1, n)

	p = b.post(t, path, url.Values{"rate": {"200"}, "csrf": {token}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, fmt.Sprintf("/console/campagne/%d?esito=avviata", id), p.header.Get("Location"))
	started := e.fake.started()
	require.Len(t, started, 1)
	require.Equal(t, workflows.CampaignWorkflowID(id), started[0].ID)
	require.Equal(t, workflows.CampaignInput{CampaignID: id, Rate: 200}, e.fake.args[0])
}

// seedCampaign stores a campaign of rows rows through the queries, the first debts of which
// became debts: 60% ISSUED, 20% OVERDUE, the rest PAID but one in ten CANCELLED, each of
// 123,45 euro, the paid ones collected over the three days before today.
func seedCampaign(t *testing.T, e *env, name string, rows, debtCount int) int64 {
	t.Helper()
	ctx := context.Background()
	q := dbgen.New(e.pool)
	id, err := q.CreateCampaign(ctx, dbgen.CreateCampaignParams{Name: name, SourceFilename: "tari-2026.csv", CreatedBy: "tributi"})
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `INSERT INTO campaign_rows (campaign_id, row_no, iupd, service_code, debtor_type,
		debtor_fiscal_code, debtor_name, debtor_email, amount_cents, due_date, description)
		SELECT $1::bigint, g + 1, 'C' || $1::bigint || '-' || g, 'TARI', 'F', 'RSSMRA85T10A562S', 'Mario Rossi', 'mario.rossi@example.it',
		       12345, '2027-01-31', 'TARI 2026'
		FROM generate_series(1, $2::int) g`, id, rows)
	require.NoError(t, err)
	require.NoError(t, q.FinishCampaignImport(ctx, dbgen.FinishCampaignImportParams{ID: id, SourceSha256: []byte{1}, RowsTotal: int32(rows)}))
	for i := 1; i <= debtCount; i++ {
		d, _, err := debts.Store(ctx, q, e.cfg.Creditor, debts.New{
			IUPD: fmt.Sprintf("C%d-%d", id, i), ServiceCode: "TARI", Amount: 12345, DueDate: date.Date{Year: 2027, Month: 1, Day: 31},
			Description: "TARI 2026", CampaignID: id,
			Debtor: debts.Debtor{Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Mario Rossi", Email: "mario.rossi@example.it"},
		})
		require.NoError(t, err)
		require.NoError(t, q.SetCampaignRowDebt(ctx, dbgen.SetCampaignRowDebtParams{CampaignID: id, RowNo: int32(i + 1), DebtID: pgtype.Int8{Int64: d.ID, Valid: true}}))
		status := workflows.StatusIssued
		switch {
		case i > debtCount*8/10 && i%10 == 0:
			status = workflows.StatusCancelled
		case i > debtCount*8/10:
			status = workflows.StatusPaid
		case i > debtCount*6/10:
			status = workflows.StatusOverdue
		}
		_, err = e.pool.Exec(ctx, `UPDATE debt_positions SET status = $2,
			cancel_reason = CASE WHEN $2 = 'CANCELLED' THEN 'Iscrizione duplicata' END,
			cancelled_at = CASE WHEN $2 = 'CANCELLED' THEN now() END WHERE id = $1`, d.ID, status)
		require.NoError(t, err)
		if status == workflows.StatusPaid {
			paidAt := time.Now().AddDate(0, 0, -1-i%3)
			_, err = e.pool.Exec(ctx, `INSERT INTO receipts (receipt_id, debt_id, nav, amount_cents, outcome, psp_id, psp_name,
				channel_id, raw_xml, paid_at) VALUES ($1, $2, $3, 12345, 'OK', 'PSP', 'PSP', 'CH', '<x/>', $4)`,
				fmt.Sprintf("R-%d", d.ID), d.ID, d.Nav, paidAt)
			require.NoError(t, err)
		}
	}
	// Two rows could not become debts at launch.
	for _, row := range []int{debtCount + 2, debtCount + 3} {
		if row <= rows+1 {
			require.NoError(t, q.SetCampaignRowError(ctx, dbgen.SetCampaignRowErrorParams{CampaignID: id, RowNo: int32(row), Error: "dueDate: in the past"}))
		}
	}
	if debtCount > 0 {
		_, err = q.SetCampaignStatus(ctx, dbgen.SetCampaignStatusParams{ID: id, Status: workflows.CampaignRunning})
		require.NoError(t, err)
	}
	return id
}

func TestCampaignPages(t *testing.T) {
	e := newEnv(t)
	name := `TARI 2026 <b>saldo</b> & "conguaglio"`
	id := seedCampaign(t, e, name, 120, 110)
	// 110 debts: 66 issued, 22 overdue, 19 paid, 3 cancelled.
	issued, overdue, paid := int64(66), int64(22), int64(19)
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)

	list := b.get(t, "/console/campagne")
	require.Equal(t, http.StatusOK, list.status)
	require.NotContains(t, list.body, "<b>saldo</b>", "the name is escaped")
	require.Contains(t, list.body, "TARI 2026 &lt;b&gt;saldo&lt;/b&gt; &amp; &#34;conguaglio&#34;")
	require.Contains(t, list.body, fmt.Sprintf(`href="/console/campagne/%d"`, id))
	require.Contains(t, list.body, "In corso")
	row := regexp.MustCompile(`(?s)<tr>.*?</tr>`).FindAllString(list.body[strings.Index(list.body, "<tbody>"):], -1)
	require.Len(t, row, 1)
	cells := cellTexts(row[0])
	collected := money.Cents(paid * 12345)
	require.Equal(t, []string{"120", "110", "19", "2.345,55", date.InRome(time.Now()).Italian()}, cells[2:])

	p := b.get(t, fmt.Sprintf("/console/campagne/%d", id))
	require.Equal(t, http.StatusOK, p.status)
	require.NotContains(t, p.body, "<b>saldo</b>")
	for field, want := range map[string]string{
		"rows": "120", "started": "110", "debts.issued": fmt.Sprint(issued), "debts.paid": fmt.Sprint(paid),
		"debts.overdue": fmt.Sprint(overdue), "debts.inInstalments": "0", "debts.cancelled": "3", "errors": "2",
		// The tiles of the debts add up to those started: being issued and superseded have theirs.
		"debts.created": "0", "debts.superseded": "0",
		"amounts.issuedCents":      money.Cents((issued + overdue + paid) * 12345).Italian(),
		"amounts.collectedCents":   collected.Italian(),
		"amounts.outstandingCents": money.Cents((issued + overdue) * 12345).Italian(),
	} {
		m := regexp.MustCompile(`data-field="`+regexp.QuoteMeta(field)+`"[^>]*>([^<]*)<`).FindAllStringSubmatch(p.body, -1)
		require.NotEmpty(t, m, field)
		for _, got := range m {
			require.Equal(t, want, got[1], field)
		}
	}
	require.Equal(t, "13.209,15", money.Cents((issued+overdue+paid)*12345).Italian())
	require.Contains(t, p.body, `<progress id="bar-started" data-value="started" max="120" value="110">91%</progress>`)
	require.Contains(t, p.body, `<progress id="bar-paid" class="paid" data-value="debts.paid" max="120" value="19">15%</progress>`)
	require.Contains(t, p.body, fmt.Sprintf(`data-poll="/v1/campaigns/%d"`, id))
	require.Contains(t, p.body, `id="pausa"`)
	require.Contains(t, p.body, `id="annulla"`)
	require.NotContains(t, p.body, `id="avvia"`, "a running campaign is not launched again")
	require.Contains(t, p.body, `id="ritira"`)
	require.Contains(t, p.body, "http://temporal.example:8233/namespaces/test-ns/workflows/campaign/")

	// The chart: one point a day from the first receipt (3 days ago) to today, per series.
	svg := regexp.MustCompile(`(?s)<svg class="chart".*?</svg>`).FindString(p.body)
	require.NotEmpty(t, svg)
	points := map[string][][2]float64{}
	for _, m := range regexp.MustCompile(`<polyline class="(\w+)" points="([^"]*)"`).FindAllStringSubmatch(svg, -1) {
		for _, xy := range strings.Fields(m[2]) {
			var x, y float64
			_, err := fmt.Sscanf(xy, "%f,%f", &x, &y)
			require.NoError(t, err, xy)
			points[m[1]] = append(points[m[1]], [2]float64{x, y})
		}
	}
	require.Len(t, points["collected"], 4, svg)
	require.Len(t, points["outstanding"], 4, svg)
	require.Equal(t, 8, strings.Count(svg, "<circle"))
	c, o := points["collected"], points["outstanding"]
	for i := 1; i < 4; i++ {
		require.Greater(t, c[i][0], c[i-1][0], "days go right")
		require.LessOrEqual(t, c[i][1], c[i-1][1], "collected only grows (SVG y goes down)")
		require.GreaterOrEqual(t, o[i][1], o[i-1][1], "outstanding only shrinks")
	}
	require.Greater(t, c[0][1], c[3][1], "something was collected over the days")
	require.Contains(t, svg, "incassati "+collected.Italian()+" euro")

	// The debts, 50 a page, in the order of the file, each linked to its page and workflow.
	rows := regexp.MustCompile(`(?s)<table class="list" id="debiti">.*?</table>`).FindString(p.body)
	require.Equal(t, 50, strings.Count(rows, "<tr>")-1)
	require.Contains(t, rows, fmt.Sprintf(`<a href="/console/posizioni/C%d-1">`, id))
	require.Contains(t, rows, fmt.Sprintf(`http://temporal.example:8233/namespaces/test-ns/workflows/debt/%s/C%d-1`, e.cfg.Creditor.FiscalCode, id))
	require.Contains(t, rows, "123,45")
	require.Contains(t, rows, "31/01/2027")
	require.Contains(t, rows, "Emesso")
	require.Contains(t, p.body, "Pagina 1 di 3")
	last := b.get(t, fmt.Sprintf("/console/campagne/%d?pagina=3", id))
	rows = regexp.MustCompile(`(?s)<table class="list" id="debiti">.*?</table>`).FindString(last.body)
	require.Equal(t, 10, strings.Count(rows, "<tr>")-1)
	require.Contains(t, rows, fmt.Sprintf("C%d-110<", id))
	require.Contains(t, rows, "Pagato")
	require.Contains(t, rows, "Annullato")
	require.Contains(t, last.body, "Pagina 3 di 3")

	// The page polls the API's JSON with the session.
	j := b.get(t, fmt.Sprintf("/v1/campaigns/%d", id))
	require.Equal(t, http.StatusOK, j.status)
	var progress api.CampaignProgress
	require.NoError(t, json.Unmarshal([]byte(j.body), &progress))
	require.Equal(t, int64(110), progress.Started)
	require.Equal(t, name, progress.Name)
	require.Equal(t, http.StatusOK, b.get(t, fmt.Sprintf("/v1/debts/C%d-1", id)).status)

	require.Equal(t, http.StatusNotFound, b.get(t, "/console/campagne/999999").status)
	require.Equal(t, http.StatusNotFound, b.get(t, "/console/campagne/abc").status)
	require.Equal(t, http.StatusNotFound, b.get(t, "/console/altro").status)
	css := b.get(t, "/console/static/console.css")
	require.Equal(t, http.StatusOK, css.status)
	require.Contains(t, css.header.Get("Content-Type"), "text/css")
}

func cellTexts(row string) []string {
	var out []string
	tags := regexp.MustCompile(`<[^>]+>`)
	for _, m := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(row, -1) {
		out = append(out, strings.TrimSpace(tags.ReplaceAllString(m[1], "")))
	}
	return out
}

const validCSV = "iupd;servizio;tipo;codice_fiscale;nominativo;email;importo;scadenza;causale\r\n" +
	"WEB-1;TARI;F;RSSMRA85T10A562S;Mario Rossi;mario.rossi@example.it;123,45;31/01/2099;TARI 2026\r\n" +
	"WEB-2;TARI;F;RSSMRA85T10A562S;Mario Rossi;mario.rossi@example.it;1.234,50;31/01/2099;TARI 2026\r\n"

func TestImportFromConsole(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	token := b.csrf(t)
	form := b.get(t, "/console/campagne/nuova")
	require.Equal(t, http.StatusOK, form.status)
	require.Contains(t, form.body, `enctype="multipart/form-data"`)
	require.Contains(t, form.body, "Avvia solo le righe valide")

	// Refused: every error listed by row and column, nothing stored.
	bad := validCSV + "WEB-3;TARI;F;RSSMRA85T10A562X;Mario Rossi;mario.rossi@example.it;abc;31/01/2099;TARI 2026\r\n"
	p := b.upload(t, map[string]string{"csrf": token, "name": "TARI <saldo>"}, "tari.csv", bad)
	require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
	require.Contains(t, p.body, "Il file ha 2 errori in 1 riga su 3")
	report := regexp.MustCompile(`(?s)<table class="list" id="rapporto">.*?</table>`).FindString(p.body)
	var got [][]string
	for _, r := range regexp.MustCompile(`(?s)<tr>.*?</tr>`).FindAllString(report, -1)[1:] {
		got = append(got, cellTexts(r)[:2])
	}
	require.Equal(t, [][]string{{"4", "codice_fiscale"}, {"4", "importo"}}, got)
	require.Contains(t, p.body, `value="TARI &lt;saldo&gt;"`, "the name stays in the form, escaped")
	require.NotContains(t, p.body, "RSSMRA85T10A562X", "the report never repeats the values")
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM campaigns").Scan(&n))
	require.Zero(t, n)

	// A file that cannot be read at all.
	p = b.upload(t, map[string]string{"csrf": token, "name": "Vuota"}, "tari.csv", "nome;cognome\r\n")
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "Il file non è leggibile")

	// No name, no file.
	p = b.upload(t, map[string]string{"csrf": token, "name": " "}, "tari.csv", validCSV)
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "Indicare il nome")
	p = b.upload(t, map[string]string{"csrf": token, "name": "Senza file"}, "", "")
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "Scegliere il file")

	// Valid rows only: stored without the bad row, and the campaign page says so.
	p = b.upload(t, map[string]string{"csrf": token, "name": "TARI <saldo>", "validOnly": "true"}, "tari.csv", bad)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	loc := p.header.Get("Location")
	require.Regexp(t, `^/console/campagne/\d+\?esito=importata$`, loc)
	cp := b.get(t, loc)
	require.Equal(t, http.StatusOK, cp.status)
	require.Contains(t, cp.body, "Campagna importata")
	require.Contains(t, cp.body, `data-field="rows">2<`)
	require.Contains(t, cp.body, `data-field="rejectedRows">1<`)
	require.Contains(t, cp.body, `id="avvia"`)
	require.Contains(t, cp.body, "tari.csv")
	var createdBy string
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT created_by FROM campaigns").Scan(&createdBy))
	require.Equal(t, "client:tributi", createdBy)

	// A clean file, as JSON.
	js := `[{"iupd":"WEB-J1","serviceCode":"IMU","debtor":{"type":"F","fiscalCode":"RSSMRA85T10A562S","fullName":"Mario Rossi","email":"mario.rossi@example.it"},"amountCents":5000,"dueDate":"2099-06-16","description":"IMU 2026 acconto"}]`
	p = b.upload(t, map[string]string{"csrf": token, "name": "IMU acconto"}, "imu.json", js)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)

	// Over the 2 MB the API's other routes take, as POST /v1/campaigns does.
	var big strings.Builder
	big.WriteString("iupd;servizio;tipo;codice_fiscale;nominativo;email;importo;scadenza;causale\r\n")
	for i := range 25_000 {
		fmt.Fprintf(&big, "BIG-%05d;TARI;F;RSSMRA85T10A562S;Mario Rossi;mario.rossi@example.it;12,34;31/01/2099;TARI 2026\r\n", i)
	}
	require.Greater(t, big.Len(), 2<<20)
	p = b.upload(t, map[string]string{"csrf": token, "name": "Grande"}, "grande.csv", big.String())
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Contains(t, b.get(t, p.header.Get("Location")).body, `data-field="rows">25.000<`)
}

func TestCampaignActions(t *testing.T) {
	e := newEnv(t)
	name := "TARI 2026"
	id := seedCampaign(t, e, name, 5, 0)
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	token := b.csrf(t)
	base := fmt.Sprintf("/console/campagne/%d/", id)

	p := b.post(t, base+"avvia", url.Values{"csrf": {token}, "rate": {"5000"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "Il ritmo di avvio va da 1 a 1000")
	require.Empty(t, e.fake.started())

	// Pausing a campaign whose workflow does not exist: the API's 409, in Italian.
	e.fake.mu.Lock()
	e.fake.signalErr = serviceerror.NewNotFound("no such workflow")
	e.fake.mu.Unlock()
	p = b.post(t, base+"pausa", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusConflict, p.status)
	require.Contains(t, p.body, "Operazione non possibile")
	e.fake.mu.Lock()
	e.fake.signalErr = nil
	e.fake.mu.Unlock()
	for action, signal := range map[string]string{"pausa": workflows.SignalCampaignPause, "riprendi": workflows.SignalCampaignResume, "annulla": workflows.SignalCampaignCancel} {
		p = b.post(t, base+action, url.Values{"csrf": {token}})
		require.Equal(t, http.StatusSeeOther, p.status, action)
		require.Contains(t, e.fake.signals, workflows.CampaignWorkflowID(id)+" "+signal)
	}

	// Withdrawing needs a reason and the name typed again.
	p = b.post(t, base+"ritira", url.Values{"csrf": {token}, "reason": {"Ruolo duplicato"}, "confirm": {"TARI"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "scrivere il nome della campagna esattamente")
	require.Contains(t, p.body, ">Ruolo duplicato</textarea>", "the reason stays in the form")
	p = b.post(t, base+"ritira", url.Values{"csrf": {token}, "reason": {" "}, "confirm": {name}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "Indicare il motivo del ritiro")
	p = b.post(t, base+"ritira", url.Values{"csrf": {token}, "reason": {"Ruolo duplicato"}, "confirm": {name}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	started := e.fake.started()
	require.Equal(t, workflows.CampaignWithdrawWorkflowID(id), started[len(started)-1].ID)
	page := b.get(t, p.header.Get("Location"))
	require.Contains(t, page.body, "Ritiro avviato")
	require.Contains(t, page.body, "Campagna ritirata. Motivo: Ruolo duplicato")
	require.NotContains(t, page.body, `id="ritira"`)
	require.NotContains(t, page.body, `id="avvia"`)

	p = b.post(t, "/console/campagne/999999/avvia", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusNotFound, p.status)
	p = b.post(t, base+"distruggi", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusNotFound, p.status)
}

func TestChartWithoutMoney(t *testing.T) {
	today := date.Date{Year: 2026, Month: 11, Day: 25}
	c := buildChart(nil, 0, today, today)
	require.True(t, c.Empty)
	require.Equal(t, 1, c.Days)
	require.Len(t, strings.Fields(c.Collected), 1)
	require.Len(t, c.Dots, 2)
	c = buildChart([]campaigns.DayAmount{{Day: date.Date{Year: 2026, Month: 9, Day: 1}, Cents: 500}}, 1000, today, today)
	require.Equal(t, 86, c.Days, "from the first receipt to today")
	require.Empty(t, c.Dots, "too many days for dots")
	require.Contains(t, c.Summary, "incassati 5,00 euro, da incassare 5,00 euro")
}

func TestNum(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1.000", 1234567: "1.234.567", -12345: "-12.345"} {
		require.Equal(t, want, num(n))
	}
}
