package paging

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// held is how many rows page (1-based) of size p really holds in a list of
// total rows.
func held(page, p, total int) int {
	return max(min(page*p, total)-(page-1)*p, 0)
}

// bruteOptimum searches every page size 1..MaxPageSize and every page (or
// pair of consecutive pages) of that size covering w, all non-empty, fetching
// at most 2×len rows. It returns the fewest rows any single request fetches
// and the smallest page size achieving it (0, 0 if no single request
// qualifies), and the fewest rows any two-request plan fetches (0 if none).
func bruteOptimum(w Window, total int) (oneRows, oneP, twoRows int) {
	s, e, bound := w.Start, w.End, 2*w.Len()
	ceilDiv := func(a, b int) int { return (a + b - 1) / b }
	for p := 1; p <= MaxPageSize; p++ {
		// Single page k: (k-1)p <= s and e <= kp.
		for k := max(ceilDiv(e, p), 1); (k-1)*p <= s; k++ {
			if r := held(k, p, total); r > 0 && r <= bound && (oneP == 0 || r < oneRows) {
				oneRows, oneP = r, p
			}
		}
		// Pages k, k+1: (k-1)p <= s and e <= (k+1)p.
		for k := max(ceilDiv(e, p)-1, 1); (k-1)*p <= s; k++ {
			if held(k, p, total) == 0 || held(k+1, p, total) == 0 {
				continue
			}
			if r := held(k, p, total) + held(k+1, p, total); r <= bound && (twoRows == 0 || r < twoRows) {
				twoRows = r
			}
		}
	}
	return oneRows, oneP, twoRows
}

// checkPlan verifies Plan(w, total) against the contract and the brute-force
// optimum, returning the rows it fetches and its number of requests.
func checkPlan(t *testing.T, w Window, total int) (fetched, requests int) {
	t.Helper()
	reqs := Plan(w, total)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("Plan(%+v, total %d) = %+v: %s", w, total, reqs, fmt.Sprintf(format, args...))
	}
	if len(reqs) < 1 || len(reqs) > 2 {
		fail("want 1 or 2 requests")
	}
	for _, r := range reqs {
		if r.Page < 1 || r.PageSize < 1 || r.PageSize > MaxPageSize {
			fail("bad page or page size")
		}
		if r.Offset() >= total {
			fail("page %d is past the last", r.Page)
		}
		fetched += held(r.Page, r.PageSize, total)
	}
	if len(reqs) == 2 && (reqs[1].Page != reqs[0].Page+1 || reqs[1].PageSize != reqs[0].PageSize) {
		fail("two requests must be consecutive pages of one size")
	}
	lo, hi := reqs[0].Offset(), min(reqs[len(reqs)-1].Offset()+reqs[len(reqs)-1].PageSize, total)
	if lo > w.Start || hi < w.End {
		fail("covers [%d,%d), not the window", lo, hi)
	}
	if fetched > 2*w.Len() {
		fail("fetches %d rows for %d", fetched, w.Len())
	}

	oneRows, oneP, twoRows := bruteOptimum(w, total)
	switch {
	case oneP != 0 && len(reqs) != 1:
		fail("a single request of size %d would do", oneP)
	case oneP != 0 && (fetched != oneRows || reqs[0].PageSize != oneP):
		fail("fetches %d rows with size %d; size %d fetches %d", fetched, reqs[0].PageSize, oneP, oneRows)
	case oneP == 0 && fetched != twoRows:
		fail("fetches %d rows; a two-request plan fetches %d", fetched, twoRows)
	}
	return fetched, len(reqs)
}

func TestPlanExhaustive(t *testing.T) {
	const maxTotal = 120
	type stat struct {
		windows, requests  int
		ratioSum, maxRatio float64
	}
	stats := make([]stat, maxTotal+1)
	t.Run("totals", func(t *testing.T) {
		for total := 1; total <= maxTotal; total++ {
			t.Run(fmt.Sprint(total), func(t *testing.T) {
				t.Parallel()
				st := &stats[total]
				for n := 1; n <= min(MaxCount, total); n++ {
					for s := 0; s+n <= total; s++ {
						fetched, requests := checkPlan(t, Window{s, s + n}, total)
						ratio := float64(fetched) / float64(n)
						st.windows++
						st.requests += requests
						st.ratioSum += ratio
						st.maxRatio = max(st.maxRatio, ratio)
					}
				}
			})
		}
	})
	var all stat
	for _, st := range stats {
		all.windows += st.windows
		all.requests += st.requests
		all.ratioSum += st.ratioSum
		all.maxRatio = max(all.maxRatio, st.maxRatio)
	}
	t.Logf("totals 1..%d, %d windows: rows fetched per row returned mean %.4f max %.4f; requests mean %.4f",
		maxTotal, all.windows, all.ratioSum/float64(all.windows), all.maxRatio, float64(all.requests)/float64(all.windows))
}

func TestPlanLargeTotals(t *testing.T) {
	lengths := []int{1, 2, 3, 4, 5, 7, 10, 13, 25, 33, 50, 51, 64, 99, 100}
	windows := func(total int, rng *rand.Rand) []Window {
		var ws []Window
		for _, n := range lengths {
			for d := 0; d <= 12; d++ {
				ws = append(ws, Window{d, d + n}, Window{total - n - d, total - d})
			}
			for range 6 {
				s := rng.IntN(total - n + 1)
				ws = append(ws, Window{s, s + n})
			}
		}
		return ws
	}
	totals := []int{10000, 123457, maxCursorNumber}
	for total := 299; total <= 905; total++ {
		totals = append(totals, total)
	}
	count := 0
	for i, total := range totals {
		rng := rand.New(rand.NewPCG(uint64(i), 42))
		for _, w := range windows(total, rng) {
			checkPlan(t, w, total)
			count++
		}
	}
	t.Logf("%d windows", count)
}

