package metrics

import (
	"context"
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/upstream"
)

const namespace = "waldur_quotas_gateway"

// durationBuckets (seconds) span a cached answer (a millisecond) to a
// request that waited out retries of slow upstream calls (UPSTREAM_TIMEOUT
// is 10 s by default, and a call may be tried three times).
var durationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Metrics is the gateway's metrics. Its methods are safe for concurrent use.
type Metrics struct {
	registry *prometheus.Registry

	operations, outcomes *firstSeen

	graphqlRequests *prometheus.CounterVec
	graphqlDuration *prometheus.HistogramVec
	inFlight        prometheus.Gauge
	apq             *prometheus.CounterVec

	upstreamRequests *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	retries          prometheus.Counter
	coalesced        prometheus.Counter
	cacheLookups     *prometheus.CounterVec
}

// New returns the metrics of a gateway of the given version, with the Go
// runtime's and the process's.
func New(version string) *Metrics {
	m := &Metrics{
		registry:   prometheus.NewRegistry(),
		operations: newFirstSeen(maxOperations),
		outcomes:   newFirstSeen(maxOutcomes),

		graphqlRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "requests_total",
			Help: `GraphQL requests answered, by operation name (the first 100 distinct names; unnamed and later ones are "(other)") and outcome ("ok", "error", or the first error's code).`,
		}, []string{"operation", "outcome"}),
		graphqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "request_duration_seconds",
			Help:    "Time to answer a GraphQL request, refused ones included, by operation name (as in graphql_requests_total).",
			Buckets: durationBuckets,
		}, []string{"operation"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "requests_in_flight",
			Help: "GraphQL requests being answered now.",
		}),
		apq: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "apq_requests_total",
			Help: `Requests using automatic persisted queries, by result: "hit" (the hash was known), "miss" (unknown hash, PERSISTED_QUERY_NOT_FOUND), "stored" (the query came with its hash and is now kept).`,
		}, []string{"result"}),

		upstreamRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "upstream", Name: "requests_total",
			Help: `HTTP requests to Waldur, every attempt, by method, status class ("2xx".."5xx", "none" without an answer), outcome ("ok" or the failure's kind) and quota ("other" for a name Waldur is not known to keep).`,
		}, []string{"method", "status_class", "outcome", "quota"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "upstream", Name: "request_duration_seconds",
			Help:    "Time of one HTTP request to Waldur, reading the answer included, by method and status class.",
			Buckets: durationBuckets,
		}, []string{"method", "status_class"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "upstream", Name: "retries_total",
			Help: "HTTP requests to Waldur that retried a failed one (UPSTREAM_RETRIES).",
		}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "upstream", Name: "coalesced_calls_total",
			Help: "Calls to Waldur answered by another caller's identical call in flight, at no cost to Waldur.",
		}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "upstream", Name: "cache_lookups_total",
			Help: `Lookups in the upstream cache (UPSTREAM_CACHE_TTL), by result: "hit" or "miss".`,
		}, []string{"result"}),
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help: "Always 1, labelled with the gateway's version.",
	}, []string{"version"})
	buildInfo.WithLabelValues(version).Set(1)
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
		m.graphqlRequests, m.graphqlDuration, m.inFlight, m.apq,
		m.upstreamRequests, m.upstreamDuration, m.retries, m.coalesced, m.cacheLookups,
	)
	// Both results exist from the start, so that a rate over them is
	// defined before the first lookup.
	for _, result := range []string{"hit", "miss"} {
		m.cacheLookups.WithLabelValues(result)
	}
	for _, result := range []string{httpapi.APQHit, httpapi.APQMiss, httpapi.APQStored} {
		m.apq.WithLabelValues(result)
	}
	return m
}

// Handler serves the metrics in Prometheus's exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// WatchCircuit reports the upstream circuit breaker's state, read from
// waldur at each scrape.
func (m *Metrics) WatchCircuit(waldur *upstream.Client) {
	m.registry.MustRegister(circuitCollector{
		desc: prometheus.NewDesc(prometheus.BuildFQName(namespace, "upstream", "circuit_state"),
			"The upstream circuit breaker's state: 1 for the current one, 0 for the others.", []string{"state"}, nil),
		state: waldur.CircuitState,
	})
}

// WatchReadiness reports whether the gateway is ready (/readyz), read at
// each scrape.
func (m *Metrics) WatchReadiness(r *httpapi.Readiness) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "ready",
		Help: "1 while the gateway is ready (/readyz answers 200: Waldur answers its probe and the circuit is not open), else 0.",
	}, func() float64 {
		if r.Ready() {
			return 1
		}
		return 0
	}))
}

// RequestStarted counts a GraphQL request in flight (httpapi.RequestObserver).
func (m *Metrics) RequestStarted() { m.inFlight.Inc() }

// RequestDone counts an answered GraphQL request (httpapi.RequestObserver).
func (m *Metrics) RequestDone(r httpapi.GraphQLRequest) {
	m.inFlight.Dec()
	operation := m.operations.value(r.Operation)
	m.graphqlRequests.WithLabelValues(operation, m.outcomes.value(r.Outcome)).Inc()
	m.graphqlDuration.WithLabelValues(operation).Observe(r.Duration.Seconds())
	if r.APQ != "" {
		m.apq.WithLabelValues(r.APQ).Inc()
	}
}

// ObserveUpstream counts a call to Waldur; pass it to upstream.WithObserver.
func (m *Metrics) ObserveUpstream(_ context.Context, c upstream.Call) {
	if c.Coalesced {
		// No HTTP request: the call in flight it shared was counted.
		m.coalesced.Inc()
		return
	}
	if c.Attempt > 1 {
		m.retries.Inc()
	}
	class := statusClass(c.Status)
	m.upstreamRequests.WithLabelValues(c.Method, class, upstreamOutcome(c.Err), quotaLabel(c.QuotaName)).Inc()
	m.upstreamDuration.WithLabelValues(c.Method, class).Observe(c.Duration.Seconds())
}

// ObserveCache counts a lookup in the upstream cache; pass it to
// upstream.WithCacheObserver.
func (m *Metrics) ObserveCache(_ context.Context, hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	m.cacheLookups.WithLabelValues(result).Inc()
}

// upstreamOutcome names how a call to Waldur ended: "ok", the failure's
// kind, "cancelled" when the caller gave up first.
func upstreamOutcome(err error) string {
	if err == nil {
		return "ok"
	}
	switch upstream.KindOf(err) {
	case upstream.Unauthenticated:
		return "unauthenticated"
	case upstream.Forbidden:
		return "forbidden"
	case upstream.BadRequest:
		return "bad_request"
	case upstream.PageNotFound:
		return "page_not_found"
	case upstream.RateLimited:
		return "rate_limited"
	case upstream.Unavailable:
		return "unavailable"
	case upstream.BadResponse:
		return "bad_response"
	case upstream.Overloaded:
		return "overloaded"
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "cancelled"
	}
	return "error"
}
