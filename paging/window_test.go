package paging

import (
	"fmt"
	"strings"
	"testing"
)

func intp(v int) *int { return &v }

func fmtArgs(a Args) string {
	f := func(name string, v *int) string {
		if v == nil {
			return ""
		}
		return fmt.Sprintf(" %s:%d", name, *v)
	}
	g := func(name string, c *Cursor) string {
		if c == nil {
			return ""
		}
		return fmt.Sprintf(" %s:%d", name, c.Offset)
	}
	return "{" + strings.TrimSpace(g("after", a.After)+g("before", a.Before)+f("first", a.First)+f("last", a.Last)) + "}"
}

// bruteResolve literally applies the spec's steps to a slice of all row
// offsets (ApplyCursorsToEdges, then EdgesToReturn): the before edge is looked
// up among the edges the after step left. Each step reslices a
// single backing array, so even an empty result keeps its position: it is
// recovered from the capacity left.
func bruteResolve(a Args, total int) (start, end int) {
	all := make([]int, total)
	for i := range all {
		all[i] = i
	}
	edges := all
	if a.After != nil { // remove every edge up to and including the after edge
		i := 0
		for i < len(edges) && edges[i] <= a.After.Offset {
			i++
		}
		edges = edges[i:]
	}
	if a.Before != nil { // the before edge, if still present, and every edge after it go
		for i, e := range edges {
			if e == a.Before.Offset {
				edges = edges[:i]
				break
			}
		}
	}
	first := a.First
	if a.First == nil && a.Last == nil {
		first = intp(DefaultFirst)
	}
	if first != nil && len(edges) > *first {
		edges = edges[:*first]
	}
	if a.Last != nil && len(edges) > *a.Last {
		edges = edges[len(edges)-*a.Last:]
	}
	start = cap(all) - cap(edges)
	return start, start + len(edges)
}

func TestResolveExhaustive(t *testing.T) {
	cases := 0
	for total := 0; total <= 25; total++ {
		cursors := []*Cursor{nil}
		for o := 0; o < total; o++ {
			cursors = append(cursors, &Cursor{Offset: o, Total: total})
		}
		counts := []*int{nil}
		for _, v := range []int{0, 1, 2, 3, 5, total, total + 2} {
			counts = append(counts, intp(v))
		}
		for _, after := range cursors {
			for _, before := range cursors {
				for _, first := range counts {
					for _, last := range counts {
						a := Args{First: first, Last: last, After: after, Before: before}
						checkResolve(t, a, total)
						cases++
					}
				}
			}
		}
	}
	t.Logf("%d cases", cases)
}

func checkResolve(t *testing.T, a Args, total int) {
	t.Helper()
	w := Resolve(a, total)
	s, e := bruteResolve(a, total)
	if w != (Window{s, e}) {
		t.Fatalf("total %d, args %s: Resolve = %+v, brute force [%d,%d)", total, fmtArgs(a), w, s, e)
	}
	if w.Start < 0 || w.Start > w.End || w.End > total || w.Len() != e-s {
		t.Fatalf("total %d, args %s: window %+v out of range", total, fmtArgs(a), w)
	}
	// Rows before / after the (possibly empty) window position.
	if got, want := w.HasPrevious(), s > 0; got != want {
		t.Fatalf("total %d, args %s: HasPrevious = %v, want %v", total, fmtArgs(a), got, want)
	}
	if got, want := w.HasNext(total), e < total; got != want {
		t.Fatalf("total %d, args %s: HasNext = %v, want %v", total, fmtArgs(a), got, want)
	}
}

