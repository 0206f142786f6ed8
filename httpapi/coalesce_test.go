package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/graph"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// Coalescing: identical upstream requests in flight at the same moment share
// one call, across GraphQL requests, and only between requests of the same
// caller. These tests hold every upstream request until the whole crowd of
// queries has reached the gateway, so that the queries overlap as a
// dashboard's many tabs do.

const coalesceQuota = "os_cpu_count"

const coalesceQuery = `query Q($q: String!) {
  customerQuotas(quotaName: $q, first: 10) { totalCount nodes { customerName customerAbbreviation value } }
}`

// crowd counts the requests that reached the gateway's handler, so that the
// fake Waldur can hold its answers until all of them are in.
type crowd struct{ arrived atomic.Int64 }

// option counts every request the gateway's server hands to its handler.
func (c *crowd) option() harnessOption {
	return withServer(func(srv *http.Server, l net.Listener, _ *slog.Logger) net.Listener {
		inner := srv.Handler
		srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.arrived.Add(1)
			inner.ServeHTTP(w, r)
		})
		return l
	})
}

// waitFor waits until n requests have arrived, then lets latency pass, so
// that they have all been parsed and reached the upstream client. It never
// waits more than a few seconds: a test must fail, not hang.
func (c *crowd) waitFor(n int64, latency time.Duration) {
	for deadline := time.Now().Add(5 * time.Second); c.arrived.Load() < n && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(latency)
}

// holdUntil makes the fake Waldur answer every request only once n queries
// have arrived, plus latency.
func (c *crowd) holdUntil(h *harness, n int64, latency time.Duration) {
	h.setFault(func(http.ResponseWriter, *http.Request) bool {
		c.waitFor(n, latency)
		return false
	})
}

// sendAll sends one query per token in tokens, all at once, and returns the
// answers in the same order.
func sendAll(h *harness, tokens []string) ([]gqlResponse, error) {
	answers := make([]gqlResponse, len(tokens))
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	for i, tok := range tokens {
		req := h.postRequest("Token "+tok, coalesceQuery, map[string]any{"q": coalesceQuota})
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errs[i] = h.send(req)
		}()
	}
	wg.Wait()
	return answers, errors.Join(errs...)
}

// wantOwnRows fails unless r is the first page of what the fake Waldur shows tok.
func wantOwnRows(t *testing.T, h *harness, tok string, r gqlResponse) {
	t.Helper()
	wantData(t, r)
	rows := h.data.Rows(tok, coalesceQuota, "value")
	got := r.customerQuotas(t)
	if got.TotalCount != len(rows) || len(got.Nodes) != min(10, len(rows)) {
		t.Fatalf("token %s: totalCount %d with %d nodes, want %d with %d", tok, got.TotalCount, len(got.Nodes), len(rows), min(10, len(rows)))
	}
	for i, n := range got.Nodes {
		if !sameNode(n, nodeOf(rows[i])) {
			t.Fatalf("token %s: node %d is %+v, want %+v: another caller's rows?", tok, i, n, nodeOf(rows[i]))
		}
	}
}

// distinctCalls counts the upstream requests per distinct request (method,
// query parameters and Authorization).
func distinctCalls(calls []upstreamCall) map[upstreamCall]int {
	out := map[upstreamCall]int{}
	for _, c := range calls {
		out[c]++
	}
	return out
}

// requestLine is what the coalescing tests read of a request's log line.
type requestLine struct {
	Path              string `json:"path"`
	UpstreamCalls     int    `json:"upstream_calls"`
	UpstreamCoalesced int    `json:"upstream_coalesced"`
	UpstreamFailures  int    `json:"upstream_failures"`
	LastStatus        int    `json:"upstream_last_status"`
}

func TestCoalescingConcurrentIdenticalQueries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		callers []string
	}{
		{"one caller", []string{fakewaldur.DemoStaffToken}},
		{"two callers", []string{fakewaldur.DemoStaffToken, fakewaldur.DemoOwnerToken}},
		{"four callers", []string{fakewaldur.DemoStaffToken, fakewaldur.DemoOwnerToken, fakewaldur.DemoNobodyToken, fakewaldur.DemoStaffToken + "-unknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const queries = 100
			var c crowd
			h := newHarness(t, c.option())
			c.holdUntil(h, queries, 300*time.Millisecond)
			tokens := make([]string, queries)
			for i := range tokens {
				tokens[i] = tc.callers[i%len(tc.callers)]
			}
			answers, err := sendAll(h, tokens)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range answers {
				if tokens[i] == fakewaldur.DemoStaffToken+"-unknown" {
					if r.code() != graph.CodeUnauthenticated {
						t.Fatalf("an unknown token: %s, want UNAUTHENTICATED", r)
					}
					continue
				}
				wantOwnRows(t, h, tokens[i], r)
			}
			calls := h.takeCalls()
			perRequest := distinctCalls(calls)
			for call, n := range perRequest {
				if n != 1 {
					t.Errorf("%+v reached Waldur %d times, want once", call, n)
				}
			}
			callers := map[string]bool{}
			for call := range perRequest {
				callers[call.Authorization] = true
			}
			if len(callers) != len(tc.callers) {
				t.Errorf("upstream requests carried %d distinct credentials, want %d", len(callers), len(tc.callers))
			}
			t.Logf("%d concurrent identical queries from %d callers: %d upstream requests", queries, len(tc.callers), len(calls))

			// Each request's line says it used upstream: one made the call,
			// the others shared it.
			lines := logRecords[requestLine](t, h.logs.String(), "request")
			made, shared := 0, 0
			for _, l := range lines {
				if l.UpstreamCalls+l.UpstreamCoalesced == 0 {
					t.Errorf("a request line says no upstream was used: %+v", l)
				}
				made += l.UpstreamCalls
				shared += l.UpstreamCoalesced
			}
			if len(lines) != queries || made != len(calls) || shared != queries-len(calls) {
				t.Errorf("%d request lines count %d upstream calls and %d coalesced; want %d lines, %d and %d",
					len(lines), made, shared, queries, len(calls), queries-len(calls))
			}
		})
	}
}

