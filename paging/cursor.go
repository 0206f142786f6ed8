// Package paging holds the pure logic between the GraphQL Relay connection
// customerQuotas and Waldur's page-numbered GET /api/customer-quotas/: opaque
// cursors, placement of the Relay window, and the plan of upstream page
// requests that fetch it. It does no I/O.
package paging

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// Query is what a cursor is tied to: a cursor is an offset into one particular
// ordered list, and is meaningless for any other.
type Query struct {
	QuotaName string
	OrderBy   string // "VALUE" or "NAME"
}

// Cursor points at one row of the upstream list by its 0-based offset.
type Cursor struct {
	Offset int
	// Total is the list's total when the cursor was issued. It is only a hint
	// (the list may have changed since) that lets the caller place the next
	// window without first asking upstream for the total.
	Total int
}

var (
	// ErrMalformedCursor is wrapped by DecodeCursor's errors for strings that
	// are not cursors this package issued.
	ErrMalformedCursor = errors.New("cursor is malformed")
	// ErrForeignCursor is wrapped by DecodeCursor's errors for well-formed
	// cursors issued for a different Query.
	ErrForeignCursor = errors.New("cursor belongs to another quotaName or orderBy")
)

// maxCursorNumber bounds Offset and Total. It keeps every number at most 10
// digits, so a cursor has a small fixed maximum length and the arithmetic in
// this package cannot overflow even with 32-bit ints.
const maxCursorNumber = MaxRows

// Payload layout: "v1:<offset>:<total>:<checksum>", numbers in canonical
// decimal, checksum as 8 lowercase hex digits. The longest payload is
// 3+10+1+10+1+8 = 33 bytes, i.e. 44 base64 characters.
const (
	cursorVersion   = "v1:"
	maxPayloadLen   = len(cursorVersion) + 10 + 1 + 10 + 1 + 8
	checksumHexLen  = 8
	lowerHexDigits  = "0123456789abcdef"
	fnvOffset32     = 2166136261
	fnvPrime32      = 16777619
	queryFieldSplit = 0 // separates quotaName from orderBy in the checksum
)

// Strict: reject non-zero padding bits, so that one payload has exactly one
// accepted spelling and an accepted cursor always re-encodes to itself.
var cursorEncoding = base64.RawURLEncoding.Strict()

// maxEncodedLen is the longest cursor of any version.
var maxEncodedLen = cursorEncoding.EncodedLen(max(maxPayloadLen, maxPayloadV2))

// queryChecksum is FNV-1a over quotaName, a NUL, and orderBy. It is not a MAC:
// it only catches a cursor being replayed against another query by mistake. A
// client that forges one gains nothing, since it merely names an offset, which
// first/last can reach anyway. Computed by hand to avoid allocating.
func queryChecksum(q Query) uint32 {
	h := uint32(fnvOffset32)
	for i := 0; i < len(q.QuotaName); i++ {
		h ^= uint32(q.QuotaName[i])
		h *= fnvPrime32
	}
	h ^= queryFieldSplit
	h *= fnvPrime32
	for i := 0; i < len(q.OrderBy); i++ {
		h ^= uint32(q.OrderBy[i])
		h *= fnvPrime32
	}
	return h
}

// EncodeCursor returns the opaque cursor for c within query q.
//
// DecodeCursor returns c unchanged when 0 <= c.Offset < c.Total <= 1e9. Since
// Total is only a hint, and a list that changes between upstream answers can
// yield a total at or below a row's offset, an out-of-range Total is clamped
// into [Offset+1, 1e9] rather than failing. An Offset outside [0, 1e9) is a
// programmer error and panics: no such row exists in a list this package
// plans for, and DecodeCursor would reject the cursor.
func EncodeCursor(q Query, c Cursor) string {
	if c.Offset < 0 || c.Offset >= maxCursorNumber {
		panic(fmt.Sprintf("paging: EncodeCursor: offset %d outside [0, %d)", c.Offset, maxCursorNumber))
	}
	c.Total = min(max(c.Total, c.Offset+1), maxCursorNumber)
	// Both buffers live on the stack; the only allocation is the result.
	var payload [maxPayloadLen]byte
	b := append(payload[:0], cursorVersion...)
	b = strconv.AppendInt(b, int64(c.Offset), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(c.Total), 10)
	b = append(b, ':')
	sum := queryChecksum(q)
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, lowerHexDigits[sum>>uint(shift)&0xf])
	}
	var out [64]byte
	n := cursorEncoding.EncodedLen(len(b))
	cursorEncoding.Encode(out[:n], b)
	return string(out[:n])
}

