package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/services/access"
	"incasso/services/apiclients"
)

// dbFingerprint is a digest of every row of every table of the database but the audit trail's
// (which records refused attempts too), to show that a refused request changed nothing.
func dbFingerprint(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, tables)
	out := map[string]string{}
	for _, table := range tables {
		if strings.HasPrefix(table, "audit_") {
			continue // the audit trail records attempts, the refused ones too
		}
		var digest *string
		require.NoError(t, pool.QueryRow(ctx, fmt.Sprintf(`SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM %s t`, table)).Scan(&digest))
		out[table] = fmt.Sprint(digest)
		if digest != nil {
			out[table] = *digest
		}
	}
	return out
}

// samplePath fills a route's parameters with values that name existing things.
func samplePath(path, iupd string) string {
	r := strings.NewReplacer(":iupd", iupd, ":service", "TARI", ":id", "1", ":version", "1", ":rid", "1", "*", "x")
	return r.Replace(path)
}

// Every route that takes a body refuses one over its limit with 413, with or without a
// Content-Length, before it changes anything: the database is the same and Temporal was not called.
func TestBodyLimitOnEveryRoute(t *testing.T) {
	t.Parallel()
	const limit = 8 << 10
	opt, _ := withPayloadKeys(t) // the codec routes too
	e := newEnv(t, opt, func(s *Server) { s.Config.Limits.BodyBytes = limit })
	d := e.mustCreateDebt(t, validRequest("LIMIT-1"))
	before := dbFingerprint(t, e.pool)
	calls := len(e.fake.Executions()) + len(e.fake.Signals()) + len(e.fake.Updates())

	var routes []string
	for _, r := range e.srv.Handler().Routes() {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
		default:
			continue
		}
		if strings.HasPrefix(r.Path, "/console") {
			continue // the console reads its own bodies, with its own limits (package console)
		}
		routes = append(routes, r.Method+" "+r.Path)
	}
	sort.Strings(routes)
	require.Contains(t, routes, "POST /v1/debts")
	require.Contains(t, routes, "POST /pagopa/paForNode")
	require.Contains(t, routes, "POST /codec/decode")
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		size := int64(limit + 1)
		if path == "/v1/campaigns" {
			size = maxCampaignBytes + 1 // its own, larger limit
		}
		for _, chunked := range []bool{false, true} {
			if chunked && path == "/v1/campaigns" {
				continue // streamed: the import stops at the size or the 100,000 rows and rolls back (TestImportCampaignBodyLimits)
			}
			t.Run(fmt.Sprintf("%s chunked=%v", route, chunked), func(t *testing.T) {
				req, err := http.NewRequest(method, e.url+samplePath(path, d.IUPD), io.LimitReader(zeros{}, size))
				require.NoError(t, err)
				req.ContentLength = size
				if chunked {
					req.ContentLength = -1
				}
				req.Header.Set("Authorization", "Bearer "+e.apiKey)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Node-Key", testNodeKey)
				resp, err := (&http.Client{Timeout: 30 * time.Second, Transport: e.client.Transport}).Do(req)
				require.NoError(t, err)
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(body))
				require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			})
		}
	}
	require.Equal(t, before, dbFingerprint(t, e.pool), "nothing changed in the database")
	require.Equal(t, calls, len(e.fake.Executions())+len(e.fake.Signals())+len(e.fake.Updates()), "nothing asked of Temporal")
}

// zeros reads spaces: a body of any size without holding it.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// get sends GET path with the headers and returns the status, the Retry-After and the body.
func (e *testEnv) getWith(t *testing.T, path string, h http.Header) (int, string, []byte) {
	t.Helper()
	resp, body := e.do(t, http.MethodGet, path, nil, h)
	return resp.StatusCode, resp.Header.Get("Retry-After"), body
}

func TestRateLimitPerIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *Server) {
		s.Config.Limits.PerIP = config.Rate{PerSecond: 0.5, Burst: 3}
		s.Config.Limits.PerClient = config.Rate{}
	})
	for i := range 3 {
		status, _, body := e.getWith(t, "/v1/debts/NOPE", e.authHeader())
		require.Equal(t, http.StatusNotFound, status, "request %d: %s", i, body)
	}
	resp, body := e.do(t, http.MethodGet, "/v1/debts/NOPE", nil, e.authHeader())
	p := requireProblem(t, resp, body, http.StatusTooManyRequests)
	require.Equal(t, "2", resp.Header.Get("Retry-After"), "one token every 2 s")
	require.Contains(t, p.Detail, "address")
	resp, body = e.do(t, http.MethodGet, "/v1/debts/NOPE", nil, nil)
	requireProblem(t, resp, body, http.StatusTooManyRequests) // before authentication: guessing keys is limited too

	for range 5 { // the load balancer's probes and the Nodo are not limited by address
		status, _, _ := e.getWith(t, "/healthz", nil)
		require.Equal(t, http.StatusOK, status)
	}
	resp, out := e.postSOAP(t, []byte("not SOAP"), testNodeKey)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(out))

	// X-Forwarded-For is believed only from a trusted proxy.
	spoofed := e.authHeader()
	spoofed.Set("X-Forwarded-For", "198.51.100.7")
	status, _, _ := e.getWith(t, "/v1/debts/NOPE", spoofed)
	require.Equal(t, http.StatusTooManyRequests, status, "the header of an untrusted peer is ignored")

	proxied := newEnv(t, func(s *Server) {
		s.Config.Limits.PerIP = config.Rate{PerSecond: 0.5, Burst: 1}
		s.Config.Limits.PerClient = config.Rate{}
		s.Config.Limits.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	for _, ip := range []string{"198.51.100.7", "198.51.100.8"} {
		h := proxied.authHeader()
		h.Set("X-Forwarded-For", ip)
		status, _, _ := proxied.getWith(t, "/v1/debts/NOPE", h)
		require.Equal(t, http.StatusNotFound, status, "each client behind the proxy has its own budget")
		status, _, _ = proxied.getWith(t, "/v1/debts/NOPE", h)
		require.Equal(t, http.StatusTooManyRequests, status)
	}
}

func TestRateLimitPerClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *Server) {
		s.Config.Limits.PerIP = config.Rate{}
		s.Config.Limits.PerClient = config.Rate{PerSecond: 0.2, Burst: 2}
	})
	other := e.addClient(t, "mensa", apiclients.Grant{Role: access.Finance})
	for range 2 {
		status, _, _ := e.getWith(t, "/v1/debts/NOPE", e.authHeader())
		require.Equal(t, http.StatusNotFound, status)
	}
	resp, body := e.do(t, http.MethodPost, "/v1/debts", strings.NewReader(`{}`), e.authHeader())
	p := requireProblem(t, resp, body, http.StatusTooManyRequests)
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
	require.Contains(t, p.Detail, "API client")
	require.Empty(t, e.fake.Executions())

	status, _, _ := e.getWith(t, "/v1/debts/NOPE", http.Header{"Authorization": {"Bearer " + other}})
	require.Equal(t, http.StatusNotFound, status, "another client has its own budget")
}

// addClient stores another API client with its grant and returns its key.
func (e *testEnv) addClient(t *testing.T, name string, g apiclients.Grant) string {
	t.Helper()
	key, err := apiclients.NewKey()
	require.NoError(t, err)
	require.NoError(t, apiclients.Ensure(context.Background(), dbgen.New(e.pool), name, key, g))
	return key
}
