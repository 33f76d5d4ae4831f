package app

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/api"
	"incasso/app/config"
	"incasso/devstack/testcerts"
)

const testNodeKey = "the-nodo-secret-of-at-least-32-characters"

// nodeEndpoint serves the API's Nodo endpoint on its own listener as RunAPI does, and returns
// its URL.
func nodeEndpoint(t *testing.T, n config.NodeEndpoint) string {
	t.Helper()
	n.Addr = "127.0.0.1:0"
	srv := &api.Server{Config: config.Config{NodeKey: testNodeKey, Node: n}, Log: slog.New(slog.DiscardHandler)}
	ln, err := NodeListener(n)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, srv.NodeHandler()) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	scheme := "http"
	if n.CertFile != "" {
		scheme = "https"
	}
	return scheme + "://" + ln.Addr().String()
}

// postSOAP posts a body that is no SOAP envelope, with the Nodo's secret: the endpoint answers
// 200 with a PAA_SINTASSI fault without reading the database, so a 200 means it was reached.
func postSOAP(client *http.Client, url string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/pagopa/paForNode", strings.NewReader("not a SOAP envelope"))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("X-Node-Key", testNodeKey)
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func tlsClient(ca *testcerts.CA, cert *testcerts.Pair) *http.Client {
	cfg := &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{cert.TLS}
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

// The Nodo's endpoint on its own listener with mTLS: only a client certificate of the Nodo's
// CA gets through the handshake; the secret is still required behind it.
func TestNodeEndpointMTLS(t *testing.T) {
	t.Parallel()
	serverCA := testcerts.NewCA(t, "comune")
	nodoCA := testcerts.NewCA(t, "pagopa")
	server := serverCA.Server(t, "incasso-nodo")
	url := nodeEndpoint(t, config.NodeEndpoint{CertFile: server.CertFile, KeyFile: server.KeyFile, ClientCAFile: nodoCA.File})

	nodo := nodoCA.Client(t, "nodo-dei-pagamenti")
	status, body, err := postSOAP(tlsClient(serverCA, &nodo), url)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "PAA_SINTASSI")

	_, _, err = postSOAP(tlsClient(serverCA, nil), url)
	require.Error(t, err, "no client certificate")

	impostor := testcerts.NewCA(t, "impostor").Client(t, "nodo-dei-pagamenti")
	_, _, err = postSOAP(tlsClient(serverCA, &impostor), url)
	require.Error(t, err, "a client certificate of another authority")

	status, _, err = postSOAP(&http.Client{Timeout: 5 * time.Second}, strings.Replace(url, "https://", "http://", 1))
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, status, "plain HTTP to the TLS listener")

	req, err := http.NewRequest(http.MethodPost, url+"/pagopa/paForNode", strings.NewReader("x"))
	require.NoError(t, err)
	resp, err := tlsClient(serverCA, &nodo).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the certificate does not replace the secret")
}

// The allowlist admits only peers of its networks, with or without TLS.
func TestNodeEndpointAllowlist(t *testing.T) {
	t.Parallel()
	client := &http.Client{Timeout: 5 * time.Second}
	refused := nodeEndpoint(t, config.NodeEndpoint{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	status, body, err := postSOAP(client, refused)
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, status, body)
	require.NotContains(t, body, "PAA_", "not reached")

	admitted := nodeEndpoint(t, config.NodeEndpoint{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}})
	status, body, err = postSOAP(client, admitted)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, body)

	ca := testcerts.NewCA(t, "comune")
	server := ca.Server(t, "incasso-nodo")
	nodoCA := testcerts.NewCA(t, "pagopa")
	nodo := nodoCA.Client(t, "nodo")
	both := nodeEndpoint(t, config.NodeEndpoint{CertFile: server.CertFile, KeyFile: server.KeyFile, ClientCAFile: nodoCA.File,
		Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	status, _, err = postSOAP(tlsClient(ca, &nodo), both)
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, status, "a good certificate from the wrong network")
}

// With its own listener the endpoint is gone from the API's.
func TestNodeEndpointLeavesTheAPIListener(t *testing.T) {
	t.Parallel()
	srv := &api.Server{Config: config.Config{NodeKey: testNodeKey, Node: config.NodeEndpoint{Addr: "127.0.0.1:0"}}, Log: slog.New(slog.DiscardHandler)}
	h := srv.Handler()
	req, err := http.NewRequest(http.MethodPost, "/pagopa/paForNode", strings.NewReader("x"))
	require.NoError(t, err)
	req.Header.Set("X-Node-Key", testNodeKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusNotFound, rec.Code)
}

func TestNodeListenerErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	ca := testcerts.NewCA(t, "comune")
	server := ca.Server(t, "incasso-nodo")
	for _, tc := range []struct {
		n    config.NodeEndpoint
		want string
	}{
		{config.NodeEndpoint{Addr: "127.0.0.1:0", CertFile: "/nonexistent.pem", KeyFile: server.KeyFile}, "INCASSO_NODE_TLS_CERT, INCASSO_NODE_TLS_KEY: "},
		{config.NodeEndpoint{Addr: "127.0.0.1:0", CertFile: server.CertFile, KeyFile: server.KeyFile, ClientCAFile: server.KeyFile}, "INCASSO_NODE_CLIENT_CA: "},
		{config.NodeEndpoint{Addr: "256.0.0.1:1"}, "INCASSO_NODE_ADDR: "},
	} {
		_, err := NodeListener(tc.n)
		require.ErrorContains(t, err, tc.want)
	}
}
