package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/graph"
	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/upstream"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// /readyz: 200 once Waldur has answered the background probe, 503 while
// Waldur fails or the circuit is open. The probe runs every
// readinessInterval here, so that a test sees it flip in a moment.

const readinessInterval = 20 * time.Millisecond

// readinessWait bounds every wait for /readyz to flip: generous, so that a
// busy machine does not fail the test, and finite, so that a broken probe does.
const readinessWait = 10 * time.Second

// withReadiness gives the gateway a readiness probing Waldur every interval
// from the start of the test to its end.
func withReadiness(t *testing.T, interval time.Duration) harnessOption {
	return withConfig(func(c *httpapi.Config) {
		c.Readiness = httpapi.NewReadiness(c.Waldur, interval, c.Logger)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Readiness.Run(ctx)
		}()
		t.Cleanup(func() { cancel(); <-done })
	})
}

// readyz is one answer to /readyz.
type readyz struct {
	Status int
	Body   struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
}

func getReadyz(t *testing.T, base string) readyz {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r readyz
	r.Status = resp.StatusCode
	if err := json.NewDecoder(resp.Body).Decode(&r.Body); err != nil {
		t.Fatalf("/readyz answered %d without JSON: %v", resp.StatusCode, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("/readyz Content-Type %q", ct)
	}
	return r
}

// waitReadyz polls /readyz until it answers status, and returns that answer
// and how long it took.
func waitReadyz(t *testing.T, base string, status int) (readyz, time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		r := getReadyz(t, base)
		if r.Status == status {
			return r, time.Since(start)
		}
		if time.Since(start) > readinessWait {
			t.Fatalf("/readyz still answers %d %+v after %s, want %d", r.Status, r.Body, readinessWait, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wantReady(t *testing.T, r readyz) {
	t.Helper()
	if r.Status != http.StatusOK || r.Body.Status != "ready" || r.Body.Reason != "" {
		t.Errorf("want ready, got %d %+v", r.Status, r.Body)
	}
}

func wantUnready(t *testing.T, r readyz, reason string) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable || r.Body.Status != "unready" || !strings.Contains(r.Body.Reason, reason) {
		t.Errorf("want unready because %q, got %d %+v", reason, r.Status, r.Body)
	}
	if strings.Contains(r.Body.Reason, "http://") || strings.Contains(r.Body.Reason, "127.0.0.1") {
		t.Errorf("the reason names Waldur's address: %q", r.Body.Reason)
	}
}

// Waldur failing makes the gateway unready, on both listeners; Waldur
// answering again makes it ready. Each way Waldur can fail is tried: a 5xx,
// no answer at all, an answer too late.
func TestReadyzFollowsWaldur(t *testing.T) {
	o := newObserved(t, withReadiness(t, readinessInterval), withUpstreamTimeout(300*time.Millisecond))
	for _, base := range []string{o.gateway.URL, o.ops.URL} {
		wantReady(t, first(waitReadyz(t, base, http.StatusOK)))
	}
	failures := []struct {
		name, reason string
		fault        func(w http.ResponseWriter, r *http.Request) bool
	}{
		{"503", "HTTP 503", func(w http.ResponseWriter, _ *http.Request) bool {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}},
		{"no answer", "could not be reached", func(w http.ResponseWriter, _ *http.Request) bool {
			// The connection closes without an answer.
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return true
		}},
		{"timeout", "did not answer within", func(_ http.ResponseWriter, r *http.Request) bool {
			<-r.Context().Done()
			return true
		}},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			o.setFault(f.fault)
			r, failed := waitReadyz(t, o.gateway.URL, http.StatusServiceUnavailable)
			wantUnready(t, r, f.reason)
			wantUnready(t, getReadyz(t, o.ops.URL), f.reason)
			o.setFault(nil)
			r, recovered := waitReadyz(t, o.gateway.URL, http.StatusOK)
			wantReady(t, r)
			wantReady(t, getReadyz(t, o.ops.URL))
			t.Logf("probe every %s: unready %s after Waldur failed, ready %s after it recovered", readinessInterval, failed, recovered)
		})
	}
	// /healthz says only that the process serves, Waldur or not.
	o.setFault(func(w http.ResponseWriter, _ *http.Request) bool { w.WriteHeader(http.StatusBadGateway); return true })
	waitReadyz(t, o.gateway.URL, http.StatusServiceUnavailable)
	for _, base := range []string{o.gateway.URL, o.ops.URL} {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s/healthz answered %d while Waldur fails, want 200", base, resp.StatusCode)
		}
	}
}

