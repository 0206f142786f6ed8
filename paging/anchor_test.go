package paging

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestAnchoredCursorRoundTrip(t *testing.T) {
	big := float64(1<<60 + 1)
	rows := []RowID{
		{Name: "B", Abbreviation: "b", Key: ValueKey(&big)},
		{Name: "A", Abbreviation: "", Key: ValueKey(nil)},
		{Name: strings.Repeat("Ö", 40), Abbreviation: "Ö", Key: NameKey(strings.Repeat("Ö", 40))},
	}
	for _, q := range []Query{qValue, qName} {
		for i := range rows {
			for _, c := range []Cursor{{0, 1}, {5, 99}, {maxCursorNumber - 1, maxCursorNumber}} {
				a := AnchorOf(rows, i)
				s := EncodeAnchoredCursor(q, c, a)
				if len(s) > maxEncodedLen {
					t.Errorf("cursor of %d characters, above %d", len(s), maxEncodedLen)
				}
				got, ga, err := DecodeAnchoredCursor(q, s)
				if err != nil || got != c || ga == nil || *ga != a {
					t.Fatalf("round trip of %+v %+v: %+v %+v %v", c, a, got, ga, err)
				}
				if pos, err := DecodeCursor(q, s); err != nil || pos != c {
					t.Fatalf("as a position: %+v %v", pos, err)
				}
				other := Query{QuotaName: q.QuotaName + "x", OrderBy: q.OrderBy}
				if _, _, err := DecodeAnchoredCursor(other, s); !errors.Is(err, ErrForeignCursor) {
					t.Fatalf("foreign query: %v", err)
				}
				raw, _ := cursorEncoding.DecodeString(s)
				for cut := 1; cut < len(raw); cut++ {
					if _, _, err := DecodeAnchoredCursor(q, cursorEncoding.EncodeToString(raw[:cut])); !errors.Is(err, ErrMalformedCursor) {
						t.Fatalf("payload cut to %d bytes: %v", cut, err)
					}
				}
			}
		}
	}
	// A version-1 cursor still decodes, as a position without an anchor.
	if c, a, err := DecodeAnchoredCursor(qValue, EncodeCursor(qValue, Cursor{3, 50})); err != nil || a != nil || c != (Cursor{3, 50}) {
		t.Fatalf("v1: %+v %+v %v", c, a, err)
	}
	// A value key is short: well under a name key's maximum.
	v := 1.5
	if s := EncodeAnchoredCursor(qValue, Cursor{1234, 5000}, AnchorOf([]RowID{{}, {Key: ValueKey(&v)}, {}}, 1)); len(s) > 48 {
		t.Errorf("value cursor %q is %d characters", s, len(s))
	}
}

func TestAnchoredCursorRejectsNonCanonicalVarints(t *testing.T) {
	s := EncodeAnchoredCursor(qValue, Cursor{3, 50}, Anchor{Key: SortKey{Null: true}})
	raw, _ := cursorEncoding.DecodeString(s)
	long := append([]byte{raw[0], raw[1] | 0x80, 0x00}, raw[2:]...) // offset 3 spelt in two bytes
	if _, _, err := DecodeAnchoredCursor(qValue, cursorEncoding.EncodeToString(long)); !errors.Is(err, ErrMalformedCursor) {
		t.Fatalf("overlong varint accepted: %v", err)
	}
	nan := EncodeAnchoredCursor(qValue, Cursor{3, 50}, Anchor{Key: SortKey{Value: math.NaN()}})
	if _, _, err := DecodeAnchoredCursor(qValue, nan); !errors.Is(err, ErrMalformedCursor) {
		t.Fatalf("NaN key accepted: %v", err)
	}
}

func valueRows(vals ...float64) []RowID {
	rows := make([]RowID, len(vals))
	for i, v := range vals {
		rows[i] = RowID{Name: string(rune('a' + i)), Key: ValueKey(&v)}
	}
	return rows
}

