package console

import (
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"incasso/app/config"
)

// loginLimiter limits the login attempts of each client address, in this process (Echo's
// memory store, as the API's rate limits): guessing API keys at the login form costs time.
type loginLimiter struct {
	rate     config.Rate
	store    *middleware.RateLimiterMemoryStore
	clientIP func(*http.Request) string
}

func newLoginLimiter(r config.Rate, clientIP func(*http.Request) string) *loginLimiter {
	l := &loginLimiter{rate: r, clientIP: clientIP}
	if l.clientIP == nil {
		l.clientIP = func(r *http.Request) string {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return host
		}
	}
	if r.PerSecond > 0 {
		l.store = middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(r.PerSecond), Burst: r.Burst, ExpiresIn: 10 * time.Minute,
		})
	}
	return l
}

// allow takes an attempt of r's address, or tells how long to wait for one.
func (l *loginLimiter) allow(r *http.Request) (time.Duration, bool) {
	if l.store == nil {
		return 0, true
	}
	ok, _ := l.store.Allow(l.clientIP(r)) // the memory store never fails
	return l.rate.RetryAfter(), ok
}