// DecodeCursor parses a cursor that EncodeCursor or EncodeAnchoredCursor
// issued for q, as a position: see DecodeAnchoredCursor.
func DecodeCursor(q Query, s string) (Cursor, error) {
	c, _, err := DecodeAnchoredCursor(q, s)
	return c, err
}

// DecodeAnchoredCursor parses a cursor that EncodeCursor or
// EncodeAnchoredCursor issued for q; the anchor is nil for a version-1
// cursor, which is a position only. Errors wrap ErrMalformedCursor when s is
// not such a cursor at all, and ErrForeignCursor when it is one but was issued
// for another Query. The messages never quote s, which is client input of any
// length.
func DecodeAnchoredCursor(q Query, s string) (Cursor, *Anchor, error) {
	// Checking the length first bounds the work and keeps the buffers on the
	// stack, whatever the client sends.
	if len(s) == 0 {
		return Cursor{}, nil, malformed("it is empty")
	}
	if len(s) > maxEncodedLen {
		return Cursor{}, nil, malformed("it is too long")
	}
	var src [128]byte
	copy(src[:], s)
	var payload [128]byte
	n, err := cursorEncoding.Decode(payload[:], src[:len(s)])
	// The decoder skips '\r' and '\n'; insisting on the exact encoded length
	// rejects them, so that only the canonical spelling is accepted.
	if err != nil || cursorEncoding.EncodedLen(n) != len(s) {
		return Cursor{}, nil, malformed("it is not base64url")
	}
	p := payload[:n]
	if len(p) > 0 && p[0] == versionTwo {
		return decodeAnchored(q, p)
	}
	c, err := decodePosition(q, p)
	return c, nil, err
}

// decodePosition parses a version-1 payload.
func decodePosition(q Query, p []byte) (Cursor, error) {
	if len(p) < len(cursorVersion) || string(p[:len(cursorVersion)]) != cursorVersion {
		return Cursor{}, malformed("unknown version")
	}
	p = p[len(cursorVersion):]
	offset, p, ok := parseNumber(p)
	if !ok || len(p) == 0 || p[0] != ':' {
		return Cursor{}, malformed("bad offset")
	}
	total, p, ok := parseNumber(p[1:])
	if !ok || len(p) == 0 || p[0] != ':' {
		return Cursor{}, malformed("bad total")
	}
	p = p[1:]
	if len(p) != checksumHexLen {
		return Cursor{}, malformed("bad checksum")
	}
	var sum uint32
	for _, ch := range p {
		var d byte
		switch {
		case '0' <= ch && ch <= '9':
			d = ch - '0'
		case 'a' <= ch && ch <= 'f': // lowercase only: one spelling per cursor
			d = ch - 'a' + 10
		default:
			return Cursor{}, malformed("bad checksum")
		}
		sum = sum<<4 | uint32(d)
	}
	if offset >= total {
		return Cursor{}, malformed("offset is not below total")
	}
	if sum != queryChecksum(q) {
		return Cursor{}, ErrForeignCursor
	}
	return Cursor{Offset: offset, Total: total}, nil
}

// parseNumber reads a canonical decimal in [0, maxCursorNumber] from the start
// of b: digits only, no sign, no leading zeros. Canonical form is what makes
// decoding the exact inverse of encoding.
func parseNumber(b []byte) (n int, rest []byte, ok bool) {
	i := 0
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		if i == 10 { // more than 10 digits is above maxCursorNumber
			return 0, b, false
		}
		n = n*10 + int(b[i]-'0')
		i++
	}
	if i == 0 || (i > 1 && b[0] == '0') || n > maxCursorNumber {
		return 0, b, false
	}
	return n, b[i:], true
}

func malformed(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformedCursor, reason)
}
