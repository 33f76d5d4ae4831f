// Package console is the finance office's web console: server-rendered pages in Italian
// (html/template, a stylesheet and a few lines of JavaScript, all embedded) to import
// collection campaigns, launch and follow them, and withdraw them. The API serves it under
// /console/ (api.Server.Console); everything it does goes through the application services
// (services/campaigns, services/apiclients), the same code as the REST endpoints.
//
// # Sessions
//
// A person logs in with their user and password (services/users, incasso user add), or with
// an API key. The session is a cookie (HttpOnly, SameSite=Strict, Secure when the request
// came over TLS) holding the user's or client's name, the expiry (8 hours after the login) and
// a fingerprint of the password or key and the role, signed with HMAC-SHA256: changing or
// disabling them ends its sessions. Each page is allowed to the roles of its line in
// services/access (403 for the others), and audited as that line says. The signing key is
// INCASSO_CONSOLE_KEY (config.Config.ConsoleKey), else random for each process: sessions then
// end when the API restarts, and a load balancer must keep an operator on one instance.
// The API also accepts the session on its GET endpoints, which the pages poll and link to.
//
// Every POST form carries a CSRF token, an HMAC of the session cookie, and is refused (403)
// without it. The login form carries one too, an HMAC of a login cookie set with the form, good
// for one attempt (a second use is refused, on any instance); login attempts are limited per
// client address. Logging out revokes the cookie in PostgreSQL, so that no API instance accepts
// it again.
//
// Pages carry no personal data in their URLs (campaign ids, page numbers, the iupds, which
// are opaque keys) and the API's request log records routes, not paths.
package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/services/audit"
	"incasso/services/campaigns"
	"incasso/services/users"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options are the console's settings.
type Options struct {
	// SessionKey signs session cookies and CSRF tokens: at least 32 random characters, the
	// same on every instance of the API. Empty means a random key for this process.
	SessionKey string
	// Now is the clock of session expiries; nil means time.Now.
	Now func() time.Time
	// LoginRate limits the login attempts of each client address (zero: no limit), and
	// ClientIP tells a request's address (nil: the TCP peer's), as the API does.
	LoginRate config.Rate
	ClientIP  func(*http.Request) string
}

