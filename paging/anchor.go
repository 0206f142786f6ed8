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

// Placement says how Locate placed an anchor.
type Placement int

const (
	// Found: the row, unchanged, where the cursor expected it, or its
	// neighbour on the window's side right next to that place: nothing moved.
	Found Placement = iota
	// Shifted: the row, unchanged, at another position.
	Shifted
	// ByNeighbour: the row is gone or changed; a neighbour it had when the
	// cursor was issued, unchanged, marks its place.
	ByNeighbour
	// ByKey: the row and its neighbours are gone or changed (or not among the
	// rows); its key places it, and among rows of the same key its position.
	ByKey
	// Above and Below: its place may not be among the rows but before them
	// (or after them): the caller may fetch the rows on that side and ask
	// again. The position returned is the best guess its key gives meanwhile.
	Above
	Below
	// Unseen: the rows are not next to where the cursor expects its row (a
	// window far from its cursor), so the cursor stays a position.
	Unseen
)

// Locate finds where cursor c's row (anchor a) stands now in rows, the
// current list of total rows from offset base on, and returns the position
// the cursor stands for in that list: for an after cursor (after) the offset
// of the last row not to show again, so that its window starts at at+1; for a
// before cursor the offset of the first row not to show, so that its window
// ends at at. When the row is there unchanged that is its offset either way.
//
// When the row is gone or has changed, its place is the slot between the rows
// ranked above it and those below: right after its old predecessor or right
// before its old successor when either is there unchanged (the one on the
// window's side first); else where its key puts it, and among a run of rows
// with its key at its old position, clamped into the run as far as rows shows
// it. Any of these is exact for the rows that did not change: they keep their
// order, so those ranked above the slot are exactly those that were above it.
func Locate(c Cursor, a Anchor, after bool, base int, rows []RowID, total int) (at int, how Placement) {
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
	// The slot, from a neighbour: the one on the window's side first, as its
	// place is where the window must begin (or end).
	next, hasNext := findKeyed(rows, a.Next, a.HasNext)
	prev, hasPrev := findKeyed(rows, a.Prev, a.HasPrev)
	slot, how := 0, ByNeighbour
	switch {
	case after && hasNext:
		slot = base + next
	case hasPrev:
		slot = base + prev + 1
	case hasNext:
		slot = base + next
	default:
		if slot, how = keySlot(c, a, after, base, rows, total); how == Unseen {
			return c.Offset, Unseen
		}
	}
	if after {
		slot--
	}
	if slot == c.Offset && how == ByNeighbour {
		how = Found
	}
	return slot, how
}

// keySlot is the slot a's key gives it among rows, the current list of total
// rows from base on: where the run of rows with that key begins and ends as
// far as rows show it, and within the run the cursor's old position. It is
// ByKey when rows hold both ends of the run: they begin at the list's start
// or with a row ranked above the key, and end at the list's end or with a row
// ranked below it.
//
// When the run goes on past an edge of rows, the row may still be there,
// unchanged, in the part of the run rows do not show: Above or Below says to
// look on that side (where the cursor expects its row, when the run goes on
// past both), and the slot clamped into rows is the best guess should no look
// be possible. When rows are not next to where the cursor expects its row,
// Unseen.
func keySlot(c Cursor, a Anchor, after bool, base int, rows []RowID, total int) (int, Placement) {
	edge := c.Offset - 1 // the window's last row for a before cursor
	if after {
		edge = c.Offset + 1
	}
	// The edge lies past the list's end when the list shrank under an after
	// cursor: rows that reach that end are next to it all the same.
	if edge < base || edge >= base+len(rows) && base+len(rows) < total {
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
	opensUp := lo == 0 && base > 0                         // the run may begin before rows
	opensDown := hi == len(rows) && base+len(rows) < total // or go on after them
	loBound, hiBound := base+lo, base+hi
	if opensUp {
		loBound = math.MinInt
	}
	if opensDown {
		hiBound = math.MaxInt
	}
	slot := min(max(c.Offset, loBound), hiBound)
	guess := min(max(slot, base), base+len(rows))
	switch {
	case opensUp && opensDown && c.Offset < base+len(rows)/2, opensUp && !opensDown:
		return guess, Above
	case opensDown:
		return guess, Below
	}
	return slot, ByKey
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
