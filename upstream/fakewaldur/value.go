package fakewaldur

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
)

type valueKind uint8

// The zero Value is Int(0) on purpose: a quota a customer does not have sums to 0.
const (
	kindInt valueKind = iota
	kindFloat
	kindNull
)

// Value is a quota usage: an exact 64-bit integer, a float (estimated_price), or null.
//
// Integers are kept as int64, not float64, because Waldur sums quotas in a 64-bit
// BigIntegerField and the gateway must see them exactly, whatever their size.
type Value struct {
	kind valueKind
	i    int64
	f    float64
}

// Int returns an integer usage.
func Int(v int64) Value { return Value{kind: kindInt, i: v} }

// Float returns a float usage, as Waldur returns for estimated_price. A NaN or an
// infinity becomes Null: a database sum is never one, and JSON cannot carry it.
func Float(v float64) Value {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Null()
	}
	return Value{kind: kindFloat, f: v}
}

// Null returns the null usage (a customer with no price estimate).
func Null() Value { return Value{kind: kindNull} }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == kindNull }

// Float64 returns v as a float64 (rounded for integers beyond 2^53), and false when
// v is null.
func (v Value) Float64() (float64, bool) {
	switch v.kind {
	case kindInt:
		return float64(v.i), true
	case kindFloat:
		return v.f, true
	}
	return 0, false
}

// String returns v as it appears in the JSON answer, which makes test failures and
// logs readable.
func (v Value) String() string { return string(v.appendJSON(nil)) }

// GoString keeps %#v output unambiguous (Int(5) and Float(5) print differently).
func (v Value) GoString() string {
	switch v.kind {
	case kindInt:
		return fmt.Sprintf("fakewaldur.Int(%d)", v.i)
	case kindFloat:
		return fmt.Sprintf("fakewaldur.Float(%s)", v.appendJSON(nil))
	}
	return "fakewaldur.Null()"
}

// appendJSON writes v the way Django REST Framework's JSON renderer (Python's json
// module) does: integers in full, floats in Python's repr (always with a '.' or an
// exponent, so a client can tell 5.0 from 5), null as null.
func (v Value) appendJSON(b []byte) []byte {
	switch v.kind {
	case kindInt:
		return strconv.AppendInt(b, v.i, 10)
	case kindFloat:
		return appendPythonFloat(b, v.f)
	}
	return append(b, "null"...)
}

// appendPythonFloat formats f like Python's repr(float): the shortest round-trip
// digits, positional notation for exponents in [-4, 16), scientific otherwise.
func appendPythonFloat(b []byte, f float64) []byte {
	if f != 0 {
		if exp := math.Floor(math.Log10(math.Abs(f))); exp < -4 || exp >= 16 {
			// Go's 'e' format already matches Python here: "1e+16", "1.5e-07".
			return strconv.AppendFloat(b, f, 'e', -1, 64)
		}
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}

// compareValues orders values numerically with null below every number, so that a
// descending sort puts nulls last, as the endpoint does. Integers compare exactly as
// int64 and an integer against a float compares exactly too.
func compareValues(a, b Value) int {
	switch {
	case a.kind == kindNull || b.kind == kindNull:
		return cmpBool(a.kind != kindNull, b.kind != kindNull)
	case a.kind == kindInt && b.kind == kindInt:
		return cmp.Compare(a.i, b.i)
	case a.kind == kindFloat && b.kind == kindFloat:
		return cmp.Compare(a.f, b.f) // never NaN: Float turns NaN into Null
	case a.kind == kindInt:
		return compareIntFloat(a.i, b.f)
	default:
		return -compareIntFloat(b.i, a.f)
	}
}

// compareIntFloat compares without converting i to float64, which would round
// integers beyond 2^53 and make distinct values look equal.
func compareIntFloat(i int64, f float64) int {
	const two63 = 9223372036854775808.0
	switch {
	case f >= two63:
		return -1
	case f < -two63:
		return 1
	}
	t := math.Trunc(f) // exactly representable as int64 within the range above
	if c := cmp.Compare(i, int64(t)); c != 0 {
		return c
	}
	return cmp.Compare(0, f-t)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}
