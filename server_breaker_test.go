package main

import (
	"strings"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/upstream"
)

// defaultBreaker is the circuit breaker's configuration when nothing is set.
var defaultBreaker = breakerConfig{failures: upstream.DefaultBreakerFailures, cooldown: upstream.DefaultBreakerCooldown}

func TestParseBreakerConfig(t *testing.T) {
	if defaultBreaker != (breakerConfig{failures: 5, cooldown: 10 * time.Second}) {
		t.Errorf("breaker defaults %+v, the issue and the README say 5 and 10s", defaultBreaker)
	}
	env := envOf(map[string]string{"UPSTREAM_BREAKER_FAILURES": "3", "UPSTREAM_BREAKER_COOLDOWN": "30s"})
	cfg, err := parseConfig(nil, env)
	if err != nil || cfg.breaker != (breakerConfig{failures: 3, cooldown: 30 * time.Second}) {
		t.Errorf("from env: %+v, %v", cfg.breaker, err)
	}
	cfg, err = parseConfig([]string{"-upstream-breaker-failures", "7", "-upstream-breaker-cooldown", "1m"}, env)
	if err != nil || cfg.breaker != (breakerConfig{failures: 7, cooldown: time.Minute}) {
		t.Errorf("flags over env: %+v, %v", cfg.breaker, err)
	}
	for _, c := range []struct{ key, value string }{
		{"UPSTREAM_BREAKER_FAILURES", "0"},
		{"UPSTREAM_BREAKER_FAILURES", "-1"},
		{"UPSTREAM_BREAKER_FAILURES", "five"},
		{"UPSTREAM_BREAKER_COOLDOWN", "10"}, // no unit
		{"UPSTREAM_BREAKER_COOLDOWN", "0s"},
		{"UPSTREAM_BREAKER_COOLDOWN", "soon"},
	} {
		_, err := parseConfig(nil, envOf(map[string]string{c.key: c.value}))
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s=%q: error %v, want one naming %s", c.key, c.value, err, c.key)
		}
	}
	for _, args := range [][]string{{"-upstream-breaker-failures", "0"}, {"-upstream-breaker-cooldown", "-1s"}} {
		if _, err := parseConfig(args, envOf(nil)); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
