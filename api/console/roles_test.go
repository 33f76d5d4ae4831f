package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/services/access"
	"incasso/services/users"
)

const password = "una password lunga"

// loginUser logs in with a console user's name and password.
func (b *browser) loginUser(t *testing.T, name, pw string) page {
	t.Helper()
	return b.post(t, "/console/login", url.Values{"utente": {name}, "password": {pw}, "csrf": {b.loginToken(t)}})
}

func (e *env) addUser(t *testing.T, name string, role access.Role) {
	t.Helper()
	require.NoError(t, users.Add(context.Background(), dbgen.New(e.pool), name, role, password))
}

// state is what a console page could change: the campaigns and what Temporal was asked.
func (e *env) state(t *testing.T) string {
	t.Helper()
	var campaigns *string
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM campaigns c").Scan(&campaigns))
	e.fake.mu.Lock()
	defer e.fake.mu.Unlock()
	return fmt.Sprint(*campaigns, len(e.fake.executions), len(e.fake.signals))
}

// Every page the console registers has a rule, and every role gets what it says: the pages of
// its role, a 403 and nothing changed for the others.
func TestConsolePagesByRole(t *testing.T) {
	e := newEnv(t)
	for _, p := range e.con.patterns {
		_, ok := access.PageRule(p)
		require.True(t, ok, "%s has no rule in services/access/rules.go", p)
	}
	id := seedCampaign(t, e, "TARI 2026", 3, 0)
	paths := strings.NewReplacer("{id}", fmt.Sprint(id), "{action}", "pausa", "{$}", "", "{iupd}", "C1-1")
	for _, role := range access.Roles {
		t.Run(string(role), func(t *testing.T) {
			name := "u-" + string(role)
			e.addUser(t, name, role)
			b := e.browser(t)
			require.Equal(t, http.StatusSeeOther, b.loginUser(t, name, password).status)
			home := b.get(t, "/console/campagne")
			token := csrfPattern.FindStringSubmatch(home.body)[1]
			checked := 0
			for _, pattern := range e.con.patterns {
				rule, _ := access.PageRule(pattern)
				method, path, ok := strings.Cut(pattern, " ")
				if rule.Open || !ok {
					continue
				}
				before := e.state(t)
				var p page
				if method == http.MethodPost {
					p = b.post(t, paths.Replace(path), url.Values{"csrf": {token}, "name": {"x"}})
				} else {
					p = b.get(t, paths.Replace(path))
				}
				if rule.Allows(role) {
					require.NotEqual(t, http.StatusForbidden, p.status, "%s as %s", pattern, role)
				} else {
					require.Equal(t, http.StatusForbidden, p.status, "%s as %s", pattern, role)
					require.Contains(t, p.body, "Il proprio ruolo non consente")
					require.Equal(t, before, e.state(t), "%s as %s changed something", pattern, role)
				}
				checked++
			}
			require.Equal(t, 11, checked)
		})
	}
}

// A console user: logs in with name and password, its actions are audited in its name, and
// disabling it ends its session; a cookie whose user was altered is refused.
func TestConsoleUser(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "mario", access.Finance)
	id := seedCampaign(t, e, "TARI 2026", 3, 0)
	b := e.browser(t)
	p := b.loginUser(t, "mario", "sbagliata")
	require.Equal(t, http.StatusUnauthorized, p.status)
	require.Contains(t, p.body, "non validi")
	require.Nil(t, b.cookie())
	require.Equal(t, http.StatusSeeOther, b.loginUser(t, "mario", password).status)
	home := b.get(t, "/console/campagne")
	require.Equal(t, http.StatusOK, home.status)
	require.Contains(t, home.body, `title="Utente collegato">mario<`)

	p = b.post(t, fmt.Sprintf("/console/campagne/%d/pausa", id), url.Values{"csrf": {b.csrf(t)}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	var actor, action string
	var outcome int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		"SELECT actor, action, outcome FROM audit_log WHERE targets @> jsonb_build_object('id', $1::text) ORDER BY id DESC LIMIT 1",
		fmt.Sprint(id)).Scan(&actor, &action, &outcome))
	require.Equal(t, []any{"user:mario", "POST /console/campagne/{id}/{action}", http.StatusSeeOther}, []any{actor, action, outcome})

	// The same cookie naming another user: its MAC no longer holds.
	e.addUser(t, "capo", access.Finance)
	value := b.cookie().Value
	payload, mac, _ := strings.Cut(value, ".")
	raw, err := b64.DecodeString(payload)
	require.NoError(t, err)
	forged := e.browser(t)
	u, _ := url.Parse(e.url)
	forged.http.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: b64.EncodeToString([]byte(strings.Replace(string(raw), "user:mario", "user:capo", 1))) + "." + mac}})
	before := e.state(t)
	requireLoginRedirect(t, forged.post(t, fmt.Sprintf("/console/campagne/%d/annulla", id), url.Values{"csrf": {b.csrf(t)}}))
	require.Equal(t, before, e.state(t))

	require.NoError(t, users.Disable(context.Background(), dbgen.New(e.pool), "mario"))
	requireLoginRedirect(t, b.get(t, "/console/campagne"))
	require.Equal(t, http.StatusUnauthorized, b.get(t, "/v1/campaigns").status)
}

