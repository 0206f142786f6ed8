package paging

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Version 2 cursors point at a row, not only at a position: besides the
// offset and total hint of version 1 they carry the row's Anchor. The payload
// is binary, to stay short:
//
//	0x02, uvarint offset, uvarint total, checksum (4, big-endian),
//	row digest (4), flags (1), key, [prev digest (4)], [next digest (4)]
//
// where the key is a uvarint length and the name's bytes (flagByName), nothing
// (flagNull), or the value's float64 bits (8, big-endian). The longest payload
// is 61 bytes, i.e. 82 base64url characters; a value cursor is at most 48.
const (
	versionTwo   = 0x02
	flagByName   = 1 << 0
	flagNull     = 1 << 1
	flagPrev     = 1 << 2
	flagNext     = 1 << 3
	knownFlags   = flagByName | flagNull | flagPrev | flagNext
	maxPayloadV2 = 1 + 2*binary.MaxVarintLen32 + 4 + 4 + 1 + 1 + MaxKeyNameLen + 4 + 4
)

// EncodeAnchoredCursor returns the version-2 cursor for c within q, pointing
// at the row a describes. Offset and Total follow EncodeCursor's rules.
func EncodeAnchoredCursor(q Query, c Cursor, a Anchor) string {
	if c.Offset < 0 || c.Offset >= maxCursorNumber {
		panic(fmt.Sprintf("paging: EncodeAnchoredCursor: offset %d outside [0, %d)", c.Offset, maxCursorNumber))
	}
	c.Total = min(max(c.Total, c.Offset+1), maxCursorNumber)
	var payload [maxPayloadV2]byte
	b := appendAnchored(payload[:0], queryChecksum(q), c, a)
	var out [128]byte
	n := cursorEncoding.EncodedLen(len(b))
	cursorEncoding.Encode(out[:n], b)
	return string(out[:n])
}

func appendAnchored(b []byte, sum uint32, c Cursor, a Anchor) []byte {
	b = append(b, versionTwo)
	b = binary.AppendUvarint(b, uint64(c.Offset))
	b = binary.AppendUvarint(b, uint64(c.Total))
	b = binary.BigEndian.AppendUint32(b, sum)
	b = binary.BigEndian.AppendUint32(b, a.Row)
	var flags byte
	switch {
	case a.Key.ByName:
		flags |= flagByName
	case a.Key.Null:
		flags |= flagNull
	}
	if a.HasPrev {
		flags |= flagPrev
	}
	if a.HasNext {
		flags |= flagNext
	}
	b = append(b, flags)
	switch {
	case a.Key.ByName:
		name := NameKey(a.Key.Name).Name
		b = binary.AppendUvarint(b, uint64(len(name)))
		b = append(b, name...)
	case !a.Key.Null:
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(a.Key.Value))
	}
	if a.HasPrev {
		b = binary.BigEndian.AppendUint32(b, a.Prev)
	}
	if a.HasNext {
		b = binary.BigEndian.AppendUint32(b, a.Next)
	}
	return b
}

// decodeAnchored parses a version-2 payload p (starting with versionTwo). It
// accepts only what appendAnchored writes, byte for byte, so that one cursor
// has one spelling.
func decodeAnchored(q Query, p []byte) (Cursor, *Anchor, error) {
	r := p[1:]
	offset, r, ok := readUvarint(r)
	if !ok {
		return Cursor{}, nil, malformed("bad offset")
	}
	total, r, ok := readUvarint(r)
	if !ok || total > maxCursorNumber {
		return Cursor{}, nil, malformed("bad total")
	}
	if offset >= total {
		return Cursor{}, nil, malformed("offset is not below total")
	}
	if len(r) < 9 {
		return Cursor{}, nil, malformed("it is cut short")
	}
	sum := binary.BigEndian.Uint32(r)
	a := &Anchor{Row: binary.BigEndian.Uint32(r[4:])}
	flags := r[8]
	r = r[9:]
	if flags&^knownFlags != 0 || flags&flagByName != 0 && flags&flagNull != 0 {
		return Cursor{}, nil, malformed("bad flags")
	}
	switch {
	case flags&flagByName != 0:
		n, rest, ok := readUvarint(r)
		if !ok || n > MaxKeyNameLen || n > len(rest) {
			return Cursor{}, nil, malformed("bad name key")
		}
		a.Key = SortKey{ByName: true, Name: string(rest[:n])}
		r = rest[n:]
	case flags&flagNull != 0:
		a.Key = SortKey{Null: true}
	default:
		if len(r) < 8 {
			return Cursor{}, nil, malformed("bad value key")
		}
		v := math.Float64frombits(binary.BigEndian.Uint64(r))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Cursor{}, nil, malformed("bad value key")
		}
		a.Key = SortKey{Value: v}
		r = r[8:]
	}
	for _, nb := range []struct {
		flag  byte
		dst   *uint32
		known *bool
	}{{flagPrev, &a.Prev, &a.HasPrev}, {flagNext, &a.Next, &a.HasNext}} {
		if flags&nb.flag == 0 {
			continue
		}
		if len(r) < 4 {
			return Cursor{}, nil, malformed("it is cut short")
		}
		*nb.dst, *nb.known = binary.BigEndian.Uint32(r), true
		r = r[4:]
	}
	if len(r) != 0 {
		return Cursor{}, nil, malformed("trailing bytes")
	}
	c := Cursor{Offset: offset, Total: total}
	// Varints have several spellings of one number; only the shortest is
	// accepted, so that an accepted cursor re-encodes to itself.
	var again [maxPayloadV2]byte
	if string(appendAnchored(again[:0], sum, c, *a)) != string(p) {
		return Cursor{}, nil, malformed("not in canonical form")
	}
	if sum != queryChecksum(q) {
		return Cursor{}, nil, ErrForeignCursor
	}
	return c, a, nil
}

// readUvarint reads a uvarint of at most maxCursorNumber.
func readUvarint(b []byte) (int, []byte, bool) {
	v, n := binary.Uvarint(b)
	if n <= 0 || v > maxCursorNumber {
		return 0, b, false
	}
	return int(v), b[n:], true
}
