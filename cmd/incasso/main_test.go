package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// incasso api and incasso worker refuse the development secrets, and short ones, before they
// connect to anything; the error names the variable and never prints the secret.
func TestAPIAndWorkerRefuseDevelopmentSecrets(t *testing.T) {
	// Nothing answers there: reaching them would fail with another error, or hang.
	t.Setenv("DATABASE_URL", "postgres://nobody@192.0.2.1:5432/incasso?connect_timeout=30")
	t.Setenv("INCASSO_TEMPORAL_ADDRESS", "192.0.2.1:7233")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name, nodeKey, secret string
	}{
		{"default", "", "dev-node-key"},
		{"short", "a-short-node-secret", "a-short-node-secret"},
	} {
		for _, cmd := range []string{"api", "worker"} {
			t.Run(cmd+" "+tc.name, func(t *testing.T) {
				t.Setenv("INCASSO_NODE_KEY", tc.nodeKey)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				start := time.Now()
				err := run(ctx, cmd, nil, log)
				require.Error(t, err)
				require.Less(t, time.Since(start), 5*time.Second, "refused before connecting")
				require.Contains(t, err.Error(), "INCASSO_NODE_KEY: ")
				require.Contains(t, err.Error(), "INCASSO_GPD_SUBSCRIPTION_KEY: ")
				require.Contains(t, err.Error(), "INCASSO_BANK_KEY: ")
				require.NotContains(t, err.Error(), tc.secret)
			})
		}
	}
}
