package tracing

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName names the gateway's spans unless OTEL_SERVICE_NAME (or
// service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise.
const ServiceName = "waldur-quotas-gateway"

// Provider makes the gateway's spans and, when an exporter is configured,
// sends them on. Shut it down last: that sends the spans still queued.
type Provider struct {
	tp       *sdktrace.TracerProvider
	exporter string
}

// Start builds the Provider that settings ask for (see New) and makes it,
// and the propagator, the process's global ones, for libraries that trace on
// their own. Errors the SDK meets later (an export that failed) are logged.
func Start(ctx context.Context, settings Settings, version string, logger *slog.Logger) (*Provider, error) {
	p, err := New(ctx, settings, version)
	if err != nil {
		return nil, err
	}
	otel.SetTextMapPropagator(Propagator())
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn("tracing failed", slog.String("error", err.Error()))
	}))
	otel.SetTracerProvider(p.tp)
	return p, nil
}

// New builds the Provider that settings ask for, touching no global.
//
// Without an exporter it still makes spans, but samples none of its own:
// their IDs are what the request's log line and Waldur's traceparent carry.
// A caller's sampled trace is still sampled (parent-based), so the flag
// Waldur receives is the caller's.
func New(ctx context.Context, settings Settings, version string) (*Provider, error) {
	res, err := resource.New(ctx,
		// Later detectors win: the environment names the service if it says.
		resource.WithAttributes(semconv.ServiceName(ServiceName), semconv.ServiceVersion(version)),
		resource.WithFromEnv(),
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing: describe the service: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if settings.Exporter == "" {
		opts = append(opts, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	} else {
		// autoexport reads OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_* (endpoint,
		// protocol, headers, timeout, TLS): with the variable unset it picks
		// otlp, which ParseEnv only allows when an endpoint is set.
		exp, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, fmt.Errorf("tracing: set up the %s exporter: %w", settings.Exporter, err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	return &Provider{tp: sdktrace.NewTracerProvider(opts...), exporter: cmp.Or(settings.Exporter, ExporterNone)}, nil
}

// TracerProvider is what the HTTP surface and the upstream client trace with.
func (p *Provider) TracerProvider() trace.TracerProvider { return p.tp }

// Exporter is the exporter spans go to: ExporterNone, ExporterOTLP or
// ExporterConsole.
func (p *Provider) Exporter() string { return p.exporter }

// Exporting reports whether spans go anywhere: only then are requests and
// upstream attempts described in full (see UpstreamOptions).
func (p *Provider) Exporting() bool { return p.exporter != ExporterNone }

// Shutdown sends the spans still queued and stops the exporter, within ctx.
func (p *Provider) Shutdown(ctx context.Context) error {
	if err := p.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flush the spans: %w", err)
	}
	return nil
}
