package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/waldur-quotas/gateway/graph"
	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/internal/promtest"
	"github.com/waldur-quotas/gateway/metrics"
	"github.com/waldur-quotas/gateway/upstream"
)

// The gateway's metrics, scraped from the operations listener of a real
// gateway (harness) after real traffic: each test reads the exposition a
// Prometheus server would.

const metricsPrefix = "waldur_quotas_gateway_"

// observed is a harness whose gateway records metrics, and the operations
// listener that serves them.
type observed struct {
	*harness
	ops *httptest.Server
}

// newObserved is newHarness with the metrics wired in as server.go wires
// them: the upstream client's observers and the handler's RequestObserver.
// opts come after, so that a test adds client options (cache, retries).
func newObserved(t *testing.T, opts ...harnessOption) *observed {
	t.Helper()
	m := metrics.New("test")
	var config *httpapi.Config // the gateway's, once every option has changed it
	base := []harnessOption{
		withClientOptions(upstream.WithObserver(m.ObserveUpstream), upstream.WithCacheObserver(m.ObserveCache)),
		withConfig(func(c *httpapi.Config) {
			c.Metrics = m
			m.WatchCircuit(c.Waldur)
			config = c
		}),
	}
	h := newHarness(t, append(base, opts...)...)
	ops := httptest.NewServer(httpapi.NewOps(httpapi.OpsConfig{Metrics: m.Handler(), Readiness: config.Readiness, Version: "test"}))
	t.Cleanup(ops.Close)
	return &observed{harness: h, ops: ops}
}

// scrape is one exposition, parsed, and its text.
type scrape struct {
	families map[string]*dto.MetricFamily
	text     string
}

func (o *observed) scrape(t *testing.T) scrape {
	t.Helper()
	resp, err := http.Get(o.ops.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v: %s", resp.StatusCode, err, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, body)
	}
	return scrape{families: families, text: string(body)}
}

