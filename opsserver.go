package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/metrics"
	"github.com/waldur-quotas/gateway/upstream"
)

// opsWriteTimeout bounds the answer to a scrape or a probe: a few hundred
// series and a line of JSON, written on a LAN.
const opsWriteTimeout = 10 * time.Second

// observability is the gateway's metrics (nil when METRICS_LISTEN_ADDR is
// empty) and readiness, with what wires them into the client and the
// handler.
type observability struct {
	metrics   *metrics.Metrics
	readiness *httpapi.Readiness
}

// newMetrics returns the gateway's metrics, nil when they are off.
func newMetrics(listen string) *metrics.Metrics {
	if listen == "" {
		return nil
	}
	return metrics.New(version)
}

// clientOptions tell the metrics of what the upstream client does.
func (o observability) clientOptions() []upstream.Option {
	if o.metrics == nil {
		return nil
	}
	return []upstream.Option{upstream.WithObserver(o.metrics.ObserveUpstream), upstream.WithCacheObserver(o.metrics.ObserveCache)}
}

// requestObserver is the handler's RequestObserver: nil, not a nil
// *metrics.Metrics in an interface, when the metrics are off.
func (o observability) requestObserver() httpapi.RequestObserver {
	if o.metrics == nil {
		return nil
	}
	return o.metrics
}

// startOpsServer serves /metrics, /healthz and /readyz on listen (nothing
// when listen is empty), its Serve's end sent to served. The returned stop
// shuts it down, waiting up to grace.
func startOpsServer(listen string, o observability, served chan<- error, logger *slog.Logger) (stop func(grace time.Duration), err error) {
	if listen == "" || o.metrics == nil {
		return func(time.Duration) {}, nil
	}
	srv := &http.Server{
		Handler:           httpapi.NewOps(httpapi.OpsConfig{Metrics: o.metrics.Handler(), Readiness: o.readiness, Version: version}),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      opsWriteTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    16 << 10,
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (METRICS_LISTEN_ADDR): %w", listen, err)
	}
	logger.Info("metrics listening", slog.String("addr", ln.Addr().String()), slog.String("paths", "/metrics /healthz /readyz"))
	go func() { served <- srv.Serve(ln) }()
	return func(grace time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}, nil
}

// defaultMetricsListen is METRICS_LISTEN_ADDR unless set: the port
// OpenTelemetry's Prometheus exporters serve on by default.
const defaultMetricsListen = ":9464"

// setInEnvironment tells an empty variable from one not set, which getenv
// cannot: METRICS_LISTEN_ADDR="" turns the metrics off, unset keeps them on.
func setInEnvironment(key string) bool {
	_, set := os.LookupEnv(key)
	return set
}

// watch has the metrics read the circuit breaker's state and the
// readiness at each scrape.
func (o observability) watch(waldur *upstream.Client) {
	if o.metrics == nil {
		return
	}
	o.metrics.WatchCircuit(waldur)
	o.metrics.WatchReadiness(o.readiness)
}
