package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/domain/keyring"
)

// productionSecrets sets every secret CheckProduction looks at to a long random-looking value.
func productionSecrets(t *testing.T) {
	t.Helper()
	for _, v := range []string{"INCASSO_NODE_KEY", "INCASSO_GPD_SUBSCRIPTION_KEY", "INCASSO_BANK_KEY", "INCASSO_CONSOLE_KEY"} {
		t.Setenv(v, strings.Repeat("k", MinSecretLength-len(v))+v)
	}
	for _, v := range []string{"INCASSO_PAYLOAD_KEYS", "INCASSO_IBAN_KEYS"} {
		keys, err := keyring.Generate("k1")
		require.NoError(t, err)
		t.Setenv(v, keys)
	}
	t.Setenv("INCASSO_PEC_PROVIDERS", "/etc/incasso/pec-providers.pem")
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
	require.Contains(t, err.Error(), "INCASSO_PEC_PROVIDERS: required", "a forged PEC receipt would start the legal clock")

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
		"dev io key":        {"INCASSO_IO_KEYS", "TARI=" + DevIOKey, "INCASSO_IO_KEYS: the key of service TARI is a development secret"},
		"console key empty": {"INCASSO_CONSOLE_KEY", "", ""}, // random per process: allowed
		"audit key empty":   {"INCASSO_AUDIT_KEY", "", ""},   // the console key's then
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

	t.Run("a short audit key", func(t *testing.T) {
		productionSecrets(t)
		t.Setenv("INCASSO_AUDIT_KEY", "change-me")
		_, err := FromEnv()
		require.ErrorContains(t, err, "INCASSO_AUDIT_KEY: want at least 32 characters")
		require.NotContains(t, err.Error(), "change-me")
	})

	t.Run("SMTP passwords are the provider's", func(t *testing.T) {
		productionSecrets(t)
		t.Setenv("INCASSO_SMTP_PASSWORD", "Short1!")
		c, err := FromEnv()
		require.NoError(t, err)
		require.NoError(t, c.CheckProduction())
	})
}

// The payload keys and the IBAN keys are required in production, unless their encryption is
// explicitly off.
func TestCheckProductionKeys(t *testing.T) {
	for _, tc := range []struct{ keys, toggle string }{
		{"INCASSO_PAYLOAD_KEYS", "INCASSO_PAYLOAD_ENCRYPTION"},
		{"INCASSO_IBAN_KEYS", "INCASSO_IBAN_ENCRYPTION"},
	} {
		t.Run(tc.keys, func(t *testing.T) {
			clearEnv(t)
			productionSecrets(t)
			c, err := FromEnv()
			require.NoError(t, err)
			require.Equal(t, []string{"k1"}, c.PayloadKeys.IDs())
			require.Equal(t, []string{"k1"}, c.SDD.IBANKeys.IDs())

			t.Setenv(tc.keys, "")
			c, err = FromEnv()
			require.NoError(t, err)
			require.ErrorContains(t, c.CheckProduction(), tc.keys+": required")

			t.Setenv(tc.toggle, "off")
			c, err = FromEnv()
			require.NoError(t, err)
			require.NoError(t, c.CheckProduction(), "explicitly in clear")

			k2, err := keyring.Generate("k2")
			require.NoError(t, err)
			t.Setenv(tc.keys, k2)
			_, err = FromEnv()
			require.ErrorContains(t, err, tc.toggle+": is off, but "+tc.keys+" is set")

			t.Setenv(tc.toggle, "maybe")
			_, err = FromEnv()
			require.ErrorContains(t, err, tc.toggle+": want on or off")

			t.Setenv(tc.toggle, "")
			_, b64, _ := strings.Cut(k2, ":")
			t.Setenv(tc.keys, k2+",k1:"+b64[:20])
			_, err = FromEnv()
			require.ErrorContains(t, err, tc.keys+": key 2 (k1): want 32 random bytes")
			require.NotContains(t, err.Error(), b64[:20], "no key material in errors")
		})
	}
}
