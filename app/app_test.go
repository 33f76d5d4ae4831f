package app

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/app/config"
)

// The worker and the API refuse a production configuration with development secrets even
// when started by other code than incasso's main, before they touch a connection (nil here).
func TestRunRefusesDevelopmentSecrets(t *testing.T) {
	t.Parallel()
	cfg := config.Config{NodeKey: config.DevNodeKey, GPDKey: config.DevGPDKey, SDD: config.SDD{BankKey: config.DevBankKey}}
	d := &Deps{Config: cfg}
	require.ErrorContains(t, RunWorker(context.Background(), d), "INCASSO_NODE_KEY")
	require.ErrorContains(t, RunAPI(context.Background(), d, nil, ""), "INCASSO_BANK_KEY")
}
