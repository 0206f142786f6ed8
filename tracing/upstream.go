package tracing

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/waldur-quotas/gateway/upstream"
)

// UpstreamOptions trace the upstream client with tp: a span per call through
// its pipeline, and below it a span per HTTP attempt, whose context goes to
// Waldur in traceparent. otelhttp records no header, so no Authorization.
func UpstreamOptions(tp trace.TracerProvider) []upstream.Option {
	return []upstream.Option{
		upstream.WithTracerProvider(tp),
		upstream.WithTransportWrapper(func(rt http.RoundTripper) http.RoundTripper {
			return otelhttp.NewTransport(rt,
				otelhttp.WithTracerProvider(tp),
				otelhttp.WithPropagators(Propagator()),
				otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "HTTP " + r.Method }),
			)
		}),
	}
}
