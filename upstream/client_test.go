package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

func TestEndpointURL(t *testing.T) {
	cases := []struct {
		base, want string
		wantErr    string
	}{
		{"https://waldur.example.com", "https://waldur.example.com/api/customer-quotas/", ""},
		{"https://waldur.example.com/", "https://waldur.example.com/api/customer-quotas/", ""},
		{" https://waldur.example.com// ", "https://waldur.example.com/api/customer-quotas/", ""},
		{"http://127.0.0.1:8000/waldur", "http://127.0.0.1:8000/waldur/api/customer-quotas/", ""},
		{"http://127.0.0.1:8000/waldur/", "http://127.0.0.1:8000/waldur/api/customer-quotas/", ""},
		{"https://user:secret@waldur.example.com", "", "must not contain credentials"},
		{"waldur.example.com", "", "absolute http(s) URL"},
		{"ftp://waldur.example.com", "", "absolute http(s) URL"},
		{"https://waldur.example.com/?x=1", "", "query or fragment"},
		{"", "", "absolute http(s) URL"},
	}
	for _, tc := range cases {
		got, err := endpointURL(tc.base)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want one containing %q", tc.base, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("%q: the error repeats the credential: %v", tc.base, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.base, got, err, tc.want)
		}
	}
}

// A base URL with a path prefix reaches Waldur mounted below that prefix.
func TestBaseURLWithPathPrefix(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/waldur/", http.StripPrefix("/waldur", fakewaldur.New(fakewaldur.Demo(30, 1))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, base := range []string{srv.URL + "/waldur", srv.URL + "/waldur/"} {
		c, err := New(base, WithDefaultToken(fakewaldur.DemoStaffToken))
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.List(context.Background(), PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 1, PageSize: 7})
		if err != nil || p.Total != 30 || len(p.Rows) != 7 {
			t.Fatalf("%s: total %d, %d rows, %v", base, p.Total, len(p.Rows), err)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		" 7 ":                           7 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"99999999999":                   maxRetryAfter,
		"99999999999999999999":          maxRetryAfter,
		" 99999999999999999999 ":        maxRetryAfter,
		"-99999999999999999999":         0,
		"86400":                         maxRetryAfter,
		"86401":                         maxRetryAfter,
		"Wed, 25 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Wed, 25 Nov 2026 11:59:00 GMT": 0,
		"Fri, 25 Dec 2026 12:00:00 GMT": maxRetryAfter,
	}
	for h, want := range cases {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", h, got, want)
		}
	}
}

func TestDecodeRows(t *testing.T) {
	ok := []struct {
		body string
		want []Row
	}{
		{`[]`, []Row{}},
		{`[{"customer_name":"A","customer_abbreviation":"","value":5000000000}]`, []Row{{"A", "", f(5e9)}}},
		{`[{"value":null,"customer_abbreviation":"B","customer_name":"Bé \u00e9","extra":{"x":[1]}}]`, []Row{{"Bé é", "B", nil}}},
		{` [ {"customer_name":"C","customer_abbreviation":"c","value":-1.5e2} ] `, []Row{{"C", "c", f(-150)}}},
	}
	for _, tc := range ok {
		got, err := decodeRows([]byte(tc.body))
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("%s: %v %v", tc.body, got, err)
		}
		for i := range got {
			g, w := got[i], tc.want[i]
			if g.CustomerName != w.CustomerName || g.CustomerAbbreviation != w.CustomerAbbreviation ||
				(g.Value == nil) != (w.Value == nil) || (g.Value != nil && *g.Value != *w.Value) {
				t.Errorf("%s: row %d = %+v, want %+v", tc.body, i, g, w)
			}
		}
	}
	for _, body := range []string{
		``, `null`, `{}`, `[1]`, `[null]`, `["x"]`, `[{"customer_name":"A","customer_abbreviation":""}]`,
		`[{"customer_name":null,"customer_abbreviation":"","value":1}]`, `[{"customer_name":"A","customer_abbreviation":"","value":"1"}]`,
		`[{"customer_name":"A","customer_abbreviation":"","value":true}]`, `[{"customer_name":"A","customer_abbreviation":"","value":1e999}]`,
		`[{"customer_name":1,"customer_abbreviation":"","value":1}]`, `[` + strings.Repeat(" ", 10),
	} {
		if rows, err := decodeRows([]byte(body)); err == nil || KindOf(err) != BadResponse {
			t.Errorf("%q: got %v, %v; want a BadResponse", body, rows, err)
		}
	}
}