func TestResolveEdgeCases(t *testing.T) {
	c := func(o int) *Cursor { return &Cursor{Offset: o, Total: o + 1} }
	tests := []struct {
		name  string
		a     Args
		total int
		want  Window
	}{
		{"default first", Args{}, 50, Window{0, 10}},
		{"default first, short list", Args{}, 4, Window{0, 4}},
		{"empty list", Args{Last: intp(5)}, 0, Window{0, 0}},
		{"first 0 after", Args{First: intp(0), After: c(4)}, 10, Window{5, 5}},
		{"last 0", Args{Last: intp(0)}, 10, Window{10, 10}},
		{"last 0 before", Args{Last: intp(0), Before: c(4)}, 10, Window{4, 4}},
		{"after the last row", Args{After: c(9)}, 10, Window{10, 10}},
		{"crossing cursors: before ignored", Args{After: c(6), Before: c(3), Last: intp(2)}, 10, Window{8, 10}},
		{"equal cursors: before ignored", Args{After: c(3), Before: c(3)}, 10, Window{4, 10}},
		{"adjacent cursors", Args{After: c(3), Before: c(4)}, 10, Window{4, 4}},
		// Cursors from a list that has since shrunk.
		{"stale after", Args{After: c(40), First: intp(5)}, 10, Window{10, 10}},
		{"stale before", Args{Before: c(40), Last: intp(5)}, 10, Window{5, 10}},
		{"stale both", Args{After: c(30), Before: c(40)}, 10, Window{10, 10}},
		// Hand-built nonsense must still stay in range.
		{"negative counts", Args{First: intp(-3), Last: intp(-1)}, 10, Window{0, 0}},
		{"negative cursors", Args{After: &Cursor{Offset: -5}, Before: &Cursor{Offset: -2}}, 10, Window{0, 10}},
		{"huge counts", Args{First: intp(int(^uint(0) >> 1)), Last: intp(int(^uint(0) >> 1))}, 10, Window{0, 10}},
		{"huge after", Args{After: &Cursor{Offset: int(^uint(0) >> 1)}}, 10, Window{10, 10}},
		{"negative total", Args{}, -4, Window{0, 0}},
	}
	for _, tt := range tests {
		if got := Resolve(tt.a, tt.total); got != tt.want {
			t.Errorf("%s: Resolve(%s, %d) = %+v, want %+v", tt.name, fmtArgs(tt.a), tt.total, got, tt.want)
		}
		if tt.total >= 0 && !strings.HasPrefix(tt.name, "negative") && !strings.HasPrefix(tt.name, "huge") {
			checkResolve(t, tt.a, tt.total)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := []Args{
		{},
		{First: intp(0)}, {First: intp(MaxCount)}, {Last: intp(0)}, {Last: intp(MaxCount)},
		{First: intp(3), Last: intp(100)},
	}
	for _, a := range ok {
		if err := a.Validate(); err != nil {
			t.Errorf("Validate(%s) = %v, want nil", fmtArgs(a), err)
		}
	}
	bad := []struct {
		a   Args
		msg string
	}{
		{Args{First: intp(500)}, "first must be between 0 and 100, got 500"},
		{Args{First: intp(-1)}, "first must be between 0 and 100, got -1"},
		{Args{Last: intp(101)}, "last must be between 0 and 100, got 101"},
		{Args{Last: intp(-7), First: intp(2)}, "last must be between 0 and 100, got -7"},
		{Args{First: intp(101), Last: intp(-7)}, "first must be between 0 and 100, got 101"},
	}
	for _, b := range bad {
		err := b.a.Validate()
		if err == nil || err.Error() != b.msg {
			t.Errorf("Validate(%s) = %v, want %q", fmtArgs(b.a), err, b.msg)
		}
	}
}

func TestNeedsTotal(t *testing.T) {
	c := &Cursor{Offset: 3, Total: 10}
	tests := []struct {
		a    Args
		want bool
	}{
		{Args{}, false},
		{Args{First: intp(5)}, false},
		{Args{First: intp(5), After: c}, false},
		{Args{Last: intp(5)}, true},
		{Args{Last: intp(5), After: c}, true},
		{Args{Last: intp(5), First: intp(7)}, false}, // anchored at the start by first
		{Args{Last: intp(5), First: intp(7), After: c}, false},
		{Args{Last: intp(5), Before: c}, false},
	}
	for _, tt := range tests {
		if got := tt.a.NeedsTotal(); got != tt.want {
			t.Errorf("NeedsTotal(%s) = %v, want %v", fmtArgs(tt.a), got, tt.want)
		}
	}
}
