package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/examples/webhook-receiver/standardwebhooks"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// sign signs as the specification's example does, independently of incasso's signer.
func sign(t *testing.T, id string, ts int64, body []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	require.NoError(t, err)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "." + string(body)))
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestReceiverVerifies(t *testing.T) {
	t.Parallel()
	v, err := standardwebhooks.NewVerifier(secret)
	require.NoError(t, err)
	var got []string
	srv := httptest.NewServer(Handler(v, func(id string, _ []byte) { got = append(got, id) }))
	t.Cleanup(srv.Close)

	body := []byte(`{"id":"evt_1","type":"debt.paid","data":{"iupd":"TARI-1"}}`)
	now := time.Now().Unix()
	post := func(id string, ts int64, sig string, body []byte) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("webhook-signature", sig)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusNoContent, post("evt_1", now, sign(t, "evt_1", now, body), body))
	// a second signature (the old secret during a rotation) is accepted beside a wrong one
	require.Equal(t, http.StatusNoContent, post("evt_1", now, "v1,AAAA "+sign(t, "evt_1", now, body), body))
	require.Equal(t, []string{"evt_1"}, got, "the repeated webhook-id is handled once")

	forged := []byte(`{"id":"evt_1","type":"debt.paid","data":{"iupd":"TARI-2"}}`)
	require.Equal(t, http.StatusUnauthorized, post("evt_1", now, sign(t, "evt_1", now, body), forged), "another body")
	require.Equal(t, http.StatusUnauthorized, post("evt_2", now, sign(t, "evt_1", now, body), body), "another id")
	stale := now - 600
	require.Equal(t, http.StatusUnauthorized, post("evt_1", stale, sign(t, "evt_1", stale, body), body), "ten minutes old")
	require.Equal(t, http.StatusUnauthorized, post("evt_1", now, "v2,"+sign(t, "evt_1", now, body)[3:], body), "unknown version")
	require.Equal(t, []string{"evt_1"}, got)
}
