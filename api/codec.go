package api

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"incasso/worker/codec"
)

// The codec server: POST /codec/encode and /codec/decode, Temporal's remote codec protocol
// (a JSON Payloads body, answered in kind), so that the Temporal Web UI (its codec endpoint is
// <API>/codec) and CLI (--codec-endpoint <API>/codec --codec-auth "Bearer <key>") show the
// payloads that package codec encrypted. It exists when the API has payload keys.
//
// Who may call it: an API client (its key), or a console session, whose cookie the Web UI
// sends when it is on the same site and told to include credentials, of a role its rule
// admits (operator, auditor: services/access). Pages of the origins of Config.CodecOrigins (else of TemporalUIURL)
// may read its answers (CORS).
func (s *Server) codecRoutes(e *echo.Echo) {
	if s.Config.PayloadKeys == nil {
		return
	}
	h := echo.WrapHandler(codec.Handler(s.Config.PayloadKeys))
	chain := []echo.MiddlewareFunc{s.codecCORS(), s.codecAuth, s.authorize}
	methods := []string{http.MethodPost, http.MethodOptions} // OPTIONS: the CORS preflight
	e.Match(methods, "/codec/encode", h, chain...)
	e.Match(methods, "/codec/decode", h, chain...)
}

// codecCORS lets the Temporal Web UI's origins call the codec server with credentials.
func (s *Server) codecCORS() echo.MiddlewareFunc {
	origins := s.Config.CodecOrigins
	if len(origins) == 0 && s.TemporalUIURL != "" {
		if u, err := url.Parse(s.TemporalUIURL); err == nil && u.Host != "" {
			origins = []string{u.Scheme + "://" + u.Host}
		}
	}
	if len(origins) == 0 {
		origins = []string{"null"} // no page may read the answers
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:     origins,
		AllowMethods:     []string{http.MethodPost},
		AllowHeaders:     []string{echo.HeaderContentType, echo.HeaderAuthorization, "X-API-Key", "X-Namespace"},
		AllowCredentials: true,
		MaxAge:           600,
	})
}

// codecAuth admits an API key, or else a console session, whatever the method.
func (s *Server) codecAuth(next echo.HandlerFunc) echo.HandlerFunc {
	withKey := s.requireAPIKey(next)
	return func(c echo.Context) error {
		r := c.Request()
		if s.Console != nil && r.Header.Get(echo.HeaderAuthorization) == "" && r.Header.Get("X-API-Key") == "" {
			if p, ok := s.Console.SessionPrincipal(r); ok {
				c.Set(principalKey, p)
				return next(c)
			}
		}
		return withKey(c)
	}
}
