package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/waldur-quotas/gateway/upstream"
)

// requestStats gathers what one request's log line reports. Upstream calls may
// finish concurrently, hence the mutex.
type requestStats struct {
	mu            sync.Mutex
	operation     string
	upstreamCalls int
	errorCodes    []string
}

type statsKey struct{}

func withStats(ctx context.Context) (context.Context, *requestStats) {
	s := &requestStats{}
	return context.WithValue(ctx, statsKey{}, s), s
}

func statsFrom(ctx context.Context) *requestStats {
	s, _ := ctx.Value(statsKey{}).(*requestStats)
	return s
}

// ObserveUpstream counts an upstream call against the request that caused it.
// Pass it to upstream.WithObserver; UpstreamObserver also logs failures.
func ObserveUpstream(ctx context.Context, _ upstream.Call) {
	if s := statsFrom(ctx); s != nil {
		s.mu.Lock()
		s.upstreamCalls++
		s.mu.Unlock()
	}
}

// UpstreamObserver counts calls like ObserveUpstream and logs each failed one
// with its cause, which the client never sees (it gets a message for people):
// an operator needs "connection refused" or "timeout" to act. No credential is
// in a Call or its error.
func UpstreamObserver(logger *slog.Logger) func(context.Context, upstream.Call) {
	return func(ctx context.Context, c upstream.Call) {
		ObserveUpstream(ctx, c)
		if c.Err == nil {
			return
		}
		level := slog.LevelWarn
		if k := upstream.KindOf(c.Err); k == 0 || k == upstream.PageNotFound {
			// The caller went away, or the list shrank under a plan that is
			// then made again: expected, not an alarm.
			level = slog.LevelInfo
		}
		attrs := []slog.Attr{
			slog.String("method", c.Method), slog.Int("status", c.Status),
			slog.Float64("duration_ms", float64(c.Duration.Microseconds())/1000),
			slog.String("error", c.Err.Error()),
		}
		if cause := errors.Unwrap(c.Err); cause != nil {
			attrs = append(attrs, slog.String("cause", cause.Error()))
		}
		logger.LogAttrs(ctx, level, "upstream call failed", attrs...)
	}
}

func (s *requestStats) setOperation(name string) {
	s.mu.Lock()
	s.operation = name
	s.mu.Unlock()
}

func (s *requestStats) addErrorCode(code string) {
	s.mu.Lock()
	s.errorCodes = append(s.errorCodes, code)
	s.mu.Unlock()
}

func (s *requestStats) snapshot() (operation string, calls int, codes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.operation, s.upstreamCalls, append([]string(nil), s.errorCodes...)
}
