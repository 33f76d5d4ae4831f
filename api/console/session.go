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
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"incasso/services/apiclients"
)

const (
	// cookieName is the session cookie.
	cookieName = "incasso_console"
	// SessionLength is how long a session lasts from the login.
	SessionLength = 8 * time.Hour
)

// session is a logged-in operator: the API client whose key was typed at the login.
type session struct {
	Client  string
	Expires time.Time
	// CSRF is the token every POST form of the session carries.
	CSRF string
}

// sessions signs and checks session cookies. A cookie's value is
//
//	base64url("client|expiry unix|key fingerprint|nonce") "." base64url(HMAC-SHA256(key, that))
//
// so it needs no server-side state; the fingerprint of the client's API key ends the session
// as soon as the key is replaced or disabled. Logging out revokes the cookie in this process
// until it expires.
type sessions struct {
	key []byte

	mu      sync.Mutex
	revoked map[string]time.Time // the cookie's MAC -> its expiry
}

func newSessions(key string) *sessions {
	k := []byte(key)
	if len(k) == 0 {
		k = make([]byte, 32)
		_, _ = rand.Read(k) // never fails
	}
	return &sessions{key: k, revoked: map[string]time.Time{}}
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

// issue returns the cookie value of a new session.
func (s *sessions) issue(client string, fingerprint []byte, expires time.Time) string {
	nonce := make([]byte, 12) // each login its own session, and CSRF token
	_, _ = rand.Read(nonce)
	payload := client + "|" + strconv.FormatInt(expires.Unix(), 10) + "|" + hex.EncodeToString(fingerprint) + "|" + hex.EncodeToString(nonce)
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(s.mac("session", payload))
}

// errNoSession covers every way a cookie is not a valid session.
var errNoSession = errors.New("no valid console session")

// fingerprintFunc returns the fingerprint of a client's current API key.
type fingerprintFunc func(ctx context.Context, client string) ([]byte, error)

// check verifies a cookie value at now: its signature, its expiry, that it was not revoked,
// and that the client's key is still the one it logged in with.
func (s *sessions) check(ctx context.Context, value string, now time.Time, fingerprint fingerprintFunc) (session, error) {
	p64, m64, ok := strings.Cut(value, ".")
	if !ok {
		return session{}, errNoSession
	}
	payload, err1 := b64.DecodeString(p64)
	mac, err2 := b64.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac("session", string(payload))) {
		return session{}, errNoSession
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 4 {
		return session{}, errNoSession
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return session{}, errNoSession
	}
	s.mu.Lock()
	_, revoked := s.revoked[string(mac)]
	s.mu.Unlock()
	if revoked {
		return session{}, errNoSession
	}
	want, err := hex.DecodeString(parts[2])
	if err != nil {
		return session{}, errNoSession
	}
	got, err := fingerprint(ctx, parts[0])
	if errors.Is(err, apiclients.ErrUnknown) {
		return session{}, errNoSession
	} else if err != nil {
		return session{}, err
	}
	if !bytes.Equal(got, want) {
		return session{}, errNoSession
	}
	return session{Client: parts[0], Expires: time.Unix(exp, 0), CSRF: s.csrf(value)}, nil
}

// csrf is the CSRF token of the session whose cookie value is given.
func (s *sessions) csrf(value string) string {
	return b64.EncodeToString(s.mac("csrf", value))
}

// validCSRF reports whether token is the session's CSRF token.
func (s *sessions) validCSRF(sess session, token string) bool {
	return token != "" && hmac.Equal([]byte(token), []byte(sess.CSRF))
}

// revoke ends the session of a cookie value in this process, forgetting the expired ones.
func (s *sessions) revoke(value string, now time.Time) {
	_, m64, _ := strings.Cut(value, ".")
	mac, err := b64.DecodeString(m64)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, exp := range s.revoked {
		if !now.Before(exp) {
			delete(s.revoked, k)
		}
	}
	s.revoked[string(mac)] = now.Add(SessionLength)
}

// secure reports whether the request came over TLS, here or at a proxy in front.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// setCookie sets (or, with an empty value, clears) the session cookie. Path is / because the
// pages also read GET /v1/... with it.
func setCookie(w http.ResponseWriter, r *http.Request, value string, expires time.Time) {
	c := &http.Cookie{
		Name: cookieName, Value: value, Path: "/", HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: -1,
	}
	if value != "" {
		c.Expires, c.MaxAge = expires, int(SessionLength.Seconds())
	}
	http.SetCookie(w, c)
}
