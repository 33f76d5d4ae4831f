package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// productionSecrets sets every secret CheckProduction looks at to a long random-looking value.
func productionSecrets(t *testing.T) {
	t.Helper()
	for _, v := range []string{"INCASSO_NODE_KEY", "INCASSO_GPD_SUBSCRIPTION_KEY", "INCASSO_BANK_KEY", "INCASSO_CONSOLE_KEY"} {
		t.Setenv(v, strings.Repeat("k", MinSecretLength-len(v))+v)
	}
}

func TestCheckProductionRefusesDevelopmentSecrets(t *testing.T) {
	clearEnv(t)
	c, err := FromEnv()
	require.NoError(t, err)
	err = c.CheckProduction()
	require.Error(t, err, "the defaults are the development secrets")
	for _, v := range []string{"INCASSO_NODE_KEY", "INCASSO_GPD_SUBSCRIPTION_KEY", "INCASSO_BANK_KEY"} {
		require.Contains(t, err.Error(), v+": is a development secret")
	}
	for _, secret := range []string{DevNodeKey, DevGPDKey, DevBankKey} {
		require.NotContains(t, err.Error(), secret, "an error never prints the secret")
	}
	require.NotContains(t, err.Error(), "INCASSO_CONSOLE_KEY", "the console key may be left empty")

	c.Dev = true
	require.NoError(t, c.CheckProduction(), "the development stack runs with them")
}

func TestCheckProductionSecrets(t *testing.T) {
	clearEnv(t)
	productionSecrets(t)
	c, err := FromEnv()
	require.NoError(t, err)
	require.NoError(t, c.CheckProduction())

	for name, tc := range map[string]struct{ variable, value, want string }{
		"short node key":    {"INCASSO_NODE_KEY", "s3cr3t-but-only-27-character", "INCASSO_NODE_KEY: want at least 32 characters"},
		"placeholder":       {"INCASSO_GPD_SUBSCRIPTION_KEY", "change-me", "INCASSO_GPD_SUBSCRIPTION_KEY: is a development secret or placeholder"},
		"dev bank key":      {"INCASSO_BANK_KEY", DevBankKey, "INCASSO_BANK_KEY: is a development secret"},
		"smtp placeholder":  {"INCASSO_SMTP_PASSWORD", "change-me", "INCASSO_SMTP_PASSWORD: is a development secret"},
		"pec placeholder":   {"INCASSO_PEC_SMTP_PASSWORD", "change-me", "INCASSO_PEC_SMTP_PASSWORD: is a development secret"},
		"console key empty": {"INCASSO_CONSOLE_KEY", "", ""}, // random per process: allowed
	} {
		t.Run(name, func(t *testing.T) {
			productionSecrets(t)
			t.Setenv(tc.variable, tc.value)
			c, err := FromEnv()
			require.NoError(t, err)
			err = c.CheckProduction()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), tc.value)
		})
	}

	t.Run("SMTP passwords are the provider's", func(t *testing.T) {
		productionSecrets(t)
		t.Setenv("INCASSO_SMTP_PASSWORD", "Short1!")
		c, err := FromEnv()
		require.NoError(t, err)
		require.NoError(t, c.CheckProduction())
	})
}
