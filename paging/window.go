package paging

import (
	"fmt"

	"github.com/waldur-quotas/gateway/upstream/waldurapi"
)

const (
	// DefaultFirst is the page length when neither first nor last is given.
	DefaultFirst = 10
	// MaxCount bounds first and last, and so the rows of one response.
	MaxCount = 100
	// MaxPageSize is the largest page_size Waldur honours.
	MaxPageSize = waldurapi.MaxPageSize
	// MaxRows bounds the lists the gateway pages through, and so cursor offsets.
	MaxRows = waldurapi.MaxRows
)

// Args are the Relay paging arguments, with the cursors already decoded.
type Args struct {
	First, Last   *int
	After, Before *Cursor
}

// Validate reports first or last outside [0, MaxCount]. Resolve itself never
// fails, so this is where the client hears about bad counts.
func (a Args) Validate() error {
	if err := checkCount("first", a.First); err != nil {
		return err
	}
	return checkCount("last", a.Last)
}

func checkCount(name string, v *int) error {
	if v != nil && (*v < 0 || *v > MaxCount) {
		return fmt.Errorf("%s must be between 0 and %d, got %d", name, MaxCount, *v)
	}
	return nil
}

// NeedsTotal reports whether the window cannot be placed without the list's
// total: `last` without `before` (and without `first`, which anchors the
// window at the start) counts back from the end of the list. In every other
// case the window is anchored at 0 or at a cursor, and a total shorter than
// expected can only move it back towards that anchor, so the caller may plan
// with a cursor's Total hint (or optimistically), then resolve the window
// again with the total upstream reports and check the pages fetched cover it.
func (a Args) NeedsTotal() bool {
	return a.Last != nil && a.Before == nil && a.First == nil
}

// Window is the half-open range [Start, End) of row offsets to return.
type Window struct{ Start, End int }

// Len is the number of rows in the window.
func (w Window) Len() int { return w.End - w.Start }

// HasPrevious reports whether rows exist before the window. For an empty
// window it is exact about the window's position.
func (w Window) HasPrevious() bool { return w.Start > 0 }

// HasNext reports whether rows exist after the window in a list of total rows.
func (w Window) HasNext(total int) bool { return w.End < total }

// Resolve applies the Relay cursor connection algorithm to a list of total
// rows, with cursors as row offsets: after keeps rows with offset >
// After.Offset, before keeps rows with offset < Before.Offset, then first
// keeps the first `first` rows, then last keeps the last `last`. Without first
// and last, first is DefaultFirst.
//
// The result always satisfies 0 <= Start <= End <= total, including for
// cursors from a longer version of the list. An empty window still has a
// position, which HasPrevious and HasNext describe exactly:
//   - first: 0 sits just after the after cursor (or at 0),
//   - last: 0 sits just before the before cursor (or at total),
//
// As in the spec, the before edge is looked up among the rows left after
// `after`: a before cursor at or before the after cursor is ignored. The one
// departure is an after cursor past the end of a list that has since shrunk,
// which gives an empty page at the end rather than a restart from the top.
//
// Negative counts are treated as 0; call Validate first to reject them.
func Resolve(a Args, total int) Window {
	total = max(total, 0)
	start, end := 0, total
	if a.After != nil {
		// Written to avoid After.Offset+1 overflowing for hand-built cursors.
		if a.After.Offset >= total {
			start = total
		} else {
			start = max(a.After.Offset+1, 0)
		}
	}
	if a.Before != nil && a.Before.Offset >= 0 && (a.After == nil || a.Before.Offset > a.After.Offset) {
		end = min(a.Before.Offset, total)
	}
	if end < start {
		end = start
	}

	// Counts are compared with the window length rather than added to a
	// bound, so that no count can overflow.
	if a.First != nil || a.Last == nil {
		n := DefaultFirst
		if a.First != nil {
			n = max(*a.First, 0)
		}
		if n < end-start {
			end = start + n
		}
	}
	if a.Last != nil {
		if n := max(*a.Last, 0); n < end-start {
			start = end - n
		}
	}
	return Window{Start: start, End: end}
}