func TestLocate(t *testing.T) {
	old := valueRows(9, 8, 5, 5, 5, 3, 1) // offsets 0..6
	c := Cursor{Offset: 3, Total: 7}      // row "d", key 5, between "c" and "e"
	a := AnchorOf(old, 3)
	without := func(rows []RowID, drop ...int) []RowID {
		var out []RowID
		for i, r := range rows {
			if !slices.Contains(drop, i) {
				out = append(out, r)
			}
		}
		return out
	}
	cases := []struct {
		name  string
		after bool
		base  int
		rows  []RowID
		total int
		at    int
		how   Placement
	}{
		{"unchanged", true, 0, old, 7, 3, Found},
		{"unchanged: only its successor fetched", true, 4, old[4:], 7, 3, Found},
		{"unchanged: only its predecessor fetched", false, 0, old[:3], 7, 3, Found},
		{"moved down by an insertion", true, 0, append(valueRows(10), old...), 8, 4, Shifted},
		{"gone: before its successor (after)", true, 0, without(old, 3), 6, 2, ByNeighbour},
		{"gone: after its predecessor (before), the window as it was", false, 0, without(old, 3), 6, 3, Found},
		{"gone with its successor: after its predecessor", true, 0, without(old, 3, 4), 5, 2, ByNeighbour},
		{"gone with its predecessor: before its successor", false, 0, without(old, 2, 3), 5, 2, ByNeighbour},
		{"changed value, neighbours gone: its key's place", true, 0,
			[]RowID{old[0], old[1], {Name: "d", Key: ValueKey(ptr(2.0))}, old[5], old[6]}, 5, 1, ByKey},
		{"fetched rows do not reach it", true, 5, old[5:], 7, 3, Unseen},
		{"rows after the window's edge all rank below it: look before", true, 4,
			valueRows(2, 1), 6, 3, Above},
		// Meanwhile the best guess is after them: they all rank above it.
		{"rows from the window's edge all rank above it: look after", true, 4,
			valueRows(7, 6), 9, 5, Below},
		{"rows from the window's edge all rank above it, to the list's end", true, 4,
			valueRows(7, 6), 6, 5, ByKey},
		// Rows of its own key, none of them the row or a neighbour: it may
		// be among the ties not fetched, so the side where they go on is
		// where to look, not a guess among the ties at hand.
		{"ties running past both ends: look where the cursor expects it", false, 1,
			tieRows(5, "x", "y", "z"), 9, 3, Below},
		{"ties running up past the rows: look before", false, 1,
			append(tieRows(5, "x", "y"), RowID{Name: "w", Key: ValueKey(ptr(3))}), 9, 3, Above},
		{"ties within the rows: its old place among them", false, 0,
			append(append(valueRows(9), tieRows(5, "x", "y", "z")...), valueRows(1)...), 9, 3, ByKey},
	}
	for _, tc := range cases {
		at, how := Locate(c, a, tc.after, tc.base, tc.rows, tc.total)
		if at != tc.at || how != tc.how {
			t.Errorf("%s: Locate = %d, %v; want %d, %v", tc.name, at, how, tc.at, tc.how)
		}
	}
}

func ptr(f float64) *float64 { return &f }

func tieRows(v float64, names ...string) []RowID {
	out := make([]RowID, len(names))
	for i, n := range names {
		out[i] = RowID{Name: n, Key: ValueKey(&v)}
	}
	return out
}

// Extend brings the most new rows next to those fetched within its budget,
// one request, never past the list's end, and never leaves a gap.
func TestExtend(t *testing.T) {
	const total = 1234
	for _, before := range []bool{true, false} {
		for n := 1; n <= 100; n += 3 {
			for from := 0; from+n <= total; from += 13 {
				to := from + n
				r, ok := Extend(from, to, total, n, before)
				if before && from == 0 || !before && to == total {
					if ok {
						t.Fatalf("before %v [%d, %d): %+v past the list's edge", before, from, to, r)
					}
					continue
				}
				s, e := r.Offset(), min(r.Offset()+r.PageSize, total)
				switch {
				case !ok:
					t.Fatalf("before %v [%d, %d) budget %d: nothing", before, from, to, n)
				case e-s > n:
					t.Fatalf("before %v [%d, %d): %+v fetches %d rows, budget %d", before, from, to, r, e-s, n)
				case before && (e < from || s >= from), !before && (s > to || e <= to):
					t.Fatalf("before %v [%d, %d): %+v leaves a gap or brings nothing", before, from, to, r)
				case from%n == 0 && before && s != from-n:
					t.Fatalf("before %v [%d, %d): %+v, want the whole page before", before, from, to, r)
				}
			}
		}
	}
}

// PlanAround keeps Plan's bounds and, when it can, fetches the cursor's row
// and its neighbour besides the window.
func TestPlanAroundBounds(t *testing.T) {
	const total = 1234
	for n := 1; n <= 100; n += 3 {
		for o := 0; o+1+n <= total; o += 7 {
			w := Window{o + 1, o + 1 + n}
			reqs := PlanAround(w, []Probe{{Offset: o}}, total)
			first, last := reqs[0], reqs[len(reqs)-1]
			from, to := first.Offset(), min(last.Offset()+last.PageSize, total)
			if len(reqs) > 2 || to-from > 2*n || from > w.Start || to < w.End {
				t.Fatalf("n %d o %d: %+v fetches [%d, %d)", n, o, reqs, from, to)
			}
			if n >= 10 && from > max(o-1, 0) {
				t.Fatalf("n %d o %d: %+v misses the row and its predecessor", n, o, reqs)
			}
		}
	}
}

// Windows too small for a margin still look at the cursor's row, or at the
// neighbour that follows it (precedes it, for a before cursor) and one row
// past the window's far end, in one request of at most 2× the rows whenever
// the page alignment allows either.
func TestPlanAroundSmallWindows(t *testing.T) {
	const total = 1234
	for _, before := range []bool{false, true} {
		for o := 2; o < 60; o++ {
			w := Window{o + 1, o + 2} // first: 1 after the row at o
			if before {
				w = Window{o - 1, o} // last: 1 before it
			}
			reqs := PlanAround(w, []Probe{{Offset: o, Before: before, Neighbour: true}}, total)
			first, last := reqs[0], reqs[len(reqs)-1]
			from, to := first.Offset(), last.Offset()+last.PageSize
			rowAlone := from <= o && o < to
			neighbourAndPast := from <= w.Start-1 && w.End <= to // a before window's neighbour is its own last row
			if !before {
				neighbourAndPast = from <= w.Start && w.End+1 <= to
			}
			if len(reqs) != 1 || to-from > 2 || !rowAlone && !neighbourAndPast {
				t.Fatalf("before %v o %d: %+v fetches [%d, %d)", before, o, reqs, from, to)
			}
		}
	}
}