func TestPlanFullPageSizes(t *testing.T) {
	// Windows longer than MaxCount, up to MaxPageSize, are accepted too.
	for _, total := range []int{300, 301, 599, 600, 1000} {
		for _, n := range []int{101, 150, 299, 300} {
			for _, s := range []int{0, 1, 150, 299, 300, total - n - 1, total - n} {
				if s >= 0 && s+n <= total {
					checkPlan(t, Window{s, s + n}, total)
				}
			}
		}
	}
}

func TestPlanExamples(t *testing.T) {
	tests := []struct {
		w     Window
		total int
		want  []Request
	}{
		{Window{0, 10}, 1000, []Request{{1, 10}}},
		{Window{10, 20}, 1000, []Request{{2, 10}}},
		{Window{5, 15}, 1000, []Request{{1, 15}}},
		{Window{95, 105}, 1000, []Request{{7, 15}}},
		{Window{99, 199}, 1000, []Request{{1, 199}}},
		{Window{101, 201}, 1000, []Request{{2, 101}}},
		{Window{713, 723}, 5000, []Request{{90, 8}, {91, 8}}},
		{Window{7, 7}, 1000, nil},
		{Window{0, 3}, 3, []Request{{1, 3}}},
	}
	for _, tt := range tests {
		if got := Plan(tt.w, tt.total); !slices.Equal(got, tt.want) {
			t.Errorf("Plan(%+v, %d) = %+v, want %+v", tt.w, tt.total, got, tt.want)
		}
	}
}

func TestPlanPanics(t *testing.T) {
	bad := []struct {
		w     Window
		total int
	}{
		{Window{-1, 3}, 10},
		{Window{5, 11}, 10},
		{Window{5, 3}, 10},
		{Window{0, 301}, 1000},
		{Window{0, 1}, 0},
	}
	for _, b := range bad {
		wantPanic(t, fmt.Sprintf("Plan(%+v, %d)", b.w, b.total), func() { Plan(b.w, b.total) })
	}
}

// upstream returns what Waldur answers for r on a list of the given rows: the
// rows of that page, or nil (a 404) past the last page.
func upstream(list []int, r Request) []int {
	lo := r.Offset()
	if lo >= len(list) && !(r.Page == 1 && len(list) == 0) {
		return nil
	}
	return list[lo:min(lo+r.PageSize, len(list))]
}

func TestSlice(t *testing.T) {
	list := make([]int, 60)
	for i := range list {
		list[i] = 1000 + i
	}
	for total := 1; total <= len(list); total++ {
		for s := 0; s < total; s++ {
			for e := s + 1; e <= min(total, s+MaxCount); e++ {
				w := Window{s, e}
				reqs := Plan(w, total)
				// The list as planned, then shrunk to every shorter length
				// between planning and fetching.
				for now := total; now >= 0; now-- {
					pages := make([][]int, len(reqs))
					for i, r := range reqs {
						pages[i] = upstream(list[:now], r)
					}
					got := Slice(w, reqs, pages)
					want := list[min(s, now):min(e, now)]
					if got == nil || !slices.Equal(got, want) {
						t.Fatalf("total %d→%d, window %+v, plan %+v: Slice = %v, want %v", total, now, w, reqs, got, want)
					}
				}
			}
		}
	}
}

func TestSliceOddPages(t *testing.T) {
	w := Window{8, 14}
	reqs := []Request{{Page: 1, PageSize: 10}, {Page: 2, PageSize: 10}}
	seq := func(lo, hi int) []int {
		var r []int
		for i := lo; i < hi; i++ {
			r = append(r, i)
		}
		return r
	}
	tests := []struct {
		name  string
		pages [][]int
		want  []int
	}{
		{"full", [][]int{seq(0, 10), seq(10, 20)}, seq(8, 14)},
		{"first page short, second present: stop at the gap", [][]int{seq(0, 9), seq(10, 20)}, seq(8, 9)},
		{"first page too short to reach the window", [][]int{seq(0, 5), seq(10, 20)}, []int{}},
		{"second page missing", [][]int{seq(0, 10)}, seq(8, 10)},
		{"no pages", nil, []int{}},
		{"oversized pages are clipped to their size", [][]int{seq(0, 12), seq(10, 20)}, seq(8, 14)},
	}
	for _, tt := range tests {
		got := Slice(w, reqs, tt.pages)
		if got == nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: Slice = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := Slice(Window{3, 3}, nil, [][]string(nil)); got == nil || len(got) != 0 {
		t.Errorf("empty window: Slice = %#v, want empty non-nil", got)
	}
}

func BenchmarkPlan(b *testing.B) {
	// Windows as clients produce them: pages of common sizes at arbitrary
	// cursors, plus windows against the end of the list.
	const total = 5000
	rng := rand.New(rand.NewPCG(1, 2))
	var ws []Window
	for range 1000 {
		n := []int{10, 20, 25, 50, 100}[rng.IntN(5)]
		s := rng.IntN(total - n + 1)
		if rng.IntN(4) == 0 {
			s = total - n - rng.IntN(n)
		}
		ws = append(ws, Window{s, s + n})
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = Plan(ws[i%len(ws)], total)
	}
}
