package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/httpapi"
)

// hangBound is long enough for any document to be answered on a loaded
// machine, and far shorter than an exponential walk of 60 levels.
const hangBound = 30 * time.Second

// postWithin sends a costlyDoc and fails the test when no answer comes within
// hangBound.
func postWithin(t *testing.T, h *harness, d costlyDoc) gqlResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.gateway.URL+"/query", strings.NewReader(string(d.body(0))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+demoStaff)
	r, err := h.send(req)
	if err != nil {
		t.Fatalf("%s: no answer within %s (%v): the document is not measured in linear time", d.name, hangBound, err)
	}
	return r
}

func wantCode(t *testing.T, r gqlResponse, code string, parts ...string) {
	t.Helper()
	if r.code() != code {
		t.Fatalf("code %q, want %q: %.400s", r.code(), code, r.Body)
	}
	for _, p := range parts {
		if !strings.Contains(r.Errors[0].Message, p) {
			t.Errorf("message %q lacks %q", r.Errors[0].Message, p)
		}
	}
}

// inlineFanOut is fanOut with every other spread inside an inline fragment.
func inlineFanOut(levels int, leaf string) string {
	var b strings.Builder
	b.WriteString("{ ...F0 }")
	for i := range levels {
		fmt.Fprintf(&b, " fragment F%d on Query { ... on Query { ...F%d } ... { ...F%d } }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Query { %s }", levels, leaf)
	return b.String()
}

// typedFanOut is fanOut with fragments on type, spread from selection.
func typedFanOut(levels int, selection, on, leaf string) string {
	var b strings.Builder
	b.WriteString(strings.Replace(selection, "...", "...F0", 1))
	for i := range levels {
		fmt.Fprintf(&b, " fragment F%d on %s { ...F%d ...F%d }", i, on, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on %s { %s }", levels, on, leaf)
	return b.String()
}

// wrappingComplexity is a connection whose per-row complexity c makes
// 3 × c overflow to 5: fragment Bk holds 2^k totalCounts, and the
// selection spreads Bk for each bit of c.
func wrappingComplexity() string {
	const c = uint64(0x5555555555555557) // 3c = 2^64 + 5
	var b strings.Builder
	b.WriteString(`{ customerQuotas(quotaName: "os_cpu_count", first: 3) {`)
	for k := range 63 {
		if c>>k&1 == 1 {
			fmt.Fprintf(&b, " ...B%d", k)
		}
	}
	b.WriteString(" } } fragment B0 on CustomerQuotaConnection { totalCount }")
	for k := 1; k < 63; k++ {
		fmt.Fprintf(&b, " fragment B%d on CustomerQuotaConnection { ...B%d ...B%d }", k, k-1, k-1)
	}
	return b.String()
}

// Fragments that each spread the next twice expand to 2^60 copies of their
// leaf: every analysis must measure them without expanding them, and say
// exactly how large they are. The field limit, which would refuse them
// first, is lifted here.
func TestFragmentFanOutIsMeasuredInLinearTime(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) {
		c.Introspection = true
		c.Limits = httpapi.Limits{MaxFields: 1 << 40, MaxDepth: 3}
	}))
	const e60 = "1152921504606846976" // 2^60
	for _, c := range []struct {
		name, query, code string
		parts             []string
	}{
		{"aliases through spreads", fanOut(60, "a: __typename"), "ALIAS_LIMIT_EXCEEDED", []string{e60 + " aliased fields"}},
		{"complexity through spreads", fanOut(60, "__typename"), "COMPLEXITY_LIMIT_EXCEEDED", []string{"complexity " + e60}},
		{"complexity through inline fragments", inlineFanOut(60, "__typename"), "COMPLEXITY_LIMIT_EXCEEDED", []string{"complexity " + e60}},
		{"depth through spreads", typedFanOut(60, `{ customerQuotas(quotaName: "os_cpu_count") { ... } }`, "CustomerQuotaConnection", "edges { node { value } }"),
			"DEPTH_LIMIT_EXCEEDED", []string{"4 levels deep"}},
		{"complexity saturates rather than overflow", typedFanOut(60, `{ customerQuotas(quotaName: "os_cpu_count") { ... } }`, "CustomerQuotaConnection", "totalCount"),
			"COMPLEXITY_LIMIT_EXCEEDED", []string{fmt.Sprint("complexity ", math.MaxInt)}},
		{"a per-row complexity that would wrap round", wrappingComplexity(), "COMPLEXITY_LIMIT_EXCEEDED", []string{fmt.Sprint("complexity ", math.MaxInt)}},
		{"inside __schema", typedFanOut(60, "{ __schema { ... } }", "__Schema", "queryType { name }"),
			"FIELD_LIMIT_EXCEEDED", []string{"2305843009213693953 fields of __schema or __type"}}, // 1 + 2^61
		{"aliases inside __type", typedFanOut(60, `{ __type(name: "Query") { ... } }`, "__Type", "n: name"),
			"ALIAS_LIMIT_EXCEEDED", []string{e60 + " aliased fields"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := postWithin(t, h, costlyDoc{name: c.name, query: c.query})
			wantCode(t, r, c.code, c.parts...)
			if calls := h.takeCalls(); len(calls) != 0 {
				t.Errorf("a refused document made %d upstream calls", len(calls))
			}
		})
	}
	t.Run("a chain of 150 fragments answers", func(t *testing.T) {
		r := postWithin(t, h, costlyDoc{name: "chain", query: chain(150)})
		wantCode(t, r, "")
	})
}

