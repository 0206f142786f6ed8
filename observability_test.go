package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/internal/promtest"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// The binary's operations listener (METRICS_LISTEN_ADDR): its metrics after
// real traffic, as promtool judges them, and /readyz following a Waldur that
// fails and recovers, at the binary's own probe interval.

func TestParseConfigMetricsListen(t *testing.T) {
	cfg, err := parseConfig(nil, envOf(map[string]string{"METRICS_LISTEN_ADDR": "127.0.0.1:9100"}))
	if err != nil || cfg.metricsListen != "127.0.0.1:9100" {
		t.Errorf("METRICS_LISTEN_ADDR: %q %v", cfg.metricsListen, err)
	}
	cfg, err = parseConfig([]string{"-metrics-listen", ":9200"}, envOf(map[string]string{"METRICS_LISTEN_ADDR": "127.0.0.1:9100"}))
	if err != nil || cfg.metricsListen != ":9200" {
		t.Errorf("-metrics-listen over the environment: %q %v", cfg.metricsListen, err)
	}
	cfg, err = parseConfig([]string{"-metrics-listen="}, envOf(nil))
	if err != nil || cfg.metricsListen != "" {
		t.Errorf("-metrics-listen= must turn the listener off: %q %v", cfg.metricsListen, err)
	}
	// Set but empty turns it off; unset keeps the default.
	t.Setenv("METRICS_LISTEN_ADDR", "")
	cfg, err = parseConfig(nil, os.Getenv)
	if err != nil || cfg.metricsListen != "" {
		t.Errorf("METRICS_LISTEN_ADDR= must turn the listener off: %q %v", cfg.metricsListen, err)
	}
	os.Unsetenv("METRICS_LISTEN_ADDR")
	cfg, err = parseConfig(nil, os.Getenv)
	if err != nil || cfg.metricsListen != ":9464" {
		t.Errorf("METRICS_LISTEN_ADDR unset: %q %v, want :9464", cfg.metricsListen, err)
	}
}

// switchableWaldur is the fake Waldur, answering 503 to everything while
// failing is set.
func switchableWaldur(t *testing.T) (url string, failing *atomic.Bool) {
	fake := fakewaldur.New(fakewaldur.Demo(50, 1))
	failing = new(atomic.Bool)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, failing
}

// readyzStatus is /readyz's status at base, 0 when it cannot be asked.
func readyzStatus(base string) int {
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// untilReadyz polls /readyz on every base until all answer status, and
// returns how long that took; it fails t after a generous bound.
func untilReadyz(t *testing.T, status int, bases ...string) time.Duration {
	t.Helper()
	start := time.Now()
	for _, base := range bases {
		for readyzStatus(base) != status {
			if time.Since(start) > 4*httpapi.ReadinessInterval+30*time.Second {
				t.Fatalf("%s/readyz does not answer %d", base, status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return time.Since(start)
}

func TestBinaryReadyzFollowsWaldur(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	waldurURL, failing := switchableWaldur(t)
	g := startGateway(t, bin, "WALDUR_API_URL="+waldurURL, "WALDUR_API_TOKEN="+fakewaldur.DemoStaffToken)
	ops := "http://" + g.logs.waitFor(t, "metrics listening", 10*time.Second)["addr"].(string)

	untilReadyz(t, http.StatusOK, g.base, ops)
	failing.Store(true)
	failed := untilReadyz(t, http.StatusServiceUnavailable, g.base, ops)
	failing.Store(false)
	recovered := untilReadyz(t, http.StatusOK, g.base, ops)
	t.Logf("probe every %s: /readyz 503 %s after Waldur began failing, 200 %s after it recovered",
		httpapi.ReadinessInterval, failed.Round(time.Millisecond), recovered.Round(time.Millisecond))
	g.logs.waitFor(t, "waldur readiness probe failed", time.Second)
	g.logs.waitFor(t, "waldur answers the readiness probe", time.Second)
}

// The demo's in-process Waldur is probed like any other.
func TestBinaryDemoIsReady(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	g := startGateway(t, bin)
	untilReadyz(t, http.StatusOK, g.base)
}

// A real scrape after real traffic holds the gateway's families, the Go
// runtime's and the process's, and promtool finds nothing to say of it.
func TestBinaryMetricsPassPromtool(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	g := startGateway(t, bin, "UPSTREAM_CACHE_TTL=1m")
	ops := "http://" + g.logs.waitFor(t, "metrics listening", 10*time.Second)["addr"].(string)
	for _, body := range []string{
		`{"query": "query Dashboard { customerQuotas(quotaName: \"os_cpu_count\", first: 3) { totalCount } }"}`,
		// Another text, so that the page cache answers it, not the response cache.
		`{"query": "query Dashboard { customerQuotas(quotaName: \"os_cpu_count\", first: 3) { totalCount } } "}`,
		`{"query": "query Bad { customerQuotas(quotaName: \"\", first: 3) { totalCount } }"}`,
		`{"query": "{ nope }"}`,
	} {
		resp, err := http.Post(g.base+"/query", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(g.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the public listener answered %d, want 404", resp.StatusCode)
	}
	resp, err = http.Get(ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scrape, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	for _, want := range []string{
		`waldur_quotas_gateway_graphql_requests_total{operation="Dashboard",outcome="ok"} 2`,
		`waldur_quotas_gateway_graphql_requests_total{operation="Bad",outcome="BAD_USER_INPUT"} 1`,
		`waldur_quotas_gateway_graphql_requests_total{operation="(other)",outcome="GRAPHQL_VALIDATION_FAILED"} 1`,
		`waldur_quotas_gateway_upstream_cache_lookups_total{result="hit"} 1`,
		`waldur_quotas_gateway_build_info{version="e2e-test"} 1`,
		`waldur_quotas_gateway_ready 1`,
		"\ngo_goroutines ", "\nprocess_resident_memory_bytes ",
	} {
		if !bytes.Contains(scrape, []byte(want)) {
			t.Errorf("the scrape has no %q", want)
		}
	}
	if bytes.Contains(scrape, []byte(fakewaldur.DemoStaffToken)) {
		t.Error("the scrape shows the demo token")
	}

	promtest.Check(t, scrape)
	t.Logf("promtool check metrics on a real scrape (%d bytes): exit 0, nothing to say", len(scrape))
}

// With METRICS_LISTEN_ADDR empty there is no operations listener; /readyz
// still answers on the gateway's.
func TestBinaryMetricsOff(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	g := startGateway(t, bin, "METRICS_LISTEN_ADDR=")
	untilReadyz(t, http.StatusOK, g.base)
	for _, line := range g.logs.all() {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "metrics listening" {
			t.Errorf("metrics listener started with METRICS_LISTEN_ADDR empty: %s", line)
		}
	}
}
