package bytelru

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// textCost counts an entry by its bytes alone, which keeps the arithmetic of
// these tests plain; the caches' own costs add what an entry really holds.
func textCost(key, value string) int { return len(key) + len(value) }

func TestCacheKeepsItsByteBudget(t *testing.T) {
	ctx := context.Background()
	c := New(100, 1000, textCost)
	key := func(i int) string { return fmt.Sprintf("k%02d", i) } // 3 bytes

	// Ten entries of 3+97 bytes fill the budget exactly.
	for i := range 10 {
		c.Add(ctx, key(i), strings.Repeat("q", 97))
	}
	if c.Len() != 10 || c.Bytes() != 1000 {
		t.Fatalf("%d entries, %d bytes; want 10 and 1000", c.Len(), c.Bytes())
	}
	// Using k00 makes k01 the least recently used: one byte more evicts it.
	if _, ok := c.Get(ctx, key(0)); !ok {
		t.Fatal("k00 missing")
	}
	c.Add(ctx, key(10), "q")
	if _, ok := c.Get(ctx, key(1)); ok {
		t.Error("k01, the least recently used, was kept beyond the budget")
	}
	if _, ok := c.Get(ctx, key(0)); !ok {
		t.Error("k00, recently used, was evicted")
	}
	if c.Bytes() > 1000 || c.Bytes() != 9*100+4 {
		t.Errorf("%d bytes held, want %d", c.Bytes(), 9*100+4)
	}

	// Replacing a value re-counts it rather than adding to it.
	c.Add(ctx, key(10), "qq")
	if c.Bytes() != 9*100+5 || c.Len() != 10 {
		t.Errorf("after replacing: %d entries, %d bytes; want 10 and %d", c.Len(), c.Bytes(), 9*100+5)
	}

	// An entry larger than the whole budget is not cached and evicts nothing.
	c.Add(ctx, "huge", strings.Repeat("q", 1000))
	if _, ok := c.Get(ctx, "huge"); ok {
		t.Error("an entry over the budget was cached")
	}
	if c.Len() != 10 {
		t.Errorf("an uncached entry evicted others: %d entries left", c.Len())
	}

	// One large entry evicts as many small ones as it needs.
	c.Add(ctx, "big", strings.Repeat("q", 597)) // 600 bytes
	if c.Bytes() > 1000 {
		t.Errorf("%d bytes held over a budget of 1000", c.Bytes())
	}
	if _, ok := c.Get(ctx, "big"); !ok {
		t.Error("the newest entry was evicted")
	}
}

func TestCacheKeepsItsEntryBound(t *testing.T) {
	ctx := context.Background()
	c := New(3, 1<<20, textCost)
	for i := range 5 {
		c.Add(ctx, fmt.Sprint(i), "query")
	}
	if c.Len() != 3 || c.Bytes() != 3*6 {
		t.Fatalf("%d entries, %d bytes; want 3 and 18", c.Len(), c.Bytes())
	}
	for i, want := range []bool{false, false, true, true, true} {
		if _, ok := c.Get(ctx, fmt.Sprint(i)); ok != want {
			t.Errorf("entry %d cached: %v, want %v", i, ok, want)
		}
	}
}

// Run with -race: the cache is shared by every request.
func TestCacheConcurrentUse(t *testing.T) {
	ctx := context.Background()
	c := New(50, 4000, textCost)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				k := fmt.Sprintf("%d/%d", g, i%80)
				if v, ok := c.Get(ctx, k); ok && v != strings.Repeat("v", i%80) {
					t.Errorf("key %s holds %q", k, v)
					return
				}
				c.Add(ctx, k, strings.Repeat("v", i%80))
			}
		}()
	}
	wg.Wait()
	if c.Len() > 50 || c.Bytes() > 4000 {
		t.Errorf("%d entries, %d bytes after concurrent use; bounds 50 and 4000", c.Len(), c.Bytes())
	}
	// The running total matches what is really held.
	sum := 0
	for _, k := range c.lru.Keys() {
		v, _ := c.lru.Peek(k)
		sum += textCost(k, v.value)
	}
	if sum != c.Bytes() {
		t.Errorf("byte count %d, entries add up to %d", c.Bytes(), sum)
	}
}
