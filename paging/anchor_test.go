package paging

import (
	"errors"
	"math"
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
	cases := []struct {
		name string
		base int
		rows []RowID
		at   int
		how  Placement
	}{
		{"unchanged", 0, old, 3, Found},
		{"moved down by an insertion", 0, append(valueRows(10), old...), 4, Shifted},
		{"gone: after its predecessor", 0, append(append([]RowID{}, old[:3]...), old[4:]...), 3, ByKey},
		{"gone with its predecessor: before its old successor", 0,
			append(append([]RowID{}, old[:2]...), old[4:]...), 2, ByKey},
		{"changed value: its key's place", 0, []RowID{old[0], old[1], {Name: "d", Key: ValueKey(ptr(2.0))}, old[5], old[6]}, 2, ByKey},
		{"fetched rows do not reach it", 5, old[5:], 3, Unseen},
		{"rows from base all rank above it", 2, valueRows(7, 6), 4, ByKey},
	}
	for _, tc := range cases {
		at, how := Locate(c, a, tc.base, tc.rows)
		if at != tc.at || how != tc.how {
			t.Errorf("%s: Locate = %d, %v; want %d, %v", tc.name, at, how, tc.at, tc.how)
		}
	}
}

func ptr(f float64) *float64 { return &f }

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
