package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCitizenOffByDefault(t *testing.T) {
	clearEnv(t)
	c, err := FromEnv()
	require.NoError(t, err)
	require.Equal(t, Citizen{INIPECScope: "pec", SENDTaxonomy: "010201P"}, c.Citizen, "no registry and no SEND unless configured")
}

func TestCitizenChecks(t *testing.T) {
	clearEnv(t)
	t.Setenv("INCASSO_INAD_URL", "ftp://inad")
	t.Setenv("INCASSO_SEND_URL", "https://api.notifichedigitali.it")
	t.Setenv("INCASSO_SEND_TAXONOMY", "TARI")
	_, err := FromEnv()
	require.ErrorContains(t, err, "INCASSO_INAD_URL: want an http(s) URL")
	require.ErrorContains(t, err, "INCASSO_INAD_TOKEN: required with INCASSO_INAD_URL")
	require.ErrorContains(t, err, "INCASSO_SEND_API_KEY: required with INCASSO_SEND_URL")
	require.ErrorContains(t, err, "INCASSO_SEND_TAXONOMY")
}
