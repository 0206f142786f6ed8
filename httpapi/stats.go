package httpapi

import (
	"context"
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
// Pass it to upstream.WithObserver.
func ObserveUpstream(ctx context.Context, _ upstream.Call) {
	if s := statsFrom(ctx); s != nil {
		s.mu.Lock()
		s.upstreamCalls++
		s.mu.Unlock()
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
