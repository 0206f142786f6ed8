package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/waldur-quotas/gateway/paging"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// liveWalk is one walk through a list that changes between its pages.
type liveWalk struct {
	token, quota, order   string
	size                  int
	backward              bool
	positions             bool // plain offset paging: each cursor re-issued as a v1 position
	usage, added, removed int  // changes between two pages, or per `per` rows
	// per, when set, spreads the changes over the rows returned: usage+added+
	// removed changes per `per` rows, made one at a time between pages. Pages
	// of a few rows then see the live rate of change, not a page of 25's worth.
	per      int
	shuffled bool // ties come in a new order on every request
}

func (w liveWalk) String() string {
	dir := "forward"
	if w.backward {
		dir = "backward"
	}
	return fmt.Sprintf("%s/%s/size%d/%s", strings.TrimPrefix(w.token, "demo-"), w.order, w.size, dir)
}

// liveResult is what a walk showed and cost.
type liveResult struct {
	pages, requests, gets, fetched, returned int
	// overFetched counts the pages that fetched more than twice the rows
	// they returned (short pages, when a row moved further than was fetched).
	overFetched int
	// The pages asked for with a cursor, and their requests: the first page
	// costs what it costs whatever the cursors are (a HEAD and a GET for last).
	cursorPages, cursorRequests int
	stable, twice, missing      int
	// uniqueTwice/uniqueMissing count only stable rows whose key no other
	// row shares, before or after the walk.
	uniqueTwice, uniqueMissing int
	// plans is each page's upstream requests, in order.
	plans []string
}

func rowIdentity(name, abbreviation string) string { return name + "\x00" + abbreviation }

// walkLive pages through every row, changing the fake's data between pages
// (never during one), and compares what it saw with the list before the walk:
// rows no change touched (stable rows) must each be shown once. On a list
// whose ties keep their order it also checks every page against the list as
// it was when the page was asked for: the rows are one slice of it, and
// pageInfo and totalCount are exact.
func walkLive(t *testing.T, h *harness, data *fakewaldur.Dataset, fake *fakewaldur.Handler, churn *fakewaldur.Churn, w liveWalk) liveResult {
	t.Helper()
	ordering := strings.ToLower(w.order)
	scope := paging.Query{QuotaName: w.quota, OrderBy: w.order}
	before := fake.Rows(w.token, w.quota, ordering)
	ids := make(map[string]int, len(data.Customers))
	for _, c := range data.Customers {
		ids[rowIdentity(c.Name, c.Abbreviation)] = c.ID
	}
	keys := map[string]int{} // sort key -> rows holding it, before or after
	keyOf := func(r fakewaldur.Row) string {
		if w.order == "NAME" {
			return r.CustomerName
		}
		return r.Value.String()
	}
	for _, r := range before {
		keys[keyOf(r)]++
	}

	var res liveResult
	changes := liveChanges{w: w}
	shown := map[string]int{}
	var cursor *string
	h.takeCalls()
	for {
		if res.pages > 3000 {
			t.Fatalf("%v: the walk does not end", w)
		}
		now := fake.Rows(w.token, w.quota, ordering)
		vars := map[string]any{"q": w.quota, "o": w.order}
		count, edge := "first", "after"
		if w.backward {
			count, edge = "last", "before"
		}
		vars[count] = w.size
		if cursor != nil {
			vars[edge] = *cursor
		}
		c := h.page("Token "+w.token, vars)
		calls := h.takeCalls()
		heads, gets := countCalls(calls)
		f := rowsFetched(calls, c.TotalCount)
		// Per page, the core issue's bounds, on a changing list too: one
		// HEAD, two GETs, twice the rows asked for.
		if heads > 1 || gets > 2 || f > 2*w.size {
			t.Fatalf("%v page %d: %d HEAD, %d GET, %d rows fetched for %d", w, res.pages, heads, gets, f, len(c.Nodes))
		}
		res.plans = append(res.plans, fmt.Sprint(calls))
		res.pages++
		if cursor != nil {
			res.cursorPages++
			res.cursorRequests += len(calls)
		}
		res.requests += len(calls)
		res.gets += gets
		res.fetched += f
		res.returned += len(c.Nodes)
		if f > 2*len(c.Nodes) {
			res.overFetched++
		}
		if !w.shuffled {
			checkLivePage(t, w, res.pages, now, c)
		}
		for _, n := range c.Nodes {
			shown[rowIdentity(n.CustomerName, n.CustomerAbbreviation)]++
		}

		more, next := c.PageInfo.HasNextPage, c.PageInfo.EndCursor
		if w.backward {
			more, next = c.PageInfo.HasPreviousPage, c.PageInfo.StartCursor
		}
		if !more {
			break
		}
		if next == nil {
			t.Fatalf("%v page %d: more rows but no cursor", w, res.pages)
		}
		cursor = next
		if w.positions {
			pos, err := paging.DecodeCursor(scope, *next)
			if err != nil {
				t.Fatal(err)
			}
			v1 := paging.EncodeCursor(scope, pos)
			cursor = &v1
		}
		changes.between(fake, churn, len(c.Nodes))
	}
	for _, r := range fake.Rows(w.token, w.quota, ordering) {
		keys[keyOf(r)]++
	}
	for _, r := range before {
		id := rowIdentity(r.CustomerName, r.CustomerAbbreviation)
		if churn.Touched(ids[id]) {
			continue
		}
		res.stable++
		unique := keys[keyOf(r)] == 2 // itself, before and after
		switch n := shown[id]; {
		case n == 0:
			res.missing++
			t.Logf("never shown: %q %s", r.CustomerName, r.Value)
			if unique {
				res.uniqueMissing++
			}
		case n > 1:
			res.twice++
			if unique {
				res.uniqueTwice++
			}
		}
	}
	return res
}

