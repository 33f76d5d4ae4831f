package config

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLimitsFromEnv(t *testing.T) {
	clearEnv(t)
	c, err := FromEnv()
	require.NoError(t, err)
	require.Equal(t, Limits{
		BodyBytes: 2 << 20,
		PerIP:     Rate{PerSecond: 100, Burst: 200}, PerClient: Rate{PerSecond: 50, Burst: 100},
		Login: Rate{PerSecond: 10.0 / 60, Burst: 10},
	}, c.Limits)

	t.Setenv("INCASSO_BODY_LIMIT", "512K")
	t.Setenv("INCASSO_RATE_PER_IP", "0")
	t.Setenv("INCASSO_RATE_PER_CLIENT", "2.5")
	t.Setenv("INCASSO_RATE_PER_CLIENT_BURST", "5")
	t.Setenv("INCASSO_LOGIN_PER_MINUTE", "3")
	t.Setenv("INCASSO_TRUSTED_PROXIES", "10.0.0.5, 192.168.0.0/16")
	c, err = FromEnv()
	require.NoError(t, err)
	require.Equal(t, Limits{
		BodyBytes: 512 << 10,
		PerIP:     Rate{PerSecond: 0, Burst: 200}, PerClient: Rate{PerSecond: 2.5, Burst: 5},
		Login:          Rate{PerSecond: 0.05, Burst: 3},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32"), netip.MustParsePrefix("192.168.0.0/16")},
	}, c.Limits)

	t.Setenv("INCASSO_BODY_LIMIT", "1048576")
	c, err = FromEnv()
	require.NoError(t, err)
	require.Equal(t, int64(1<<20), c.Limits.BodyBytes)
}

func TestLimitsFromEnvInvalid(t *testing.T) {
	for variable, value := range map[string]string{
		"INCASSO_BODY_LIMIT":            "2MB",
		"INCASSO_RATE_PER_IP":           "-1",
		"INCASSO_RATE_PER_IP_BURST":     "0",
		"INCASSO_RATE_PER_CLIENT":       "fast",
		"INCASSO_RATE_PER_CLIENT_BURST": "1.5",
		"INCASSO_LOGIN_PER_MINUTE":      "NaN",
		"INCASSO_TRUSTED_PROXIES":       "proxy.internal",
	} {
		t.Run(variable, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(variable, value)
			_, err := FromEnv()
			require.ErrorContains(t, err, variable+": ")
		})
	}
	clearEnv(t)
	t.Setenv("INCASSO_BODY_LIMIT", "100")
	_, err := FromEnv()
	require.ErrorContains(t, err, "INCASSO_BODY_LIMIT: want a size of at least 1K")
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	for r, want := range map[Rate]time.Duration{
		{PerSecond: 100}: time.Second, {PerSecond: 1}: time.Second, {PerSecond: 0.4}: 3 * time.Second,
		{PerSecond: 10.0 / 60}: 6 * time.Second, {}: time.Second,
	} {
		require.Equal(t, want, r.RetryAfter(), "%+v", r)
	}
}