// Five wrong passwords lock the account: the right one is refused too until the lock ends.
// The page says the same for a wrong password, a locked account and a name that does not
// exist, so it tells nobody which names exist; the audit trail records each attempt, with
// only a pseudonym of the name tried.
func TestConsoleLockout(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "mario", access.Operator)
	b := e.browser(t)
	wrong := b.loginUser(t, "mario", "sbagliata")
	require.Equal(t, http.StatusUnauthorized, wrong.status)
	require.Contains(t, wrong.body, "bloccato per 15 minuti")
	for range users.MaxFailures - 1 {
		require.Equal(t, http.StatusUnauthorized, b.loginUser(t, "mario", "sbagliata").status)
	}
	locked := b.loginUser(t, "mario", password)
	unknown := b.loginUser(t, "nessuno", password)
	for _, p := range []page{locked, unknown} {
		require.Equal(t, wrong.status, p.status)
		require.Equal(t, loginMessage(t, wrong.body), loginMessage(t, p.body))
	}
	require.Nil(t, b.cookie())

	rows, err := e.pool.Query(context.Background(),
		"SELECT actor, reason, outcome, targets->>'user' FROM audit_log WHERE action = 'POST /console/login' ORDER BY id")
	require.NoError(t, err)
	type attempt struct {
		actor, reason string
		outcome       int
		user          string
	}
	var got []attempt
	for rows.Next() {
		var a attempt
		require.NoError(t, rows.Scan(&a.actor, &a.reason, &a.outcome, &a.user))
		got = append(got, a)
	}
	require.NoError(t, rows.Err())
	require.Len(t, got, users.MaxFailures+2)
	mario := got[0].user
	require.True(t, strings.HasPrefix(mario, "hmac:"), mario)
	for i, a := range got {
		want := attempt{"anonymous", "refused", http.StatusUnauthorized, mario}
		switch {
		case i == users.MaxFailures-1 || i == users.MaxFailures: // the fifth wrong one locks; then the right one meets the lock
			want.reason = "account locked"
		case i == users.MaxFailures+1:
			require.NotEqual(t, mario, a.user, "another name, another pseudonym")
			want.user = a.user
		}
		require.Equal(t, want, a, "attempt %d", i)
	}

	e.advance(users.LockFor)
	require.Equal(t, http.StatusSeeOther, b.loginUser(t, "mario", password).status)
	var actor string
	require.NoError(t, e.pool.QueryRow(context.Background(),
		"SELECT actor FROM audit_log WHERE action = 'POST /console/login' ORDER BY id DESC LIMIT 1").Scan(&actor))
	require.Equal(t, "user:mario", actor)
}

// loginMessage is the error the login page shows.
func loginMessage(t *testing.T, body string) string {
	t.Helper()
	_, after, ok := strings.Cut(body, `class="alert error" role="alert">`)
	require.True(t, ok, "the login page shows no error: %s", body)
	msg, _, _ := strings.Cut(after, "</")
	return msg
}
