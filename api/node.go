package api

import (
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"
)

// nodePath is the SOAP endpoint the pagoPA Nodo calls.
const nodePath = "/pagopa/paForNode"

// NodeHandler serves the Nodo's SOAP endpoint (and /healthz) alone, for the listener of
// Config.Node.Addr; the API's Handler then leaves it out. That listener's TLS and client
// certificates are the caller's (app).
func (s *Server) NodeHandler() *echo.Echo {
	if s.Now == nil {
		s.Now = time.Now
	}
	e := s.newEcho()
	e.POST(nodePath, s.paForNode, s.nodeAllowed)
	return e
}

// nodeAllowed refuses peers outside Config.Node.Allow, before anything is read. The peer is
// the TCP peer (RemoteAddr), never a header a client could write.
func (s *Server) nodeAllowed(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(s.Config.Node.Allow) == 0 {
			return next(c)
		}
		host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
		addr, perr := netip.ParseAddr(host)
		if err != nil || perr != nil || !s.Config.Node.Allows(addr) {
			s.Log.Warn("Nodo endpoint: peer not in INCASSO_NODE_ALLOW", "route", c.Path())
			return problem(http.StatusForbidden, "this address may not call the Nodo's endpoint")
		}
		return next(c)
	}
}
