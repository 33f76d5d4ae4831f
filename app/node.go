package app

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"

	"incasso/app/config"
)

// NodeListener listens on the Nodo's own address: over TLS when the endpoint has a
// certificate, requiring a client certificate of its client CA when it has one (mTLS).
func NodeListener(n config.NodeEndpoint) (net.Listener, error) {
	var tlsConfig *tls.Config
	if n.CertFile != "" {
		pair, err := keyPair("INCASSO_NODE_TLS_CERT, INCASSO_NODE_TLS_KEY", n.CertFile, n.KeyFile)
		if err != nil {
			return nil, err
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	}
	if n.ClientCAFile != "" {
		pool, err := certPool("INCASSO_NODE_CLIENT_CA", n.ClientCAFile)
		if err != nil {
			return nil, err
		}
		tlsConfig.ClientAuth, tlsConfig.ClientCAs = tls.RequireAndVerifyClientCert, pool
	}
	ln, err := net.Listen("tcp", n.Addr)
	if err != nil {
		return nil, fmt.Errorf("INCASSO_NODE_ADDR: %w", err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return ln, nil
}

// certPool reads the PEM certificates of a file that the variable names.
func certPool(variable, path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", variable, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: %s holds no PEM certificate", variable, path)
	}
	return pool, nil
}

// keyPair reads a certificate and its key from the PEM files that the variables name.
func keyPair(variables, certFile, keyFile string) (tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return pair, fmt.Errorf("%s: %w", variables, err)
	}
	return pair, nil
}
