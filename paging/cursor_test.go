package paging

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

var (
	qValue = Query{QuotaName: "os_cpu_count", OrderBy: "VALUE"}
	qName  = Query{QuotaName: "os_cpu_count", OrderBy: "NAME"}
)

func TestCursorRoundTrip(t *testing.T) {
	queries := []Query{qValue, qName, {}, {QuotaName: "vpc_ram_size", OrderBy: "VALUE"}, {QuotaName: "ä\x00b", OrderBy: "NAME"}}
	cursors := []Cursor{
		{0, 1}, {0, 2}, {1, 2}, {9, 10}, {10, 11}, {99, 100}, {12345, 99999},
		{0, maxCursorNumber}, {maxCursorNumber - 1, maxCursorNumber},
	}
	for _, q := range queries {
		for _, c := range cursors {
			s := EncodeCursor(q, c)
			got, err := DecodeCursor(q, s)
			if err != nil || got != c {
				t.Fatalf("DecodeCursor(%+v, EncodeCursor(%+v)) = %+v, %v", q, c, got, err)
			}
			if len(s) > maxEncodedLen {
				t.Errorf("cursor %q longer than %d", s, maxEncodedLen)
			}
		}
	}
}

func TestCursorForeign(t *testing.T) {
	s := EncodeCursor(qValue, Cursor{Offset: 3, Total: 50})
	for _, q := range []Query{qName, {QuotaName: "os_ram_size", OrderBy: "VALUE"}, {}, {QuotaName: "os_cpu_countV", OrderBy: "ALUE"}} {
		_, err := DecodeCursor(q, s)
		if !errors.Is(err, ErrForeignCursor) || errors.Is(err, ErrMalformedCursor) {
			t.Errorf("DecodeCursor(%+v) error = %v, want ErrForeignCursor", q, err)
		}
	}
}

// enc builds a cursor string from a raw payload, bypassing EncodeCursor.
func enc(payload string) string { return base64.RawURLEncoding.EncodeToString([]byte(payload)) }

func TestCursorMalformed(t *testing.T) {
	good := EncodeCursor(qValue, Cursor{Offset: 3, Total: 50})
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	sum := string(raw[len(raw)-8:]) // the valid checksum for qValue
	cases := map[string]string{
		"empty":                "",
		"not base64":           "!!!!",
		"std base64 alphabet":  "djE6Mzo1MDo+/w",
		"padded":               good + "=",
		"newline inside":       good[:4] + "\n" + good[4:],
		"trailing newline":     good + "\n",
		"non-canonical bits":   good[:len(good)-1] + string(good[len(good)-1]+1),
		"very long":            strings.Repeat("A", 10000),
		"wrong version":        enc("v2:3:50:" + sum),
		"no version":           enc("3:50:" + sum),
		"leading zero":         enc("v1:03:50:" + sum),
		"plus sign":            enc("v1:+3:50:" + sum),
		"minus sign":           enc("v1:-3:50:" + sum),
		"space":                enc("v1: 3:50:" + sum),
		"empty offset":         enc("v1::50:" + sum),
		"offset == total":      enc("v1:50:50:" + sum),
		"offset > total":       enc("v1:51:50:" + sum),
		"zero total":           enc("v1:0:0:" + sum),
		"total above 1e9":      enc("v1:3:1000000001:" + sum),
		"11 digits":            enc("v1:3:10000000000:" + sum),
		"huge number":          enc("v1:3:99999999999999999999999:" + sum),
		"short checksum":       enc("v1:3:50:" + sum[:7]),
		"long checksum":        enc("v1:3:50:" + sum + "0"),
		"uppercase checksum":   enc("v1:3:50:" + strings.ToUpper(sum)),
		"non-hex checksum":     enc("v1:3:50:zzzzzzzz"),
		"trailing garbage":     enc("v1:3:50:" + sum + ":x"),
		"missing total":        enc("v1:3:" + sum),
		"extra field":          enc("v1:3:50:7:" + sum),
		"payload only version": enc("v1:"),
	}
	for name, s := range cases {
		c, err := DecodeCursor(qValue, s)
		if !errors.Is(err, ErrMalformedCursor) || errors.Is(err, ErrForeignCursor) {
			t.Errorf("%s: DecodeCursor(%q) = %+v, %v; want ErrMalformedCursor", name, s, c, err)
			continue
		}
		if msg := err.Error(); len(msg) > 80 || !strings.HasPrefix(msg, "cursor is malformed") {
			t.Errorf("%s: unhelpful or too long message %q", name, msg)
		}
	}
	// The payload built with the right checksum decodes: the cases above
	// fail for the reason they name, not for a bad test checksum.
	if c, err := DecodeCursor(qValue, enc("v1:3:50:"+sum)); err != nil || c != (Cursor{3, 50}) {
		t.Fatalf("control payload: %+v, %v", c, err)
	}
	if c, err := DecodeCursor(qValue, enc("v1:999999999:1000000000:"+sum)); err != nil || c != (Cursor{999999999, 1000000000}) {
		t.Fatalf("1e9 payload: %+v, %v", c, err)
	}
}

