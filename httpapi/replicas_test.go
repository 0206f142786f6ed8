package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/internal/redistest"
	"github.com/waldur-quotas/gateway/upstream"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// replicaSecret is the CACHE_KEY_SECRET the replicas of a test share.
const replicaSecret = "replicas-share-this-secret-0123456789"

// replicas starts n gateways sharing the Redis at url, each with its own
// fake Waldur over the same data (their calls are counted apart), the page
// cache on and one cache key secret.
func replicas(t *testing.T, url string, n int, opts ...harnessOption) []*harness {
	t.Helper()
	hs := make([]*harness, n)
	for i := range hs {
		hs[i] = newHarness(t, append([]harnessOption{
			withRedis(url), withCache(time.Hour, 0),
			withClientOptions(upstream.WithCacheKeySecret([]byte(replicaSecret))),
		}, opts...)...)
	}
	return hs
}

// A query registered through one replica answers by its hash on another,
// which without Redis has never heard of it.
func TestReplicasShareAutomaticPersistedQueries(t *testing.T) {
	srv := redistest.Start(t)
	hs := replicas(t, srv.URL(), 2, withDefaultToken(demoStaff))
	alone := newHarness(t, withDefaultToken(demoStaff))
	const query = `query Shared { customerQuotas(quotaName: "os_storage_size", first: 3) { totalCount nodes { customerName } } }`
	hash := sha256Hex(query)

	wantNotFound(t, apqPost(hs[1], "", hash, nil), 200)
	wantData(t, apqPost(hs[0], query, hash, nil)) // the registration
	for i, h := range []*harness{hs[1], hs[0]} {
		if r := apqPost(h, "", hash, nil); !r.hasData() || len(r.Errors) > 0 {
			t.Errorf("replica %d by hash: %s", i, r)
		}
	}
	wantNotFound(t, apqGet(alone, "", hash, ""), 200)

	// A hash whose text in Redis is not that query's is no registration.
	other := sha256Hex("query Other { __typename }")
	fakeEntry(t, srv, "apq:"+other, query)
	wantNotFound(t, apqPost(hs[1], "", other, nil), 200)
}

// fakeEntry writes a value under a store key as another writer of the same
// Redis could.
func fakeEntry(t *testing.T, srv *redistest.Server, key, value string) {
	t.Helper()
	srv.Set(context.Background(), "waldur-quotas-gateway:"+key, value)
}

// A page one replica fetched answers the same caller on another replica
// without a call to Waldur, and never another caller, who gets their own
// rows from Waldur.
func TestReplicasShareCachedPagesPerCaller(t *testing.T) {
	srv := redistest.Start(t)
	hs := replicas(t, srv.URL(), 2)
	vars := map[string]any{"q": cacheQuota, "first": 10}
	staff, owner := "Token "+demoStaff, "Token "+fakewaldur.DemoOwnerToken
	wantStaff, wantOwner := demo().Rows(demoStaff, cacheQuota, "value"), demo().Rows(fakewaldur.DemoOwnerToken, cacheQuota, "value")

	wantFirst(t, "staff on replica 0", hs[0].page(staff, vars), wantStaff, 10)
	if n := len(hs[0].takeCalls()); n != 1 {
		t.Fatalf("the first query made %d upstream calls, want 1", n)
	}
	wantFirst(t, "staff on replica 1", hs[1].page(staff, vars), wantStaff, 10)
	hs[1].wantNoUpstreamCalls(t, "the same caller's query on the other replica")

	wantFirst(t, "owner on replica 1", hs[1].page(owner, vars), wantOwner, 10)
	calls := hs[1].takeCalls()
	if len(calls) != 1 || calls[0].Authorization != owner {
		t.Fatalf("another caller's query made calls %+v, want one with that caller's token", calls)
	}

	// Replicas with another secret share no entry: a secret mismatch costs
	// calls, never another caller's rows.
	stranger := newHarness(t, withRedis(srv.URL()), withCache(time.Hour, 0),
		withClientOptions(upstream.WithCacheKeySecret([]byte("another-secret-0123456789"))))
	wantFirst(t, "staff on a replica with another secret", stranger.page(staff, vars), wantStaff, 10)
	if n := len(stranger.takeCalls()); n != 1 {
		t.Errorf("a replica with another secret made %d upstream calls, want 1", n)
	}
}