// Deps are the services the console works through.
type Deps struct {
	Pool      *pgxpool.Pool
	Config    config.Config // what campaigns.Import checks rows against
	Campaigns *campaigns.Service
	// WorkflowURL links a workflow in the Temporal Web UI; nil or "" for no link.
	WorkflowURL func(workflowID string) string
	// Debt and DebtorFile are a debt and a debtor's file as the API shows them (api.Server's
	// ConsoleDebt and ConsoleDebtorFile), for the debt page and the search box;
	// db.ErrNotFound when there is none.
	Debt       func(ctx context.Context, iupd string) (any, error)
	DebtorFile func(ctx context.Context, fiscalCode string) (any, error)
	// Now is the clock that says what day it is for imports and charts; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Console serves the pages under /console/.
type Console struct {
	deps     Deps
	sessions *sessions
	logins   *loginLimiter
	now      func() time.Time
	pages    map[string]*template.Template
	mux      *http.ServeMux
	patterns []string // every pattern registered, for the rule table's test
	auditKey []byte   // keys the pseudonym of the name a login was tried with
}

// New returns the console; set it as the api.Server's Console before its Handler.
func New(deps Deps, opts Options) *Console {
	if deps.WorkflowURL == nil {
		deps.WorkflowURL = func(string) string { return "" }
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	c := &Console{deps: deps, sessions: newSessions(opts.SessionKey, deps.Pool), logins: newLoginLimiter(opts.LoginRate, opts.ClientIP),
		now: opts.Now, mux: http.NewServeMux(), auditKey: audit.PseudonymKey(deps.Config.AuditKey, deps.Config.ConsoleKey)}
	if c.now == nil {
		c.now = time.Now
	}
	c.pages = parseTemplates()

	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/console/static/", http.FileServerFS(static))
	c.handle("GET /console/static/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
	c.handle("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/campagne", http.StatusFound)
	})
	c.handle("GET /console/login", c.loginForm)
	c.handle("POST /console/login", c.login)
	c.handle("GET /console/logout", c.logout)
	c.handle("POST /console/logout", c.logout)
	c.handle("GET /console/campagne", c.authed(c.listCampaigns))
	c.handle("GET /console/campagne/nuova", c.authed(c.newCampaignForm))
	c.handle("POST /console/campagne/nuova", c.authed(c.importCampaign))
	c.handle("GET /console/campagne/{id}", c.authed(c.campaignPage))
	c.handle("POST /console/campagne/{id}/{action}", c.authed(c.campaignAction))
	c.handle("GET /console/posizioni/{iupd}", c.authed(c.debtPage))
	c.handle("POST /console/cerca", c.authed(c.search))
	c.handle("GET /console/riconciliazione", c.authed(c.reconciliationPage))
	c.handle("POST /console/riconciliazione/differenze/{id}", c.authed(c.resolveDifference))
	c.handle("GET /console/posta", c.authed(c.printQueuePage))
	c.handle("POST /console/posta/{id}/spedita", c.authed(c.markLetterPosted))
	c.handle("/console/", c.authed(func(w http.ResponseWriter, r *http.Request, s session) {
		c.errorPage(w, r, &s, http.StatusNotFound, "Pagina non trovata.")
	}))
	return c
}

// handle registers a page; its rule is the line of its pattern in services/access.
func (c *Console) handle(pattern string, h http.HandlerFunc) {
	c.patterns = append(c.patterns, pattern)
	c.mux.HandleFunc(pattern, h)
}

// ServeHTTP serves the console's pages, with headers that keep them from being framed,
// cached or given scripts or styles from elsewhere.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// SessionPrincipal returns who holds the valid session r carries (api.Console).
func (c *Console) SessionPrincipal(r *http.Request) (access.Principal, bool) {
	s, err := c.session(r)
	if err != nil {
		return access.Principal{}, false
	}
	return s.Principal, true
}

func (c *Console) session(r *http.Request) (session, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return session{}, errNoSession
	}
	return c.sessions.check(r.Context(), ck.Value, c.now(), c.lookup)
}

// lookup is the user or API client of a session as it is now (sessions.check).
func (c *Console) lookup(ctx context.Context, kind, name string) (access.Principal, []byte, error) {
	q := dbgen.New(c.deps.Pool)
	var p access.Principal
	var fp []byte
	var err error
	switch kind {
	case access.KindUser:
		p, fp, err = users.ByName(ctx, q, name)
	case access.KindClient:
		p, fp, err = apiclients.ByName(ctx, q, name)
	default:
		return p, nil, errNoSession
	}
	if errors.Is(err, users.ErrUnknown) || errors.Is(err, apiclients.ErrUnknown) {
		return p, nil, errNoSession
	}
	return p, fp, err
}

// The API leaves the console's bodies to it: a campaign file posted to the console may be as
// large as one posted to POST /v1/campaigns, other forms are small.
const (
	maxUpload = 64 << 20
	maxForm   = 1 << 20
)

// authed lets only requests with a session through: the others go to the login page. The
// session's role must be one the page's rule admits (services/access), and a POST must carry
// the session's CSRF token. The pages the rule wants audited are, refusals included.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := c.session(r)
		if errors.Is(err, errNoSession) {
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		} else if err != nil {
			c.fail(w, r, nil, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), notesKey{}, map[string]string{}))
		rule, known := access.PageRule(r.Pattern)
		if audit.Wanted(r.Method, rule) {
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			defer c.audit(r, s, rec)
			w = rec
		}
		if !known || !rule.Allows(s.Principal.Role) {
			c.errorPage(w, r, &s, http.StatusForbidden, "Il proprio ruolo non consente questa pagina.")
			return
		}
		if r.Method == http.MethodPost {
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
				err = r.ParseMultipartForm(8 << 20) // larger files wait on disk
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, maxForm)
				err = r.ParseForm()
			}
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				c.errorPage(w, r, &s, http.StatusRequestEntityTooLarge, "La richiesta è troppo grande.")
				return
			} else if err != nil {
				c.errorPage(w, r, &s, http.StatusBadRequest, "La richiesta non è leggibile.")
				return
			}
			if r.MultipartForm != nil {
				defer func() { _ = r.MultipartForm.RemoveAll() }()
			}
			if !c.sessions.validCSRF(s, r.PostFormValue("csrf")) {
				c.errorPage(w, r, &s, http.StatusForbidden, "Richiesta rifiutata: il modulo è scaduto o non viene da questa console. Ricaricare la pagina e riprovare.")
				return
			}
		}
		h(w, r, s)
	}
}

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, err := c.session(r); err == nil {
		http.Redirect(w, r, "/console/campagne", http.StatusSeeOther)
		return
	}
	c.loginPage(w, r, http.StatusOK, "")
}

