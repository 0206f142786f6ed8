package main

import (
	"time"

	"github.com/waldur-quotas/gateway/upstream"
)

// serverTimeouts derives every server deadline that depends on how long one
// request may legitimately run, from the upstream timeout and retries. It is
// the one place to change when a request may make more upstream rounds: the
// write timeout and the shutdown grace period then move together, so SIGTERM
// never cuts off an answer the gateway was still allowed to give.
type serverTimeouts struct {
	upstreamTimeout time.Duration // UPSTREAM_TIMEOUT, per upstream attempt
	upstreamRetries int           // UPSTREAM_RETRIES, attempts after a call's first
}

const (
	// upstreamRounds: a field makes at most four rounds of upstream calls one
	// after the other (HEAD, GETs, and once more when the list changed under
	// it); fields run concurrently.
	upstreamRounds = 4
	// answerMargin: reading the body, analysing the document, encoding and
	// writing the answer, on top of the upstream rounds.
	answerMargin = 10 * time.Second
	// readHeaderTimeout: a client sends its request head at once; a slow one
	// holds a connection slot (MAX_CONNECTIONS) while it dawdles.
	readHeaderTimeout = 5 * time.Second
	// readTimeout: the whole request, head and body (GRAPHQL_MAX_BODY_BYTES
	// at most).
	readTimeout = 30 * time.Second
	// idleTimeout: an idle keep-alive connection holds memory and a slot;
	// clients reconnect cheaply on loopback or a LAN.
	idleTimeout = 30 * time.Second
	// drainMargin: the last answer's way out after its handler has finished.
	drainMargin = 5 * time.Second
)

// write is the http.Server WriteTimeout: the answer must still get out after
// the longest request, whose every round may be a call that spends its whole
// budget, retries and the waits between them included.
func (t serverTimeouts) write() time.Duration {
	// Each call of a round may first wait for a slot (UPSTREAM_MAX_CONCURRENCY)
	// for as long as one attempt may take, and no longer.
	slotWait := t.upstreamTimeout
	return upstreamRounds*(slotWait+upstream.CallBudget(t.upstreamTimeout, t.upstreamRetries)) + answerMargin
}

// shutdownGrace is how long a shutdown waits for requests in flight: one whose
// head was still arriving at SIGTERM has readHeaderTimeout to finish it, then
// the write timeout, then the margin.
func (t serverTimeouts) shutdownGrace() time.Duration {
	return readHeaderTimeout + t.write() + drainMargin
}
