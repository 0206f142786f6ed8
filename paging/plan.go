package paging

import "fmt"

// Request is one upstream page request: page Page (1-based) of size PageSize.
type Request struct{ Page, PageSize int }

// Offset is the offset of the first row this request returns.
func (r Request) Offset() int { return (r.Page - 1) * r.PageSize }

// Plan returns the upstream requests that fetch window w of a list of total
// rows, or nil for an empty window. The plan
//   - has the fewest requests possible, never more than two; two requests are
//     consecutive pages of one size, so the caller can fetch them concurrently;
//   - uses page sizes of at most MaxPageSize;
//   - asks only for pages that hold at least one row, since upstream answers
//     404 for a page past the last;
//   - fetches at most 2×w.Len() rows (counting what each page really holds,
//     the last page being short), and among plans with the fewest requests
//     fetches the fewest rows, ties going to the smaller page size.
//
// A non-empty w must satisfy 0 <= w.Start < w.End <= total and
// w.Len() <= MaxPageSize; anything else is a programmer error and panics.
// Windows from Resolve with validated Args always qualify.
func Plan(w Window, total int) []Request {
	if w.Start == w.End {
		return nil
	}
	n := w.Len()
	if w.Start < 0 || n < 0 || w.End > total || n > MaxPageSize {
		panic(fmt.Sprintf("paging: Plan(%+v, total %d): need 0 <= Start < End <= total and Len <= %d",
			w, total, MaxPageSize))
	}
	reqs, ok := planWithin(w, total, 2*n, 2)
	if !ok {
		panic(fmt.Sprintf("paging: Plan(%+v, total %d): no plan found", w, total)) // unreachable, see planWithin
	}
	return reqs
}

// planWithin is Plan for a window w that may be wider than the rows the
// caller returns: it finds the plan of at most maxReqs requests, fetching at
// most budget rows, with the fewest requests and then the fewest rows, or
// reports that none exists. With budget 2×w.Len() and maxReqs 2 one always
// exists.
func planWithin(w Window, total, budget, maxReqs int) ([]Request, bool) {
	n := w.Len()
	s, e := w.Start, w.End

	// Every plan fetches at least n rows, so a plan fetching exactly n rows is
	// optimal and, page sizes being tried in increasing order, ends the search.
	//
	// A page that is not the list's last page holds all p rows, so within the
	// fetch bound of 2n it has p <= 2n for one request (p <= n each for two).
	// Larger pages only qualify as the short last page, which still fetches
	// at least total-s rows; when that alone exceeds 2n they cannot qualify.
	nearEnd := total-s <= budget

	// One request: page size p >= n whose page holds both s and e-1.
	maxP := min(budget, MaxPageSize)
	if nearEnd {
		maxP = MaxPageSize
	}
	bestP, bestRows := 0, 0
	for p := n; p <= maxP; p++ {
		k := s / p
		if (e-1)/p != k {
			continue
		}
		rows := min((k+1)*p, total) - k*p
		if rows <= budget && (bestP == 0 || rows < bestRows) {
			bestP, bestRows = p, rows
			if rows == n {
				break
			}
		}
	}
	if bestP != 0 {
		return []Request{{Page: s/bestP + 1, PageSize: bestP}}, true
	}
	if maxReqs < 2 {
		return nil, false
	}

	// Two requests: pages k and k+1 of size p, with k the page holding s.
	// p = n always works here: no single page of size n held the window, so
	// it spans pages k and k+1 and page k+1 is not past the end.
	maxP = min(budget/2, MaxPageSize)
	if nearEnd {
		maxP = MaxPageSize
	}
	bestRows = 0
	for p := (n + 1) / 2; p <= maxP; p++ {
		k := s / p
		if (k+2)*p < e || (k+1)*p >= total {
			// Either the pair does not reach e, or its second page is past
			// the last (then the first page alone would have held the
			// window, and the search above would have found it).
			continue
		}
		rows := min((k+2)*p, total) - k*p
		if rows <= budget && (bestP == 0 || rows < bestRows) {
			bestP, bestRows = p, rows
			if rows == n {
				break
			}
		}
	}
	if bestP == 0 {
		return nil, false
	}
	k := s / bestP
	return []Request{{Page: k + 1, PageSize: bestP}, {Page: k + 2, PageSize: bestP}}, true
}

