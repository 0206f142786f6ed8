package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// reportConfigError prints every configuration problem in one shape, whichever
// step found it (a malformed environment variable, a bad flag, a value out of
// range, an unusable URL): one problem per line, naming its setting, then
// where to find them all. main exits 2 after it, before anything has started.
func reportConfigError(w io.Writer, err error) {
	fmt.Fprintln(w, "gateway: configuration error:")
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	fmt.Fprintln(w, "Run 'gateway -h' for every setting.")
}

// checkFlagValues checks what a flag may have set out of range; the
// environment's values were checked as they were read. Every problem is
// named, not only the first.
func checkFlagValues(cfg config) error {
	var problems error
	positive := func(setting string, ok bool) {
		if !ok {
			problems = errors.Join(problems, fmt.Errorf("%s must be positive", setting))
		}
	}
	positive("-max-depth (GRAPHQL_MAX_DEPTH)", cfg.limits.MaxDepth > 0)
	positive("-max-complexity (GRAPHQL_MAX_COMPLEXITY)", cfg.limits.MaxComplexity > 0)
	positive("-max-aliases (GRAPHQL_MAX_ALIASES)", cfg.limits.MaxAliases > 0)
	positive("-max-fields (GRAPHQL_MAX_FIELDS)", cfg.limits.MaxFields > 0)
	positive("-max-tokens (GRAPHQL_MAX_TOKENS)", cfg.limits.MaxTokens > 0)
	positive("-max-body-bytes (GRAPHQL_MAX_BODY_BYTES)", cfg.limits.MaxBodyBytes > 0)
	positive("-apq-cache-size (APQ_CACHE_SIZE)", cfg.apqCacheSize > 0)
	positive("-max-connections (MAX_CONNECTIONS)", cfg.maxConnections > 0)
	positive("-max-concurrency (UPSTREAM_MAX_CONCURRENCY)", cfg.maxConcurrency > 0)
	positive("-max-concurrency-per-request (UPSTREAM_MAX_CONCURRENCY_PER_REQUEST)", cfg.maxConcurrencyPerRequest > 0)
	positive("-upstream-timeout (UPSTREAM_TIMEOUT)", cfg.upstreamTimeout > 0)
	positive("-upstream-breaker-failures (UPSTREAM_BREAKER_FAILURES)", cfg.breaker.failures > 0)
	positive("-upstream-breaker-cooldown (UPSTREAM_BREAKER_COOLDOWN)", cfg.breaker.cooldown > 0)
	positive("-demo-customers (DEMO_CUSTOMERS)", cfg.demoCustomers > 0)
	if cfg.cacheTTL < 0 {
		problems = errors.Join(problems, fmt.Errorf("-upstream-cache-ttl (UPSTREAM_CACHE_TTL) must not be negative"))
	}
	if cfg.upstreamRetries < 0 || cfg.upstreamRetries > maxUpstreamRetries {
		problems = errors.Join(problems, fmt.Errorf("-upstream-retries (UPSTREAM_RETRIES) must be from 0 to %d", maxUpstreamRetries))
	}
	return problems
}
