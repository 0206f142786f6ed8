package httpapi_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/graph"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// With UPSTREAM_CACHE_TTL set, a repeated query is answered with the whole
// answer the same caller got for it, without running it again. The request's
// log line says so (response_cached); these tests read it there.

type cachedLine struct {
	Operation      string `json:"operation"`
	ResponseCached bool   `json:"response_cached"`
	UpstreamCalls  int    `json:"upstream_calls"`
}

// lastLine is the request line of the latest request.
func (h *harness) lastLine(t *testing.T) cachedLine {
	t.Helper()
	lines := logRecords[cachedLine](t, h.logs.String(), "request")
	if len(lines) == 0 {
		t.Fatal("no request line logged")
	}
	return lines[len(lines)-1]
}

const namedQuery = `query Named($q: String!, $first: Int) {
  customerQuotas(quotaName: $q, first: $first) { totalCount nodes { customerName customerAbbreviation value } }
}`

func TestResponseCacheAnswersRepeats(t *testing.T) {
	h := newHarness(t, withCache(time.Hour, 0))
	vars := map[string]any{"q": cacheQuota, "first": 5}
	first := h.post("Token "+demoStaff, namedQuery, vars)
	wantData(t, first)
	if line := h.lastLine(t); line.ResponseCached {
		t.Fatal("the first query was answered from the response cache")
	}
	h.takeCalls()

	again := h.post("Token "+demoStaff, namedQuery, vars)
	if line := h.lastLine(t); !line.ResponseCached || line.Operation != "Named" {
		t.Errorf("the repeated query's line %+v, want response_cached and its operation's name", line)
	}
	if !bytes.Equal(again.Body, first.Body) || again.Status != first.Status {
		t.Errorf("cached answer %s, want %s", again, first)
	}
	h.wantNoUpstreamCalls(t, "a repeated query")

	// Other variables are another question.
	h.post("Token "+demoStaff, namedQuery, map[string]any{"q": cacheQuota, "first": 6})
	if h.lastLine(t).ResponseCached {
		t.Error("a query with other variables was answered from the cache")
	}
}

func TestResponseCacheIsPerCaller(t *testing.T) {
	h := newHarness(t, withCache(time.Hour, 0))
	vars := map[string]any{"q": cacheQuota, "first": 5}
	h.page("Token "+demoStaff, vars)
	h.page("Token "+demoStaff, vars) // now cached for staff

	owner := h.page("Token "+fakewaldur.DemoOwnerToken, vars)
	if h.lastLine(t).ResponseCached {
		t.Error("another caller was answered from staff's cached answer")
	}
	wantFirst(t, "owner", owner, demo().Rows(fakewaldur.DemoOwnerToken, cacheQuota, "value"), 5)
}

func TestResponseCacheNoCache(t *testing.T) {
	full := fakewaldur.Demo(60, 5)
	waldur := newSwitchingWaldur(full, shrunk(full, 40))
	h := newHarness(t, withUpstream(waldur), withCache(time.Hour, 0))
	auth, vars := "Token "+demoStaff, map[string]any{"q": cacheQuota, "first": 5}
	h.page(auth, vars)
	waldur.switched.Store(true)
	h.takeCalls()

	req := h.postRequest(auth, connectionQuery, vars)
	req.Header.Set("Cache-Control", "no-cache")
	fresh := h.do(req)
	if h.lastLine(t).ResponseCached || len(h.takeCalls()) == 0 {
		t.Error("Cache-Control: no-cache was answered from the cache")
	}
	after := shrunk(full, 40).Rows(demoStaff, cacheQuota, "value")
	wantFirst(t, "no-cache", fresh.customerQuotas(t), after, 5)

	// The fresh answer replaced the cached one.
	wantFirst(t, "next query", h.page(auth, vars), after, 5)
	if !h.lastLine(t).ResponseCached {
		t.Error("the query after no-cache was not answered from the cache")
	}
}

func TestResponseCacheExpires(t *testing.T) {
	const ttl = 100 * time.Millisecond
	h := newHarness(t, withCache(ttl, 0))
	vars := map[string]any{"q": cacheQuota, "first": 5}
	h.page("Token "+demoStaff, vars)
	time.Sleep(3 * ttl)
	h.page("Token "+demoStaff, vars)
	if h.lastLine(t).ResponseCached {
		t.Error("an answer older than the TTL came from the cache")
	}
}

