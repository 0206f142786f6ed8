package tracing

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The values of Settings.Exporter.
const (
	ExporterNone    = "none"
	ExporterOTLP    = "otlp"
	ExporterConsole = "console" // spans as JSON on standard output
)

// Settings is what the environment asks of tracing, checked before anything
// starts.
type Settings struct {
	// Exporter is ExporterOTLP, ExporterConsole, or "" for none: the zero
	// Settings export nothing.
	Exporter string
	// Sampler is OTEL_TRACES_SAMPLER as given, "" for the SDK's default
	// (parentbased_always_on), for the start-up line.
	Sampler string
}

// samplers are the OTEL_TRACES_SAMPLER values the Go SDK implements; the
// ratio ones take OTEL_TRACES_SAMPLER_ARG.
var samplers = map[string]bool{
	"always_on": false, "always_off": false, "traceidratio": true,
	"parentbased_always_on": false, "parentbased_always_off": false, "parentbased_traceidratio": true,
}

// ParseEnv reads the OTEL_* settings the gateway acts on from getenv. A value
// the SDK would ignore or fail on later (an unknown exporter, protocol or
// sampler, a ratio that is no number from 0 to 1) is an error now, like any
// other malformed setting.
func ParseEnv(getenv func(string) string) (Settings, error) {
	var s Settings
	var errs error
	switch v := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); v {
	case "", ExporterNone:
		// An endpoint alone asks for OTLP; an explicit "none" never does.
		if v == "" && (getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "") {
			s.Exporter = ExporterOTLP
		}
	case ExporterOTLP, ExporterConsole:
		s.Exporter = v
	default:
		errs = errors.Join(errs, fmt.Errorf("OTEL_TRACES_EXPORTER must be otlp, console or none, got %q", v))
	}
	for _, key := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := getenv(key); v != "" && v != "http/protobuf" && v != "grpc" {
			errs = errors.Join(errs, fmt.Errorf("%s must be http/protobuf or grpc, got %q", key, v))
		}
	}
	if v := getenv("OTEL_SDK_DISABLED"); v != "" {
		disabled, err := strconv.ParseBool(v)
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("OTEL_SDK_DISABLED must be true or false, got %q", v))
		}
		if disabled {
			s.Exporter = ""
		}
	}
	s.Sampler = getenv("OTEL_TRACES_SAMPLER")
	if s.Sampler != "" {
		takesRatio, known := samplers[s.Sampler]
		if !known {
			errs = errors.Join(errs, fmt.Errorf("OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, got %q", s.Sampler))
		}
		if arg := getenv("OTEL_TRACES_SAMPLER_ARG"); takesRatio && arg != "" {
			if r, err := strconv.ParseFloat(arg, 64); err != nil || r < 0 || r > 1 {
				errs = errors.Join(errs, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got %q", arg))
			}
		}
	}
	return s, errs
}