// Slice maps the rows returned by reqs (pages[i] being what upstream returned
// for reqs[i], in plan order) to the rows of w, in order.
//
// The result always begins at offset w.Start, so row i of the result is the
// row at offset w.Start+i. Pages may come back shorter than requested, or
// empty (nil for a 404, say), when the list shrank; the result then stops at
// the first row missing from the window, because a row after a gap could not
// be given a correct offset. Rows beyond a page's size are ignored. The result
// is a new slice, never nil.
func Slice[T any](w Window, reqs []Request, pages [][]T) []T {
	out := make([]T, 0, max(w.Len(), 0))
	next := w.Start // offset of the next row wanted
	for i, r := range reqs {
		if next >= w.End {
			break
		}
		var rows []T
		if i < len(pages) {
			rows = pages[i]
		}
		rows = rows[:min(len(rows), r.PageSize)]
		base := r.Offset()
		if base > next {
			break // a gap: the row at `next` was not returned
		}
		from := next - base
		if from >= len(rows) {
			continue // short page; a gap unless the next page starts at or before `next`
		}
		to := min(len(rows), w.End-base)
		out = append(out, rows[from:to]...)
		next = base + to
	}
	return out
}

// A Probe is where a cursor expects its row. An after cursor's window follows
// its row, so a row that moved down is found in the window itself; what must
// be fetched besides is the row, its predecessor, and a margin above them for
// a row that moved up. A before cursor is the mirror image.
type Probe struct {
	Offset int
	Before bool // a before cursor: the margin goes below the row
	// Neighbour: the cursor knows the row that followed its row (for a
	// before cursor, preceded it) when it was issued. That row begins the
	// window (ends it) when nothing moved, so the window itself shows it.
	Neighbour bool
}

// Margins below zero are the narrow looks of small windows, where 2× the
// rows leave no room for a margin: the cursor's row alone, or, for a cursor
// that knows its neighbour, nothing but the window and one row past its far
// end, which gives the page's own far cursor its neighbour in turn.
const (
	rowAlone       = -1
	neighbourAlone = -2
)

// anchorTries are the margins PlanAround tries, widest first, with one
// request and then with two: a row that moved by at most that many places is
// found where it is, with its neighbour, whose place decides where the row
// stood among rows of the same key when it has gone.
var anchorTries = []struct {
	requests int
	margins  []int
}{
	{1, []int{4, 3, 2, 1}}, {2, []int{4, 3, 2, 1}}, {1, []int{0}}, {2, []int{0}},
	{1, []int{rowAlone, neighbourAlone}}, {2, []int{rowAlone, neighbourAlone}},
}

// PlanAround plans window w (the w.Len() rows the caller will return) widened
// to also fetch the rows around each probe. It keeps Plan's bounds: at most
// two requests and 2×w.Len() rows. It prefers one request with the widest
// margin that fits, then two requests, and, when no widening fits at all (a
// probe far from w), plans w alone: the caller then takes the cursor as a
// position.
func PlanAround(w Window, probes []Probe, total int) []Request {
	if w.Start == w.End {
		return nil
	}
	budget := 2 * w.Len()
	for _, try := range anchorTries {
		for _, m := range try.margins {
			t, ok := around(w, probes, m)
			if !ok {
				continue
			}
			t.Start, t.End = max(t.Start, 0), min(t.End, total)
			if t.Len() > MaxPageSize {
				continue
			}
			if reqs, ok := planWithin(t, total, budget, try.requests); ok {
				return reqs
			}
		}
	}
	return Plan(w, total)
}

// around is w widened by margin m around each probe; not ok when a probe
// cannot use that margin (neighbourAlone without a known neighbour).
func around(w Window, probes []Probe, m int) (Window, bool) {
	t := w
	for _, p := range probes {
		switch {
		case m == neighbourAlone && !p.Neighbour:
			return w, false
		case m == neighbourAlone && p.Before:
			t.Start, t.End = min(t.Start, w.Start-1), max(t.End, p.Offset)
		case m == neighbourAlone:
			t.Start, t.End = min(t.Start, p.Offset+1), max(t.End, w.End+1)
		case p.Before:
			t.Start, t.End = min(t.Start, p.Offset), max(t.End, p.Offset+m+2)
		default:
			t.Start, t.End = min(t.Start, p.Offset-m-1), max(t.End, p.Offset+1)
		}
	}
	return t, true
}