// An answer built from a page the page cache had held for a while lives only
// as long as that page would: never past the TTL of its oldest part.
func TestResponseCacheNeverOutlivesItsPages(t *testing.T) {
	const ttl = 2 * time.Second
	full := fakewaldur.Demo(60, 5)
	waldur := newSwitchingWaldur(full, shrunk(full, 40))
	h := newHarness(t, withUpstream(waldur), withCache(ttl, 0))
	auth, vars := "Token "+demoStaff, map[string]any{"q": cacheQuota, "first": 5}
	h.page(auth, vars) // the page cache now holds page 1
	time.Sleep(ttl * 6 / 10)
	// Another document over the same page: built from the cached page.
	h.post(auth, namedQuery, vars)
	if calls := h.takeCalls(); len(calls) != 1 {
		t.Fatalf("setting up: calls %v, want only the first query's GET", methods(calls))
	}
	waldur.switched.Store(true)
	time.Sleep(ttl * 6 / 10) // the page has expired; the answer would not yet have
	resp := h.post(auth, namedQuery, vars)
	if h.lastLine(t).ResponseCached {
		t.Error("an answer was served past the TTL of the page it was built from")
	}
	var data struct {
		CustomerQuotas struct{ TotalCount int } `json:"customerQuotas"`
	}
	if err := json.Unmarshal(resp.Data, &data); err != nil || data.CustomerQuotas.TotalCount != 40 {
		t.Errorf("answer %s, want the list as Waldur has it now (40 rows)", resp)
	}
}

// A cached answer is the GraphQL answer only: the headers that belong to
// this request (its X-Request-Id, its CORS grant) are this request's, never
// those of the request whose answer was kept.
func TestResponseCacheKeepsThisRequestsHeaders(t *testing.T) {
	const allowed, other = "https://app.example.com", "https://evil.example.com"
	h := newHarness(t, withCache(time.Hour, 0), withOrigins(allowed))
	vars := map[string]any{"q": cacheQuota, "first": 5}
	send := func(origin, requestID string) gqlResponse {
		req := h.postRequest("Token "+demoStaff, namedQuery, vars)
		req.Header.Set("Origin", origin)
		req.Header.Set("X-Request-Id", requestID)
		return h.do(req)
	}
	first := send(allowed, "first-request")
	wantData(t, first)
	if got := first.Header.Get("Access-Control-Allow-Origin"); got != allowed {
		t.Fatalf("the allowed origin's answer grants %q", got)
	}
	again := send(other, "second-request")
	if !h.lastLine(t).ResponseCached {
		t.Fatal("the repeat was not answered from the response cache; the test proves nothing")
	}
	if got := again.Header.Get("X-Request-Id"); got != "second-request" {
		t.Errorf("X-Request-Id %q, want this request's own", got)
	}
	if got := again.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("an origin not allowed was granted %q by a kept answer", got)
	}
}

// A router asking for the federated trace gets an answer with ftv1 in its
// extensions, the trace of that one execution: it is neither kept for a
// request that did not ask nor replayed to a router that asks again.
func TestResponseCacheKeepsTracedAnswersApart(t *testing.T) {
	h := newHarness(t, withCache(time.Hour, 0))
	vars := map[string]any{"q": cacheQuota, "first": 5}
	send := func(traced bool) gqlResponse {
		req := h.postRequest("Token "+demoStaff, namedQuery, vars)
		if traced {
			req.Header.Set(graph.FederatedTraceHeader, "ftv1")
		}
		return h.do(req)
	}
	hasTrace := func(r gqlResponse) bool { return bytes.Contains(r.Body, []byte(`"ftv1"`)) }
	if r := send(true); !hasTrace(r) {
		t.Fatalf("a router asked for ftv1 and got %s", r.Body)
	}
	if r := send(false); hasTrace(r) {
		t.Fatalf("a request that did not ask got a router's traced answer: %s", r.Body)
	}
	if r := send(true); !hasTrace(r) || h.lastLine(t).ResponseCached {
		t.Fatalf("a router's repeat was answered from the cache: %s", r.Body)
	}
	if send(false); !h.lastLine(t).ResponseCached {
		t.Fatal("the plain repeat was not answered from the response cache; the test proves less")
	}
}
