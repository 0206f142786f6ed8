package redisstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/internal/redistest"
	"github.com/waldur-quotas/gateway/redisstore"
)

// syncBuffer is a log sink safe for the store's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func open(t *testing.T, url string, opts ...redisstore.Option) (*redisstore.Store, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	opts = append([]redisstore.Option{redisstore.WithLogger(slog.New(slog.NewJSONHandler(logs, nil)))}, opts...)
	s, err := redisstore.Open(url, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

func TestStoreKeepsValuesForTheirTTL(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := open(t, srv.URL())
	ctx := context.Background()

	if _, ok := s.Get(ctx, "absent"); ok {
		t.Fatal("a key never set was found")
	}
	s.Set(ctx, "k", []byte("v\x00binary"), time.Minute)
	if v, ok := s.Get(ctx, "k"); !ok || string(v) != "v\x00binary" {
		t.Fatalf("Get = %q, %v; want the value set", v, ok)
	}
	s.Set(ctx, "short", []byte("x"), 50*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	if _, ok := s.Get(ctx, "short"); ok {
		t.Fatal("a value outlived its TTL")
	}
	dump := srv.Dump(ctx)
	if _, ok := dump[redisstore.KeyPrefix+"k"]; !ok || len(dump) != 1 {
		t.Fatalf("keys in Redis = %v; want only %q", dump, redisstore.KeyPrefix+"k")
	}
}

// Redis killed and restarted under a stream of commands: they miss, without
// waiting on Redis, while it is down; the outage is logged once, its end
// once; and the store uses Redis again once it is back.
func TestStoreRidesOutAnOutage(t *testing.T) {
	srv := redistest.Start(t)
	s, logs := open(t, srv.URL(), redisstore.WithRetryIn(100*time.Millisecond))
	ctx := context.Background()
	s.Set(ctx, "k", []byte("v"), time.Minute)

	srv.Kill()
	start := time.Now()
	for i := 0; i < 200; i++ {
		if _, ok := s.Get(ctx, "k"); ok {
			t.Fatal("a Get answered while Redis was down")
		}
		s.Set(ctx, "k2", []byte("v"), time.Minute)
	}
	// 400 commands against a dead Redis, most of them refused by the guard
	// without a connection attempt: generous, it only proves none waits long.
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("400 commands took %v while Redis was down", d)
	}

	srv.Start() // empty: nothing persisted
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.Set(ctx, "back", []byte("v"), time.Minute)
		if _, ok := s.Get(ctx, "back"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the store did not use Redis again within 10s of its restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), `"msg":"redis unavailable`); n != 1 {
		t.Errorf("outage logged %d times, want once:\n%s", n, logs)
	}
	if n := strings.Count(logs.String(), `"msg":"redis available again"`); n != 1 {
		t.Errorf("recovery logged %d times, want once:\n%s", n, logs)
	}
}

// An unreachable Redis at start is no reason not to start: Open does not
// connect, and Ping reports it.
func TestStoreOpensWithoutRedis(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	srv.Kill()
	s, logs := open(t, url)
	if err := s.Ping(context.Background()); err == nil {
		t.Fatal("Ping succeeded with Redis down")
	}
	if !strings.Contains(logs.String(), "redis unavailable") {
		t.Errorf("the failed Ping was not logged:\n%s", logs)
	}
}

func TestOpenNeverQuotesTheURL(t *testing.T) {
	_, err := redisstore.Open("http://user:s3cret-pass@host:1/0")
	if err == nil {
		t.Fatal("an http:// URL was accepted")
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "host") {
		t.Fatalf("the error quotes the URL: %v", err)
	}
}
