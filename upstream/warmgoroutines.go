package upstream

import (
	"sync"
	"time"

	"github.com/panjf2000/ants/v2"
)

// A shared call runs on a goroutine of its own (see coalesce.go). A fresh
// goroutine starts with a small stack, and a call to Waldur (the layers,
// resty, net/http's transport) runs deep enough to outgrow it several times:
// under load, copying those stacks as they grew was about 7% of the
// gateway's CPU. The calls therefore run on warm goroutines kept by ants, a
// well-kept goroutine pool, whose stacks have already grown.
//
// The pool has no bound of its own: the number of calls in flight is the
// number of distinct requests being answered, which the concurrency limit
// and the server's own limits already bound, and a call must never wait for
// a goroutine. Goroutines idle for a second are let go.

// warmPool is the process's one pool: a pool per Client would keep
// goroutines of its own (ants' clock and purger) for every Client a test
// makes.
var warmPool = sync.OnceValue(func() *ants.Pool {
	pool, err := ants.NewPool(-1, ants.WithExpiryDuration(time.Second))
	if err != nil {
		// Only an invalid size or expiry makes NewPool fail.
		panic("upstream: ants.NewPool: " + err.Error())
	}
	return pool
})

// runWarm runs f on a warm goroutine, or on a new one should the pool refuse
// (it does not while it is open, and it is never closed).
func runWarm(f func()) {
	if err := warmPool().Submit(f); err != nil {
		go f()
	}
}