// liveChanges makes a walk's changes between two of its pages.
type liveChanges struct {
	w    liveWalk
	due  float64 // changes owed at w's rate, not yet made
	made int
}

func (lc *liveChanges) between(fake *fakewaldur.Handler, churn *fakewaldur.Churn, returned int) {
	w := lc.w
	if w.per == 0 {
		if w.usage+w.added+w.removed > 0 {
			fake.Change(func(d *fakewaldur.Dataset) { churn.Step(d, w.token, w.quota, w.usage, w.added, w.removed) })
		}
		return
	}
	// One change at a time, in a fixed cycle: usage changes, with the
	// addition in the middle of them and the removal at the end.
	cycle := w.usage + w.added + w.removed
	lc.due += float64(returned*cycle) / float64(w.per)
	for ; lc.due >= 1; lc.due-- {
		u, a, r := 1, 0, 0
		switch k := lc.made % cycle; {
		case k >= w.usage+w.added:
			u, r = 0, 1
		case k >= w.usage/2 && k < w.usage/2+w.added:
			u, a = 0, 1
		}
		lc.made++
		fake.Change(func(d *fakewaldur.Dataset) { churn.Step(d, w.token, w.quota, u, a, r) })
	}
}

// checkLivePage: the page is one slice of the list as it was when asked for,
// with pageInfo exact about it and totalCount that list's length.
func checkLivePage(t *testing.T, w liveWalk, page int, now []fakewaldur.Row, c connection) {
	t.Helper()
	checkEdgesAndNodes(t, c)
	if c.TotalCount != len(now) {
		t.Fatalf("%v page %d: totalCount %d, the list holds %d", w, page, c.TotalCount, len(now))
	}
	if len(c.Nodes) == 0 {
		return
	}
	start := -1
	for i, r := range now {
		if sameNode(nodeOf(r), c.Nodes[0]) {
			start = i
			break
		}
	}
	if start < 0 || start+len(c.Nodes) > len(now) {
		t.Fatalf("%v page %d: the page's first row %+v is not in the list", w, page, c.Nodes[0])
	}
	for i, n := range c.Nodes {
		if !sameNode(n, nodeOf(now[start+i])) {
			t.Fatalf("%v page %d: row %d is %+v, the list has %+v there", w, page, i, n, nodeOf(now[start+i]))
		}
	}
	if c.PageInfo.HasPreviousPage != (start > 0) || c.PageInfo.HasNextPage != (start+len(c.Nodes) < len(now)) {
		t.Fatalf("%v page %d: rows [%d, %d) of %d, pageInfo %+v", w, page, start, start+len(c.Nodes), len(now), c.PageInfo)
	}
}

// liveHarness is the gateway over a fake Waldur whose data the test changes.
func liveHarness(t *testing.T, customers int, opts ...fakewaldur.Option) (*harness, *fakewaldur.Dataset, *fakewaldur.Handler) {
	data := fakewaldur.Demo(customers, 17)
	fake := fakewaldur.New(data, opts...)
	return newHarness(t, withDataset(data), withUpstream(fake)), data, fake
}