// loginPage shows the login form, with a new CSRF token and its cookie.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	value, expires := c.sessions.issueLogin(c.now())
	setLoginCookie(w, r, value, expires)
	data := map[string]any{"CSRF": c.sessions.loginCSRF(value)}
	if msg != "" {
		data["Error"] = msg
	}
	c.render(w, r, status, "login", nil, data)
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if wait, ok := c.logins.allow(r); !ok {
		c.log().Warn("console login refused: too many attempts from one address")
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
		c.loginPage(w, r, http.StatusTooManyRequests, "Troppi tentativi di accesso da questo indirizzo: riprovare tra "+strconv.Itoa(int(wait.Seconds()))+" secondi.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		c.loginPage(w, r, http.StatusRequestEntityTooLarge, "La richiesta non è leggibile.")
		return
	}
	var token string
	if ck, err := r.Cookie(loginCookieName); err == nil {
		token = ck.Value
	}
	fresh, err := c.sessions.useLogin(r.Context(), token, r.PostFormValue("csrf"), c.now())
	if err != nil {
		c.fail(w, r, nil, err)
		return
	} else if !fresh {
		c.log().Info("console login refused: CSRF token missing, wrong or used")
		c.loginPage(w, r, http.StatusForbidden, "Richiesta rifiutata: il modulo di accesso è scaduto o non viene da questa console. Riprovare.")
		return
	}
	q := dbgen.New(c.deps.Pool)
	var p access.Principal
	var fingerprint []byte
	tried := map[string]string{"with": "api key"} // the key itself never
	if key := strings.TrimSpace(r.PostFormValue("chiave")); key != "" {
		p, fingerprint, err = apiclients.ByKey(r.Context(), q, key, c.now())
	} else if name := strings.TrimSpace(r.PostFormValue("utente")); name != "" {
		// What was typed may be a password in the wrong box: only its pseudonym is kept.
		tried = map[string]string{"with": "password", "user": audit.Pseudonym(c.auditKey, name)}
		p, fingerprint, err = users.Login(r.Context(), q, name, r.PostFormValue("password"), c.now())
	} else {
		c.loginPage(w, r, http.StatusUnauthorized, "Inserire utente e password, oppure la chiave API.")
		return
	}
	switch {
	case errors.Is(err, apiclients.ErrUnknown) || errors.Is(err, users.ErrRefused) || errors.Is(err, users.ErrLocked):
		// One answer for an unknown name, a wrong password and a locked account, so the page
		// does not tell which names exist; the trail and the log tell the operator.
		reason := "refused"
		if errors.Is(err, users.ErrLocked) {
			reason = "account locked"
		}
		c.log().Info("console login refused", "reason", reason)
		c.auditLogin(r, "anonymous", "", tried, reason, http.StatusUnauthorized)
		c.loginPage(w, r, http.StatusUnauthorized, "Utente, password o chiave API non validi, oppure disattivati. Dopo "+
			strconv.Itoa(users.MaxFailures)+" tentativi errati l'utente resta bloccato per "+strconv.Itoa(int(users.LockFor.Minutes()))+" minuti.")
		return
	case err != nil:
		c.fail(w, r, nil, err)
		return
	}
	c.auditLogin(r, p.Actor(), p.Role, tried, "", http.StatusSeeOther)
	expires := c.now().Add(SessionLength)
	setCookie(w, r, c.sessions.issue(p, fingerprint, expires), expires)
	setLoginCookie(w, r, "", time.Time{})
	c.log().Info("console login", "actor", p.Actor(), "role", p.Role)
	http.Redirect(w, r, "/console/campagne", http.StatusSeeOther)
}

