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
	// abandoned: the call failed because its owner's context ended (say, the
	// owner's sibling request failed and cancelled it). That says nothing of
	// the request itself, so waiters whose own context is live make it again.
	abandoned bool
}

type memo struct {
	mu    sync.Mutex
	calls map[callKey]*memoCall
}

// do returns the result of the call named key, performing it with fn unless
// an identical call has been made, or is under way, in this operation.
func (m *memo) do(ctx context.Context, key callKey, fn func(context.Context) (Page, error)) (Page, error) {
	for {
		call, owner := m.start(key)
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
		call.page, call.err = fn(ctx)
		if call.err != nil && ctx.Err() != nil {
			call.abandoned = true
			m.forget(key, call)
		}
		close(call.done)
		return call.page, call.err
	}
}

// start returns the call for key and whether the caller must perform it.
func (m *memo) start(key callKey) (*memoCall, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if call, ok := m.calls[key]; ok {
		return call, false
	}
	call := &memoCall{done: make(chan struct{})}
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
	return m.do(ctx, key, func(ctx context.Context) (Page, error) {
		page, err := c.list(ctx, req)
		if err == nil {
			m.remember(callKey{key.authorization, req.QuotaName, req.Ordering, 0, 0}, page.Total)
		}
		return page, err
	})
}

// remember records a total learnt from a GET, unless a HEAD is already under way.
func (m *memo) remember(key callKey, total int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.calls[key]; ok {
		return
	}
	call := &memoCall{done: make(chan struct{}), page: Page{Total: total}}
	close(call.done)
	m.calls[key] = call
}

func (m *memo) count(ctx context.Context, c *Client, quotaName string, ordering Ordering) (int, error) {
	key := callKey{c.authorization(ctx), quotaName, ordering, 0, 0}
	page, err := m.do(ctx, key, func(ctx context.Context) (Page, error) {
		total, err := c.count(ctx, quotaName, ordering)
		return Page{Total: total}, err
	})
	return page.Total, err
}
