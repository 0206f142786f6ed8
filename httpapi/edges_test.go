package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// shrinkingWaldur serves the full list until it has answered a HEAD and the
// shrunk list from then on: customers disappear between the gateway's count
// and its page request, as they do when Waldur deletes organisations.
type shrinkingWaldur struct {
	full, shrunk http.Handler
	counted      atomic.Bool
}

func (s *shrinkingWaldur) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.counted.Load() {
		s.shrunk.ServeHTTP(w, r)
		return
	}
	s.full.ServeHTTP(w, r)
	if r.Method == http.MethodHead {
		s.counted.Store(true)
	}
}

// shrinkTry is one list that loses rows between the count and the page.
type shrinkTry struct {
	waldur *shrinkingWaldur
	want   []fakewaldur.Row // the shrunk list, in upstream order
}

// newShrinkTry builds a list of customers rows that loses its last lost
// customers (by ID, so anywhere in the value order) after the first HEAD.
func newShrinkTry(customers, lost int, quota string) shrinkTry {
	full := fakewaldur.Demo(customers, int64(customers))
	shrunk := &fakewaldur.Dataset{Customers: full.Customers[:customers-lost], Users: full.Users}
	return shrinkTry{
		waldur: &shrinkingWaldur{full: fakewaldur.New(full), shrunk: fakewaldur.New(shrunk)},
		want:   shrunk.Rows(demoStaff, quota, "value"),
	}
}

// checkLast says what is wrong with c as the answer to `last: n` over want,
// "" when it is exactly right.
func checkLast(c connection, want []fakewaldur.Row, n int) string {
	if c.TotalCount != len(want) {
		return fmt.Sprintf("totalCount %d, want %d", c.TotalCount, len(want))
	}
	if len(c.Nodes) != n || len(c.Edges) != n {
		return fmt.Sprintf("%d nodes and %d edges, want %d", len(c.Nodes), len(c.Edges), n)
	}
	for i, got := range c.Nodes {
		if w := nodeOf(want[len(want)-n+i]); !sameNode(got, w) || !sameNode(c.Edges[i].Node, w) {
			return fmt.Sprintf("row %d is %+v, want %+v", i, got, w)
		}
	}
	if !c.PageInfo.HasPreviousPage || c.PageInfo.HasNextPage {
		return fmt.Sprintf("pageInfo %+v, want a previous page and no next", c.PageInfo)
	}
	return ""
}

// decodeConnections reads the customerQuotas connections of an answer, by
// field name or alias.
func decodeConnections(r gqlResponse) (map[string]connection, error) {
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		return nil, fmt.Errorf("status %d, errors %+v", r.Status, r.Errors)
	}
	var out map[string]connection
	if err := json.Unmarshal(r.Data, &out); err != nil {
		return nil, fmt.Errorf("decode data: %w: %s", err, r.Data)
	}
	return out, nil
}

// `last: 3` without `before` over a list that shrinks between the HEAD and the
// GET must answer the shrunk list's last rows, every time. The tries vary the
// list's length (and so the page plan) and how many rows it loses (and so
// whether the planned page comes back short or as a 404). The count of
// failures is the figure the issue asks for:
//
//	go test -run TestLastOverAShrinkingList -v ./httpapi/
func TestLastOverAShrinkingList(t *testing.T) {
	const tries, last, quota = 40, 3, "os_cpu_count"
	failures := 0
	for i := range tries {
		customers, lost := 40+i, 1+i%6
		try := newShrinkTry(customers, lost, quota)
		h := newHarness(t, withUpstream(try.waldur))
		conns, err := decodeConnections(h.post("Token "+demoStaff, connectionQuery, map[string]any{"q": quota, "last": last}))
		problem := ""
		if err != nil {
			problem = err.Error()
		} else {
			problem = checkLast(conns["customerQuotas"], try.want, last)
		}
		heads, gets := 0, 0
		for _, c := range h.takeCalls() {
			if c.Method == http.MethodHead {
				heads++
			} else {
				gets++
			}
		}
		if problem == "" && (heads > 2 || gets > 2) {
			// The fresh count and page of one re-plan, no more.
			problem = fmt.Sprintf("%d HEAD and %d GET, want at most one re-plan", heads, gets)
		}
		if problem != "" {
			failures++
			t.Errorf("%d customers losing %d: %s", customers, lost, problem)
		}
	}
	t.Logf("failures of `last: %d` over a shrinking list: %d of %d tries", last, failures, tries)
}

// Aliases asking the same question share one memo: when the list shrinks
// under both, each still answers the shrunk list.
func TestAliasedLastOverAShrinkingList(t *testing.T) {
	const quota = "os_cpu_count"
	query := `query Q($q: String!) {
  a: customerQuotas(quotaName: $q, last: 3) { totalCount pageInfo { hasNextPage hasPreviousPage } edges { node { customerName customerAbbreviation value } } nodes { customerName customerAbbreviation value } }
  b: customerQuotas(quotaName: $q, last: 3) { totalCount pageInfo { hasNextPage hasPreviousPage } edges { node { customerName customerAbbreviation value } } nodes { customerName customerAbbreviation value } }
}`
	for i := range 12 {
		customers, lost := 45+i, 3+i%4
		try := newShrinkTry(customers, lost, quota)
		h := newHarness(t, withUpstream(try.waldur))
		conns, err := decodeConnections(h.post("Token "+demoStaff, query, map[string]any{"q": quota}))
		if err != nil {
			t.Fatalf("%d customers losing %d: %v", customers, lost, err)
		}
		for _, alias := range []string{"a", "b"} {
			if problem := checkLast(conns[alias], try.want, 3); problem != "" {
				t.Errorf("%d customers losing %d, alias %s: %s", customers, lost, alias, problem)
			}
		}
	}
}
