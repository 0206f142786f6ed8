package httpapi

import "net/http"

// OpsConfig is what the operations listener (METRICS_LISTEN_ADDR) serves.
type OpsConfig struct {
	// Metrics serves /metrics.
	Metrics   http.Handler
	Readiness *Readiness
	Version   string
}

// NewOps returns the handler of the operations listener: /metrics, kept off
// the public GraphQL listener, and /healthz and /readyz, as on the gateway's
// own. Its requests are not logged: a scraper and probes every few seconds
// would drown the request lines.
func NewOps(cfg OpsConfig) http.Handler {
	mux := http.NewServeMux()
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	handleHealth(mux, cfg.Version, cfg.Readiness)
	return mux
}
