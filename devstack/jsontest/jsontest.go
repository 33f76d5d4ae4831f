// Package jsontest makes the JSON requests tests send to incasso's API and to the simulators'
// controls, over real HTTP.
package jsontest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var client = &http.Client{Timeout: 30 * time.Second}

// Call sends body as JSON (no body when nil) with the header pairs (name, value, ...) and
// returns the answer's status and body; with want other than 0 it requires that status.
func Call(t testing.TB, method, url string, body any, want int, header ...string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if want != 0 {
		require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, url, data)
	}
	return resp.StatusCode, data
}
