package httpapi_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/waldur-quotas/gateway/paging"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// countCalls splits upstream calls by method.
func countCalls(calls []upstreamCall) (heads, gets int) {
	for _, c := range calls {
		switch c.Method {
		case http.MethodHead:
			heads++
		case http.MethodGet:
			gets++
		}
	}
	return heads, gets
}

// rowsFetched is how many rows Waldur sent for the GETs among calls, for a list
// of total rows.
func rowsFetched(calls []upstreamCall, total int) int {
	n := 0
	for _, c := range calls {
		if c.Method == http.MethodGet {
			n += max(0, min(c.Page*c.PageSize, total)-(c.Page-1)*c.PageSize)
		}
	}
	return n
}

func TestSelectionDecidesUpstreamCalls(t *testing.T) {
	h := newHarness(t)
	auth := "Token " + demoStaff
	cases := []struct {
		name         string
		query        string
		heads, gets  int
		wantPageSize int
	}{
		{"totalCount only is one HEAD", `{ customerQuotas(quotaName: "os_cpu_count") { totalCount } }`, 1, 0, 0},
		{"pageInfo only is one HEAD", `{ customerQuotas(quotaName: "os_cpu_count", first: 5) { pageInfo { hasNextPage endCursor } } }`, 1, 0, 0},
		{"cursors only is one HEAD", `{ customerQuotas(quotaName: "os_cpu_count", first: 5) { edges { cursor } } }`, 1, 0, 0},
		{"__typename only costs nothing", `{ customerQuotas(quotaName: "os_cpu_count") { __typename } }`, 0, 0, 0},
		{"first page is one GET", `{ customerQuotas(quotaName: "os_cpu_count", first: 25) { totalCount nodes { customerName } } }`, 0, 1, 25},
		{"default page is one GET of 10", `{ customerQuotas(quotaName: "os_cpu_count") { edges { node { value } } } }`, 0, 1, 10},
		{"first: 0 is one HEAD", `{ customerQuotas(quotaName: "os_cpu_count", first: 0) { totalCount nodes { customerName } pageInfo { hasNextPage } } }`, 1, 0, 0},
		{"aliases for the same page share one GET", `{
			a: customerQuotas(quotaName: "os_cpu_count", first: 5) { nodes { customerName } }
			b: customerQuotas(quotaName: "os_cpu_count", first: 5) { totalCount edges { cursor node { value } } }
			c: customerQuotas(quotaName: "os_cpu_count", first: 5, orderBy: VALUE) { nodes { customerAbbreviation } }
		}`, 0, 1, 5},
		{"a total already fetched by a GET needs no HEAD", `{
			a: customerQuotas(quotaName: "os_cpu_count", first: 5) { nodes { customerName } }
		}`, 0, 1, 5},
		{"fragments and skipped fields count as selected or not", `query { customerQuotas(quotaName: "os_cpu_count", first: 5) { ...F } }
			fragment F on CustomerQuotaConnection { totalCount nodes @skip(if: true) { customerName } }`, 1, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.takeCalls()
			resp := h.post(auth, tc.query, nil)
			if len(resp.Errors) > 0 {
				t.Fatalf("errors: %+v", resp.Errors)
			}
			calls := h.takeCalls()
			heads, gets := countCalls(calls)
			if heads != tc.heads || gets != tc.gets {
				t.Fatalf("%d HEAD and %d GET, want %d and %d: %+v", heads, gets, tc.heads, tc.gets, calls)
			}
			for _, c := range calls {
				if c.Method == http.MethodGet && c.PageSize != tc.wantPageSize {
					t.Errorf("GET page_size %d, want %d", c.PageSize, tc.wantPageSize)
				}
			}
		})
	}
}

func TestLastWithoutBeforeAsksTheTotalFirst(t *testing.T) {
	h := newHarness(t)
	want := h.data.Rows(demoStaff, "os_ram_size", "value")
	c := h.page("Token "+demoStaff, map[string]any{"q": "os_ram_size", "last": 8})
	heads, gets := countCalls(h.takeCalls())
	if heads != 1 || gets < 1 || gets > 2 {
		t.Fatalf("%d HEAD and %d GET, want 1 HEAD and 1-2 GET", heads, gets)
	}
	for i, n := range c.Nodes {
		if !sameNode(n, nodeOf(want[len(want)-8+i])) {
			t.Fatalf("row %d: %+v, want %+v", i, n, want[len(want)-8+i])
		}
	}
	if c.PageInfo.HasNextPage || !c.PageInfo.HasPreviousPage {
		t.Fatalf("pageInfo %+v, want previous but no next", c.PageInfo)
	}
}

