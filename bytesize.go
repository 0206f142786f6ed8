package main

import (
	"fmt"
	"math"
	"strconv"

	"github.com/dustin/go-humanize"
)

// byteSize is a setting in bytes, written plainly (65536) or with a unit
// (64MiB, 512KiB, 1GB). go-humanize reads the units, binary and decimal
// alike, so operators may write what their other tools print; anything it
// cannot read, and zero, is an error rather than a silent default.
type byteSize int

func (b *byteSize) Set(s string) error {
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 || n > math.MaxInt {
		return fmt.Errorf("want a positive size in bytes such as 65536, 512KiB or 64MiB, got %q", s)
	}
	*b = byteSize(n)
	return nil
}

// String writes the size in the largest binary unit that divides it, so
// that the flag's default reads as the README says (64MiB).
func (b *byteSize) String() string {
	if b == nil {
		return "0"
	}
	n := int(*b)
	for _, u := range []struct {
		name string
		size int
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.Itoa(n/u.size) + u.name
		}
	}
	return strconv.Itoa(n)
}
