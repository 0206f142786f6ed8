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
	mu  sync.Mutex
	sum requestSummary
}

// requestSummary is what the request's log line reports.
type requestSummary struct {
	operation     string
	upstreamCalls int
	// coalescedCalls: upstream calls answered by another request's identical
	// call in flight, which cost Waldur nothing.
	coalescedCalls int
	errorCodes     []string
	failures       upstreamFailures
	// apq is how the operation used automatic persisted queries (APQHit,
	// APQStored), "" when it did not.
	apq string
	// responseCached: the whole answer came from the response cache
	// (responsecache.go), which kept the operation's name with it.
	responseCached bool
}

// upstreamFailures folds the request's failed upstream calls into its one log
// line: with Waldur down, a line per failed call multiplied the log by the
// number of fields in every request.
type upstreamFailures struct {
	count int
	// alarming counts the failures that are the operator's concern, not the
	// caller going away or a list that shrank under a plan made again.
	alarming int
	// retried counts the attempts past a call's first: each follows a
	// failure (an alarming one) that the retry layer tried again.
	retried    int
	lastStatus int
	// lastCause is what an operator acts on ("connection refused", a
	// timeout, "HTTP 503"). Neither it nor the message holds a credential,
	// the upstream URL or an upstream body.
	lastCause string
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

// ObserveUpstream counts an upstream call against the request that caused it
// and folds a failure into that request's log line. Pass it (or
// UpstreamObserver) to upstream.WithObserver.
func ObserveUpstream(ctx context.Context, c upstream.Call) {
	s := statsFrom(ctx)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case c.Coalesced:
		s.sum.coalescedCalls++
	case c.Attempt > 1:
		s.sum.upstreamCalls++
		s.sum.failures.retried++
	default:
		s.sum.upstreamCalls++
	}
	if c.Err != nil {
		s.sum.failures.add(c)
	}
}

// UpstreamObserver is ObserveUpstream, and logs a failed call that no request
// line can report (one made outside any request), rate-limited.
func UpstreamObserver(logger *slog.Logger) func(context.Context, upstream.Call) {
	events := rateLimited(WithRequestContext(logger))
	return func(ctx context.Context, c upstream.Call) {
		if statsFrom(ctx) != nil {
			ObserveUpstream(ctx, c)
			return
		}
		if c.Err != nil {
			events.LogAttrs(ctx, slog.LevelWarn, "upstream call failed outside a request",
				slog.String("method", c.Method), slog.Int("status", c.Status), slog.String("cause", causeOf(c.Err)))
		}
	}
}

func (f *upstreamFailures) add(c upstream.Call) {
	f.count++
	f.lastStatus = c.Status
	f.lastCause = causeOf(c.Err)
	if k := upstream.KindOf(c.Err); k != 0 && k != upstream.PageNotFound {
		f.alarming++
	}
}

// unrecovered tells whether a failure that concerns the operator was not
// made good by a retry: a request that Waldur failed once, then answered, is
// no failed request.
func (f upstreamFailures) unrecovered() bool { return f.alarming > f.retried }

// causeOf is the underlying cause of an upstream failure when it has one
// (a transport error), else its message (which names the HTTP status).
func causeOf(err error) string {
	if cause := errors.Unwrap(err); cause != nil {
		return cause.Error()
	}
	return err.Error()
}

func (s *requestStats) setOperation(name string) {
	s.mu.Lock()
	s.sum.operation = name
	s.mu.Unlock()
}

func (s *requestStats) setAPQ(use string) {
	s.mu.Lock()
	s.sum.apq = use
	s.mu.Unlock()
}

func (s *requestStats) answeredFromCache(operation string) {
	s.mu.Lock()
	s.sum.operation, s.sum.responseCached = operation, true
	s.mu.Unlock()
}

func (s *requestStats) addErrorCode(code string) {
	s.mu.Lock()
	s.sum.errorCodes = append(s.sum.errorCodes, code)
	s.mu.Unlock()
}

func (s *requestStats) snapshot() requestSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := s.sum
	sum.errorCodes = append([]string(nil), s.sum.errorCodes...)
	return sum
}