func TestAfterPastTheEndIsAnEmptyPage(t *testing.T) {
	h := newHarness(t)
	total := len(h.data.Rows(demoStaff, "os_ram_size", "value"))
	last := paging.EncodeCursor(paging.Query{QuotaName: "os_ram_size", OrderBy: "VALUE"}, paging.Cursor{Offset: total - 1, Total: total})
	c := h.page("Token "+demoStaff, map[string]any{"q": "os_ram_size", "first": 10, "after": last})
	if len(c.Nodes) != 0 || c.TotalCount != total || c.PageInfo.HasNextPage || !c.PageInfo.HasPreviousPage {
		t.Fatalf("got %d rows, total %d, pageInfo %+v; want an empty last page", len(c.Nodes), c.TotalCount, c.PageInfo)
	}
	if heads, gets := countCalls(h.takeCalls()); heads != 1 || gets != 0 {
		t.Fatalf("%d HEAD and %d GET, want one HEAD and no page request past the end", heads, gets)
	}
}

// A cursor's total is only a hint: when the list changed since it was issued,
// the window is planned again against the fresh total, and the answer is exact.
func TestStaleCursorTotalsArePlannedAgain(t *testing.T) {
	h := newHarness(t)
	want := h.data.Rows(demoStaff, "vpc_ram_size", "value")
	total := len(want)
	scope := paging.Query{QuotaName: "vpc_ram_size", OrderBy: "VALUE"}
	cases := []struct {
		name      string
		offset    int
		hint      int
		first     int
		wantStart int
		wantEnd   int
	}{
		{"list shrank: a page within the hint but past the end", total - 10, total + 200, 50, total - 9, total},
		{"list shrank below the cursor: 404, then an empty last page", total + 5, total + 200, 50, total, total},
		{"list grew: the window is longer than the hint said", 10, 15, 100, 11, 111},
		{"list grew: a cursor near the end it knew", 96, 100, 3, 97, 100},
		{"list grew: the window ended at the end it knew", 150, 160, 100, 151, 251},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			after := paging.EncodeCursor(scope, paging.Cursor{Offset: tc.offset, Total: tc.hint})
			c := h.page("Token "+demoStaff, map[string]any{"q": "vpc_ram_size", "first": tc.first, "after": after})
			if len(c.Nodes) != tc.wantEnd-tc.wantStart {
				t.Fatalf("%d rows, want %d", len(c.Nodes), tc.wantEnd-tc.wantStart)
			}
			for i, n := range c.Nodes {
				if !sameNode(n, nodeOf(want[tc.wantStart+i])) {
					t.Fatalf("row %d: %+v, want %+v", i, n, want[tc.wantStart+i])
				}
			}
			if c.TotalCount != total || c.PageInfo.HasNextPage != (tc.wantEnd < total) {
				t.Fatalf("total %d pageInfo %+v", c.TotalCount, c.PageInfo)
			}
			calls := h.takeCalls()
			if heads, gets := countCalls(calls); heads > 1 || gets > 2 {
				t.Fatalf("%d HEAD and %d GET, want at most one re-plan", heads, gets)
			}
			// A stale hint may cost a second plan, never a page far larger
			// than the window: the rows of both plans stay within 2×2.
			if f := rowsFetched(calls, total); f > 4*max(len(c.Nodes), 1) {
				t.Fatalf("fetched %d rows to return %d: %+v", f, len(c.Nodes), calls)
			}
		})
	}
}

// TestRandomWindowSweep pages through random windows and measures what each
// costs upstream, for lists of several lengths, both orders, and a caller who
// sees only part of the list. It asserts the bounds the design promises (at
// most one HEAD and two GETs per field, at most twice the rows returned, each
// page the exact slice of the upstream list its cursors name) and logs the
// means, per kind of window, reported in the closing note:
//
//	go test -run TestRandomWindowSweep -v ./httpapi/
func TestRandomWindowSweep(t *testing.T) {
	for _, tc := range []struct {
		name      string
		customers int
		token     string
		order     string
	}{
		{"staff/300/VALUE", 300, demoStaff, "VALUE"},
		{"staff/1000/VALUE", 1000, demoStaff, "VALUE"},
		{"staff/1000/NAME", 1000, demoStaff, "NAME"},
		{"staff/4321/VALUE", 4321, demoStaff, "VALUE"},
		{"owner/1000/VALUE", 1000, fakewaldur.DemoOwnerToken, "VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withDataset(fakewaldur.Demo(tc.customers, 11)))
			sweepWindows(t, h, tc.token, tc.order, rand.New(rand.NewPCG(1, 2)), 400)
		})
	}
}

