package config

import (
	"errors"
	"net/netip"
	"os"
)

// NodeEndpoint is where and how the pagoPA Nodo reaches the SOAP endpoint /pagopa/paForNode.
// By default (no Addr) it is served on the API's own listener, the Nodo authenticated by its
// secret (INCASSO_NODE_KEY) alone.
type NodeEndpoint struct {
	// Addr, when set, serves the endpoint on its own listener and no longer on the API's
	// (INCASSO_NODE_ADDR, host:port).
	Addr string
	// CertFile and KeyFile make that listener TLS (INCASSO_NODE_TLS_CERT, INCASSO_NODE_TLS_KEY);
	// ClientCAFile then requires a client certificate issued by one of its authorities
	// (INCASSO_NODE_CLIENT_CA, PEM): mTLS.
	CertFile, KeyFile, ClientCAFile string
	// Allow, when not empty, admits only peers whose address is in one of these networks
	// (INCASSO_NODE_ALLOW: IPs and CIDRs, comma-separated). The peer is the TCP peer: behind a
	// reverse proxy that is the proxy.
	Allow []netip.Prefix
}

// nodeFromEnv reads the Nodo's endpoint settings.
func nodeFromEnv() (NodeEndpoint, error) {
	n := NodeEndpoint{
		Addr:         os.Getenv("INCASSO_NODE_ADDR"),
		CertFile:     os.Getenv("INCASSO_NODE_TLS_CERT"),
		KeyFile:      os.Getenv("INCASSO_NODE_TLS_KEY"),
		ClientCAFile: os.Getenv("INCASSO_NODE_CLIENT_CA"),
	}
	var errs []error
	if (n.CertFile == "") != (n.KeyFile == "") {
		errs = append(errs, errors.New("INCASSO_NODE_TLS_CERT and INCASSO_NODE_TLS_KEY: set both, or neither"))
	}
	if n.ClientCAFile != "" && n.CertFile == "" {
		errs = append(errs, errors.New("INCASSO_NODE_CLIENT_CA: mTLS needs INCASSO_NODE_TLS_CERT and INCASSO_NODE_TLS_KEY"))
	}
	if n.Addr == "" && (n.CertFile != "" || n.ClientCAFile != "") {
		errs = append(errs, errors.New("INCASSO_NODE_TLS_CERT, INCASSO_NODE_CLIENT_CA: apply to the Nodo's own listener: set INCASSO_NODE_ADDR"))
	}
	var err error
	if n.Allow, err = parsePrefixes("INCASSO_NODE_ALLOW"); err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// Allows reports whether the Nodo's endpoint admits a peer at addr.
func (n NodeEndpoint) Allows(addr netip.Addr) bool {
	if len(n.Allow) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range n.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
