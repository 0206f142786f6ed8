package httpapi

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/extension"

	"github.com/waldur-quotas/gateway/graph"
)

// RequestObserver is told of every GraphQL request the gateway serves at
// /query: when it starts and once it is answered. The gateway's metrics
// (package metrics) implement it, so that this package needs no metrics
// library. Both methods run on the request's goroutine and must return
// quickly.
type RequestObserver interface {
	RequestStarted()
	RequestDone(GraphQLRequest)
}

// GraphQLRequest is what a RequestObserver hears of one answered request.
// It holds what the request's log line holds, never a header.
type GraphQLRequest struct {
	// Operation is the name of the operation run, "" when it had none or
	// the request never reached one (refused before validation ended).
	Operation string
	// Outcome is OutcomeOK, the code of the answer's first error, or
	// OutcomeError for a refusal without a code.
	Outcome string
	// APQ is how the request used automatic persisted queries, "" when it
	// did not.
	APQ      string
	Duration time.Duration
}

// GraphQLRequest.Outcome values that are not error codes.
const (
	OutcomeOK    = "ok"
	OutcomeError = "error"
)

// GraphQLRequest.APQ values.
const (
	// APQHit: the request sent only a hash, and the query was known.
	APQHit = "hit"
	// APQMiss: the request sent only a hash the gateway does not know; it
	// was refused with PERSISTED_QUERY_NOT_FOUND, for the client to send the
	// query with its hash.
	APQMiss = "miss"
	// APQStored: the request sent the query with its hash, which the
	// gateway now keeps.
	APQStored = "stored"
)

// observeGraphQL tells observer of each request to next. It runs inside
// logRequests, whose stats it reads: the operation's name, the error codes
// and the APQ use are the log line's.
func observeGraphQL(observer RequestObserver, next http.Handler) http.Handler {
	if observer == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			// A CORS preflight asks whether to send a request; it is none.
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		observer.RequestStarted()
		done := GraphQLRequest{Outcome: OutcomeError}
		defer func() {
			// Deferred, so that a panic does not leave the request in
			// flight for ever.
			done.Duration = time.Since(start)
			observer.RequestDone(done)
		}()
		next.ServeHTTP(rec, r)
		if s := statsFrom(r.Context()); s != nil {
			sum := s.snapshot()
			done.Operation, done.APQ = sum.operation, sum.apq
			done.Outcome = outcomeOf(rec.status, sum.errorCodes)
			if done.APQ == "" && slices.Contains(sum.errorCodes, graph.CodePersistedQueryUnset) {
				done.APQ = APQMiss
			}
		}
	})
}

func outcomeOf(status int, codes []string) string {
	switch {
	case len(codes) > 0:
		return codes[0]
	case status >= http.StatusBadRequest:
		return OutcomeError
	}
	return OutcomeOK
}

// apqUse is how the operation in ctx used automatic persisted queries, ""
// when it did not.
func apqUse(ctx context.Context) string {
	stats := extension.GetApqStats(ctx)
	switch {
	case stats == nil:
		return ""
	case stats.SentQuery:
		return APQStored
	}
	return APQHit
}