// sweepStats adds up the cost of the queries of one kind of window.
type sweepStats struct {
	queries, requests, heads, fetched, returned int
	worst                                       float64
}

func (s *sweepStats) add(o sweepStats) {
	s.queries += o.queries
	s.requests += o.requests
	s.heads += o.heads
	s.fetched += o.fetched
	s.returned += o.returned
	s.worst = max(s.worst, o.worst)
}

func (s sweepStats) String() string {
	return fmt.Sprintf("%4d queries: %.3f upstream requests/query (%.3f HEAD), %.3f rows fetched per row returned (worst %.2f)",
		s.queries, float64(s.requests)/float64(s.queries), float64(s.heads)/float64(s.queries),
		float64(s.fetched)/float64(max(s.returned, 1)), s.worst)
}

func sweepWindows(t *testing.T, h *harness, token, order string, rng *rand.Rand, n int) {
	const quota = "os_storage_size"
	scope := paging.Query{QuotaName: quota, OrderBy: order}
	want := h.data.Rows(token, quota, strings.ToLower(order))
	total := len(want)
	if total < 2 {
		t.Fatalf("the sweep needs a list, got %d rows", total)
	}
	cursor := func(offset int) string {
		return paging.EncodeCursor(scope, paging.Cursor{Offset: offset, Total: total})
	}
	kinds := []string{"first", "first+after", "last+before", "last", "after+first+last(+before)"}
	stats := make([]sweepStats, len(kinds))
	for range n {
		vars := map[string]any{"q": quota, "o": order}
		kind := rng.IntN(len(kinds))
		switch kind {
		case 0: // forward from the top
			vars["first"] = 1 + rng.IntN(100)
		case 1: // forward from a cursor
			vars["first"] = 1 + rng.IntN(100)
			vars["after"] = cursor(rng.IntN(total))
		case 2: // backward from a cursor
			vars["last"] = 1 + rng.IntN(100)
			vars["before"] = cursor(rng.IntN(total))
		case 3: // backward from the end
			vars["last"] = 1 + rng.IntN(100)
		case 4: // between two cursors, trimmed from both ends
			a := rng.IntN(total)
			b := a + 1 + rng.IntN(total-a)
			vars["after"], vars["first"], vars["last"] = cursor(a), 1+rng.IntN(100), 1+rng.IntN(100)
			if b < total {
				vars["before"] = cursor(b)
			}
		}
		h.takeCalls()
		c := h.page("Token "+token, vars)
		calls := h.takeCalls()
		hd, gets := countCalls(calls)
		if hd > 1 || gets > 2 {
			t.Fatalf("vars %v: %d HEAD and %d GET", vars, hd, gets)
		}
		f := rowsFetched(calls, total)
		if len(c.Nodes) > 0 && f > 2*len(c.Nodes) {
			t.Fatalf("vars %v: fetched %d rows to return %d", vars, f, len(c.Nodes))
		}
		if c.TotalCount != total {
			t.Fatalf("vars %v: totalCount %d, want %d", vars, c.TotalCount, total)
		}
		// The page must be the exact slice of the upstream list its cursors name,
		// with pageInfo exact about what lies either side.
		if len(c.Edges) > 0 {
			start := decodeOffset(t, scope, c.Edges[0].Cursor)
			for j, e := range c.Edges {
				if !sameNode(e.Node, nodeOf(want[start+j])) {
					t.Fatalf("vars %v: row %d differs from upstream row %d", vars, j, start+j)
				}
			}
			if c.PageInfo.HasPreviousPage != (start > 0) || c.PageInfo.HasNextPage != (start+len(c.Edges) < total) {
				t.Fatalf("vars %v: rows [%d, %d) of %d, pageInfo %+v", vars, start, start+len(c.Edges), total, c.PageInfo)
			}
		}
		s := sweepStats{queries: 1, requests: len(calls), heads: hd, fetched: f, returned: len(c.Nodes)}
		if len(c.Nodes) > 0 {
			s.worst = float64(f) / float64(len(c.Nodes))
		}
		stats[kind].add(s)
	}
	var all sweepStats
	for i, s := range stats {
		all.add(s)
		if s.queries > 0 {
			t.Logf("%-26s %v", kinds[i], s)
		}
	}
	t.Logf("%-26s %v (list of %d rows)", "all", all, total)
}

func decodeOffset(t *testing.T, scope paging.Query, cursor string) int {
	t.Helper()
	c, err := paging.DecodeCursor(scope, cursor)
	if err != nil {
		t.Fatalf("gateway issued a cursor it cannot read back: %v", err)
	}
	return c.Offset
}