// A caller that gives up does not cancel the call the others share; when the
// last one has gone, the call is cancelled.
func TestCoalescingOutlivesTheCallerThatStartedIt(t *testing.T) {
	var c crowd
	// An upstream timeout far beyond the waits below: only a cancellation
	// can end the upstream request in time.
	h := newHarness(t, c.option(), withUpstreamTimeout(time.Minute))
	started := make(chan struct{}, 4)
	release := make(chan struct{})
	upstreamGone := make(chan struct{}, 4)
	h.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		started <- struct{}{}
		select {
		case <-release:
			return false
		case <-r.Context().Done():
			upstreamGone <- struct{}{}
			return true
		case <-time.After(10 * time.Second):
			return false
		}
	})
	staff := "Token " + fakewaldur.DemoStaffToken

	// The first caller starts the call, then gives up while a second one waits for it.
	firstCtx, giveUp := context.WithCancel(context.Background())
	firstDone := make(chan error, 1)
	go func() {
		_, err := h.send(h.postRequest(staff, coalesceQuery, map[string]any{"q": coalesceQuota}).WithContext(firstCtx))
		firstDone <- err
	}()
	waitOrFail(t, started, "the first caller's upstream request")
	secondDone := make(chan gqlResponse, 1)
	go func() {
		r, _ := h.send(h.postRequest(staff, coalesceQuery, map[string]any{"q": coalesceQuota}))
		secondDone <- r
	}()
	c.waitFor(2, 300*time.Millisecond)
	giveUp()
	if err := <-firstDone; err == nil {
		t.Fatal("the first caller's request succeeded after it gave up")
	}
	// Its request line is written once the gateway has seen it go.
	waitUntil(t, "the first caller's request line", func() bool {
		return len(logRecords[requestLine](t, h.logs.String(), "request")) == 1
	})
	select {
	case <-upstreamGone:
		t.Fatal("the shared upstream request was cancelled while a caller still waited for it")
	default:
	}
	close(release)
	wantOwnRows(t, h, fakewaldur.DemoStaffToken, <-secondDone)
	if calls := h.takeCalls(); len(calls) != 1 {
		t.Fatalf("%d upstream requests, want the one the second caller shared: %+v", len(calls), calls)
	}

	// A lone caller that gives up takes the call with it.
	h.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		started <- struct{}{}
		select {
		case <-r.Context().Done():
			upstreamGone <- struct{}{}
		case <-time.After(10 * time.Second):
		}
		return true
	})
	lone, leave := context.WithCancel(context.Background())
	defer leave()
	go func() {
		_, _ = h.send(h.postRequest(staff, coalesceQuery, map[string]any{"q": "vpc_cpu_count"}).WithContext(lone))
	}()
	waitOrFail(t, started, "the lone caller's upstream request")
	leave()
	waitOrFail(t, upstreamGone, "the cancellation of the lone caller's upstream request")
}

// A failure is shared like an answer: one 503 answers every caller that
// waited for it, and each one's request line reports it.
func TestCoalescingSharesAFailure(t *testing.T) {
	unavailable := func(w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
	// What one query alone costs against a Waldur that always fails (the
	// layers below coalescing may retry).
	alone := newHarness(t)
	alone.setFault(unavailable)
	if r := alone.post("Token "+fakewaldur.DemoStaffToken, coalesceQuery, map[string]any{"q": coalesceQuota}); r.code() != graph.CodeUpstreamUnavailable {
		t.Fatalf("one query against a failing Waldur: %s", r)
	}
	costAlone := len(alone.takeCalls())

	const queries = 20
	var c crowd
	h := newHarness(t, c.option())
	h.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		c.waitFor(queries, 300*time.Millisecond)
		return unavailable(w, r)
	})
	tokens := make([]string, queries)
	for i := range tokens {
		tokens[i] = fakewaldur.DemoStaffToken
	}
	answers, err := sendAll(h, tokens)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range answers {
		if r.code() != graph.CodeUpstreamUnavailable || r.Errors[0].Extensions["upstreamStatus"] != float64(http.StatusServiceUnavailable) {
			t.Fatalf("want UPSTREAM_UNAVAILABLE from a 503, got %s", r)
		}
	}
	if n := len(h.takeCalls()); n != costAlone {
		t.Fatalf("%d concurrent queries made %d upstream requests, one alone %d", queries, n, costAlone)
	}
	for _, l := range logRecords[requestLine](t, h.logs.String(), "request") {
		if l.UpstreamFailures == 0 || l.LastStatus != http.StatusServiceUnavailable {
			t.Errorf("a request line does not report the shared 503: %+v", l)
		}
	}
}

func waitOrFail(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
