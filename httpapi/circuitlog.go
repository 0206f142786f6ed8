package httpapi

import (
	"context"
	"log/slog"
)

// CircuitLogger writes one line for each change of the upstream circuit
// breaker's state (pass it to upstream.WithCircuitObserver): a warning when
// it opens, since from then on callers are refused, and a note when it
// probes or closes. The breaker changes state a few times per cooldown at
// most, so these lines need no rate limit.
func CircuitLogger(logger *slog.Logger) func(from, to string) {
	return func(from, to string) {
		level := slog.LevelInfo
		if to == "open" {
			level = slog.LevelWarn
		}
		logger.LogAttrs(context.Background(), level, "waldur circuit breaker", slog.String("from", from), slog.String("to", to))
	}
}
