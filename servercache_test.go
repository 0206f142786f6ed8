package main

import (
	"strings"
	"testing"
	"time"
)

// The cache is off unless UPSTREAM_CACHE_TTL is set, and its bound reads
// plain bytes and units; a flag overrides either.
func TestParseConfigUpstreamCache(t *testing.T) {
	for _, c := range []struct {
		env      map[string]string
		args     []string
		ttl      time.Duration
		maxBytes int
	}{
		{nil, nil, 0, 64 << 20},
		{map[string]string{"UPSTREAM_CACHE_TTL": "30s"}, nil, 30 * time.Second, 64 << 20},
		{map[string]string{"UPSTREAM_CACHE_TTL": "0"}, nil, 0, 64 << 20},
		{map[string]string{"UPSTREAM_CACHE_MAX_BYTES": "65536"}, nil, 0, 65536},
		{map[string]string{"UPSTREAM_CACHE_MAX_BYTES": "512KiB"}, nil, 0, 512 << 10},
		{map[string]string{"UPSTREAM_CACHE_MAX_BYTES": "1GiB"}, nil, 0, 1 << 30},
		{map[string]string{"UPSTREAM_CACHE_MAX_BYTES": "2MB"}, nil, 0, 2_000_000},
		{
			map[string]string{"UPSTREAM_CACHE_TTL": "30s", "UPSTREAM_CACHE_MAX_BYTES": "1MiB"},
			[]string{"-upstream-cache-ttl", "2m", "-upstream-cache-max-bytes", "8MiB"},
			2 * time.Minute, 8 << 20,
		},
	} {
		cfg, err := parseConfig(c.args, envOf(c.env))
		if err != nil {
			t.Errorf("%v %v: %v", c.env, c.args, err)
			continue
		}
		if cfg.cacheTTL != c.ttl || int(cfg.cacheMaxBytes) != c.maxBytes {
			t.Errorf("%v %v: ttl %v and bound %d, want %v and %d", c.env, c.args, cfg.cacheTTL, cfg.cacheMaxBytes, c.ttl, c.maxBytes)
		}
	}
}

func TestParseConfigRejectsBadCacheSettings(t *testing.T) {
	for _, c := range []struct{ key, value string }{
		{"UPSTREAM_CACHE_TTL", "30"}, // no unit
		{"UPSTREAM_CACHE_TTL", "-1s"},
		{"UPSTREAM_CACHE_TTL", "soon"},
		{"UPSTREAM_CACHE_MAX_BYTES", "0"},
		{"UPSTREAM_CACHE_MAX_BYTES", "-1"},
		{"UPSTREAM_CACHE_MAX_BYTES", "64MiBs"},
		{"UPSTREAM_CACHE_MAX_BYTES", "lots"},
		{"UPSTREAM_CACHE_MAX_BYTES", " 64MiB"},
		{"UPSTREAM_CACHE_MAX_BYTES", "1e6"},
		{"UPSTREAM_CACHE_MAX_BYTES", "99EiB"},
	} {
		_, err := parseConfig(nil, envOf(map[string]string{c.key: c.value}))
		if err == nil {
			t.Errorf("%s=%q accepted", c.key, c.value)
		} else if !strings.Contains(err.Error(), c.key) {
			t.Errorf("error %q does not name %s", err, c.key)
		}
	}
	for _, args := range [][]string{
		{"-upstream-cache-ttl", "-5s"},
		{"-upstream-cache-max-bytes", "0"},
		{"-upstream-cache-max-bytes", "big"},
	} {
		if _, err := parseConfig(args, envOf(nil)); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// The flag's default reads as the README writes it.
func TestByteSizeString(t *testing.T) {
	for n, want := range map[byteSize]string{64 << 20: "64MiB", 512 << 10: "512KiB", 1 << 30: "1GiB", 65537: "65537", 2_000_000: "2000000"} {
		if got := n.String(); got != want {
			t.Errorf("%d reads %q, want %q", int(n), got, want)
		}
	}
}
