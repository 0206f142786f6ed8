package httpapi

import (
	"net/http"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/waldur-quotas/gateway/upstream"
)

// maxRequestIDBytes bounds a caller's X-Request-Id: longer ones are replaced,
// so that a log line or a header to Waldur never carries whatever a caller
// pads it with.
const maxRequestIDBytes = 128

// A request ID is no secret (it goes to Waldur and back to the caller), so
// its randomness may come from uuid's pool, read in batches: one read of
// crypto/rand per ID was 2.7% of the CPU of a cached answer.
func init() { uuid.EnableRandPool() }

// withRequestID gives every request an ID: the caller's X-Request-Id when it
// is sane (a load balancer or a client that already logged it), otherwise a
// new one. The answer echoes it, every attempt to Waldur carries it (see
// upstream.WithRequestID), and the request's log lines and HTTP span carry it.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(upstream.RequestIDHeader)
		if !saneRequestID(id) {
			id = uuid.NewString()
		}
		w.Header().Set(upstream.RequestIDHeader, id)
		trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("gateway.request_id", id))
		next.ServeHTTP(w, r.WithContext(upstream.WithRequestID(r.Context(), id)))
	})
}

// saneRequestID: 1 to maxRequestIDBytes of printable ASCII, nothing a log
// reader or a header could take for something else.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}
