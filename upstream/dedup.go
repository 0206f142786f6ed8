package upstream

import (
	"context"
	"sync"
)

type memoKey struct{}

// WithDedup returns a context in which identical upstream requests share one
// call: aliased fields asking for the same page in one GraphQL operation cause a
// single request, and a HEAD for a total a GET already brought causes none.
// Install it once per operation, never across operations: what one caller
// fetched must not answer another.
func WithDedup(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{calls: make(map[callKey]*memoCall)})
}

func memoFrom(ctx context.Context) *memo {
	m, _ := ctx.Value(memoKey{}).(*memo)
	return m
}

type freshKey struct{}

// Fresh returns a context in which the operation's memo no longer answers with
// a call made before Fresh: a caller whose plan has proven the list changed (a
// page past its end, a total the pages contradict) must hear Waldur again, not
// the stale total or the cached 404 once more. Calls made under this context
// are shared as usual with the operation's later callers; but each Fresh opens
// an epoch of its own, so two aliases that both re-plan each ask Waldur once.
// Re-plans are rare (the list changed under the operation), and a shared
// fresh epoch would have to decide which staleness a call already answers.
//
// The cache (cache.go), below the memo, holds the same stale answers for
// longer: a Fresh context bypasses it too, and refreshes what it holds.
func Fresh(ctx context.Context) context.Context {
	ctx = WithCacheBypass(ctx)
	m := memoFrom(ctx)
	if m == nil {
		return ctx
	}
	return context.WithValue(ctx, freshKey{}, m.nextEpoch())
}

// notBefore is the oldest epoch whose calls may answer a caller with ctx.
func notBefore(ctx context.Context) uint64 {
	e, _ := ctx.Value(freshKey{}).(uint64)
	return e
}

// callKey names an upstream request. The credential is part of it so that even a
// misplaced memo could not serve one caller's rows to another.
type callKey struct {
	authorization string
	quotaName     string
	ordering      Ordering
	page          int // 0: the HEAD for the total
	pageSize      int
}

type memoCall struct {
	done chan struct{}
	page Page
	err  error
	// epoch is the memo's epoch when the call was made; see Fresh.
	epoch uint64
	// abandoned: the call failed because its owner's context ended (say, the
	// owner's sibling request failed and cancelled it). That says nothing of
	// the request itself, so waiters whose own context is live make it again.
	abandoned bool
}

type memo struct {
	mu    sync.Mutex
	calls map[callKey]*memoCall
	epoch uint64 // advanced by each Fresh
}

func (m *memo) nextEpoch() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.epoch++
	return m.epoch
}

// do returns the result of the call named key, performing it with fn unless
// an identical call has been made, or is under way, in this operation (and,
// under Fresh, since then). fn is given the epoch its result belongs to.
func (m *memo) do(ctx context.Context, key callKey, fn func(context.Context, uint64) (Page, error)) (Page, error) {
	for {
		call, owner := m.start(key, notBefore(ctx))
		if !owner {
			select {
			case <-call.done:
			case <-ctx.Done():
				return Page{}, ctx.Err()
			}
			if call.abandoned && ctx.Err() == nil {
				continue
			}
			return call.page, call.err
		}
		m.perform(ctx, key, call, fn)
		return call.page, call.err
	}
}

// perform makes call as its owner. Its waiters are woken however fn ends: were
// fn to panic, they would otherwise wait for their own deadlines, so they are
// told the call was abandoned and make it themselves while the panic goes on
// up to the recover of the owner's own field.
func (m *memo) perform(ctx context.Context, key callKey, call *memoCall, fn func(context.Context, uint64) (Page, error)) {
	finished := false
	defer func() {
		if !finished || (call.err != nil && ctx.Err() != nil) {
			call.abandoned = true
			m.forget(key, call)
		}
		close(call.done)
	}()
	call.page, call.err = fn(ctx, call.epoch)
	finished = true
}

// start returns the call for key and whether the caller must perform it. A
// call older than notBefore is replaced (its own waiters still get its result).
func (m *memo) start(key callKey, notBefore uint64) (*memoCall, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if call, ok := m.calls[key]; ok && call.epoch >= notBefore {
		return call, false
	}
	call := &memoCall{done: make(chan struct{}), epoch: m.epoch}
	m.calls[key] = call
	return call, true
}

// forget drops an abandoned call, so that the next caller makes it afresh.
func (m *memo) forget(key callKey, call *memoCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calls[key] == call {
		delete(m.calls, key)
	}
}

func (m *memo) list(ctx context.Context, c *Client, req PageRequest) (Page, error) {
	key := callKey{c.authorization(ctx), req.QuotaName, req.Ordering, req.Page, req.PageSize}
	return m.do(ctx, key, func(ctx context.Context, epoch uint64) (Page, error) {
		page, err := c.list(ctx, req)
		if err == nil {
			m.remember(callKey{key.authorization, req.QuotaName, req.Ordering, 0, 0}, page.Total, epoch)
		}
		return page, err
	})
}

// remember records a total learnt from a GET of the given epoch, unless a HEAD
// of that epoch or a later one is already recorded or under way.
func (m *memo) remember(key callKey, total int, epoch uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if call, ok := m.calls[key]; ok && call.epoch >= epoch {
		return
	}
	call := &memoCall{done: make(chan struct{}), page: Page{Total: total}, epoch: epoch}
	close(call.done)
	m.calls[key] = call
}

func (m *memo) count(ctx context.Context, c *Client, quotaName string, ordering Ordering) (int, error) {
	key := callKey{c.authorization(ctx), quotaName, ordering, 0, 0}
	page, err := m.do(ctx, key, func(ctx context.Context, _ uint64) (Page, error) {
		total, err := c.count(ctx, quotaName, ordering)
		return Page{Total: total}, err
	})
	return page.Total, err
}
