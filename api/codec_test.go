package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"incasso/devstack/testkeys"
	"incasso/domain/keyring"
	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/worker/codec"
)

func withPayloadKeys(t *testing.T) (func(*Server), *keyring.Ring) {
	t.Helper()
	ring := testkeys.New(t, "k1")
	return func(s *Server) {
		s.Config.PayloadKeys = ring
		s.TemporalUIURL = "http://127.0.0.1:8233"
	}, ring
}

// sessionConsole is a console whose only session is the cookie "session=ok", of the operator
// user "ufficio".
type sessionConsole struct{ http.Handler }

func (sessionConsole) SessionPrincipal(r *http.Request) (access.Principal, bool) {
	c, err := r.Cookie("session")
	return access.Principal{Kind: access.KindUser, Name: "ufficio", Role: access.Operator}, err == nil && c.Value == "ok"
}

func payloadsJSON(t *testing.T, ps ...*commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	require.NoError(t, err)
	return string(b)
}

func readPayloads(t *testing.T, body []byte) []*commonpb.Payload {
	t.Helper()
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(body, &out), string(body))
	return out.Payloads
}

func TestCodecServer(t *testing.T) {
	t.Parallel()
	opt, ring := withPayloadKeys(t)
	e := newEnv(t, opt, func(s *Server) { s.Console = sessionConsole{http.NotFoundHandler()} })
	clear, err := converter.GetDefaultDataConverter().ToPayload("motivo: iscrizione duplicata")
	require.NoError(t, err)

	resp, body := e.do(t, http.MethodPost, "/codec/encode", strings.NewReader(payloadsJSON(t, clear)), e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	sealed := readPayloads(t, body)
	require.Len(t, sealed, 1)
	require.Equal(t, codec.Encoding, string(sealed[0].Metadata[converter.MetadataEncoding]))
	require.NotContains(t, string(body), "iscrizione")
	var s string
	require.NoError(t, codec.DataConverter(ring).FromPayload(sealed[0], &s), "what the workers' converter reads")
	require.Equal(t, "motivo: iscrizione duplicata", s)

	decode := func(h http.Header) (*http.Response, []byte) {
		return e.do(t, http.MethodPost, "/codec/decode", strings.NewReader(payloadsJSON(t, sealed...)), h)
	}
	resp, body = decode(e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, "motivo: iscrizione duplicata", strings.Trim(string(readPayloads(t, body)[0].Data), `"`))

	resp, body = decode(http.Header{"Cookie": {"session=ok"}, "Content-Type": {"application/json"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, "an operator's console session, sent by the Web UI: %s", body)

	for name, h := range map[string]http.Header{
		"no key":          {"Content-Type": {"application/json"}},
		"unknown key":     {"Authorization": {"Bearer not-a-key"}},
		"another session": {"Cookie": {"session=forged"}},
	} {
		resp, body := decode(h)
		requireProblem(t, resp, body, http.StatusUnauthorized)
		require.NotContains(t, string(body), "iscrizione", name)
	}
	resp, _ = e.do(t, http.MethodGet, "/codec/decode", nil, e.authHeader())
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestCodecServerCORS(t *testing.T) {
	t.Parallel()
	opt, _ := withPayloadKeys(t)
	e := newEnv(t, opt)
	preflight := func(origin string) *http.Response {
		resp, _ := e.do(t, http.MethodOptions, "/codec/decode", nil, http.Header{
			"Origin": {origin}, "Access-Control-Request-Method": {"POST"},
			"Access-Control-Request-Headers": {"content-type,x-namespace"},
		})
		return resp
	}
	resp := preflight("http://127.0.0.1:8233")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, "http://127.0.0.1:8233", resp.Header.Get("Access-Control-Allow-Origin"), "the Temporal UI's origin")
	require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "x-namespace")

	resp = preflight("https://evil.example")
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), "no other page may read it")

	e2 := newEnv(t, opt, func(s *Server) { s.Config.CodecOrigins = []string{"https://cloud.temporal.io"} })
	resp, _ = e2.do(t, http.MethodOptions, "/codec/encode", nil, http.Header{"Origin": {"https://cloud.temporal.io"}, "Access-Control-Request-Method": {"POST"}})
	require.Equal(t, "https://cloud.temporal.io", resp.Header.Get("Access-Control-Allow-Origin"))
}

// The codec server is for the roles that read everything: an integration or PEC gateway key
// is refused after authentication.
func TestCodecRefusesOtherRoles(t *testing.T) {
	t.Parallel()
	opt, _ := withPayloadKeys(t)
	e := newEnv(t, opt)
	for _, role := range []access.Role{access.Integration, access.PECGateway, access.Admin} {
		key := e.addClient(t, "k-"+string(role), apiclients.Grant{Role: role})
		resp, body := e.do(t, http.MethodPost, "/codec/decode", strings.NewReader(payloadsJSON(t)), http.Header{"Authorization": {"Bearer " + key}})
		requireProblem(t, resp, body, http.StatusForbidden)
	}
	key := e.addClient(t, "operatore", apiclients.Grant{Role: access.Operator})
	resp, body := e.do(t, http.MethodPost, "/codec/decode", strings.NewReader(payloadsJSON(t)), http.Header{"Authorization": {"Bearer " + key}})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
}

func TestNoCodecServerWithoutPayloadKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, body := e.do(t, http.MethodPost, "/codec/decode", strings.NewReader(payloadsJSON(t)), e.authHeader())
	requireProblem(t, resp, body, http.StatusNotFound)
}