func TestEncodeCursorClampsTotalHint(t *testing.T) {
	for c, want := range map[Cursor]Cursor{
		{5, 5}:                   {5, 6},
		{5, 0}:                   {5, 6},
		{0, -3}:                  {0, 1},
		{7, maxCursorNumber + 1}: {7, maxCursorNumber},
		{7, int(^uint(0) >> 1)}:  {7, maxCursorNumber},
		{maxCursorNumber - 1, 0}: {maxCursorNumber - 1, maxCursorNumber},
	} {
		got, err := DecodeCursor(qValue, EncodeCursor(qValue, c))
		if err != nil || got != want {
			t.Errorf("EncodeCursor(%+v) decodes to %+v, %v; want %+v", c, got, err, want)
		}
	}
}

func TestEncodeCursorPanicsOnInvalidOffset(t *testing.T) {
	for _, c := range []Cursor{{-1, 5}, {maxCursorNumber, maxCursorNumber}, {maxCursorNumber + 5, 0}} {
		wantPanic(t, fmt.Sprintf("EncodeCursor(%+v)", c), func() { EncodeCursor(qValue, c) })
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add("os_cpu_count", "VALUE", EncodeCursor(qValue, Cursor{3, 50}))
	f.Add("os_cpu_count", "NAME", EncodeCursor(qValue, Cursor{3, 50}))
	f.Add("", "", EncodeCursor(Query{}, Cursor{0, 1}))
	f.Add("x", "NAME", EncodeCursor(Query{"x", "NAME"}, Cursor{999999999, 1000000000}))
	f.Add("os_cpu_count", "VALUE", enc("v1:03:50:00000000"))
	f.Add("os_cpu_count", "VALUE", "")
	f.Add("os_cpu_count", "VALUE", "djE6MzU6NTA6\n")
	f.Add("os_cpu_count", "VALUE", EncodeAnchoredCursor(qValue, Cursor{3, 50}, Anchor{Key: NameKey("x"), HasPrev: true}))
	f.Fuzz(func(t *testing.T, quota, order, s string) {
		q := Query{QuotaName: quota, OrderBy: order}
		c, a, err := DecodeAnchoredCursor(q, s)
		if err != nil {
			if !errors.Is(err, ErrMalformedCursor) && !errors.Is(err, ErrForeignCursor) {
				t.Fatalf("DecodeCursor(%q) error %v wraps neither sentinel", s, err)
			}
			return
		}
		if c.Offset < 0 || c.Offset >= c.Total || c.Total > maxCursorNumber {
			t.Fatalf("DecodeCursor(%q) accepted out-of-range %+v", s, c)
		}
		again := EncodeCursor(q, c)
		if a != nil {
			again = EncodeAnchoredCursor(q, c, *a)
		}
		if again != s {
			t.Fatalf("DecodeCursor(%q) = %+v, which re-encodes to %q", s, c, again)
		}
	})
}

func BenchmarkEncodeCursor(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = EncodeCursor(qValue, Cursor{Offset: 1000 + i%100, Total: 5000})
	}
}

func BenchmarkDecodeCursor(b *testing.B) {
	var cs [100]string
	for i := range cs {
		cs[i] = EncodeCursor(qValue, Cursor{Offset: 1000 + i, Total: 5000})
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := DecodeCursor(qValue, cs[i%len(cs)]); err != nil {
			b.Fatal(err)
		}
	}
}
