package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// fakeClock is a clock a test moves by hand, so that expiry needs no sleep.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testPage is a page of n rows with names of the given length, as Waldur's
// answers decode (each string its own allocation).
func testPage(t testing.TB, n, nameLen int, seed int) Page {
	t.Helper()
	wire := make([]map[string]any, n)
	for i := range wire {
		name := fmt.Sprintf("%d-%d-%s", seed, i, strings.Repeat("n", nameLen))[:nameLen]
		wire[i] = map[string]any{"customer_name": name, "customer_abbreviation": fmt.Sprintf("ab%d", i%1000), "value": float64(i)}
	}
	body, err := json.Marshal(wire)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := decodeRows(body)
	if err != nil {
		t.Fatal(err)
	}
	return Page{Rows: rows, Total: n}
}

func TestMemoryStoreExpiresEntries(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := newMemoryStore(1<<20, clock.now)
	s.Set(ctx, "k", Page{Total: 7}, time.Minute)
	if p, ok := s.Get(ctx, "k"); !ok || p.Total != 7 {
		t.Fatalf("fresh entry: %+v, %v", p, ok)
	}
	clock.advance(time.Minute - time.Nanosecond)
	if _, ok := s.Get(ctx, "k"); !ok {
		t.Fatal("an entry is gone before its TTL")
	}
	clock.advance(time.Nanosecond)
	if _, ok := s.Get(ctx, "k"); ok {
		t.Fatal("an entry outlives its TTL")
	}
	if s.Bytes() != 0 {
		t.Errorf("an expired entry still counts %d bytes", s.Bytes())
	}
}

// Filling the store far past its bound keeps it within the bound, evicting
// the least recently used first, and its count matches its entries.
func TestMemoryStoreKeepsItsByteBound(t *testing.T) {
	ctx := context.Background()
	page := testPage(t, 50, 20, 0)
	cost := pageCost("key-00", page)
	const bound = 10
	maxBytes := bound*cost + cost/2
	s := newMemoryStore(maxBytes, time.Now)
	for i := range 100 {
		s.Set(ctx, fmt.Sprintf("key-%02d", i), page, time.Hour)
		if s.Bytes() > maxBytes {
			t.Fatalf("after %d pages the store counts %d bytes, over its bound of %d", i+1, s.Bytes(), maxBytes)
		}
		if i == 95 {
			s.Get(ctx, "key-90") // recently used: survives the next four
		}
	}
	if s.lru.Len() != bound || s.Bytes() != bound*cost {
		t.Errorf("%d entries counted at %d bytes, want %d at %d", s.lru.Len(), s.Bytes(), bound, bound*cost)
	}
	for _, k := range []string{"key-90", "key-99"} {
		if _, ok := s.Get(ctx, k); !ok {
			t.Errorf("%s was evicted, though among the most recently used", k)
		}
	}
	if _, ok := s.Get(ctx, "key-89"); ok {
		t.Error("key-89 is still held, though among the least recently used")
	}
	// Replacing an entry counts it once.
	s.Set(ctx, "key-99", Page{Total: 1}, time.Hour)
	if want := (bound-1)*cost + pageCost("key-99", Page{Total: 1}); s.Bytes() != want {
		t.Errorf("after a replacement the store counts %d bytes, want %d", s.Bytes(), want)
	}
	// A page larger than the whole bound is not kept.
	small := newMemoryStore(cost/2, time.Now)
	small.Set(ctx, "big", page, time.Hour)
	if _, ok := small.Get(ctx, "big"); ok || small.Bytes() != 0 {
		t.Error("a page larger than the bound was kept")
	}
}

// The bound is only as good as the cost of an entry: what the store counts
// must cover what its entries really keep on the heap (rows, strings,
// values, keys and the LRU's bookkeeping), yet not grossly overstate it.
func TestMemoryStoreCountsWhatItRetains(t *testing.T) {
	ctx := context.Background()
	digest := strings.Repeat("d", 43)
	for _, shape := range []struct{ entries, rows, nameLen int }{{60, 300, 40}, {600, 10, 12}, {2000, 0, 0}} {
		s := newMemoryStore(1<<30, time.Now)
		before := liveHeap()
		for i := range shape.entries {
			req := Request{Method: http.MethodGet, QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: i, PageSize: 300}
			s.Set(ctx, cacheKey(digest, req), testPage(t, shape.rows, shape.nameLen, i), time.Hour)
		}
		retained := liveHeap() - before
		counted := s.Bytes()
		t.Logf("%d pages of %d rows: retain %d bytes, counted %d (%.2f×)", shape.entries, shape.rows, retained, counted, float64(counted)/float64(retained))
		if retained > int64(counted) {
			t.Errorf("pages of %d rows retain %d bytes, more than the %d counted", shape.rows, retained, counted)
		}
		if int64(counted) > 2*retained {
			t.Errorf("pages of %d rows are counted at %d bytes, over twice the %d they retain", shape.rows, counted, retained)
		}
		runtime.KeepAlive(s)
	}
}

func liveHeap() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// countingCaller is the pipeline below the cache: it counts calls and answers
// with what answer says.
type countingCaller struct {
	calls  atomic.Int32
	answer func(n int32, req Request) (Page, error)
}