// Among rows no change touched during a walk, none is shown twice and none
// is skipped, forward and backward, for staff and owners, with several page
// sizes and both orders, while usage changes and organisations come and go
// between pages; pageInfo and totalCount stay exact on every page, and the
// walk costs at most 1.5 upstream requests per page.
func TestCursorsSurviveAChangingList(t *testing.T) {
	for _, token := range []string{fakewaldur.DemoStaffToken, fakewaldur.DemoOwnerToken} {
		for _, order := range []string{"VALUE", "NAME"} {
			// Pages of 1 and 3 rows may still show a stable row twice or
			// skip one: 2× the rows returned leaves no room to look around
			// the cursor's row (TestSmallPageFigures measures them).
			for _, size := range []int{7, 10, 25, 100} {
				for _, backward := range []bool{false, true} {
					w := liveWalk{token: token, quota: "os_storage_size", order: order, size: size, backward: backward,
						usage: 6, added: 1, removed: 1}
					if token == fakewaldur.DemoOwnerToken {
						w.usage = 1 // the owner sees ~60 rows: 6 a page would leave none stable
					}
					customers := 1234
					if size < 10 {
						// Pages of a few rows see the rate of change
						// per row (8 changes in 25 rows), one change at a
						// time; staff walk a shorter list to keep the test short.
						w.per = 25
						if token == fakewaldur.DemoStaffToken {
							customers = 200
						}
					}
					t.Run(w.String(), func(t *testing.T) {
						h, data, fake := liveHarness(t, customers)
						res := walkLive(t, h, data, fake, fakewaldur.NewChurn(int64(size)), w)
						if res.twice != 0 || res.missing != 0 {
							t.Fatalf("of %d stable rows, %d shown twice and %d never shown", res.stable, res.twice, res.missing)
						}
						if res.stable < 20 {
							t.Fatalf("only %d stable rows: the walk proves little", res.stable)
						}
						if perPage := float64(res.cursorRequests) / float64(max(res.cursorPages, 1)); perPage > 1.5 {
							t.Fatalf("%.2f upstream requests per page, want at most 1.5", perPage)
						}
					})
				}
			}
		}
	}
}

// A cursor on the next-to-last row, after rows above it were removed, stands
// at the list's end by position, or past it; its row moved up, and the row
// that followed it is still there to show.
func TestCursorAtTheEndAfterTheListShrank(t *testing.T) {
	for _, tc := range []struct {
		order   string
		removed int
	}{{"VALUE", 1}, {"NAME", 1}, {"VALUE", 2}, {"NAME", 3}} {
		t.Run(fmt.Sprintf("%s/%d removed", tc.order, tc.removed), func(t *testing.T) {
			order := tc.order
			h, _, fake := liveHarness(t, 40)
			vars := map[string]any{"q": "os_storage_size", "o": order, "first": 100}
			all := h.page("Token "+fakewaldur.DemoStaffToken, vars)
			n := len(all.Nodes)
			vars["first"] = n - 1
			head := h.page("Token "+fakewaldur.DemoStaffToken, vars)
			if !head.PageInfo.HasNextPage {
				t.Fatalf("%d of %d rows and no next page", len(head.Nodes), n)
			}
			fake.Change(func(d *fakewaldur.Dataset) {
				for _, top := range all.Nodes[:tc.removed] {
					d.Customers = slices.DeleteFunc(d.Customers, func(c fakewaldur.Customer) bool { return c.Name == top.CustomerName })
				}
			})
			h.takeCalls()
			vars["first"], vars["after"] = 5, *head.PageInfo.EndCursor
			rest := h.page("Token "+fakewaldur.DemoStaffToken, vars)
			calls := h.takeCalls()
			if len(rest.Nodes) != 1 || !sameNode(rest.Nodes[0], all.Nodes[n-1]) || rest.PageInfo.HasNextPage || rest.TotalCount != n-tc.removed {
				t.Fatalf("after the next-to-last row: %+v, want only %+v (%v)", rest, all.Nodes[n-1], calls)
			}
			// A 404 for a page past the shrunken end costs a second round
			// (the core issue's re-plan), each within a window's bounds.
			if heads, gets := countCalls(calls); heads > 1 || gets > 4 || rowsFetched(calls, n-tc.removed) > 20 {
				t.Fatalf("%v: beyond two rounds' bounds", calls)
			}
			t.Logf("%v", calls)
		})
	}
}