func FuzzDecodeRows(f *testing.F) {
	f.Add([]byte(`[{"customer_name":"A","customer_abbreviation":"","value":5000000000}]`))
	f.Add([]byte(`[{"customer_name":"A","customer_abbreviation":"x","value":null}]`))
	f.Add([]byte(`{"detail":"Invalid page."}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rows, err := decodeRows(body)
		if err != nil && KindOf(err) != BadResponse {
			t.Fatalf("error of kind %v: %v", KindOf(err), err)
		}
		if err == nil && rows == nil {
			t.Fatal("nil rows without an error")
		}
	})
}

func f(v float64) *float64 { return &v }

// The caller's cancellation ends the request and is reported as the caller's,
// not as Waldur being unavailable.
func TestCallerCancellationIsNotAnOutage(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	c, _ := New(srv.URL, WithTimeout(5*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Count(ctx, "os_cpu_count", OrderByValue)
	if !errors.Is(err, context.DeadlineExceeded) || KindOf(err) != 0 {
		t.Fatalf("got %v (kind %v), want the caller's deadline", err, KindOf(err))
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("cancellation took %s", time.Since(start))
	}
}

// Within one operation, identical requests share one call; a GET's total
// answers a later HEAD; another caller's identical request is its own call.
func TestDedupWithinAnOperation(t *testing.T) {
	var gets, heads atomic.Int32
	fake := fakewaldur.New(fakewaldur.Demo(50, 1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			heads.Add(1)
		} else {
			gets.Add(1)
		}
		time.Sleep(20 * time.Millisecond) // keep the calls overlapping
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, _ := New(srv.URL)
	req := PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 2, PageSize: 10}

	staff := WithAuthorization(context.Background(), "Token "+fakewaldur.DemoStaffToken)
	owner := WithAuthorization(context.Background(), "Token "+fakewaldur.DemoOwnerToken)
	op := WithDedup(staff)
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.List(op, req); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if total, err := c.Count(op, "os_cpu_count", OrderByValue); err != nil || total != 50 {
		t.Fatalf("count %d, %v", total, err)
	}
	if gets.Load() != 1 || heads.Load() != 0 {
		t.Fatalf("%d GET and %d HEAD in one operation, want 1 and 0", gets.Load(), heads.Load())
	}
	// Another operation, or another caller, asks again.
	if _, err := c.List(WithDedup(staff), req); err != nil {
		t.Fatal(err)
	}
	ownerPage, err := c.List(WithDedup(owner), PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 1, PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if gets.Load() != 3 {
		t.Fatalf("%d GETs, want 3: nothing is shared across operations", gets.Load())
	}
	if ownerPage.Total == 50 {
		t.Fatalf("the owner saw the staff list")
	}
}

// A shared call whose owner gives up (its context ends, as when a sibling
// request of the owner failed) is not an answer for the others waiting on it:
// they make the call themselves, and a later identical call is made afresh.
func TestDedupAbandonedCallIsMadeAgain(t *testing.T) {
	var gets atomic.Int32
	release := make(chan struct{})
	fake := fakewaldur.New(fakewaldur.Demo(50, 1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gets.Add(1) == 1 {
			<-release // the first call hangs until its owner has given up
		}
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer close(release)
	c, _ := New(srv.URL)
	req := PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 1, PageSize: 10}
	op := WithDedup(WithAuthorization(context.Background(), "Token "+fakewaldur.DemoStaffToken))

	ownerCtx, cancelOwner := context.WithCancel(op)
	ownerErr := make(chan error, 1)
	go func() {
		_, err := c.List(ownerCtx, req)
		ownerErr <- err
	}()
	for gets.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	waiter := make(chan error, 1)
	var page Page
	go func() {
		var err error
		page, err = c.List(op, req)
		waiter <- err
	}()
	time.Sleep(20 * time.Millisecond) // the waiter is now waiting on the owner's call
	cancelOwner()
	if err := <-ownerErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("owner: %v, want context.Canceled", err)
	}
	select {
	case err := <-waiter:
		if err != nil {
			t.Fatalf("waiter got the owner's cancellation: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter did not make the call itself")
	}
	if len(page.Rows) != 10 || page.Total != 50 {
		t.Fatalf("waiter: %d rows of %d", len(page.Rows), page.Total)
	}
	if n := gets.Load(); n != 2 {
		t.Fatalf("%d GETs, want 2: the abandoned call and the waiter's own", n)
	}
	// The waiter's successful call is now the shared one.
	if _, err := c.List(op, req); err != nil || gets.Load() != 2 {
		t.Fatalf("a third identical call: %v, %d GETs; want the shared answer", err, gets.Load())
	}
}

// Observers and transport wrappers add up: a second WithObserver must not
// silently replace the first (the request log and, later, metrics both
// observe), and tracing wraps whatever transport the client has.
func TestObserversAndTransportWrappersAddUp(t *testing.T) {
	srv := httptest.NewServer(fakewaldur.New(fakewaldur.Demo(20, 1)))
	t.Cleanup(srv.Close)
	var first, second atomic.Int32
	var wrapped []string
	var mu sync.Mutex
	wrap := func(name string) func(http.RoundTripper) http.RoundTripper {
		return func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				wrapped = append(wrapped, name)
				mu.Unlock()
				return next.RoundTrip(r)
			})
		}
	}
	c, err := New(srv.URL,
		WithDefaultToken(fakewaldur.DemoStaffToken),
		WithObserver(func(context.Context, Call) { first.Add(1) }),
		WithObserver(func(context.Context, Call) { second.Add(1) }),
		WithTransportWrapper(wrap("inner")),
		WithTransportWrapper(wrap("outer")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Count(context.Background(), "os_cpu_count", OrderByValue); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(context.Background(), PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 1, PageSize: 5}); err != nil {
		t.Fatal(err)
	}
	if first.Load() != 2 || second.Load() != 2 {
		t.Errorf("observers told %d and %d times, want 2 each", first.Load(), second.Load())
	}
	if want := []string{"outer", "inner", "outer", "inner"}; !slices.Equal(wrapped, want) {
		t.Errorf("transport wrappers ran %v, want %v", wrapped, want)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A caller digest tells callers apart without holding their credential, is
// stable under one secret (replicas sharing a cache agree), and changes with
// the secret.
func TestCallerDigest(t *testing.T) {
	newClient := func(secret string) *Client {
		c, err := New("http://127.0.0.1:1", WithDefaultToken("default-secret-token"), WithCacheKeySecret([]byte(secret)))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := newClient("s1"), newClient("s1")
	alice := WithAuthorization(context.Background(), "Token alice-secret-token")
	bob := WithAuthorization(context.Background(), "Token bob-secret-token")
	anon := context.Background()
	if a.callerDigest(alice) != b.callerDigest(alice) {
		t.Error("two clients with one secret disagree on a caller")
	}
	if a.callerDigest(alice) == a.callerDigest(bob) || a.callerDigest(alice) == a.callerDigest(anon) {
		t.Error("different callers share a digest")
	}
	if a.callerDigest(alice) == newClient("s2").callerDigest(alice) {
		t.Error("the digest does not depend on the secret")
	}
	for _, ctx := range []context.Context{alice, bob, anon} {
		if d := a.callerDigest(ctx); strings.Contains(d, "secret-token") || strings.Contains(d, "alice") {
			t.Errorf("digest %q reveals the credential", d)
		}
	}
	r1, _ := New("http://127.0.0.1:1")
	r2, _ := New("http://127.0.0.1:1")
	if r1.callerDigest(alice) == r2.callerDigest(alice) {
		t.Error("clients without a secret must draw their own")
	}
}
