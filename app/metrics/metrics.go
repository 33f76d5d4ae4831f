// Package metrics is what incasso's processes export to Prometheus on their own listener
// (INCASSO_METRICS_ADDR): the Temporal SDK's metrics, through the SDK's OpenTelemetry contrib
// package; the API's requests by route pattern and status; the latency and errors of the
// services incasso calls (GPD, the bank); and, in the API processes, the state of the
// collection read from the one database (state.go).
//
// No label carries personal data: routes are Echo's patterns, never the paths; services,
// statuses, outcomes, flags and reason codes are codes; a campaign is its number.
package metrics

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Namespace prefixes every metric of incasso's own.
const Namespace = "incasso"

// Registry holds one process's metrics. A nil *Registry measures nothing, so code can be
// wired with or without metrics.
type Registry struct {
	reg             *prometheus.Registry
	requests        *prometheus.CounterVec
	requestSeconds  *prometheus.HistogramVec
	upstreamSeconds *prometheus.HistogramVec
	temporal        client.MetricsHandler
}

// New is a registry with the Go runtime's and the process's collectors, the SDK's metrics
// handler and the request and upstream metrics.
func New() (*Registry, error) {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "api_requests_total",
		Help: "API requests by method, route pattern and status.",
	}, []string{"method", "route", "status"})
	r.requestSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "api_request_duration_seconds",
		Help:    "How long the API took to answer, by method and route pattern.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route"})
	r.upstreamSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "upstream_request_duration_seconds",
		Help:    "Calls to the services incasso depends on (gpd, bank) by method and outcome (2xx, 4xx, 5xx, error).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"service", "method", "outcome"})
	exporter, err := otelprom.New(otelprom.WithRegisterer(r.reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("metrics: the Temporal SDK's exporter: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	r.temporal = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{Meter: provider.Meter("temporal-sdk")})
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		r.requests, r.requestSeconds, r.upstreamSeconds,
	} {
		if err := r.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return r, nil
}

// Handler serves the metrics in Prometheus' text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Register adds a collector, such as the state of the collection (NewState).
func (r *Registry) Register(c prometheus.Collector) error { return r.reg.Register(c) }

// Temporal is the metrics handler of the SDK's client and worker; nil without a registry,
// which leaves the SDK's default (no metrics).
func (r *Registry) Temporal() client.MetricsHandler {
	if r == nil {
		return nil
	}
	return r.temporal
}

// ObserveRequest counts an API request by its route pattern (c.Path(), never the path).
func (r *Registry) ObserveRequest(method, route string, status int, took time.Duration) {
	if r == nil {
		return
	}
	r.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	r.requestSeconds.WithLabelValues(method, route).Observe(took.Seconds())
}

// Transport measures the calls made through base (http.DefaultTransport when nil) to service.
func (r *Registry) Transport(service string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if r == nil {
		return base
	}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := base.RoundTrip(req)
		outcome := "error"
		if err == nil {
			outcome = strconv.Itoa(resp.StatusCode/100) + "xx"
		}
		r.upstreamSeconds.WithLabelValues(service, req.Method, outcome).Observe(time.Since(start).Seconds())
		return resp, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
