// Package tracing sets OpenTelemetry up for the gateway from the standard
// OTEL_* environment: which exporter (OTEL_TRACES_EXPORTER and the
// OTEL_EXPORTER_OTLP_* settings, read by the contrib autoexport package), the
// service's name (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) and the sampler
// (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, read by the SDK).
//
// Unlike the specification's default, nothing is exported unless configured:
// OTEL_TRACES_EXPORTER unset means no exporter, and no connection is ever
// attempted, unless an OTLP endpoint is set (then it means otlp, as anyone
// who sets an endpoint expects). The W3C trace context and baggage are
// propagated whatever is configured, so that Waldur's logs can be joined to
// the caller's trace even when the gateway exports nothing.
package tracing