// Several callers at once on two replicas sharing Redis: each answer is
// exactly what the fake Waldur shows that caller; and nothing in Redis
// holds a credential or the secret.
func TestReplicasKeepCallersApartInRedis(t *testing.T) {
	srv := redistest.Start(t)
	hs := replicas(t, srv.URL(), 2)
	tokens := []string{demoStaff, fakewaldur.DemoOwnerToken, fakewaldur.DemoNobodyToken}
	want := map[string][]fakewaldur.Row{}
	for _, tok := range tokens {
		want[tok] = demo().Rows(tok, cacheQuota, "value")
	}

	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 60 {
		h, tok := hs[i%2], tokens[i%3]
		first := []int{5, 10}[i/6%2] // two windows: two cache entries per caller
		req := h.postRequest("Token "+tok, connectionQuery, map[string]any{"q": cacheQuota, "first": first})
		wg.Go(func() {
			resp, err := h.send(req)
			if err == nil {
				var c connection
				if c, err = connectionOf(resp); err == nil {
					if p := firstRowsProblem(c, want[tok], first); p != "" {
						err = fmt.Errorf("%s, first %d: %s", tok, first, p)
					}
				}
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	dump := srv.Dump(context.Background())
	if len(dump) == 0 {
		t.Fatal("nothing was written to Redis")
	}
	for k, v := range dump {
		for _, secret := range append(tokens, replicaSecret, "Token") {
			if strings.Contains(k, secret) || strings.Contains(v, secret) {
				t.Errorf("Redis entry %q holds %q", k, secret)
			}
		}
	}
}

// Redis killed mid-test: both replicas go on answering from Waldur, each
// logs the outage once; restarted, they share pages again by themselves and
// say so.
func TestReplicasRideOutARedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	hs := replicas(t, srv.URL(), 2)
	staff := "Token " + demoStaff
	want := demo().Rows(demoStaff, cacheQuota, "value")
	query := func(h *harness, first int) int {
		t.Helper()
		wantFirst(t, fmt.Sprintf("first %d", first), h.page(staff, map[string]any{"q": cacheQuota, "first": first}), want, first)
		return len(h.takeCalls())
	}
	query(hs[0], 3)

	srv.Kill()
	for i := range 10 {
		for r, h := range hs {
			if n := query(h, 4+i); n != 1 {
				t.Errorf("replica %d with Redis down made %d upstream calls, want 1", r, n)
			}
		}
	}

	srv.Start() // empty: nothing persisted
	deadline := time.Now().Add(10 * time.Second)
	for first := 20; ; first++ {
		query(hs[0], first)
		if query(hs[1], first) == 0 {
			break // replica 1 was answered from what replica 0 cached
		}
		if time.Now().After(deadline) {
			t.Fatal("the replicas did not share pages again within 10s of Redis's restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for r, h := range hs {
		logs := h.logs.String()
		if n := strings.Count(logs, `"msg":"redis unavailable`); n != 1 {
			t.Errorf("replica %d logged the outage %d times, want once", r, n)
		}
		if n := strings.Count(logs, `"msg":"redis available again"`); n != 1 {
			t.Errorf("replica %d logged the recovery %d times, want once", r, n)
		}
	}
}

// The figure the issue asks for: upstream calls for the same query sent to
// two replicas, each with its own memory cache and sharing Redis.
//
//	go test -count=1 -run TestReplicasFigure -v ./httpapi/
func TestReplicasFigure(t *testing.T) {
	srv := redistest.Start(t)
	vars := map[string]any{"q": cacheQuota, "first": 10}
	staff := "Token " + demoStaff
	calls := map[string]int{}
	for _, setup := range []string{"memory", "redis"} {
		var hs []*harness
		if setup == "redis" {
			hs = replicas(t, srv.URL(), 2)
		} else {
			hs = []*harness{newHarness(t, withCache(time.Hour, 0)), newHarness(t, withCache(time.Hour, 0))}
		}
		for _, h := range hs {
			for range 5 {
				wantFirst(t, setup, h.page(staff, vars), demo().Rows(demoStaff, cacheQuota, "value"), 10)
			}
			calls[setup] += len(h.takeCalls())
		}
	}
	t.Logf("figure: the same query 5 times on each of two replicas: %d upstream calls with a cache each, %d sharing Redis",
		calls["memory"], calls["redis"])
	if calls["memory"] != 2 || calls["redis"] != 1 {
		t.Errorf("upstream calls: %v, want 2 with a cache each and 1 sharing Redis", calls)
	}
}
