package console

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/db/dbgen"
	"incasso/services/access"
)

const (
	// cookieName is the session cookie.
	cookieName = "incasso_console"
	// SessionLength is how long a session lasts from the login.
	SessionLength = 8 * time.Hour
)

// session is a logged-in person: a console user, or the API client whose key was typed at
// the login.
type session struct {
	Principal access.Principal
	Expires   time.Time
	// CSRF is the token every POST form of the session carries.
	CSRF string
}

// sessions signs and checks session cookies. A cookie's value is
//
//	base64url("actor|expiry unix|fingerprint|nonce") "." base64url(HMAC-SHA256(key, that))
//
// where actor is "user:<name>" or "client:<name>", so it needs no server-side state; the
// fingerprint of the user's password and role, or of the client's API key and grant, ends the
// session as soon as either is changed, or the account disabled. Logging out revokes the cookie in PostgreSQL
// (console_revocations) until it expires, for every API instance.
type sessions struct {
	key  []byte
	pool *pgxpool.Pool // where revocations are kept
}

func newSessions(key string, pool *pgxpool.Pool) *sessions {
	k := []byte(key)
	if len(k) == 0 {
		k = make([]byte, 32)
		_, _ = rand.Read(k) // never fails
	}
	return &sessions{key: k, pool: pool}
}

func (s *sessions) mac(purpose string, data ...string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(purpose))
	for _, d := range data {
		h.Write([]byte{0})
		h.Write([]byte(d))
	}
	return h.Sum(nil)
}

var b64 = base64.RawURLEncoding

// sign returns payload and its MAC for purpose as a cookie value.
func (s *sessions) sign(purpose, payload string) string {
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(s.mac(purpose, payload))
}

// verify returns the payload of a cookie value that sign made for purpose, and its MAC.
func (s *sessions) verify(purpose, value string) (payload []string, mac []byte, ok bool) {
	p64, m64, ok := strings.Cut(value, ".")
	if !ok {
		return nil, nil, false
	}
	raw, err1 := b64.DecodeString(p64)
	mac, err2 := b64.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac(purpose, string(raw))) {
		return nil, nil, false
	}
	return strings.Split(string(raw), "|"), mac, true
}

// expiry reads a payload's expiry (unix seconds) and tells whether it is after now.
func expiry(field string, now time.Time) (time.Time, bool) {
	exp, err := strconv.ParseInt(field, 10, 64)
	return time.Unix(exp, 0), err == nil && now.Before(time.Unix(exp, 0))
}

func nonce() string {
	n := make([]byte, 12) // each login its own session, and CSRF token
	_, _ = rand.Read(n)
	return hex.EncodeToString(n)
}

// issue returns the cookie value of a new session.
func (s *sessions) issue(p access.Principal, fingerprint []byte, expires time.Time) string {
	return s.sign("session", p.Actor()+"|"+strconv.FormatInt(expires.Unix(), 10)+"|"+hex.EncodeToString(fingerprint)+"|"+nonce())
}

// errNoSession covers every way a cookie is not a valid session.
var errNoSession = errors.New("no valid console session")

// lookupFunc returns the principal of an actor (a user, or an API client) as it is now, and
// the fingerprint of its password or key and grant; errNoSession when it is gone.
type lookupFunc func(ctx context.Context, kind, name string) (access.Principal, []byte, error)

// check verifies a cookie value at now: its signature, its expiry, that it was not revoked,
// and that the user's password and role, or the client's key and grant, are still those it
// logged in with.
func (s *sessions) check(ctx context.Context, value string, now time.Time, lookup lookupFunc) (session, error) {
	parts, mac, ok := s.verify("session", value)
	if !ok || len(parts) != 4 {
		return session{}, errNoSession
	}
	exp, ok := expiry(parts[1], now)
	if !ok {
		return session{}, errNoSession
	}
	revoked, err := s.revoked(ctx, mac, now)
	if err != nil {
		return session{}, err
	} else if revoked {
		return session{}, errNoSession
	}
	want, err := hex.DecodeString(parts[2])
	if err != nil {
		return session{}, errNoSession
	}
	kind, name, ok := strings.Cut(parts[0], ":")
	if !ok {
		return session{}, errNoSession
	}
	p, got, err := lookup(ctx, kind, name)
	if err != nil {
		return session{}, err
	}
	if !bytes.Equal(got, want) {
		return session{}, errNoSession
	}
	return session{Principal: p, Expires: exp, CSRF: s.csrf(value)}, nil
}

// csrf is the CSRF token of the session whose cookie value is given.
func (s *sessions) csrf(value string) string {
	return b64.EncodeToString(s.mac("csrf", value))
}

