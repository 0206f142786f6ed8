package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/waldur-quotas/gateway/internal/redistest"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// REDIS_URL comes from the environment only, and a URL that is not Redis's
// is refused without being repeated (it may hold a password).
func TestParseConfigRedisURL(t *testing.T) {
	cfg, err := parseConfig(nil, envOf(map[string]string{"REDIS_URL": "redis://:pw@redis:6379/2"}))
	if err != nil || cfg.redisURL != "redis://:pw@redis:6379/2" {
		t.Fatalf("a redis:// URL: %q, %v", cfg.redisURL, err)
	}
	_, err = parseConfig(nil, envOf(map[string]string{"REDIS_URL": "http://user:hunter2@redis:6379"}))
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("an http:// URL: %v (accepted, unnamed, or repeated)", err)
	}
	if _, err := parseConfig([]string{"-redis-url", "redis://redis:6379"}, envOf(nil)); err == nil {
		t.Error("the URL was accepted as a flag, which the process list shows")
	}
}

// Two gateway processes with one REDIS_URL and CACHE_KEY_SECRET: a query the
// first registered answers by hash on the second, and its page answers the
// same caller there. The start-up line names Redis by its address.
func TestBinaryReplicasShareRedis(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	redis := redistest.Start(t)
	env := []string{"REDIS_URL=" + redis.URL(), "CACHE_KEY_SECRET=binary-replicas-secret-0123", "UPSTREAM_CACHE_TTL=1m", "WALDUR_API_TOKEN=" + fakewaldur.DemoStaffToken}
	a, b := startGateway(t, bin, env...), startGateway(t, bin, env...)
	for _, g := range []*runningGateway{a, b} {
		line := g.logs.waitFor(t, "gateway listening", 0)
		if line["redis"] != strings.TrimPrefix(redis.URL(), "redis://") {
			t.Errorf("start-up line names redis %q, want %q", line["redis"], strings.TrimPrefix(redis.URL(), "redis://"))
		}
	}

	const query = `{ customerQuotas(quotaName: "os_cpu_count", first: 3) { totalCount nodes { customerName } } }`
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + sha256Hex(query) + `"}}`
	post := func(g *runningGateway, body string) map[string]any {
		t.Helper()
		resp, err := http.Post(g.base+"/query", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	q, _ := json.Marshal(query)
	if out := post(a, `{"query":`+string(q)+`,"extensions":`+ext+`}`); out["data"] == nil {
		t.Fatalf("registration on the first replica: %v", out)
	}
	if out := post(b, `{"extensions":`+ext+`}`); out["data"] == nil || out["errors"] != nil {
		t.Fatalf("the hash on the second replica: %v", out)
	}
	var pages, apqs int
	for k := range redis.Dump(context.Background()) {
		pages += strings.Count(k, ":page:")
		apqs += strings.Count(k, ":apq:")
	}
	if pages != 1 || apqs != 1 {
		t.Errorf("Redis holds %d pages and %d persisted queries, want 1 and 1: the second replica fetched its own page", pages, apqs)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
