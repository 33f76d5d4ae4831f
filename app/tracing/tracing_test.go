package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestRequestSpansNameTheRouteNotThePath(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tr := NewWith(sdktrace.NewSimpleSpanProcessor(spans))
	e := echo.New()
	e.Use(tr.Middleware())
	e.GET("/v1/debts/:iupd", func(c echo.Context) error { return echo.NewHTTPError(http.StatusServiceUnavailable) })

	req := httptest.NewRequest(http.MethodGet, "/v1/debts/TARI-2026-0001?debtor=RSSMRA85T10A562S", nil)
	const parent = "4bf92f3577b34da6a3ce929d0e0e4736"
	req.Header.Set("traceparent", "00-"+parent+"-00f067aa0ba902b7-01")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)

	got := spans.GetSpans()
	require.Len(t, got, 1)
	s := got[0]
	require.Equal(t, "GET /v1/debts/:iupd", s.Name)
	require.Equal(t, parent, s.SpanContext.TraceID().String(), "joined to the caller's trace")
	attrs := map[string]string{}
	for _, a := range s.Attributes {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	require.Equal(t, "/v1/debts/:iupd", attrs["http.route"])
	require.Equal(t, "503", attrs["http.response.status_code"])
	for _, v := range attrs {
		require.NotContains(t, v, "TARI-2026-0001")
		require.NotContains(t, v, "RSSMRA85T10A562S")
	}
	require.NoError(t, tr.Shutdown(context.Background()))
}

func TestOffByDefault(t *testing.T) {
	tr, err := New(context.Background(), "")
	require.NoError(t, err)
	require.Nil(t, tr)
	require.Nil(t, tr.Middleware())
	interceptors, err := tr.Interceptors()
	require.NoError(t, err)
	require.Empty(t, interceptors)
	require.NoError(t, tr.Shutdown(context.Background()))
}

func TestTemporalInterceptor(t *testing.T) {
	tr := NewWith(sdktrace.NewSimpleSpanProcessor(tracetest.NewInMemoryExporter()))
	interceptors, err := tr.Interceptors()
	require.NoError(t, err)
	require.Len(t, interceptors, 1)
}
