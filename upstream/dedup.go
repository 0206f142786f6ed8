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
}

type memo struct {
	mu    sync.Mutex
	calls map[callKey]*memoCall
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

func (m *memo) wait(ctx context.Context, call *memoCall) (Page, error) {
	select {
	case <-call.done:
		return call.page, call.err
	case <-ctx.Done():
		return Page{}, ctx.Err()
	}
}

func (m *memo) list(ctx context.Context, c *Client, req PageRequest) (Page, error) {
	key := callKey{c.authorization(ctx), req.QuotaName, req.Ordering, req.Page, req.PageSize}
	call, owner := m.start(key)
	if !owner {
		return m.wait(ctx, call)
	}
	call.page, call.err = c.list(ctx, req)
	close(call.done)
	if call.err == nil {
		m.remember(callKey{key.authorization, req.QuotaName, req.Ordering, 0, 0}, call.page.Total)
	}
	return call.page, call.err
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
	call, owner := m.start(key)
	if !owner {
		p, err := m.wait(ctx, call)
		return p.Total, err
	}
	call.page.Total, call.err = c.count(ctx, quotaName, ordering)
	close(call.done)
	return call.page.Total, call.err
}