// The field limit counts what the validator visits: each operation with the
// fragments it spreads, each once, then each fragment with those it spreads.
func TestFieldLimitCountsWhatValidationVisits(t *testing.T) {
	// A: ...F (1) + F (2); B: the same; F on its own: 2. 8 in all.
	doc := costlyDoc{name: "two operations", query: `query A { ...F } query B { ...F } fragment F on Query { __typename __typename }`, operationName: "A"}
	at := newHarness(t, withConfig(func(c *httpapi.Config) { c.Limits.MaxFields = 8 }))
	wantCode(t, at.postDoc(doc.body(0)), "")
	below := newHarness(t, withConfig(func(c *httpapi.Config) { c.Limits.MaxFields = 7 }))
	wantCode(t, below.postDoc(doc.body(0)), "FIELD_LIMIT_EXCEEDED", "limit of 7")

	// Arguments, their values and directives count: 1 + 2 arguments + 1
	// directive with its argument.
	args := costlyDoc{name: "arguments", query: `{ customerQuotas(quotaName: "os_cpu_count", first: 1) @include(if: true) { totalCount } }`}
	wantCode(t, newHarness(t, withConfig(func(c *httpapi.Config) { c.Limits.MaxFields = 6 })).postDoc(args.body(0)), "")
	wantCode(t, below.postDoc(args.body(0)), "")
	tight := newHarness(t, withConfig(func(c *httpapi.Config) { c.Limits.MaxFields = 5 }))
	wantCode(t, tight.postDoc(args.body(0)), "FIELD_LIMIT_EXCEEDED")

	// It is checked before validation: a document too large to validate is
	// refused as such, whatever else is wrong with it.
	h := newHarness(t)
	invalid := costlyDoc{name: "invalid", query: "{ " + sel("nope", 301) + " }"}
	wantCode(t, h.postDoc(invalid.body(0)), "FIELD_LIMIT_EXCEEDED", "limit of 300")
	wantCode(t, h.postDoc(costlyDoc{query: "{ " + sel("nope", 3) + " }"}.body(0)), "GRAPHQL_VALIDATION_FAILED")
}

// Aliases make the overlapping-fields rule report a conflict per pair; they
// are counted before validation, per operation and per fragment, so that an
// unused fragment cannot hide them.
func TestAliasesAreCountedBeforeValidation(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ query, name string }{
		{`{ customerQuotas(quotaName: "a") { ` + sel("totalCount", 100) + " " + sel("totalCount: __typename", 100) + " } }", "the operation has 100 aliased fields"},
		{`query Q { __typename } fragment U on Query { ` + sel("__typename: customerQuotas", 21) + " }", "fragment U has 21 aliased fields"},
	} {
		wantCode(t, h.postDoc(costlyDoc{query: c.query}.body(0)), "ALIAS_LIMIT_EXCEEDED", c.name, "limit is 20")
	}
}

