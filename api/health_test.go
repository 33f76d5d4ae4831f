package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.failHealth(errors.New("down")) // liveness does not depend on Temporal
	resp, body := e.do(t, http.MethodGet, "/healthz", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"status":"ok"}`, string(body))
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ready := func(t *testing.T, wantStatus int, want map[string]string) {
		t.Helper()
		resp, body := e.do(t, http.MethodGet, "/readyz", nil, nil)
		require.Equal(t, wantStatus, resp.StatusCode, string(body))
		var got map[string]string
		require.NoError(t, json.Unmarshal(body, &got))
		require.Equal(t, want, got)
	}

	ready(t, http.StatusOK, map[string]string{"database": "ok", "temporal": "ok"})

	e.fake.failHealth(errors.New("temporal: connection refused"))
	ready(t, http.StatusServiceUnavailable, map[string]string{"database": "ok", "temporal": "unavailable"})

	e.fake.failHealth(nil)
	ready(t, http.StatusOK, map[string]string{"database": "ok", "temporal": "ok"})
}

func TestReadyzDatabaseDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *Server) {
		closed, err := pgxpool.NewWithConfig(context.Background(), s.Pool.Config())
		require.NoError(t, err)
		closed.Close()
		s.Pool = closed
	})
	resp, body := e.do(t, http.MethodGet, "/readyz", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(body))
	require.JSONEq(t, `{"database":"unavailable","temporal":"ok"}`, string(body))
}