// validCSRF reports whether token is the session's CSRF token.
func (s *sessions) validCSRF(sess session, token string) bool {
	return token != "" && hmac.Equal([]byte(token), []byte(sess.CSRF))
}

// revoke ends the session of a cookie value on every instance, until it expires.
func (s *sessions) revoke(ctx context.Context, value string, now time.Time) error {
	parts, mac, ok := s.verify("session", value)
	if !ok || len(parts) != 4 {
		return nil // no session to end
	}
	exp, ok := expiry(parts[1], now)
	if !ok {
		return nil // over already
	}
	_, err := s.revokeToken(ctx, mac, "session", exp, now)
	return err
}

// The login form's CSRF token (a double-submit token, signed): the form carries an HMAC of
// the login cookie, whose value is base64url("expiry unix|nonce").MAC; each token is good for
// one login attempt, on any instance, within loginTokenLength.
const (
	loginCookieName  = "incasso_login"
	loginTokenLength = time.Hour
)

// issueLogin returns the value of a new login cookie and its expiry.
func (s *sessions) issueLogin(now time.Time) (string, time.Time) {
	expires := now.Add(loginTokenLength)
	return s.sign("login", strconv.FormatInt(expires.Unix(), 10)+"|"+nonce()), expires
}

// loginCSRF is the form token of a login cookie value.
func (s *sessions) loginCSRF(value string) string {
	return b64.EncodeToString(s.mac("login-csrf", value))
}

// useLogin reports whether token is the form token of the login cookie value, which is valid
// and was never used; it is used up then, on every instance.
func (s *sessions) useLogin(ctx context.Context, value, token string, now time.Time) (bool, error) {
	parts, mac, ok := s.verify("login", value)
	if !ok || len(parts) != 2 || token == "" || !hmac.Equal([]byte(token), []byte(s.loginCSRF(value))) {
		return false, nil
	}
	exp, ok := expiry(parts[0], now)
	if !ok {
		return false, nil
	}
	return s.revokeToken(ctx, mac, "login", exp, now)
}

// revokeToken records a token (by the SHA-256 of its MAC) as revoked until expires, and
// reports whether it was not already; it forgets the expired ones.
func (s *sessions) revokeToken(ctx context.Context, mac []byte, kind string, expires, now time.Time) (bool, error) {
	q := dbgen.New(s.pool)
	if _, err := q.PurgeConsoleRevocations(ctx, pgtype.Timestamptz{Time: now, Valid: true}); err != nil {
		return false, fmt.Errorf("purge console revocations: %w", err)
	}
	h := sha256.Sum256(mac)
	n, err := q.RevokeConsoleToken(ctx, dbgen.RevokeConsoleTokenParams{
		TokenSha256: h[:], Kind: kind, ExpiresAt: pgtype.Timestamptz{Time: expires, Valid: true},
	})
	if err != nil {
		return false, fmt.Errorf("revoke console %s: %w", kind, err)
	}
	return n == 1, nil
}

// revoked reports whether the token of that MAC was revoked and has not expired.
func (s *sessions) revoked(ctx context.Context, mac []byte, now time.Time) (bool, error) {
	h := sha256.Sum256(mac)
	revoked, err := dbgen.New(s.pool).ConsoleTokenRevoked(ctx, dbgen.ConsoleTokenRevokedParams{
		TokenSha256: h[:], ExpiresAt: pgtype.Timestamptz{Time: now, Valid: true},
	})
	if err != nil {
		return false, fmt.Errorf("read console revocations: %w", err)
	}
	return revoked, nil
}

// secure reports whether the request came over TLS, here or at a proxy in front.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// setCookie sets (or, with an empty value, clears) the session cookie. Path is / because the
// pages also read GET /v1/... with it.
func setCookie(w http.ResponseWriter, r *http.Request, value string, expires time.Time) {
	writeCookie(w, r, cookieName, "/", value, expires, SessionLength)
}

// setLoginCookie sets (or, with an empty value, clears) the login form's cookie, which only
// the login page reads.
func setLoginCookie(w http.ResponseWriter, r *http.Request, value string, expires time.Time) {
	writeCookie(w, r, loginCookieName, "/console/login", value, expires, loginTokenLength)
}

// writeCookie sets a console cookie (HttpOnly, SameSite=Strict, Secure over TLS) that lasts
// length, or clears it when value is empty.
func writeCookie(w http.ResponseWriter, r *http.Request, name, path, value string, expires time.Time, length time.Duration) {
	c := &http.Cookie{
		Name: name, Value: value, Path: path, HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: -1,
	}
	if value != "" {
		c.Expires, c.MaxAge = expires, int(length.Seconds())
	}
	http.SetCookie(w, c)
}
