package paging

import (
	"math"
	"strings"
)

// MaxKeyNameLen bounds the bytes of a name kept as a cursor's sort key, so that
// cursors stay short. Cutting every name to the same length keeps the order
// (a < b implies cut(a) <= cut(b)); names that agree on their first
// MaxKeyNameLen bytes become ties, placed by position like any other ties.
const MaxKeyNameLen = 32

// SortKey is what Waldur orders a row by: its value (null last) or its name.
type SortKey struct {
	ByName bool
	Name   string  // ByName: the customer's name, cut to MaxKeyNameLen bytes
	Null   bool    // !ByName: no value
	Value  float64 // !ByName && !Null
}

// ValueKey is the key of a row ordered by value; v is nil for null.
func ValueKey(v *float64) SortKey {
	if v == nil {
		return SortKey{Null: true}
	}
	return SortKey{Value: *v}
}

// NameKey is the key of a row ordered by name.
func NameKey(name string) SortKey {
	if len(name) > MaxKeyNameLen {
		name = name[:MaxKeyNameLen]
	}
	return SortKey{ByName: true, Name: name}
}

// compareKeys orders keys ascending (Waldur lists them descending): names
// bytewise, values numerically with null below every number.
func compareKeys(a, b SortKey) int {
	if a.ByName || b.ByName {
		return strings.Compare(a.Name, b.Name)
	}
	switch {
	case a.Null || b.Null:
		return boolCompare(!a.Null, !b.Null)
	case a.Value < b.Value:
		return -1
	case a.Value > b.Value:
		return 1
	}
	return 0
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// RowID is what the lookup knows of one fetched row.
type RowID struct {
	Name, Abbreviation string
	Key                SortKey
}

// identity is the row's digest: FNV-1a over name, NUL, abbreviation. Waldur
// has no id in this endpoint; name and abbreviation are what a reader sees.
func (r RowID) identity() uint32 {
	h := fnvAdd(fnvOffset32, r.Name)
	h = fnvAdd(h, "\x00")
	return fnvAdd(h, r.Abbreviation)
}

// keyed is the identity digest continued with the sort key: it matches only a
// row that is still the same row with the same key, i.e. has not moved.
func (r RowID) keyed() uint32 {
	h := fnvAdd(r.identity(), "\x00")
	switch {
	case r.Key.ByName:
		return fnvAdd(h, r.Key.Name)
	case r.Key.Null:
		return fnvAdd(h, "null")
	}
	bits := math.Float64bits(r.Key.Value)
	for i := range 8 {
		h ^= uint32(byte(bits >> (8 * i)))
		h *= fnvPrime32
	}
	return h
}

func fnvAdd(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime32
	}
	return h
}

// Anchor is what a version-2 cursor knows of its row besides the position:
// enough to find the row again after the list changed, or, when it is gone or
// has changed, the place its key gives it and which rows were its neighbours.
type Anchor struct {
	Key SortKey
	Row uint32 // identity digest of the row (name and abbreviation)
	// Digests (identity and key) of the rows just before and after it when it
	// was issued, when they were known. They place a gone row among rows of
	// its own key, where the key alone cannot.
	Prev, Next       uint32
	HasPrev, HasNext bool
}

// AnchorOf is the anchor for rows[i], with its neighbours in rows.
func AnchorOf(rows []RowID, i int) Anchor {
	a := Anchor{Key: rows[i].Key, Row: rows[i].identity()}
	if i > 0 {
		a.Prev, a.HasPrev = rows[i-1].keyed(), true
	}
	if i+1 < len(rows) {
		a.Next, a.HasNext = rows[i+1].keyed(), true
	}
	return a
}

// Placement says how an anchor was placed; it is counted, not acted on.
type Placement int

const (
	// Found: the row, unchanged, where the cursor expected it.
	Found Placement = iota
	// Shifted: the row, unchanged, at another position.
	Shifted
	// ByKey: the row is gone or changed; its key (and neighbours) placed it.
	ByKey
	// Unseen: the rows fetched do not reach where the row was expected (a
	// window far from its cursor), so the cursor stays a position.
	Unseen
)

// Locate finds where c's row stands in rows, the rows of the current list
// from offset base on. When the row is there unchanged (same identity and
// key; the nearest to c.Offset if several match), at is its offset (Found,
// Shifted). When rows do not reach c.Offset, at is c.Offset (Unseen): the
// cursor is a position. Otherwise (ByKey) at is the boundary its key gives it: rows before
// at rank above the row, rows from at on below it. Among rows of the same key
// the boundary goes after its old predecessor or before its old successor
// when either is still there, else at its old position; all clamped into the
// run of rows with its key, as far as rows shows it (where rows show none of
// the run, the boundary stays on the side of rows the key says).
func Locate(c Cursor, a Anchor, base int, rows []RowID) (at int, how Placement) {
	best := -1
	for i, r := range rows {
		if r.identity() == a.Row && compareKeys(r.Key, a.Key) == 0 {
			if best < 0 || abs(base+i-c.Offset) < abs(base+best-c.Offset) {
				best = i
			}
		}
	}
	if best >= 0 {
		if base+best == c.Offset {
			return c.Offset, Found
		}
		return base + best, Shifted
	}
	if c.Offset < base || c.Offset >= base+len(rows) {
		return c.Offset, Unseen
	}

	lo := 0 // first row not ranked above the key
	for lo < len(rows) && compareKeys(rows[lo].Key, a.Key) > 0 {
		lo++
	}
	hi := lo // first row ranked below the key
	for hi < len(rows) && compareKeys(rows[hi].Key, a.Key) == 0 {
		hi++
	}
	// What rows shows of the run of rows with the key: where it ends is
	// unknown on a side where rows stops inside it.
	loBound, hiBound := base+lo, base+hi
	if lo == 0 {
		loBound = math.MinInt
	}
	if hi == len(rows) {
		hiBound = math.MaxInt
	}
	t := c.Offset
	if i, ok := findKeyed(rows, a.Prev, a.HasPrev); ok {
		t = base + i + 1
	} else if i, ok := findKeyed(rows, a.Next, a.HasNext); ok {
		t = base + i
	}
	return min(max(t, loBound), hiBound), ByKey
}

func findKeyed(rows []RowID, digest uint32, known bool) (int, bool) {
	if !known {
		return 0, false
	}
	for i, r := range rows {
		if r.keyed() == digest {
			return i, true
		}
	}
	return 0, false
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