// Within the field limit a document can still draw thousands of validation
// errors; only the first 100 are answered.
func TestValidationErrorsAreCapped(t *testing.T) {
	h := newHarness(t)
	r := h.postDoc(costlyDoc{query: distinctArgs(99)}.body(0)) // 99 × 98 / 2 conflicting pairs
	wantCode(t, r, "GRAPHQL_VALIDATION_FAILED")
	if len(r.Errors) != 101 {
		t.Fatalf("%d errors, want 100 and one saying there are more", len(r.Errors))
	}
	if last := r.Errors[100].Message; !strings.Contains(last, "only the first 100") {
		t.Errorf("last error %q does not say the list is cut", last)
	}
}

// Introspection answers repeat the schema, which the complexity does not
// price: aliases there are limited to two, and fields to the field limit
// counting a fragment each time it is spread.
func TestIntrospectionFanOutIsBounded(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) { c.Introspection = true }))
	wantCode(t, h.postDoc(costlyDoc{query: "{ __schema { " + typeDumps(3) + " } } " + typeRef}.body(0)), "")
	wantCode(t, h.postDoc(costlyDoc{query: "{ __schema { " + typeDumps(4) + " } } " + typeRef}.body(0)), "ALIAS_LIMIT_EXCEEDED",
		"3 aliased fields in __schema or __type", "limit there is 2")
	r := h.postDoc(costlyDoc{query: "{ a: __schema { ...S } b: __schema { ...S } } fragment S on __Schema { " + everything + " } " + typeRef}.body(0))
	wantCode(t, r, "FIELD_LIMIT_EXCEEDED", "fields of __schema or __type", "limit is 300")
}

// Every shape of the benchmark answers as it says: those within the limits
// pass the field limit, the others are refused before any upstream call.
func TestCostlyShapesAnswerAsExpected(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) { c.Introspection = true }))
	for _, group := range []struct {
		name string
		docs []costlyDoc
	}{{"within", worstWithinLimits()}, {"refused", refusedBeyondLimits()}} {
		for _, d := range group.docs {
			t.Run(group.name+"/"+d.name, func(t *testing.T) {
				wantCode(t, postWithin(t, h, d), d.want)
				calls := h.takeCalls()
				if group.name == "refused" && len(calls) != 0 {
					t.Errorf("a refused document made %d upstream calls", len(calls))
				}
			})
		}
	}
}

// Dense documents within every limit, as heavy in memory as their shape
// allows, that validate and so enter the document cache: comments (about
// 100 bytes a token, and nothing to validate) and fields (about 240 bytes
// a token, the densest shape measured).
var (
	denseComments = "{\n" + strings.Repeat("#\n", 1985) + "__typename }"
	denseFields   = `{ customerQuotas(quotaName: "os_cpu_count") { nodes { ` + sel("value customerName customerAbbreviation", 48) + " } } }"
)

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func queryHash(q string) string {
	sum := sha256.Sum256([]byte(q))
	return hex.EncodeToString(sum[:])
}

// The parsed-document and persisted-query caches hold what their budgets
// say, whatever fills them: documents dense in syntax-tree nodes, and GET
// queries that are a sliver of a 64 KiB query string.
func TestDocumentCachesStayWithinTheirBudgets(t *testing.T) {
	h := newHarness(t)
	h.postDoc(costlyDoc{query: "{ __typename }"}.body(0))
	base := heapInUse()
	// check compares the heap's growth with budget, give or take a tenth and
	// 2 MiB for the harness, its logs and connections.
	check := func(phase string, budget int) {
		t.Helper()
		now := heapInUse()
		grown := now - min(base, now)
		t.Logf("%s: heap grew by %.1f MiB (budget %.0f MiB)", phase, float64(grown)/(1<<20), float64(budget)/(1<<20))
		if grown > uint64(budget+budget/10+2<<20) {
			t.Errorf("%s: heap grew by %d bytes, beyond the caches' budget of %d", phase, grown, budget)
		}
	}

	for _, phase := range []struct {
		name, query string
		n           int
	}{{"150 documents of comments", denseComments, 150}, {"450 documents of fields", denseFields, 450}} {
		for i := range phase.n {
			if r := h.postDoc(costlyDoc{query: phase.query}.body(i)); r.code() == "FIELD_LIMIT_EXCEEDED" || r.code() == "TOKEN_LIMIT_EXCEEDED" {
				t.Fatalf("%s: refused before validation, so never cached: %s", phase.name, r.Body)
			}
		}
		check(phase.name, httpapi.DocumentCacheBytes)
	}

	pad := "&pad=" + strings.Repeat("x", 60_000)
	for i := range 150 {
		// Nothing to unescape: url.Values would hand out a slice of the whole query string.
		q := "{__typename" + strings.Repeat(",", i) + "}"
		req, _ := http.NewRequest(http.MethodGet, h.gateway.URL+"/query?query="+q+pad, nil)
		wantCode(t, h.do(req), "")
	}
	check("150 padded GET queries", httpapi.DocumentCacheBytes)

	for i := range 150 {
		q := "{__typename,__typename" + strings.Repeat(",", i) + "}"
		ext := url.QueryEscape(`{"persistedQuery":{"version":1,"sha256Hash":"` + queryHash(q) + `"}}`)
		req, _ := http.NewRequest(http.MethodGet, h.gateway.URL+"/query?extensions="+ext+"&query="+q+pad, nil)
		wantCode(t, h.do(req), "")
	}
	check("150 padded persisted queries", httpapi.DocumentCacheBytes+httpapi.APQCacheBytes)
}

