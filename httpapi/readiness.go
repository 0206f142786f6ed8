package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/waldur-quotas/gateway/upstream"
)

const readyzPath = "/readyz"

// ReadinessInterval is how often the gateway probes Waldur for /readyz: a
// load balancer learns of a Waldur outage (or its end) within this and one
// upstream timeout, and a probe this rare costs Waldur nothing.
const ReadinessInterval = 5 * time.Second

// Readiness tells whether the gateway can serve: whether Waldur answered
// the last background probe (see upstream.Client.Probe: any answer below
// 500 is a live Waldur) and the circuit breaker is not open. One goroutine
// (Run) probes; /readyz only reads the last outcome, so however often load
// balancers ask, Waldur is asked once per interval.
//
// The probe does not feed the breaker, and a half-open circuit counts as
// ready. The breaker learns from callers' calls only: were a gateway that no
// load balancer sends callers to (because it is unready) to need a caller's
// call to close its circuit, it would stay unready for good once Waldur came
// back. So the open circuit makes the gateway unready for its cooldown, after
// which the probe's word decides, and the next caller's call closes the
// circuit or opens it again.
type Readiness struct {
	waldur   *upstream.Client
	interval time.Duration
	logger   *slog.Logger
	// last is the last probe's outcome, nil before the first.
	last atomic.Pointer[probeOutcome]
}

// probeOutcome is one probe's failure, nil when Waldur answered.
type probeOutcome struct{ err error }

var errShuttingDown = errors.New("the gateway is shutting down")

// notProbedReason is why a gateway is not ready before its first probe ends.
const notProbedReason = "Waldur has not answered the readiness probe yet"

// NewReadiness returns the readiness of a gateway calling waldur, probed
// every interval (ReadinessInterval when not positive) once Run is called.
// logger hears of each change of the probe's outcome.
func NewReadiness(waldur *upstream.Client, interval time.Duration, logger *slog.Logger) *Readiness {
	if interval <= 0 {
		interval = ReadinessInterval
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Readiness{waldur: waldur, interval: interval, logger: logger}
}

// Run probes Waldur at once, then every interval after the last probe
// ended, until ctx is done. From then on the gateway is not ready: ctx ends
// when the gateway shuts down, and a load balancer must stop sending it
// requests while it drains.
func (r *Readiness) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			r.last.Store(&probeOutcome{err: errShuttingDown})
			return
		case <-timer.C:
		}
		r.probe(ctx)
		timer.Reset(r.interval)
	}
}

func (r *Readiness) probe(ctx context.Context) {
	err := r.waldur.Probe(ctx)
	if ctx.Err() != nil {
		return // shutting down: the probe's failure is ours, not Waldur's
	}
	previous := r.last.Swap(&probeOutcome{err: err})
	switch {
	case err != nil && (previous == nil || previous.err == nil):
		r.logger.LogAttrs(ctx, slog.LevelWarn, "waldur readiness probe failed: the gateway is not ready",
			slog.String("cause", causeOf(err)))
	case err == nil && (previous == nil || previous.err != nil):
		r.logger.LogAttrs(ctx, slog.LevelInfo, "waldur answers the readiness probe: the gateway is ready")
	}
}

// Check reports whether the gateway is ready, and if not, why, in words
// for people (no URL, no credential, no upstream body).
func (r *Readiness) Check() (ready bool, reason string) {
	last := r.last.Load()
	switch {
	case last == nil:
		return false, notProbedReason
	case last.err != nil:
		return false, last.err.Error()
	}
	if r.waldur.CircuitState() == upstream.CircuitOpen {
		return false, "circuit breaker open: Waldur failed the gateway's last calls"
	}
	return true, ""
}

// Ready is Check without the reason.
func (r *Readiness) Ready() bool {
	ready, _ := r.Check()
	return ready
}

func (r *Readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	ready, reason := r.Check()
	if ready {
		writeHealth(w, http.StatusOK, map[string]string{"status": "ready"})
		return
	}
	writeHealth(w, http.StatusServiceUnavailable, map[string]string{"status": "unready", "reason": reason})
}

// handleHealth serves /healthz (the process serves) and, with a readiness,
// /readyz, on a listener's mux: the gateway's and the metrics listener's
// answer alike.
func handleHealth(mux *http.ServeMux, version string, readiness *Readiness) {
	mux.HandleFunc("GET "+healthzPath, func(w http.ResponseWriter, _ *http.Request) {
		writeHealth(w, http.StatusOK, map[string]string{"status": "ok", "version": version})
	})
	if readiness != nil {
		mux.Handle("GET "+readyzPath, readiness)
	}
}

func writeHealth(w http.ResponseWriter, status int, body map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
