package config

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNodeFromEnv(t *testing.T) {
	clearEnv(t)
	c, err := FromEnv()
	require.NoError(t, err)
	require.Equal(t, NodeEndpoint{}, c.Node, "by default on the API's listener, for everyone with the secret")
	require.True(t, c.Node.Allows(netip.MustParseAddr("203.0.113.9")))

	t.Setenv("INCASSO_NODE_ADDR", "0.0.0.0:8443")
	t.Setenv("INCASSO_NODE_TLS_CERT", "/etc/incasso/nodo.pem")
	t.Setenv("INCASSO_NODE_TLS_KEY", "/etc/incasso/nodo-key.pem")
	t.Setenv("INCASSO_NODE_CLIENT_CA", "/etc/incasso/pagopa-ca.pem")
	t.Setenv("INCASSO_NODE_ALLOW", " 195.120.0.0/16 , 203.0.113.7, 2001:db8::/32,10.1.2.3/8")
	c, err = FromEnv()
	require.NoError(t, err)
	require.Equal(t, NodeEndpoint{
		Addr: "0.0.0.0:8443", CertFile: "/etc/incasso/nodo.pem", KeyFile: "/etc/incasso/nodo-key.pem", ClientCAFile: "/etc/incasso/pagopa-ca.pem",
		Allow: []netip.Prefix{
			netip.MustParsePrefix("195.120.0.0/16"), netip.MustParsePrefix("203.0.113.7/32"),
			netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("10.0.0.0/8"),
		},
	}, c.Node)
	for addr, want := range map[string]bool{
		"195.120.4.5": true, "203.0.113.7": true, "203.0.113.8": false, "2001:db8::1": true,
		"::ffff:195.120.4.5": true, "10.200.0.1": true, "127.0.0.1": false,
	} {
		require.Equal(t, want, c.Node.Allows(netip.MustParseAddr(addr)), addr)
	}
}

func TestNodeFromEnvInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"cert without key", map[string]string{"INCASSO_NODE_ADDR": ":8443", "INCASSO_NODE_TLS_CERT": "/c.pem"}, "INCASSO_NODE_TLS_CERT and INCASSO_NODE_TLS_KEY: set both"},
		{"client CA without TLS", map[string]string{"INCASSO_NODE_ADDR": ":8443", "INCASSO_NODE_CLIENT_CA": "/ca.pem"}, "INCASSO_NODE_CLIENT_CA: mTLS needs"},
		{"TLS on the API's listener", map[string]string{"INCASSO_NODE_TLS_CERT": "/c.pem", "INCASSO_NODE_TLS_KEY": "/k.pem"}, "set INCASSO_NODE_ADDR"},
		{"not an address", map[string]string{"INCASSO_NODE_ALLOW": "10.0.0.0/8,pagopa.it"}, `INCASSO_NODE_ALLOW: "pagopa.it" is neither`},
		{"bad mask", map[string]string{"INCASSO_NODE_ALLOW": "10.0.0.0/33"}, "INCASSO_NODE_ALLOW: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := FromEnv()
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestCodecOriginsFromEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("INCASSO_CODEC_ORIGINS", "https://cloud.temporal.io, http://127.0.0.1:8233")
	c, err := FromEnv()
	require.NoError(t, err)
	require.Equal(t, []string{"https://cloud.temporal.io", "http://127.0.0.1:8233"}, c.CodecOrigins)

	for _, bad := range []string{"cloud.temporal.io", "https://temporal.example/ui", "*"} {
		t.Setenv("INCASSO_CODEC_ORIGINS", bad)
		_, err := FromEnv()
		require.ErrorContains(t, err, "INCASSO_CODEC_ORIGINS: ", bad)
	}
}