func first[T any](v T, _ time.Duration) T { return v }

// The probe is anonymous, whatever token the gateway holds, and comes from
// one goroutine at its own pace: however often /readyz is asked, Waldur is
// not asked once more. Waldur refusing the anonymous probe (401) is Waldur
// alive.
func TestReadyzProbesAnonymouslyInTheBackground(t *testing.T) {
	o := newObserved(t, withDefaultToken(demoStaff), withReadiness(t, time.Hour))
	wantReady(t, first(waitReadyz(t, o.gateway.URL, http.StatusOK)))
	for range 50 {
		wantReady(t, getReadyz(t, o.gateway.URL))
		wantReady(t, getReadyz(t, o.ops.URL))
	}
	calls := o.takeCalls()
	if len(calls) != 1 {
		t.Fatalf("100 /readyz made %d calls to Waldur, want the one probe: %+v", len(calls), calls)
	}
	if c := calls[0]; c.Method != http.MethodHead || c.Authorization != "" {
		t.Errorf("the probe %+v: want an anonymous HEAD", c)
	}
}

// Before the first probe has been answered the gateway is not ready.
func TestReadyzBeforeTheFirstProbe(t *testing.T) {
	released := make(chan struct{})
	fake := fakewaldur.New(demo())
	// Waldur holds every answer until released, the first probe's included.
	held := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-released:
		case <-r.Context().Done():
			return
		}
		fake.ServeHTTP(w, r)
	})
	o := newObserved(t, withUpstream(held), withReadiness(t, readinessInterval))
	wantUnready(t, getReadyz(t, o.gateway.URL), "has not answered")
	wantUnready(t, getReadyz(t, o.ops.URL), "has not answered")
	close(released)
	wantReady(t, first(waitReadyz(t, o.gateway.URL, http.StatusOK)))
}

// The open circuit makes the gateway unready while Waldur still answers the
// probe; once the cooldown is over the gateway is ready again with no
// caller's call to close the circuit: a gateway no load balancer sends
// callers to must not stay unready for good.
func TestReadyzWhileTheCircuitIsOpen(t *testing.T) {
	const cooldown = 2 * time.Second
	o := newObserved(t, withReadiness(t, readinessInterval),
		withClientOptions(upstream.WithCircuitBreaker(1, cooldown)))
	wantReady(t, first(waitReadyz(t, o.gateway.URL, http.StatusOK)))
	// Waldur fails the callers' calls, and answers the anonymous probe.
	o.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") == "" {
			return false
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	opened := time.Now()
	if r := o.post(staffAuth, fmt.Sprintf(quotaQuery, "Q"), map[string]any{"q": "os_cpu_count"}); r.code() != graph.CodeUpstreamUnavailable {
		t.Fatalf("want %s, got %s", graph.CodeUpstreamUnavailable, r)
	}
	r := getReadyz(t, o.gateway.URL)
	if time.Since(opened) < cooldown {
		wantUnready(t, r, "circuit breaker open")
		if s := o.scrape(t); s.value(t, "upstream_circuit_state", "state=open") != 1 {
			t.Errorf("the circuit gauge does not show it open:\n%s", s.text)
		}
	}
	r = first(waitReadyz(t, o.gateway.URL, http.StatusOK))
	wantReady(t, r)
	t.Logf("cooldown %s: ready again %s after the circuit opened, with no call since", cooldown, time.Since(opened))
}
