package app

import (
	"crypto/tls"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/devstack/testcerts"
)

// serveTLS accepts TLS connections on 127.0.0.1 with the server certificate, requiring a client
// certificate of clientCA when it is set, and sends each peer's common name (or "-") on names.
func serveTLS(t *testing.T, server testcerts.Pair, clientCA *testcerts.CA) (addr string, names <-chan string) {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{server.TLS}, MinVersion: tls.VersionTLS12}
	if clientCA != nil {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, clientCA.Pool()
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	out := make(chan string, 10)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			tc := conn.(*tls.Conn)
			name := "-"
			if tc.Handshake() == nil {
				if peers := tc.ConnectionState().PeerCertificates; len(peers) > 0 {
					name = peers[0].Subject.CommonName
				}
				_, _ = tc.Write([]byte("ok"))
			}
			out <- name
			tc.Close()
		}
	}()
	return ln.Addr().String(), out
}

// dial handshakes with addr using the configuration and reads the server's greeting.
func dial(addr string, cfg *tls.Config) error {
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = io.ReadAll(conn)
	return err
}

// The Temporal client's TLS configuration completes a real mTLS handshake: the server's
// certificate verified against the CA file, the client's certificate presented.
func TestTemporalTLSHandshake(t *testing.T) {
	t.Parallel()
	ca := testcerts.NewCA(t, "temporal")
	server := ca.Server(t, "frontend.temporal.internal")
	worker := ca.Client(t, "incasso-worker")
	addr, names := serveTLS(t, server, ca)

	cfg, err := TemporalTLS(config.TemporalTLS{Enabled: true, CAFile: ca.File, CertFile: worker.CertFile, KeyFile: worker.KeyFile}, addr)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", cfg.ServerName, "the host of the address by default")
	require.NoError(t, dial(addr, cfg))
	require.Equal(t, "incasso-worker", <-names, "the server saw the client's certificate")

	cfg, err = TemporalTLS(config.TemporalTLS{Enabled: true, CAFile: ca.File, CertFile: worker.CertFile, KeyFile: worker.KeyFile,
		ServerName: "frontend.temporal.internal"}, addr)
	require.NoError(t, err)
	require.NoError(t, dial(addr, cfg), "the configured server name")
	<-names

	t.Run("without the client certificate", func(t *testing.T) {
		cfg, err := TemporalTLS(config.TemporalTLS{Enabled: true, CAFile: ca.File}, addr)
		require.NoError(t, err)
		require.Error(t, dial(addr, cfg))
		require.Equal(t, "-", <-names)
	})
	t.Run("a server of another authority", func(t *testing.T) {
		other := testcerts.NewCA(t, "other")
		addr, _ := serveTLS(t, other.Server(t, "impostor"), nil)
		cfg, err := TemporalTLS(config.TemporalTLS{Enabled: true, CAFile: ca.File, CertFile: worker.CertFile, KeyFile: worker.KeyFile}, addr)
		require.NoError(t, err)
		require.ErrorContains(t, dial(addr, cfg), "certificate signed by unknown authority")
	})
	t.Run("another server name", func(t *testing.T) {
		cfg, err := TemporalTLS(config.TemporalTLS{Enabled: true, CAFile: ca.File, ServerName: "temporal.elsewhere"}, addr)
		require.NoError(t, err)
		require.ErrorContains(t, dial(addr, cfg), "temporal.elsewhere")
	})
}

func TestTemporalTLSErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	cfg, err := TemporalTLS(config.TemporalTLS{}, "127.0.0.1:7233")
	require.NoError(t, err)
	require.Nil(t, cfg, "TLS off")

	ca := testcerts.NewCA(t, "temporal")
	client := ca.Client(t, "incasso")
	for _, tc := range []struct {
		tls  config.TemporalTLS
		want string
	}{
		{config.TemporalTLS{Enabled: true, CAFile: "/nonexistent/ca.pem"}, "INCASSO_TEMPORAL_TLS_CA: "},
		{config.TemporalTLS{Enabled: true, CAFile: client.KeyFile}, "INCASSO_TEMPORAL_TLS_CA: "},
		{config.TemporalTLS{Enabled: true, CertFile: client.CertFile, KeyFile: ca.File}, "INCASSO_TEMPORAL_TLS_CERT, INCASSO_TEMPORAL_TLS_KEY: "},
	} {
		_, err := TemporalTLS(tc.tls, "127.0.0.1:7233")
		require.ErrorContains(t, err, tc.want)
	}
}

func TestTemporalOptions(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	opts, err := temporalOptions(config.Config{TemporalAddress: "127.0.0.1:7233", TemporalNamespace: "default"}, log)
	require.NoError(t, err)
	require.Nil(t, opts.ConnectionOptions.TLS)
	require.Nil(t, opts.Credentials)

	opts, err = temporalOptions(config.Config{
		TemporalAddress: "incasso.a1b2c.tmprl.cloud:7233", TemporalNamespace: "incasso.a1b2c",
		TemporalTLS: config.TemporalTLS{Enabled: true}, TemporalAPIKey: "key",
	}, log)
	require.NoError(t, err)
	require.Equal(t, "incasso.a1b2c", opts.Namespace)
	require.Equal(t, "incasso.a1b2c.tmprl.cloud", opts.ConnectionOptions.TLS.ServerName)
	require.NotNil(t, opts.Credentials, "the API key")
}

func TestWorkerOptions(t *testing.T) {
	t.Parallel()
	o := workerOptions(config.WorkerTuning{WorkflowPollers: 3, ActivityPollers: 5, MaxWorkflowTasks: 40, MaxActivities: 60,
		ActivitiesPerSecond: 7, TaskQueueActivitiesPerSecond: 0.5})
	require.Equal(t, 3, o.MaxConcurrentWorkflowTaskPollers)
	require.Equal(t, 5, o.MaxConcurrentActivityTaskPollers)
	require.Equal(t, 40, o.MaxConcurrentWorkflowTaskExecutionSize)
	require.Equal(t, 60, o.MaxConcurrentActivityExecutionSize)
	require.Equal(t, 7.0, o.WorkerActivitiesPerSecond)
	require.Equal(t, 0.5, o.TaskQueueActivitiesPerSecond)
}
