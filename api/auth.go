package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"incasso/db/dbgen"
	"incasso/services/apiclients"
)

// requireAPIKey admits requests bearing a known, enabled API key in the Authorization header
// ("Bearer <key>") or in X-API-Key; GET and HEAD requests without a key are also admitted
// with a web console session (its cookie is SameSite=Strict, and reading changes nothing).
// The client's name is kept in the context as "client".
func (s *Server) requireAPIKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get("X-API-Key")
		if auth := c.Request().Header.Get(echo.HeaderAuthorization); key == "" && strings.HasPrefix(auth, "Bearer ") {
			key = strings.TrimPrefix(auth, "Bearer ")
		}
		if m := c.Request().Method; key == "" && s.Console != nil && (m == http.MethodGet || m == http.MethodHead) {
			if name, ok := s.Console.SessionClient(c.Request()); ok {
				c.Set(clientNameKey, name)
				return next(c)
			}
		}
		if key == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="incasso"`)
			return problem(http.StatusUnauthorized, "an API key is required (Authorization: Bearer <key>)")
		}
		name, _, err := apiclients.ByKey(c.Request().Context(), dbgen.New(s.Pool), key)
		if errors.Is(err, apiclients.ErrUnknown) {
			return problem(http.StatusUnauthorized, "unknown or disabled API key")
		} else if err != nil {
			return err
		}
		c.Set(clientNameKey, name)
		return next(c)
	}
}

// nodeAuthorized reports whether the request carries the pagoPA Nodo's secret.
func (s *Server) nodeAuthorized(r *http.Request) bool {
	got := sha256.Sum256([]byte(r.Header.Get("X-Node-Key")))
	want := sha256.Sum256([]byte(s.Config.NodeKey))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// clientNameKey is where the authenticated API client's name is kept in the request context.
const clientNameKey = "client"