func (c *countingCaller) Call(_ context.Context, req Request) (Page, error) {
	return c.answer(c.calls.Add(1), req)
}

func newCachedClient(t *testing.T, next Caller) (*Client, Caller) {
	t.Helper()
	c, err := New("http://127.0.0.1:1", WithCache(time.Hour, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return c, c.cacheLayer()(next)
}

// A failure is told to the caller who met it and kept by no one: the next
// caller asks again.
func TestCacheKeepsNoErrors(t *testing.T) {
	next := &countingCaller{answer: func(n int32, _ Request) (Page, error) {
		if n == 1 {
			return Page{}, newError(Unavailable, 503, nil, "down")
		}
		return Page{Total: 5}, nil
	}}
	_, cached := newCachedClient(t, next)
	ctx := WithAuthorization(context.Background(), "Token a")
	req := Request{Method: http.MethodHead, QuotaName: "q", Ordering: OrderByValue}
	if _, err := cached.Call(ctx, req); KindOf(err) != Unavailable {
		t.Fatalf("first call: %v, want the 503", err)
	}
	for range 3 {
		if p, err := cached.Call(ctx, req); err != nil || p.Total != 5 {
			t.Fatalf("after a failure: %+v, %v", p, err)
		}
	}
	if n := next.calls.Load(); n != 2 {
		t.Errorf("%d calls below the cache, want 2 (the failure, then one success kept)", n)
	}
}

// The cache tells callers apart by their digest, and requests by every field;
// a bypass asks again and refreshes the entry, and so does a Fresh context.
func TestCacheKeysOnCallerAndRequest(t *testing.T) {
	next := &countingCaller{answer: func(n int32, _ Request) (Page, error) { return Page{Total: int(n)}, nil }}
	c, cached := newCachedClient(t, next)
	alice := WithAuthorization(context.Background(), "Token alice")
	bob := WithAuthorization(context.Background(), "Token bob")
	base := Request{Method: http.MethodGet, QuotaName: "q", Ordering: OrderByValue, Page: 1, PageSize: 10}
	total := func(ctx context.Context, req Request) int {
		t.Helper()
		p, err := cached.Call(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	if first, again := total(alice, base), total(alice, base); first != 1 || again != 1 {
		t.Fatal("the same request of the same caller was not answered from the cache")
	}
	if total(bob, base) != 2 {
		t.Fatal("one caller's page answered another")
	}
	variants := []Request{
		{Method: http.MethodHead, QuotaName: "q", Ordering: OrderByValue},
		{Method: http.MethodGet, QuotaName: "q2", Ordering: OrderByValue, Page: 1, PageSize: 10},
		{Method: http.MethodGet, QuotaName: "q", Ordering: OrderByName, Page: 1, PageSize: 10},
		{Method: http.MethodGet, QuotaName: "q", Ordering: OrderByValue, Page: 2, PageSize: 10},
		{Method: http.MethodGet, QuotaName: "q", Ordering: OrderByValue, Page: 1, PageSize: 11},
	}
	for i, req := range variants {
		if got := total(alice, req); got != 3+i {
			t.Errorf("%+v answered %d, from another request's entry", req, got)
		}
	}
	if total(WithCacheBypass(alice), base) != 8 || total(alice, base) != 8 {
		t.Error("a bypass did not ask again, or did not refresh the entry")
	}
	if total(Fresh(alice), base) != 9 || total(alice, base) != 9 {
		t.Error("a Fresh context did not ask again, or did not refresh the entry")
	}
	// A key names the caller by digest only.
	if key := cacheKey(c.callerDigest(alice), base); strings.Contains(key, "alice") {
		t.Errorf("cache key %q carries the credential", key)
	}
}

// Through a real client against the fake Waldur: the layer sits in the
// pipeline, and a cached page is what Waldur sent.
func TestClientServesRepeatsFromTheCache(t *testing.T) {
	var calls atomic.Int32
	fake := fakewaldur.New(fakewaldur.Demo(40, 3))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	plain, err := New(srv.URL, WithDefaultToken(fakewaldur.DemoStaffToken))
	if err != nil {
		t.Fatal(err)
	}
	cached, err := New(srv.URL, WithDefaultToken(fakewaldur.DemoStaffToken), WithCache(time.Hour, 0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 2, PageSize: 7}
	want, err := plain.List(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	calls.Store(0)
	for range 5 {
		got, err := cached.List(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("cached page %v, want %v", got, want)
		}
	}
	if n, err := cached.Count(ctx, "os_cpu_count", OrderByValue); err != nil || n != want.Total {
		t.Fatalf("count %d, %v", n, err)
	}
	cached.Count(ctx, "os_cpu_count", OrderByValue)
	if n := calls.Load(); n != 2 {
		t.Errorf("5 GETs and 2 HEADs of the same made %d upstream calls, want 2", n)
	}
	// A client given a ttl of 0 has no cache at all.
	off, _ := New(srv.URL, WithCache(0, 1<<20))
	if off.cache != nil || off.cacheLayer() != nil {
		t.Error("a zero TTL left a cache in the pipeline")
	}
}