// A cursor whose row is gone with both its neighbours, in a run of ties that
// goes on above the rows fetched but ends within them: the gateway may look
// above, and when it cannot, the run's end (its key's place) is where the
// page begins, not the cursor's old position, which would skip rows ranked
// below the run that no change touched.
func TestGoneRowInARunOfTiesOpenAbove(t *testing.T) {
	d := &fakewaldur.Dataset{Users: map[string]fakewaldur.User{"staff": {Staff: true}}}
	for i := range 80 {
		v := int64(500) // org 10-39 tie
		switch {
		case i < 10:
			v = int64(1000 - i)
		case i >= 40:
			v = int64(400 - (i - 40))
		}
		d.Customers = append(d.Customers, fakewaldur.Customer{ID: i + 1, Name: fmt.Sprintf("org %02d", i), Abbreviation: fmt.Sprintf("O%02d", i),
			Quotas: map[string]fakewaldur.Value{"q": fakewaldur.Int(v)}})
	}
	fake := fakewaldur.New(d)
	h := newHarness(t, withDataset(d), withUpstream(fake))
	vars := map[string]any{"q": "q", "o": "VALUE", "first": 31}
	head := h.page("Token staff", vars) // org 00-30
	fake.Change(func(d *fakewaldur.Dataset) {
		// org 00-09 above, and the cursor's row org 30 with its neighbours.
		d.Customers = slices.DeleteFunc(d.Customers, func(c fakewaldur.Customer) bool { return c.ID <= 10 || c.ID >= 30 && c.ID <= 32 })
	})
	h.takeCalls()
	vars["first"], vars["after"] = 5, *head.PageInfo.EndCursor
	next := h.page("Token staff", vars)
	calls := h.takeCalls()
	if len(next.Nodes) == 0 || next.Nodes[0].CustomerName != "org 33" && next.Nodes[0].CustomerName != "org 40" {
		t.Fatalf("after org 30 (gone): %+v (%v); want the rest of the ties (org 33-39) or, at the latest, org 40", next.Nodes, calls)
	}
	if heads, gets := countCalls(calls); heads > 1 || gets > 2 || rowsFetched(calls, next.TotalCount) > 10 {
		t.Fatalf("%v: beyond a window's bounds", calls)
	}
}

// A window no count leaves room for (last: 0) fetches no rows, wherever the
// cursor's row went.
func TestEmptyCountAfterACursorFetchesNoRows(t *testing.T) {
	h := newHarness(t)
	head := h.page(staffAuth, map[string]any{"q": "os_storage_size", "o": "VALUE", "first": 6})
	h.takeCalls()
	for _, first := range []int{7, 100} {
		c := h.page(staffAuth, map[string]any{"q": "os_storage_size", "o": "VALUE", "first": first, "last": 0, "after": *head.PageInfo.EndCursor})
		calls := h.takeCalls()
		if _, gets := countCalls(calls); len(c.Nodes) != 0 || gets > 0 {
			t.Errorf("first %d, last 0: %d rows, %v", first, len(c.Nodes), calls)
		}
	}
}

// The list shrinks between a page's HEAD and its GET, past the cursor's row:
// the GET's 404 re-plans, and the look for the moved row that follows gets
// only what the window's GETs leave, so the field stays within the rounds the
// server's write timeout is built from (upstreamRounds).
func TestLookAfterARePlanKeepsTheRounds(t *testing.T) {
	for _, count := range []string{"first", "last"} {
		t.Run(count, func(t *testing.T) {
			// The cursors come from another replica: this one knows no
			// recent total, so a page counted back from the end starts with
			// a HEAD, the longest way.
			data := fakewaldur.Demo(40, 17)
			other := newHarness(t, withDataset(data))
			vars := map[string]any{"q": "os_storage_size", "o": "VALUE", "first": 100}
			all := other.page("Token "+fakewaldur.DemoStaffToken, vars)
			vars["first"] = 30
			head := other.page("Token "+fakewaldur.DemoStaffToken, vars)
			fake := fakewaldur.New(data)
			h := newHarness(t, withDataset(data), withUpstream(fake))
			var once sync.Once
			h.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodGet {
					once.Do(func() {
						fake.Change(func(d *fakewaldur.Dataset) {
							for _, top := range all.Nodes[:15] {
								d.Customers = slices.DeleteFunc(d.Customers, func(c fakewaldur.Customer) bool { return c.Name == top.CustomerName })
							}
						})
					})
				}
				return false
			})
			h.takeCalls()
			delete(vars, "first")
			vars[count], vars["after"] = 5, *head.PageInfo.EndCursor
			h.page("Token "+fakewaldur.DemoStaffToken, vars)
			if calls := h.takeCalls(); len(calls) > 4 {
				t.Fatalf("%d upstream calls one after the other: %v", len(calls), calls)
			}
		})
	}
}

