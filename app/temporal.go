package app

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"incasso/app/config"
	"incasso/worker/codec"
)

// temporalOptions are the options of the Temporal client of cfg: the frontend and namespace,
// TLS or mTLS, Temporal Cloud's API key, and the encryption of payloads (package codec) with
// the payload keys; the worker takes the client's converters.
func temporalOptions(cfg config.Config, log *slog.Logger) (client.Options, error) {
	opts := client.Options{
		HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Logger: tlog.NewStructuredLogger(log.With("component", "temporal")),
	}
	tlsConfig, err := TemporalTLS(cfg.TemporalTLS, cfg.TemporalAddress)
	if err != nil {
		return opts, err
	}
	opts.ConnectionOptions.TLS = tlsConfig
	if cfg.TemporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	if cfg.PayloadKeys != nil {
		opts.DataConverter = codec.DataConverter(cfg.PayloadKeys)
		opts.FailureConverter = codec.FailureConverter(opts.DataConverter)
	}
	return opts, nil
}

// TemporalTLS is the TLS configuration of the Temporal client, nil when TLS is off: the
// server's certificate checked against the CA file (else the system's authorities) for the
// server name (else the host of address), and the client's certificate for mTLS.
func TemporalTLS(t config.TemporalTLS, address string) (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if c.ServerName == "" {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return nil, fmt.Errorf("INCASSO_TEMPORAL_ADDRESS: want host:port: %w", err)
		}
		c.ServerName = host
	}
	if t.CAFile != "" {
		pool, err := certPool("INCASSO_TEMPORAL_TLS_CA", t.CAFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if t.CertFile != "" {
		pair, err := keyPair("INCASSO_TEMPORAL_TLS_CERT, INCASSO_TEMPORAL_TLS_KEY", t.CertFile, t.KeyFile)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// workerOptions are the SDK's worker options of the tuning.
func workerOptions(t config.WorkerTuning) sdkworker.Options {
	return sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers:       t.WorkflowPollers,
		MaxConcurrentActivityTaskPollers:       t.ActivityPollers,
		MaxConcurrentWorkflowTaskExecutionSize: t.MaxWorkflowTasks,
		MaxConcurrentActivityExecutionSize:     t.MaxActivities,
		WorkerActivitiesPerSecond:              t.ActivitiesPerSecond,
		TaskQueueActivitiesPerSecond:           t.TaskQueueActivitiesPerSecond,
	}
}
