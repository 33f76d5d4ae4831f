package api

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"incasso/app/config"
)

// ClientIP is how the API tells a request's client address: the TCP peer's, or the address
// that the trusted reverse proxies put in X-Forwarded-For (never a header from anyone else).
func ClientIP(trustedProxies []netip.Prefix) echo.IPExtractor {
	if len(trustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trustedProxies {
		_, n, _ := net.ParseCIDR(p.String()) // a netip.Prefix always parses
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// rateLimited limits the requests of each identifier (an address, an API client) to r,
// refusing the others with 429, Retry-After and a problem. A zero rate lets everything through.
func rateLimited(r config.Rate, whose string, identify func(echo.Context) (string, error), skip middleware.Skipper) echo.MiddlewareFunc {
	if r.PerSecond <= 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: rate.Limit(r.PerSecond), Burst: r.Burst, ExpiresIn: 3 * time.Minute,
	})
	retry := strconv.Itoa(int(r.RetryAfter().Seconds()))
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: skip, Store: store, IdentifierExtractor: identify,
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", retry)
			return problem(http.StatusTooManyRequests, "too many requests from this "+whose+": retry after "+retry+" s")
		},
		ErrorHandler: func(c echo.Context, _ error) error {
			return problem(http.StatusForbidden, "the client cannot be identified")
		},
	})
}

// limitIP limits each client address, except on the health checks (probes of the load
// balancer) and the Nodo's endpoint (a 429 there could stop a citizen's payment; the Nodo is
// authenticated by its secret, and better on its own listener).
func (s *Server) limitIP() echo.MiddlewareFunc {
	return rateLimited(s.Config.Limits.PerIP, "address", func(c echo.Context) (string, error) { return c.RealIP(), nil },
		func(c echo.Context) bool {
			p := c.Path()
			return p == "/healthz" || p == "/readyz" || p == nodePath
		})
}

// limitClient limits each authenticated API client (key or console session), after
// requireAPIKey.
func (s *Server) limitClient() echo.MiddlewareFunc {
	return rateLimited(s.Config.Limits.PerClient, "API client", func(c echo.Context) (string, error) {
		return principalOf(c).Actor(), nil
	}, nil)
}

// limitBody refuses a body over Config.Limits.BodyBytes (2 MiB when unset) with 413 before the
// handler runs: by its Content-Length, or, when the length is unknown (chunked), by reading it
// up to the limit first. The campaign upload and the console limit their own bodies.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	limit := s.Config.Limits.BodyBytes
	if limit == 0 {
		limit = 2 << 20
	}
	tooLarge := problem(http.StatusRequestEntityTooLarge, "the body may be at most "+strconv.FormatInt(limit>>10, 10)+" KiB")
	return func(c echo.Context) error {
		req := c.Request()
		if ownBodyLimit(c) || c.Path() == "/console/*" || req.Body == nil || req.Body == http.NoBody {
			return next(c)
		}
		if req.ContentLength > limit {
			return tooLarge
		}
		if req.ContentLength < 0 { // net/http holds a known length to its word
			buf, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
			if err != nil {
				return problem(http.StatusBadRequest, "cannot read the request body")
			}
			if int64(len(buf)) > limit {
				return tooLarge
			}
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(buf)), int64(len(buf))
		}
		return next(c)
	}
}
