package graph

import (
	"context"
	"math"

	"golang.org/x/sync/errgroup"

	"github.com/waldur-quotas/gateway/graph/model"
	"github.com/waldur-quotas/gateway/paging"
	"github.com/waldur-quotas/gateway/upstream"
)

// unknownTotal stands for "no total known yet" when a window can be placed
// without one: paging forward from the top needs no total to plan page 1.
const unknownTotal = math.MaxInt32

// connection answers one customerQuotas field with the fewest upstream calls its
// selection allows: a HEAD when only the total matters, otherwise one or two
// concurrent GETs planned by package paging, plus a HEAD first when the window
// hangs from the end of the list (last without before).
//
// A total carried by a cursor plans the window without asking for one; the GET's
// X-Result-Count then confirms it. When the list changed in between (a stale
// hint, or a 404 for a page that no longer exists) the window is planned once
// more against the fresh total.
func (r *queryResolver) connection(ctx context.Context, q quotaQuery, need needs) (*model.CustomerQuotaConnection, error) {
	if need.none() {
		return &model.CustomerQuotaConnection{Edges: []*model.CustomerQuotaEdge{}, Nodes: []*model.CustomerQuota{}, PageInfo: &model.PageInfo{}}, nil
	}
	total, fresh := q.totalHint(), false
	if q.args.NeedsTotal() || !need.rows {
		n, err := r.Waldur.Count(ctx, q.quotaName, q.ordering)
		if err != nil {
			return nil, upstreamError(ctx, err)
		}
		total, fresh = n, true
	}
	for attempt := 0; ; attempt++ {
		w := paging.Resolve(q.args, total)
		if !need.rows || w.Len() == 0 {
			if !fresh {
				// The hint says the window is empty; only a fresh total can say so.
				n, err := r.Waldur.Count(ctx, q.quotaName, q.ordering)
				if err != nil {
					return nil, upstreamError(ctx, err)
				}
				total, fresh = n, true
				continue
			}
			return q.build(w, nil, total, need), nil
		}
		// A hint may be stale: were the list longer by now, a page planned as
		// the short last page would come back full, many times the rows
		// wanted. Only a fresh total may plan such a page.
		planTotal := total
		if !fresh {
			planTotal = max(total, unknownTotal)
		}
		reqs := paging.Plan(w, planTotal)
		pages, got, err := r.fetch(ctx, q, reqs)
		if upstream.KindOf(err) == upstream.PageNotFound && attempt == 0 {
			// The list shrank below the plan; learn its size and plan again.
			n, err := r.Waldur.Count(ctx, q.quotaName, q.ordering)
			if err != nil {
				return nil, upstreamError(ctx, err)
			}
			total, fresh = n, true
			continue
		}
		if err != nil {
			return nil, upstreamError(ctx, err)
		}
		if fw := paging.Resolve(q.args, got); covers(reqs, fw) || attempt > 0 {
			if !covers(reqs, fw) {
				// The list keeps changing under us: answer the window we fetched.
				fw = w
			}
			return q.build(fw, paging.Slice(fw, reqs, pages), got, need), nil
		}
		total, fresh = got, true
	}
}

// totalHint is the total a cursor carried when it was issued, or unknownTotal.
func (q quotaQuery) totalHint() int {
	switch {
	case q.args.Before != nil:
		return q.args.Before.Total
	case q.args.After != nil:
		return q.args.After.Total
	}
	return unknownTotal
}

// fetch runs a plan's requests concurrently and returns their rows in plan order
// with the total the first answer reported.
func (r *queryResolver) fetch(ctx context.Context, q quotaQuery, reqs []paging.Request) ([][]upstream.Row, int, error) {
	pages := make([][]upstream.Row, len(reqs))
	totals := make([]int, len(reqs))
	get := func(ctx context.Context, i int) error {
		p, err := r.Waldur.List(ctx, upstream.PageRequest{
			QuotaName: q.quotaName, Ordering: q.ordering, Page: reqs[i].Page, PageSize: reqs[i].PageSize,
		})
		pages[i], totals[i] = p.Rows, p.Total
		return err
	}
	if len(reqs) == 1 {
		err := get(ctx, 0)
		return pages, totals[0], err
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := range reqs {
		g.Go(func() error { return get(gctx, i) })
	}
	err := g.Wait()
	return pages, totals[0], err
}

// covers reports whether the requested pages span window w.
func covers(reqs []paging.Request, w paging.Window) bool {
	if w.Len() == 0 {
		return true
	}
	first, last := reqs[0], reqs[len(reqs)-1]
	return first.Offset() <= w.Start && w.End <= last.Offset()+last.PageSize
}

// build assembles the connection for window w of a list of total rows. rows is
// nil when the selection needs no row data; it may be shorter than w when the
// list shrank between the total and the rows, and the page then ends early.
func (q quotaQuery) build(w paging.Window, rows []upstream.Row, total int, need needs) *model.CustomerQuotaConnection {
	n := w.Len()
	if need.rows {
		n = min(n, len(rows))
	}
	conn := &model.CustomerQuotaConnection{
		Edges:      make([]*model.CustomerQuotaEdge, n),
		Nodes:      make([]*model.CustomerQuota, n),
		TotalCount: total,
		PageInfo: &model.PageInfo{
			HasPreviousPage: w.Start > 0,
			HasNextPage:     w.Start+n < total,
		},
	}
	nodes := make([]model.CustomerQuota, n)
	edges := make([]model.CustomerQuotaEdge, n)
	for i := range n {
		if need.rows {
			nodes[i] = model.CustomerQuota{
				CustomerName:         rows[i].CustomerName,
				CustomerAbbreviation: rows[i].CustomerAbbreviation,
				Value:                rows[i].Value,
			}
		}
		edges[i] = model.CustomerQuotaEdge{
			Cursor: paging.EncodeCursor(q.cursorScope, paging.Cursor{Offset: w.Start + i, Total: total}),
			Node:   &nodes[i],
		}
		conn.Edges[i], conn.Nodes[i] = &edges[i], &nodes[i]
	}
	if n > 0 {
		conn.PageInfo.StartCursor = &edges[0].Cursor
		conn.PageInfo.EndCursor = &edges[n-1].Cursor
	}
	return conn
}
