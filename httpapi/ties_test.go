package httpapi_test

import (
	"math/rand/v2"
	"testing"

	"github.com/waldur-quotas/gateway/paging"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// Waldur orders ties (most organisations share a value, often 0) differently
// from one request to the next. A page fetched in one upstream request is one
// consistent slice of one ordering, so it never repeats an organisation; the
// planner keeps two-request pages rare. With the fake shuffling ties on every
// request, this checks both.
func TestShuffledTiesNeverRepeatARowWithinOneRequestPage(t *testing.T) {
	h := newHarness(t, withUpstream(fakewaldur.New(demo(), fakewaldur.WithShuffledTies(3))))
	rng := rand.New(rand.NewPCG(3, 4))
	scope := paging.Query{QuotaName: "vpc_floating_ip_count", OrderBy: "VALUE"}
	total := len(h.data.Rows(demoStaff, scope.QuotaName, "value"))
	twoRequestPages := 0
	const pages = 200
	for range pages {
		vars := map[string]any{"q": scope.QuotaName, "first": 1 + rng.IntN(100)}
		if off := rng.IntN(total); off > 0 {
			vars["after"] = paging.EncodeCursor(scope, paging.Cursor{Offset: off - 1, Total: total})
		}
		h.takeCalls()
		c := h.page("Token "+demoStaff, vars)
		_, gets := countCalls(h.takeCalls())
		if gets > 1 {
			twoRequestPages++
			continue
		}
		seen := map[string]bool{}
		for _, n := range c.Nodes {
			if seen[n.CustomerName] {
				t.Fatalf("vars %v: %q twice in a page fetched with one request", vars, n.CustomerName)
			}
			seen[n.CustomerName] = true
		}
	}
	if twoRequestPages > pages/10 {
		t.Fatalf("%d of %d pages needed two requests", twoRequestPages, pages)
	}
	t.Logf("%d of %d random pages needed two upstream requests", twoRequestPages, pages)
}
