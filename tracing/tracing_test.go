package tracing_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/tracing"
)

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestParseEnv(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		env      map[string]string
		exporter string
		err      string
	}{
		{name: "nothing set: nothing exported", env: nil, exporter: ""},
		{name: "an endpoint means otlp", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, exporter: "otlp"},
		{name: "a traces endpoint means otlp", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, exporter: "otlp"},
		{name: "none wins over an endpoint", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, exporter: ""},
		{name: "none wins over a traces endpoint", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, exporter: ""},
		{name: "otlp", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, exporter: "otlp"},
		{name: "console", env: map[string]string{"OTEL_TRACES_EXPORTER": "console"}, exporter: "console"},
		{name: "SDK disabled", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, exporter: ""},
		{name: "a ratio sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}},

		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "jaeger"}, err: "OTEL_TRACES_EXPORTER"},
		{name: "unknown protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, err: "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{name: "unknown sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}, err: "OTEL_TRACES_SAMPLER"},
		{name: "ratio above 1", env: map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, err: "OTEL_TRACES_SAMPLER_ARG"},
		{name: "SDK disabled: maybe", env: map[string]string{"OTEL_SDK_DISABLED": "maybe"}, err: "OTEL_SDK_DISABLED"},
	} {
		s, err := tracing.ParseEnv(envOf(c.env))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.err)
		case c.err == "" && s.Exporter != c.exporter:
			t.Errorf("%s: exporter %q, want %q", c.name, s.Exporter, c.exporter)
		}
	}
}

// With no OTEL_* variable set, the provider has no exporter and nothing
// connects to the OTLP default address (localhost:4318), where the
// specification's default exporter would send every span.
func TestNothingSetNothingSent(t *testing.T) {
	for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"} {
		t.Setenv(k, "")
	}
	var listeners []net.Listener
	for _, addr := range []string{"127.0.0.1:4318", "[::1]:4318"} {
		if ln, err := net.Listen("tcp", addr); err == nil {
			listeners = append(listeners, ln)
			t.Cleanup(func() { _ = ln.Close() })
		}
	}
	if len(listeners) == 0 {
		t.Skip("the OTLP default port 4318 is taken on loopback")
	}
	connected := make(chan string, len(listeners))
	for _, ln := range listeners {
		go func() {
			if c, err := ln.Accept(); err == nil {
				connected <- ln.Addr().String()
				_ = c.Close()
			}
		}()
	}

	settings, err := tracing.ParseEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	p, err := tracing.New(context.Background(), settings, "test")
	if err != nil {
		t.Fatal(err)
	}
	if p.Exporter() != tracing.ExporterNone {
		t.Errorf("exporter %q, want none", p.Exporter())
	}
	// A sampled span from a caller is recorded; shutting down flushes
	// whatever an exporter would hold.
	_, span := p.TracerProvider().Tracer("t").Start(context.Background(), "s")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case addr := <-connected:
		t.Errorf("something connected to %s with nothing configured", addr)
	case <-time.After(200 * time.Millisecond):
	}
}
