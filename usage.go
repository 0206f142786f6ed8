package main

import (
	"flag"
	"fmt"
	"strings"
)

// envOnlySettings are read from the environment alone: a flag would show
// their values in the process list.
var envOnlySettings = []struct{ name, meaning string }{
	{"WALDUR_API_TOKEN", "token sent as \"Token <value>\" for callers that send no Authorization header; everyone who reaches the port gets its view"},
	{"CACHE_KEY_SECRET", "secret (16 characters or more) naming callers in coalescing and cache keys; replicas sharing a cache need the same; unset, each process draws its own"},
	{"REDIS_URL", "redis://[user:password@]host:port/db (rediss:// for TLS): persisted queries, and the page cache when UPSTREAM_CACHE_TTL is set, shared by every replica; empty: none"},
	{"OTEL_TRACES_EXPORTER", "otlp, console or none; unset: none, unless an OTLP endpoint is set"},
	{"OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "where spans go, e.g. http://collector:4318 (and OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: http/protobuf or grpc)"},
	{"OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_SDK_DISABLED", "the service's name in traces, the sampler (default parentbased_always_on), and true to export nothing"},
}

// endpoints are the paths the gateway serves, for -h.
var endpoints = []struct{ path, meaning string }{
	{"/", "GraphiQL, when GRAPHQL_PLAYGROUND is true (its assets are built by 'make playground')"},
	{"/query", "GraphQL over HTTP, GET and POST"},
	{"/healthz", "liveness: 200 while the process serves (also on METRICS_LISTEN_ADDR)"},
	{"/readyz", "readiness: 200 once Waldur answers the background probe, 503 while it fails or the circuit is open (also on METRICS_LISTEN_ADDR)"},
	{"/metrics", "Prometheus metrics, on METRICS_LISTEN_ADDR only (default :9464)"},
}

// usage is what -h prints: every setting with its flag, environment variable
// and default, and the endpoints.
func usage(fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "waldur-quotas-gateway %s serves Waldur's customer quotas (GET /api/customer-quotas/) as a GraphQL API.\n\n", version)
	b.WriteString("Usage: gateway [flags]\n\n")
	b.WriteString("Each setting comes from its environment variable; a flag overrides it.\n")
	b.WriteString("With WALDUR_API_URL unset, the gateway serves a demo with a fake Waldur.\n\n")
	b.WriteString("Flags:\n")
	out := fs.Output()
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(out)
	b.WriteString("\nEnvironment only:\n")
	for _, s := range envOnlySettings {
		fmt.Fprintf(&b, "  %s\n    \t%s\n", s.name, s.meaning)
	}
	b.WriteString("\nEndpoints:\n")
	for _, e := range endpoints {
		fmt.Fprintf(&b, "  %-10s %s\n", e.path, e.meaning)
	}
	return b.String()
}
