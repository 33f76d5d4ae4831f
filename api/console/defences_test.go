package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/app/config"
)

// sharedKey is the INCASSO_CONSOLE_KEY of API instances behind one load balancer.
func sharedKey(o *Options) { o.SessionKey = strings.Repeat("k", 40) }

func (b *browser) loginCookie() *http.Cookie {
	u, _ := url.Parse(b.e.url + "/console/login")
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == loginCookieName {
			return c
		}
	}
	return nil
}

// withCookie is a browser holding only the given cookie.
func (e *env) withCookie(t *testing.T, c *http.Cookie) *browser {
	b := e.browser(t)
	u, _ := url.Parse(e.url + "/console/login")
	b.http.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: c.Path}})
	return b
}

func requireRefused(t *testing.T, p page, status int, name string) {
	t.Helper()
	require.Equal(t, status, p.status, name)
	for _, c := range p.header.Values("Set-Cookie") {
		require.False(t, strings.HasPrefix(c, cookieName+"=") && !strings.HasPrefix(c, cookieName+"=;"), "%s: a session was issued", name)
	}
}

// The login form carries a CSRF token bound to its cookie, good for one attempt: without it,
// with another form's, or a second time, the login is refused (403) and no session starts.
func TestLoginCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	form := b.get(t, "/console/login")
	require.Contains(t, form.header.Get("Set-Cookie"), loginCookieName+"=")
	for _, attr := range []string{"Path=/console/login", "Max-Age=3600", "HttpOnly", "SameSite=Strict"} {
		require.Contains(t, form.header.Get("Set-Cookie"), attr)
	}
	token := b.loginToken(t)
	cookie := b.loginCookie()
	require.NotNil(t, cookie)

	other := e.browser(t)
	otherToken := other.loginToken(t)

	for name, form := range map[string]url.Values{
		"no token":          {"chiave": {e.key}},
		"empty token":       {"chiave": {e.key}, "csrf": {""}},
		"another form's":    {"chiave": {e.key}, "csrf": {otherToken}},
		"the cookie itself": {"chiave": {e.key}, "csrf": {cookie.Value}},
	} {
		p := e.withCookie(t, cookie).post(t, "/console/login", form)
		requireRefused(t, p, http.StatusForbidden, name)
		require.Contains(t, p.body, "Richiesta rifiutata", name)
	}
	p := e.browser(t).post(t, "/console/login", url.Values{"chiave": {e.key}, "csrf": {token}})
	requireRefused(t, p, http.StatusForbidden, "the token without its cookie (another site's form)")

	// The right pair logs in, once.
	ok := e.withCookie(t, cookie).post(t, "/console/login", url.Values{"chiave": {e.key}, "csrf": {token}})
	require.Equal(t, http.StatusSeeOther, ok.status, ok.body)
	replay := e.withCookie(t, cookie).post(t, "/console/login", url.Values{"chiave": {e.key}, "csrf": {token}})
	requireRefused(t, replay, http.StatusForbidden, "replayed")

	// ... also on another API instance, and a failed attempt uses the token up too.
	e1, e2 := e.instance(t, sharedKey), e.instance(t, sharedKey)
	b1 := e1.browser(t)
	token = b1.loginToken(t)
	cookie = b1.loginCookie()
	require.Equal(t, http.StatusUnauthorized, b1.post(t, "/console/login", url.Values{"chiave": {"ik_wrong"}, "csrf": {token}}).status)
	requireRefused(t, e2.withCookie(t, cookie).post(t, "/console/login", url.Values{"chiave": {e.key}, "csrf": {token}}), http.StatusForbidden, "replayed on another instance")

	// The refusal shows a fresh form that works; an hour-old form does not.
	again := b1.loginToken(t)
	require.Equal(t, http.StatusSeeOther, b1.post(t, "/console/login", url.Values{"chiave": {e.key}, "csrf": {again}}).status)
	late := e1.browser(t)
	lateToken := late.loginToken(t)
	e1.now.Add(int64(loginTokenLength))
	requireRefused(t, late.post(t, "/console/login", url.Values{"chiave": {e.key}, "csrf": {lateToken}}), http.StatusForbidden, "expired")
}

