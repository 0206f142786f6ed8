package upstream

import (
	"context"
	"time"
	"unsafe"

	"github.com/waldur-quotas/gateway/internal/bytelru"
)

// memoryStore is the cache's store in this process: an LRU bounded by the
// bytes its entries retain, not by their number, since a page of 300 rows
// weighs a hundred times a total. An expired entry is dropped when it is next
// asked for, or evicted as the oldest when room is needed; until then it
// counts against the bound like any other.
type memoryStore struct {
	lru *bytelru.Cache[storedPage]
	now func() time.Time
}

// storedPage is an entry with its expiry.
type storedPage struct {
	page    Page
	expires time.Time
}

func newMemoryStore(maxBytes int, now func() time.Time) *memoryStore {
	// The byte bound is the one that counts: no entry costs less than
	// storedOverhead, so this many entries never fill before the bytes do.
	cost := func(key string, e storedPage) int { return pageCost(key, e.page) }
	return &memoryStore{lru: bytelru.New(maxBytes/storedOverhead+1, maxBytes, cost), now: now}
}

// Get returns the page under key unless it has expired. The page is shared
// with every caller it answers: its rows must not be modified.
func (s *memoryStore) Get(ctx context.Context, key string) (Page, bool) {
	e, ok := s.lru.Get(ctx, key)
	if !ok {
		return Page{}, false
	}
	if !s.now().Before(e.expires) {
		s.lru.Remove(key)
		return Page{}, false
	}
	return e.page, true
}

// Expires is when the entry under key expires, without making it recently used.
func (s *memoryStore) Expires(_ context.Context, key string) (time.Time, bool) {
	e, ok := s.lru.Peek(key)
	return e.expires, ok
}

// Set keeps page under key for ttl, unless it alone is larger than the
// whole bound; such a page is simply not cached.
func (s *memoryStore) Set(ctx context.Context, key string, page Page, ttl time.Duration) {
	s.lru.Add(ctx, key, storedPage{page: page, expires: s.now().Add(ttl)})
}

// Bytes is what the held entries are counted at, for tests.
func (s *memoryStore) Bytes() int { return s.lru.Bytes() }

// storedOverhead is what an entry holds besides its key and rows: the LRU's
// list element and map slot, the entry itself (page header, expiry, cost)
// and the allocator's rounding of the rows' array. Measured at about 190
// bytes; TestMemoryStoreCountsWhatItRetains checks the whole estimate.
const storedOverhead = 256

// rowBytes is the size of a Row in the rows' array: two string headers and
// the value's pointer.
const rowBytes = int(unsafe.Sizeof(Row{}))

// pageCost counts what an entry retains on the heap: its key, the rows'
// array, each row's strings (each its own allocation) and each value's float.
func pageCost(key string, p Page) int {
	n := storedOverhead + allocated(len(key)) + cap(p.Rows)*rowBytes
	for _, r := range p.Rows {
		n += allocated(len(r.CustomerName)) + allocated(len(r.CustomerAbbreviation))
		if r.Value != nil {
			n += allocated(8)
		}
	}
	return n
}

// allocated is what the heap gives up for an object of n bytes: its size
// class (multiples of 16 up to 256 bytes, an eighth more at most beyond)
// and a little slack, for the race detector, under which tests run, pads
// small objects further. 0 bytes take nothing.
func allocated(n int) int {
	if n == 0 {
		return 0
	}
	return (n+n/8+15)&^15 + allocSlack
}

const allocSlack = 8
