// Package tracing turns on OpenTelemetry tracing, off by default: with INCASSO_OTEL_ENDPOINT
// set (an OTLP/HTTP collector, e.g. http://otel-collector:4318), the API's requests and the
// Temporal client's and worker's calls (workflow starts, signals, activities, through the SDK's
// OpenTelemetry contrib interceptor) become spans of one trace, exported there.
//
// A span carries the route pattern and the status, never the path, the query or a body: they
// may hold personal data. Workflow ids hold none by design.
package tracing

import (
	"context"
	"fmt"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Tracing is one process's tracer. A nil *Tracing traces nothing.
type Tracing struct {
	provider   *sdktrace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// New exports spans to the OTLP/HTTP endpoint, or is nil when endpoint is empty.
func New(ctx context.Context, endpoint string) (*Tracing, error) {
	if endpoint == "" {
		return nil, nil
	}
	exporter, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("INCASSO_OTEL_ENDPOINT: %w", err)
	}
	return NewWith(sdktrace.NewBatchSpanProcessor(exporter)), nil
}

// NewWith sends the spans to processor (the tests give an in-memory one).
func NewWith(processor sdktrace.SpanProcessor) *Tracing {
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(processor),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("incasso"))))
	return &Tracing{provider: provider, tracer: provider.Tracer("incasso"), propagator: propagation.TraceContext{}}
}

// Interceptors are the Temporal client's interceptors: the SDK's tracing one, or none.
func (t *Tracing) Interceptors() ([]interceptor.ClientInterceptor, error) {
	if t == nil {
		return nil, nil
	}
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer: t.provider.Tracer("temporal-sdk-go"), TextMapPropagator: t.propagator,
	})
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	return []interceptor.ClientInterceptor{i}, nil
}

// Middleware makes a span of each request, named by its method and route pattern and joined to
// the caller's trace (W3C traceparent); nil without tracing.
func (t *Tracing) Middleware() echo.MiddlewareFunc {
	if t == nil {
		return nil
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx := t.propagator.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			ctx, span := t.tracer.Start(ctx, req.Method+" "+c.Path(), trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(semconv.HTTPRequestMethodKey.String(req.Method), semconv.HTTPRoute(c.Path())))
			defer span.End()
			c.SetRequest(req.WithContext(ctx))
			err := next(c)
			if err != nil {
				c.Error(err) // the status is known once the error is written
			}
			status := c.Response().Status
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= 500 {
				span.SetStatus(codes.Error, "")
			}
			return nil
		}
	}
}

// Shutdown sends the spans not yet exported.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}
