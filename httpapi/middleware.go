package httpapi

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/waldur-quotas/gateway/graph"
	"github.com/waldur-quotas/gateway/upstream"
)

// statusRecorder remembers the status a handler wrote, for the log line.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logRequests writes one line per request, and only one: what was asked, how
// it went, what it cost upstream and how the upstream failed, if it did. Its
// level says how it went, so an operator can filter on it. Headers are never
// logged: they carry credentials.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, stats := withStats(r.Context())
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		sum := stats.snapshot()
		attrs := []slog.Attr{
			slog.String("method", capped(r.Method)),
			slog.String("path", capped(r.URL.Path)),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		}
		if sum.operation != "" {
			attrs = append(attrs, slog.String("operation", sum.operation))
		}
		if sum.upstreamCalls > 0 || r.URL.Path == queryPath {
			attrs = append(attrs, slog.Int("upstream_calls", sum.upstreamCalls))
		}
		if sum.responseCached {
			attrs = append(attrs, slog.Bool("response_cached", true))
		}
		if sum.coalescedCalls > 0 {
			attrs = append(attrs, slog.Int("upstream_coalesced", sum.coalescedCalls))
		}
		if f := sum.failures; f.count > 0 {
			attrs = append(attrs,
				slog.Int("upstream_failures", f.count),
				slog.Int("upstream_last_status", f.lastStatus),
				slog.String("upstream_last_cause", f.lastCause))
		}
		if r := sum.failures.retried; r > 0 {
			attrs = append(attrs, slog.Int("upstream_retries", r))
		}
		if len(sum.errorCodes) > 0 {
			attrs = append(attrs, slog.Any("error_codes", sum.errorCodes))
		}
		logger.LogAttrs(ctx, requestLevel(r, rec.status, sum), "request", attrs...)
	})
}

// requestLevel: ERROR for the gateway's own failures, WARN when Waldur failed
// it, DEBUG for a liveness probe that passed (probes come every few seconds
// and say nothing), INFO otherwise.
func requestLevel(r *http.Request, status int, sum requestSummary) slog.Level {
	switch {
	case r.URL.Path == readyzPath && status != http.StatusInternalServerError:
		// Unready or not: the readiness probe logs each change itself.
		return slog.LevelDebug
	case status == http.StatusInternalServerError || slices.Contains(sum.errorCodes, graph.CodeInternal):
		return slog.LevelError
	case status > http.StatusInternalServerError:
		// A 503 says the gateway cannot serve this yet (GraphiQL not built):
		// anyone can cause it by asking, so it must not raise an alarm.
		return slog.LevelWarn
	case sum.failures.unrecovered():
		return slog.LevelWarn
	case r.URL.Path == healthzPath && status == http.StatusOK:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// maxLoggedBytes caps what a request line repeats of the request line the
// client sent: the method and path are the client's to choose, up to the
// header limit, and a log line is no place for 80 KB of them.
const maxLoggedBytes = 256

func capped(s string) string {
	if len(s) <= maxLoggedBytes {
		return s
	}
	return strings.ToValidUTF8(s[:maxLoggedBytes], "") + "…"
}

// withCaller binds the caller's Authorization header to the request context,
// from where only the upstream client reads it, and the caller's wish for a
// fresh answer, from where the upstream cache reads it.
func withCaller(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := upstream.WithAuthorization(r.Context(), r.Header.Get("Authorization"))
		if noCache(r.Header) {
			ctx = upstream.WithCacheBypass(ctx)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// noCache reports whether the request's Cache-Control has the no-cache
// directive: the caller wants what Waldur says now, not a cached answer.
func noCache(h http.Header) bool {
	for _, v := range h.Values("Cache-Control") {
		for directive := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(directive), "no-cache") {
				return true
			}
		}
	}
	return false
}
