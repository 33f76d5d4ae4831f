package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTransportMeasuresByOutcome(t *testing.T) {
	r, err := New()
	require.NoError(t, err)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/busy" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer upstream.Close()
	c := &http.Client{Transport: r.Transport("gpd", nil)}
	for _, path := range []string{"/ok", "/ok", "/busy"} {
		resp, err := c.Get(upstream.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
	}
	_, err = c.Get("http://127.0.0.1:1/closed") // nothing listens on port 1
	require.Error(t, err)
	r.ObserveRequest(http.MethodGet, "/v1/debts/:iupd", http.StatusNotFound, 3*time.Millisecond)

	text := scrape(t, r)
	require.Contains(t, text, `incasso_upstream_request_duration_seconds_count{method="GET",outcome="2xx",service="gpd"} 2`)
	require.Contains(t, text, `incasso_upstream_request_duration_seconds_count{method="GET",outcome="5xx",service="gpd"} 1`)
	require.Contains(t, text, `incasso_upstream_request_duration_seconds_count{method="GET",outcome="error",service="gpd"} 1`)
	require.Contains(t, text, `incasso_api_requests_total{method="GET",route="/v1/debts/:iupd",status="404"} 1`)
	require.Contains(t, text, "go_goroutines")
}

func TestNilRegistryMeasuresNothing(t *testing.T) {
	var r *Registry
	require.Nil(t, r.Temporal())
	require.Equal(t, http.DefaultTransport, r.Transport("bank", nil))
	r.ObserveRequest(http.MethodGet, "/healthz", http.StatusOK, time.Millisecond) // no panic
}

func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	data, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain"))
	return string(data)
}