// waitFor fails the test unless ch delivers within hangBound.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(hangBound):
		t.Fatalf("%s did not happen within %s", what, hangBound)
		panic("unreachable")
	}
}

// requestLogged waits for the gateway's log line of a /query request, which
// it writes once its handler has returned, and returns it.
func requestLogged(t *testing.T, h *harness) map[string]any {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(h.logs.String(), "\n") {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) == nil && entry["msg"] == "request" && entry["path"] == "/query" {
				return entry
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no request line logged within %s: %s", hangBound, h.logs.String())
	return nil
}

// A client that goes away mid-request ends the upstream request under way
// (net/http cancels the request's context when the connection closes), and
// the gateway starts no other: here the HEAD that last: 3 needs first hangs
// until cancelled, and the GET it would lead to never comes.
func TestClientGoneEndsUpstreamWork(t *testing.T) {
	started, ended := make(chan struct{}, 8), make(chan struct{}, 8)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-r.Context().Done():
			ended <- struct{}{}
		case <-time.After(hangBound):
		}
	})
	// Only the client's leaving may end the HEAD: the upstream timeout is longer than the test.
	h := newHarness(t, withUpstream(slow), withUpstreamTimeout(2*hangBound))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := costlyDoc{query: `{ customerQuotas(quotaName: "os_cpu_count", last: 3) { totalCount nodes { value } } }`}.body(0)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.gateway.URL+"/query", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+demoStaff)
	answered := make(chan error, 1)
	go func() {
		_, err := h.send(req)
		answered <- err
	}()

	waitFor(t, started, "the upstream HEAD")
	cancel()
	waitFor(t, ended, "the end of the upstream HEAD after the client went away")
	if err := waitFor(t, answered, "the client's return"); err == nil {
		t.Error("the cancelled client got an answer")
	}
	requestLogged(t, h)
	if calls := h.takeCalls(); len(calls) != 1 || calls[0].Method != http.MethodHead {
		t.Errorf("upstream calls %+v, want the one HEAD: none may start after the client went away", calls)
	}
}

// A request whose client is gone before the gateway starts on it is neither
// validated nor run: it is answered REQUEST_CANCELLED (for the log; nobody
// reads it) without an upstream call, not even one cut short.
func TestClientGoneBeforeAnalysisStopsIt(t *testing.T) {
	for _, c := range []struct{ name, query string }{
		{"a document that does not validate", "{ nope }"},
		{"a document that would call Waldur", `{ customerQuotas(quotaName: "os_cpu_count", first: 3) { totalCount nodes { value } } }`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/query", strings.NewReader(string(costlyDoc{query: c.query}.body(0))))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Token "+demoStaff)
			r := h.serve(req)
			wantCode(t, r, "REQUEST_CANCELLED", "went away")
			if r.hasData() {
				t.Errorf("a request refused before execution has a data entry: %s", r.Body)
			}
			line := requestLogged(t, h)
			if n, _ := line["upstream_calls"].(float64); n != 0 {
				t.Errorf("%v upstream calls logged for a request whose client had gone", n)
			}
			if calls := h.takeCalls(); len(calls) != 0 {
				t.Errorf("Waldur saw %d requests", len(calls))
			}
		})
	}
}
