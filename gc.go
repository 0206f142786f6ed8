package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the gateway's GOGC unless the environment sets one.
// Its live heap is small (a few MiB besides the caches) and every request
// allocates: at Go's default of 100 the collector ran so often that it and
// the allocator's assists took about a fifth of the CPU under load. At 200 it
// runs half as often, for a few MiB more (see `make load`'s peak RSS); a
// deployment short of memory sets GOGC or GOMEMLIMIT itself.
const defaultGCPercent = 200

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