// Waldur orders ties anew on every request. What the gateway promises then:
// a stable row whose sort key no other row shares is shown exactly once,
// whatever the ties around it do. Rows in a run of ties that a page boundary
// cuts may be shown twice or not at all, as with any paging of Waldur.
func TestShuffledTiesKeepRowsWithUniqueKeysExact(t *testing.T) {
	for _, order := range []string{"VALUE", "NAME"} {
		for _, backward := range []bool{false, true} {
			for _, changing := range []bool{false, true} {
				w := liveWalk{token: fakewaldur.DemoStaffToken, quota: "os_storage_size", order: order, size: 25,
					backward: backward, shuffled: true}
				if changing {
					w.usage, w.added, w.removed = 6, 1, 1
				}
				t.Run(fmt.Sprintf("%v/changing=%v", w, changing), func(t *testing.T) {
					h, data, fake := liveHarness(t, 1234, fakewaldur.WithShuffledTies(5))
					res := walkLive(t, h, data, fake, fakewaldur.NewChurn(3), w)
					if res.uniqueTwice != 0 || res.uniqueMissing != 0 {
						t.Fatalf("stable rows with a key of their own: %d shown twice, %d never shown", res.uniqueTwice, res.uniqueMissing)
					}
					t.Logf("%d stable rows; among ties %d shown twice, %d never shown", res.stable, res.twice-res.uniqueTwice, res.missing-res.uniqueMissing)
				})
			}
		}
	}
}

// TestLivePagingFigures measures the scenario (1,234 organisations,
// pages of 25, between pages 6 usage changes, one organisation added and one
// removed) for the gateway's cursors and for plain offset paging in the same
// run, and logs the table of the closing note:
//
//	go test -run TestLivePagingFigures -v ./httpapi/ | grep figure:
func TestLivePagingFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	t.Logf("figure: | paging | order | direction | stable rows | shown twice | never shown | upstream requests/page | rows fetched/row returned |")
	for _, changing := range []bool{true, false} {
		for _, positions := range []bool{true, false} {
			for _, order := range []string{"VALUE", "NAME"} {
				for _, backward := range []bool{false, true} {
					w := liveWalk{token: fakewaldur.DemoStaffToken, quota: "os_storage_size", order: order, size: 25,
						backward: backward, positions: positions}
					if changing {
						w.usage, w.added, w.removed = 6, 1, 1
					}
					h, data, fake := liveHarness(t, 1234)
					res := walkLive(t, h, data, fake, fakewaldur.NewChurn(42), w)
					kind := "gateway (v2 cursors)"
					if positions {
						kind = "offsets (v1 cursors)"
					}
					if !changing {
						kind += ", unchanging list"
					}
					dir := map[bool]string{false: "forward", true: "backward"}[backward]
					t.Logf("figure: | %s | %s | %s | %d | %d | %d | %.3f | %.3f |", kind, order, dir, res.stable, res.twice, res.missing,
						float64(res.requests)/float64(res.pages), float64(res.fetched)/float64(max(res.returned, 1)))
				}
			}
		}
	}
}

// TestSmallPageFigures measures walks with pages of a few rows, where the
// core issue's bound of 2× the rows returned leaves little room to look
// around a cursor's row, on the live rate of change per row (8 changes in 25
// rows, one at a time), and logs what they showed and cost:
//
//	go test -run TestSmallPageFigures -v ./httpapi/ | grep figure:
func TestSmallPageFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	t.Logf("figure: | page size | order | direction | stable rows | shown twice | never shown | upstream requests/page | rows fetched/row returned |")
	for _, size := range []int{1, 3, 7} {
		for _, order := range []string{"VALUE", "NAME"} {
			for _, backward := range []bool{false, true} {
				w := liveWalk{token: fakewaldur.DemoStaffToken, quota: "os_storage_size", order: order, size: size,
					backward: backward, usage: 6, added: 1, removed: 1, per: 25}
				h, data, fake := liveHarness(t, 200)
				res := walkLive(t, h, data, fake, fakewaldur.NewChurn(int64(size)), w)
				dir := map[bool]string{false: "forward", true: "backward"}[backward]
				t.Logf("figure: | %d | %s | %s | %d | %d | %d | %.3f | %.3f |", size, order, dir, res.stable, res.twice, res.missing,
					float64(res.cursorRequests)/float64(max(res.cursorPages, 1)), float64(res.fetched)/float64(max(res.returned, 1)))
			}
		}
	}
}
