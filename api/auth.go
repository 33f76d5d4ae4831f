package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"incasso/db/dbgen"
	"incasso/services/access"
	"incasso/services/apiclients"
)

// requireAPIKey admits requests bearing a known, enabled API key in the Authorization header
// ("Bearer <key>") or in X-API-Key; GET and HEAD requests without a key are also admitted
// with a web console session (its cookie is SameSite=Strict, and reading changes nothing).
// The principal is kept in the context (principalOf).
func (s *Server) requireAPIKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := requestKey(c.Request())
		if m := c.Request().Method; key == "" && s.Console != nil && (m == http.MethodGet || m == http.MethodHead) {
			if p, ok := s.Console.SessionPrincipal(c.Request()); ok {
				c.Set(principalKey, p)
				return next(c)
			}
		}
		if key == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="incasso"`)
			return problem(http.StatusUnauthorized, "an API key is required (Authorization: Bearer <key>)")
		}
		p, _, err := apiclients.ByKey(c.Request().Context(), dbgen.New(s.Pool), key, s.Now())
		if errors.Is(err, apiclients.ErrUnknown) {
			return problem(http.StatusUnauthorized, "unknown or disabled API key")
		} else if err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// requestKey is the API key a request carries, or "".
func requestKey(r *http.Request) string {
	key := r.Header.Get("X-API-Key")
	if auth := r.Header.Get(echo.HeaderAuthorization); key == "" && strings.HasPrefix(auth, "Bearer ") {
		key = strings.TrimPrefix(auth, "Bearer ")
	}
	return key
}

// authorize lets the request through when the principal's role may call the route
// (services/access); a route without a rule is refused like a role without the right.
func (s *Server) authorize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !access.Allowed(principalOf(c).Role, c.Request().Method, c.Path()) {
			return problem(http.StatusForbidden, "this API key's role may not "+c.Request().Method+" "+c.Path())
		}
		return next(c)
	}
}

// principalOf is who the request was authenticated as; the zero Principal, which no rule
// admits, before authentication.
func principalOf(c echo.Context) access.Principal {
	p, _ := c.Get(principalKey).(access.Principal)
	return p
}

// nodeAuthorized reports whether the request carries the pagoPA Nodo's secret.
func (s *Server) nodeAuthorized(r *http.Request) bool {
	got := sha256.Sum256([]byte(r.Header.Get("X-Node-Key")))
	want := sha256.Sum256([]byte(s.Config.NodeKey))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// principalKey is where the authenticated principal is kept in the request context.
const principalKey = "principal"
