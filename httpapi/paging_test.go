package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// walk pages through a whole list with the given page size, forward (first +
// after) or backward (last + before), checking pageInfo exactly on every page,
// and returns the rows in list order.
func walk(t *testing.T, h *harness, token, quota, order string, size int, backward bool) []node {
	t.Helper()
	var rows []node
	var cursor *string
	for pages := 0; ; pages++ {
		if pages > 2000 {
			t.Fatal("walk does not end")
		}
		vars := map[string]any{"q": quota, "o": order}
		if backward {
			vars["last"] = size
			if cursor != nil {
				vars["before"] = *cursor
			}
		} else {
			vars["first"] = size
			if cursor != nil {
				vars["after"] = *cursor
			}
		}
		c := h.page("Token "+token, vars)
		checkEdgesAndNodes(t, c)
		pi := c.PageInfo
		// Rows exist before the page exactly when it does not start the list, and
		// after it exactly when it does not end it.
		fetchedBefore := len(rows)
		if backward {
			rows = append(append([]node(nil), c.Nodes...), rows...)
			if wantPrev := c.TotalCount-len(rows) > 0; pi.HasPreviousPage != wantPrev {
				t.Fatalf("backward page %d: hasPreviousPage %v, want %v (%d of %d rows seen)", pages, pi.HasPreviousPage, wantPrev, len(rows), c.TotalCount)
			}
			if wantNext := fetchedBefore > 0; pi.HasNextPage != wantNext {
				t.Fatalf("backward page %d: hasNextPage %v, want %v", pages, pi.HasNextPage, wantNext)
			}
			if !pi.HasPreviousPage {
				return rows
			}
			cursor = pi.StartCursor
		} else {
			rows = append(rows, c.Nodes...)
			if wantNext := len(rows) < c.TotalCount; pi.HasNextPage != wantNext {
				t.Fatalf("forward page %d: hasNextPage %v, want %v (%d of %d rows seen)", pages, pi.HasNextPage, wantNext, len(rows), c.TotalCount)
			}
			if wantPrev := fetchedBefore > 0; pi.HasPreviousPage != wantPrev {
				t.Fatalf("forward page %d: hasPreviousPage %v, want %v", pages, pi.HasPreviousPage, wantPrev)
			}
			if !pi.HasNextPage {
				return rows
			}
			cursor = pi.EndCursor
		}
		if len(c.Nodes) != size {
			t.Fatalf("page %d has %d rows but is not the last; want %d", pages, len(c.Nodes), size)
		}
	}
}

// checkEdgesAndNodes: edges and nodes carry the same rows, and the cursors in
// pageInfo are the first and last edges' (null when empty).
func checkEdgesAndNodes(t *testing.T, c connection) {
	t.Helper()
	if len(c.Edges) != len(c.Nodes) {
		t.Fatalf("%d edges but %d nodes", len(c.Edges), len(c.Nodes))
	}
	for i := range c.Edges {
		if !sameNode(c.Edges[i].Node, c.Nodes[i]) {
			t.Fatalf("edge %d node %+v differs from nodes[%d] %+v", i, c.Edges[i].Node, i, c.Nodes[i])
		}
	}
	if len(c.Edges) == 0 {
		if c.PageInfo.StartCursor != nil || c.PageInfo.EndCursor != nil {
			t.Fatalf("empty page with cursors %v %v", c.PageInfo.StartCursor, c.PageInfo.EndCursor)
		}
		return
	}
	if c.PageInfo.StartCursor == nil || *c.PageInfo.StartCursor != c.Edges[0].Cursor ||
		c.PageInfo.EndCursor == nil || *c.PageInfo.EndCursor != c.Edges[len(c.Edges)-1].Cursor {
		t.Fatalf("pageInfo cursors do not match the edges")
	}
}

func TestWalkEveryRowBothWays(t *testing.T) {
	h := newHarness(t)
	quotas := []string{"os_storage_size", "estimated_price", "vpc_cpu_count", "nc_resource_count", "no_such_quota"}
	for _, token := range []string{fakewaldur.DemoStaffToken, fakewaldur.DemoOwnerToken, fakewaldur.DemoNobodyToken} {
		for _, quota := range quotas {
			for _, order := range []string{"VALUE", "NAME"} {
				want := h.data.Rows(token, quota, map[string]string{"VALUE": "value", "NAME": "name"}[order])
				for _, size := range []int{7, 13, 100} {
					for _, backward := range []bool{false, true} {
						name := fmt.Sprintf("%s/%s/%s/size%d/backward=%v", token, quota, order, size, backward)
						t.Run(name, func(t *testing.T) {
							got := walk(t, h, token, quota, order, size, backward)
							if len(got) != len(want) {
								t.Fatalf("walked %d rows, upstream lists %d", len(got), len(want))
							}
							for i := range want {
								if !sameNode(got[i], nodeOf(want[i])) {
									t.Fatalf("row %d: got %+v, want %+v", i, got[i], nodeOf(want[i]))
								}
							}
						})
					}
				}
			}
		}
	}
}