// A session's CSRF token dies with the session: after logging out and in again, the old
// page's token is refused.
func TestSessionCSRFReplayedAfterLogout(t *testing.T) {
	e := newEnv(t)
	id := seedCampaign(t, e, "Mensa 2026", 3, 0)
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	old := b.csrf(t)
	require.Equal(t, http.StatusSeeOther, b.post(t, "/console/logout", url.Values{"csrf": {old}}).status)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	p := b.post(t, fmt.Sprintf("/console/campagne/%d/avvia", id), url.Values{"rate": {"200"}, "csrf": {old}})
	require.Equal(t, http.StatusForbidden, p.status)
	require.Empty(t, e.fake.started())
}

// Logging out on one API instance ends the session on the others: the revocation is in the
// database.
func TestLogoutRevokesOnEveryInstance(t *testing.T) {
	e := newEnv(t, sharedKey)
	second := e.instance(t, sharedKey)
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	cookie := b.cookie()

	elsewhere := second.browser(t)
	u, _ := url.Parse(second.url)
	elsewhere.http.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: cookie.Value}})
	require.Equal(t, http.StatusOK, elsewhere.get(t, "/console/campagne").status, "the session works on every instance")
	require.Equal(t, http.StatusOK, elsewhere.get(t, "/v1/campaigns").status)

	requireLoginRedirect(t, b.post(t, "/console/logout", url.Values{}))
	requireLoginRedirect(t, elsewhere.get(t, "/console/campagne"))
	require.Equal(t, http.StatusUnauthorized, elsewhere.get(t, "/v1/campaigns").status)
	third := e.instance(t, sharedKey) // started after the logout
	thief := third.browser(t)
	u, _ = url.Parse(third.url)
	thief.http.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: cookie.Value}})
	requireLoginRedirect(t, thief.get(t, "/console/campagne"))

	var kinds []string
	rows, err := e.pool.Query(context.Background(), "SELECT kind FROM console_revocations ORDER BY kind")
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		kinds = append(kinds, k)
	}
	require.Equal(t, []string{"login", "session"}, kinds, "the login form used, the session ended")

	e.advance(SessionLength + time.Minute) // expired rows go as new ones come
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM console_revocations").Scan(&n))
	require.Equal(t, 1, n)
}

// Login attempts are limited per client address: beyond the burst, 429 with Retry-After,
// even with the right key; another address is not held up.
func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.LoginRate = config.Rate{PerSecond: 1.0 / 60, Burst: 3}
		o.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	})
	attempt := func(client, key string) page {
		b := e.browser(t)
		token := b.loginToken(t)
		req, err := http.NewRequest(http.MethodPost, e.url+"/console/login", strings.NewReader(url.Values{"chiave": {key}, "csrf": {token}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Client", client)
		return b.do(t, req)
	}
	for i := range 3 {
		require.Equal(t, http.StatusUnauthorized, attempt("203.0.113.5", fmt.Sprintf("ik_guess-%d", i)).status)
	}
	p := attempt("203.0.113.5", e.key)
	requireRefused(t, p, http.StatusTooManyRequests, "over the limit")
	require.Equal(t, "60", p.header.Get("Retry-After"))
	require.Contains(t, p.body, "Troppi tentativi")
	require.Equal(t, http.StatusSeeOther, attempt("203.0.113.6", e.key).status)
}

// A console form over its limit is refused with 413, and changes nothing.
func TestConsoleBodyLimit(t *testing.T) {
	e := newEnv(t)
	id := seedCampaign(t, e, "Mensa 2026", 3, 0)
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.login(t, e.key).status)
	token := b.csrf(t)
	p := b.post(t, fmt.Sprintf("/console/campagne/%d/ritira", id), url.Values{"csrf": {token}, "reason": {strings.Repeat("x", maxForm)}, "confirm": {"Mensa 2026"}})
	require.Equal(t, http.StatusRequestEntityTooLarge, p.status)
	var status string
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT status FROM campaigns WHERE id = $1", id).Scan(&status))
	require.Equal(t, "READY", status)
	require.Empty(t, e.fake.started())

	p = e.browser(t).post(t, "/console/login", url.Values{"chiave": {strings.Repeat("x", maxForm)}})
	require.Equal(t, http.StatusRequestEntityTooLarge, p.status)
}