// statusRecorder remembers the status a page answered, for the audit trail.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(status int) {
	s.status = status
	s.ResponseWriter.WriteHeader(status)
}

// audit records a page in the audit trail: as the API does, the pattern, its path values,
// the reason of a form that gives one. A failure to write is logged.
func (c *Console) audit(r *http.Request, s session, rec *statusRecorder) {
	e := audit.Entry{
		At: c.now(), Actor: s.Principal.Actor(), Role: s.Principal.Role, Action: r.Pattern,
		Targets: map[string]string{}, IP: c.logins.clientIP(r), Outcome: rec.status,
	}
	for _, name := range []string{"id", "action", "iupd"} {
		if v := r.PathValue(name); v != "" {
			e.Targets[name] = v
		}
	}
	for k, v := range notesOf(r) {
		e.Targets[k] = v
	}
	if r.Method == http.MethodPost {
		e.Reason = r.PostFormValue("reason")
	}
	if _, err := (audit.Trail{Pool: c.deps.Pool}).Append(r.Context(), e); err != nil {
		c.log().Error("audit trail not written", "pattern", r.Pattern, "status", rec.status, "err", err)
	}
}

type notesKey struct{}

// notesOf are the targets a page adds to its audit entry (a debtor's pseudonym, never
// personal data in clear).
func notesOf(r *http.Request) map[string]string {
	n, _ := r.Context().Value(notesKey{}).(map[string]string)
	if n == nil {
		n = map[string]string{} // outside authed: written to, never read
	}
	return n
}

// auditLogin records a login attempt in the audit trail: who logged in, or, refused, only
// how and the pseudonym of the name tried. A failure to write is logged.
func (c *Console) auditLogin(r *http.Request, actor string, role access.Role, targets map[string]string, reason string, status int) {
	e := audit.Entry{
		At: c.now(), Actor: actor, Role: role, Action: "POST /console/login",
		Targets: targets, Reason: reason, IP: c.logins.clientIP(r), Outcome: status,
	}
	if _, err := (audit.Trail{Pool: c.deps.Pool}).Append(r.Context(), e); err != nil {
		c.log().Error("audit trail not written", "pattern", "POST /console/login", "status", status, "err", err)
	}
}

// logout ends the session, on every instance. It needs no CSRF token: the worst a forged one
// does is log out.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(cookieName); err == nil && ck.Value != "" {
		if err := c.sessions.revoke(r.Context(), ck.Value, c.now()); err != nil {
			c.fail(w, r, nil, err)
			return
		}
	}
	setCookie(w, r, "", time.Time{})
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

func (c *Console) log() *slog.Logger {
	return c.deps.Log.With("component", "console")
}

// fail answers an unexpected error: logged, and a page that says so without details.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	c.log().Error("console error", "pattern", r.Pattern, "err", err)
	c.errorPage(w, r, s, http.StatusInternalServerError, "Si è verificato un errore interno; è stato registrato. Riprovare tra poco.")
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	c.render(w, r, status, "error", s, map[string]any{"Status": status, "Message": msg})
}

// render executes a page with the layout; data gets the session as "Session".
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, s *session, data map[string]any) {
	data["Session"] = s
	var buf strings.Builder
	if err := c.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		c.log().Error("console template", "page", page, "err", err)
		http.Error(w, "errore interno", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

func parseTemplates() map[string]*template.Template {
	pages := map[string]*template.Template{}
	for _, page := range []string{"login", "error", "campaigns", "new", "campaign", "debt", "debtor", "reconciliation", "printroom"} {
		pages[page] = template.Must(template.New(page).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html"))
	}
	return pages
}

// pathID reads a positive id from the request's path.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}
