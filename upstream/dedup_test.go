package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// Under Fresh, the memo answers with nothing made before: neither a total
// (from a HEAD or a GET) nor a 404. Calls made under Fresh are shared again.
func TestFreshAsksWaldurAgain(t *testing.T) {
	full := fakewaldur.Demo(50, 1)
	shrunk := &fakewaldur.Dataset{Customers: full.Customers[:30], Users: full.Users}
	before, after := fakewaldur.New(full), fakewaldur.New(shrunk)
	var heads, gets atomic.Int32
	var shrank atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			heads.Add(1)
		} else {
			gets.Add(1)
		}
		if shrank.Load() {
			after.ServeHTTP(w, r)
			return
		}
		before.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, _ := New(srv.URL)
	op := WithDedup(WithAuthorization(context.Background(), "Token "+fakewaldur.DemoStaffToken))
	last := PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 5, PageSize: 10}

	if n, err := c.Count(op, "os_cpu_count", OrderByValue); err != nil || n != 50 {
		t.Fatalf("count %d, %v; want 50", n, err)
	}
	shrank.Store(true)
	if _, err := c.List(op, last); KindOf(err) != PageNotFound {
		t.Fatalf("page 5 of a list of 30: %v, want a 404", err)
	}
	// Without Fresh, the operation hears what it heard before.
	if n, _ := c.Count(op, "os_cpu_count", OrderByValue); n != 50 {
		t.Fatalf("memoised count %d, want the first answer, 50", n)
	}
	if _, err := c.List(op, last); KindOf(err) != PageNotFound || gets.Load() != 1 {
		t.Fatalf("memoised page: %v after %d GETs, want the first 404 and 1 GET", err, gets.Load())
	}

	fresh := Fresh(op)
	if n, err := c.Count(fresh, "os_cpu_count", OrderByValue); err != nil || n != 30 || heads.Load() != 2 {
		t.Fatalf("fresh count %d, %v after %d HEADs; want 30 from a second HEAD", n, err, heads.Load())
	}
	page, err := c.List(fresh, PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 3, PageSize: 10})
	if err != nil || page.Total != 30 || len(page.Rows) != 10 {
		t.Fatalf("fresh page 3: %d rows of %d, %v", len(page.Rows), page.Total, err)
	}
	if _, err := c.List(fresh, last); KindOf(err) != PageNotFound || gets.Load() != 3 {
		t.Fatalf("fresh page 5: %v after %d GETs, want a second 404 from a third GET", err, gets.Load())
	}

	// What was asked under Fresh answers the whole operation again.
	if n, _ := c.Count(op, "os_cpu_count", OrderByValue); n != 30 || heads.Load() != 2 {
		t.Fatalf("count after Fresh %d after %d HEADs, want the fresh 30 and no third HEAD", n, heads.Load())
	}
	if _, err := c.List(op, last); KindOf(err) != PageNotFound || gets.Load() != 3 {
		t.Fatalf("page 5 after Fresh: %v after %d GETs, want the fresh 404 shared", err, gets.Load())
	}
}

// A total a GET brings under Fresh answers a later fresh count; a GET's total
// from before Fresh does not.
func TestFreshGetTotalAnswersAFreshCount(t *testing.T) {
	var heads atomic.Int32
	fake := fakewaldur.New(fakewaldur.Demo(50, 1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			heads.Add(1)
		}
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, _ := New(srv.URL)
	op := WithDedup(WithAuthorization(context.Background(), "Token "+fakewaldur.DemoStaffToken))
	page1 := PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 1, PageSize: 10}

	if _, err := c.List(op, page1); err != nil {
		t.Fatal(err)
	}
	fresh := Fresh(op)
	if _, err := c.Count(fresh, "os_cpu_count", OrderByValue); err != nil || heads.Load() != 1 {
		t.Fatalf("fresh count: %v after %d HEADs, want one HEAD: the GET came before Fresh", err, heads.Load())
	}
	fresher := Fresh(op)
	if _, err := c.List(fresher, PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 2, PageSize: 10}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Count(fresher, "os_cpu_count", OrderByValue); err != nil || n != 50 || heads.Load() != 1 {
		t.Fatalf("count %d, %v after %d HEADs; want the fresh GET's total and no second HEAD", n, err, heads.Load())
	}
}

// An owner whose call panics must not leave the fields waiting on it hanging
// until their deadlines: they are woken and make the call themselves.
func TestPanickingOwnerWakesItsWaiters(t *testing.T) {
	m := &memo{calls: make(map[callKey]*memoCall)}
	key := callKey{quotaName: "os_cpu_count", page: 1, pageSize: 10}
	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		defer func() { _ = recover() }()
		_, _ = m.do(context.Background(), key, func(context.Context, uint64) (Page, error) {
			close(started)
			<-release
			panic("a bug in the owner's call")
		})
	}()
	<-started
	got := make(chan Page, 1)
	go func() {
		p, _ := m.do(context.Background(), key, func(context.Context, uint64) (Page, error) {
			return Page{Total: 7}, nil
		})
		got <- p
	}()
	close(release)
	select {
	case p := <-got:
		if p.Total != 7 {
			t.Fatalf("waiter got total %d, want its own call's 7", p.Total)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter was never woken after its owner panicked")
	}
}