// scrapeText is the exposition's text, "" when it cannot be had: for a
// goroutine other than the test's, which must not fail it.
func (o *observed) scrapeText() string {
	resp, err := http.Get(o.ops.URL + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// series returns the series of the family name (without the prefix) whose
// labels include every one of labels ("k=v" pairs).
func (s scrape) series(t *testing.T, name string, labels ...string) []*dto.Metric {
	t.Helper()
	family := s.families[metricsPrefix+name]
	if family == nil {
		t.Fatalf("no family %s%s in the exposition", metricsPrefix, name)
	}
	var out []*dto.Metric
next:
	for _, m := range family.Metric {
		for _, want := range labels {
			k, v, _ := strings.Cut(want, "=")
			if !hasLabel(m, k, v) {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue() == value
		}
	}
	return false
}

// value sums the matching series: a counter's or gauge's value, a
// histogram's count.
func (s scrape) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	sum := 0.0
	for _, m := range s.series(t, name, labels...) {
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// labelValues is every value the label takes in the family.
func (s scrape) labelValues(t *testing.T, name, label string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, m := range s.series(t, name) {
		for _, l := range m.Label {
			if l.GetName() == label {
				out[l.GetValue()] = true
			}
		}
	}
	return out
}

func (s scrape) want(t *testing.T, want float64, name string, labels ...string) {
	t.Helper()
	if got := s.value(t, name, labels...); got != want {
		t.Errorf("%s%s%v = %v, want %v", metricsPrefix, name, labels, got, want)
	}
}

// apqRequest is a GraphQL request by persisted-query hash, with the query
// text or without ("").
func apqRequest(query, text string) map[string]any {
	sum := sha256.Sum256([]byte(query))
	body := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}}
	if text != "" {
		body["query"] = text
	}
	return body
}

const quotaQuery = `query %s($q: String!) { customerQuotas(quotaName: $q, first: 2) { totalCount nodes { customerName } } }`

// mixedTraffic sends what a gateway sees on an ordinary day, and a bad one:
// answers, refusals, Waldur refusing and failing (retried), the cache and
// APQ at work.
func (o *observed) mixedTraffic(t *testing.T) {
	t.Helper()
	vars := func(q string) map[string]any { return map[string]any{"q": q} }
	// Answered, then answered from the cache. The repeat's text differs
	// (a trailing space), or the whole answer would come from the response
	// cache (responsecache.go) without a lookup in the page cache counted here.
	wantData(t, o.post(staffAuth, fmt.Sprintf(quotaQuery, "Dashboard"), vars("os_cpu_count")))
	wantData(t, o.post(staffAuth, fmt.Sprintf(quotaQuery, "Dashboard")+" ", vars("os_cpu_count")))
	// Refused before any call to Waldur.
	if r := o.post(staffAuth, `query BadPage { customerQuotas(quotaName: "os_cpu_count", first: -1) { totalCount } }`, nil); r.code() != graph.CodeBadUserInput {
		t.Fatalf("want %s, got %s", graph.CodeBadUserInput, r)
	}
	// Waldur refuses a caller without credentials (no default token).
	if r := o.post("", fmt.Sprintf(quotaQuery, "Anonymous"), vars("os_ram_size")); r.code() != graph.CodeUnauthenticated {
		t.Fatalf("want %s, got %s", graph.CodeUnauthenticated, r)
	}
	// Waldur fails, every attempt (a quota name Waldur does not know).
	o.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	if r := o.post(staffAuth, fmt.Sprintf(quotaQuery, "Dashboard"), vars("my_own_quota")); r.code() != graph.CodeUpstreamUnavailable {
		t.Fatalf("want %s, got %s", graph.CodeUpstreamUnavailable, r)
	}
	o.setFault(nil)
	// APQ: an unknown hash, the query stored with its hash, then found.
	const persisted = `query Persisted { __typename }`
	if r := o.postJSON("", apqRequest(persisted, "")); r.code() != graph.CodePersistedQueryUnset {
		t.Fatalf("want %s, got %s", graph.CodePersistedQueryUnset, r)
	}
	wantData(t, o.postJSON("", apqRequest(persisted, persisted)))
	wantData(t, o.postJSON("", apqRequest(persisted, "")))
	o.takeCalls()
}

func TestMetricsAfterMixedTraffic(t *testing.T) {
	o := newObserved(t, withClientOptions(upstream.WithCache(time.Minute, 0), upstream.WithRetries(1)))
	o.mixedTraffic(t)
	s := o.scrape(t)

	// GraphQL requests, by operation and outcome.
	s.want(t, 2, "graphql_requests_total", "operation=Dashboard", "outcome=ok")
	s.want(t, 1, "graphql_requests_total", "operation=Dashboard", "outcome="+graph.CodeUpstreamUnavailable)
	s.want(t, 1, "graphql_requests_total", "operation=BadPage", "outcome="+graph.CodeBadUserInput)
	s.want(t, 1, "graphql_requests_total", "operation=Anonymous", "outcome="+graph.CodeUnauthenticated)
	s.want(t, 2, "graphql_requests_total", "operation=Persisted", "outcome=ok")
	// The APQ miss never reached an operation: no name.
	s.want(t, 1, "graphql_requests_total", "operation=(other)", "outcome="+graph.CodePersistedQueryUnset)
	s.want(t, 8, "graphql_requests_total")
	s.want(t, 3, "graphql_request_duration_seconds", "operation=Dashboard")
	s.want(t, 8, "graphql_request_duration_seconds")
	s.want(t, 0, "graphql_requests_in_flight")

	s.want(t, 1, "graphql_apq_requests_total", "result=hit")
	s.want(t, 1, "graphql_apq_requests_total", "result=miss")
	s.want(t, 1, "graphql_apq_requests_total", "result=stored")

	// Upstream: every HTTP attempt, by method, status class, outcome and quota.
	s.want(t, 1, "upstream_requests_total", "method=GET", "status_class=2xx", "outcome=ok", "quota=os_cpu_count")
	s.want(t, 1, "upstream_requests_total", "method=GET", "status_class=4xx", "outcome=unauthenticated", "quota=os_ram_size")
	s.want(t, 2, "upstream_requests_total", "method=GET", "status_class=5xx", "outcome=unavailable", "quota=other")
	s.want(t, 4, "upstream_requests_total")
	s.want(t, 4, "upstream_request_duration_seconds")
	s.want(t, 2, "upstream_request_duration_seconds", "method=GET", "status_class=5xx")
	s.want(t, 1, "upstream_retries_total")
	s.want(t, 0, "upstream_coalesced_calls_total")

	// The cache: the second Dashboard was a hit; the first, the anonymous
	// query and the failing one were misses.
	s.want(t, 1, "upstream_cache_lookups_total", "result=hit")
	s.want(t, 3, "upstream_cache_lookups_total", "result=miss")

	s.want(t, 1, "upstream_circuit_state", "state=closed")
	s.want(t, 0, "upstream_circuit_state", "state=open")
	s.want(t, 1, "build_info", "version=test")
	for _, family := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_resident_memory_bytes", "process_open_fds"} {
		if s.families[family] == nil {
			t.Errorf("no %s: the Go runtime and process collectors are missing", family)
		}
	}
	excerpt := []string{}
	for _, line := range strings.Split(s.text, "\n") {
		if strings.HasPrefix(line, metricsPrefix) && !strings.Contains(line, "_bucket") {
			excerpt = append(excerpt, line)
		}
	}
	t.Logf("the gateway's own series after mixed traffic:\n%s", strings.Join(excerpt, "\n"))
}

// Identical queries in flight together share one call to Waldur: each
// query that did not make its own is a coalesced call.
func TestMetricsCountCoalescedCalls(t *testing.T) {
	o := newObserved(t)
	const queries = 5
	// Waldur answers only once every query is in flight (as the gauge tells),
	// and a little later, so that they all wait on the first one's call.
	allInFlight := fmt.Sprintf("\n%sgraphql_requests_in_flight %d\n", metricsPrefix, queries)
	o.setFault(func(http.ResponseWriter, *http.Request) bool {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if strings.Contains(o.scrapeText(), allInFlight) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
		return false
	})
	var wg sync.WaitGroup
	for range queries {
		req := o.postRequest(staffAuth, fmt.Sprintf(quotaQuery, "Tab"), map[string]any{"q": "os_cpu_count"})
		wg.Go(func() {
			if r, err := o.send(req); err != nil || len(r.Errors) > 0 {
				t.Errorf("query: %v %s", err, r)
			}
		})
	}
	wg.Wait()
	made := len(o.takeCalls())
	s := o.scrape(t)
	s.want(t, float64(made), "upstream_requests_total")
	s.want(t, float64(queries-made), "upstream_coalesced_calls_total")
	if made == queries {
		t.Errorf("no query shared another's call: the coalesced count is untested")
	}
}

// However many operation names callers send, the operation label takes at
// most 100 values and the fold; unnamed and overlong names fold too.
func TestMetricsOperationLabelIsBounded(t *testing.T) {
	o := newObserved(t)
	const names = 130
	// Folded, so taking none of the 100 places.
	wantData(t, o.post("", `{ __typename }`, nil))
	wantData(t, o.post("", `query `+strings.Repeat("Long", 40)+` { __typename }`, nil))
	for i := range names {
		wantData(t, o.post("", fmt.Sprintf(`query Op%03d { __typename }`, i), nil))
	}
	// A name already seen keeps its own series after the bound is reached.
	wantData(t, o.post("", `query Op000 { __typename }`, nil))

	s := o.scrape(t)
	values := s.labelValues(t, "graphql_requests_total", "operation")
	if len(values) != 101 || !values["(other)"] || !values["Op000"] || !values["Op099"] || values["Op100"] {
		t.Errorf("operation label takes %d values, want the first 100 names and (other): %v", len(values), values)
	}
	if n := len(s.series(t, "graphql_request_duration_seconds")); n != 101 {
		t.Errorf("%d duration series, want 101", n)
	}
	s.want(t, 2, "graphql_requests_total", "operation=Op000")
	s.want(t, names-100+2, "graphql_requests_total", "operation=(other)")
}

// No credential reaches a metric: not the caller's, not the default token,
// whatever the request (answered, refused by Waldur, failed).
func TestMetricsNeverShowCredentials(t *testing.T) {
	const defaultToken, callerToken, badToken = "defaultTOKEN7f3a9c", "callerTOKEN41be0d", "badTOKEN9d2e61"
	o := newObserved(t, withDefaultToken(defaultToken), withClientOptions(upstream.WithCache(time.Minute, 0)))
	o.mixedTraffic(t)
	for _, auth := range []string{"Token " + callerToken, "Bearer " + badToken, "Token " + demoStaff} {
		o.post(auth, fmt.Sprintf(quotaQuery, "Q"), map[string]any{"q": "os_cpu_count"})
	}
	text := o.scrape(t).text
	for _, secret := range []string{defaultToken, callerToken, badToken, demoStaff, "Token ", "Bearer "} {
		if strings.Contains(text, secret) {
			t.Errorf("the exposition shows %q", secret)
		}
	}
}

// promtool (Debian's prometheus package), the reference linter of the
// exposition format and naming conventions, finds nothing to say about a
// real scrape. CI installs it; there, its absence fails the test.
func TestMetricsPassPromtool(t *testing.T) {
	o := newObserved(t, withClientOptions(upstream.WithCache(time.Minute, 0), upstream.WithRetries(1)))
	o.mixedTraffic(t)
	promtest.Check(t, []byte(o.scrape(t).text))
}
