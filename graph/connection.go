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
// selection allows, in four steps:
//
//  1. total: a HEAD when the window hangs from the end of the list (last
//     without before) and this caller was told no total for it a moment ago,
//     when only the total matters, or when a cursor's total says the window
//     is empty; otherwise that recent total, or the cursor's (or none),
//     stands in, and the GET's X-Result-Count confirms it;
//  2. plan: one or two concurrent GETs, planned by package paging;
//  3. fetch them;
//  4. re-plan, at most once, when the answers prove the list changed since
//     step 1 (a 404 for a page that no longer exists, or a total whose window
//     the pages do not cover): plan again against what Waldur says now.
func (r *queryResolver) connection(ctx context.Context, q quotaQuery, need needs) (*model.CustomerQuotaConnection, error) {
	if need.none() {
		return &model.CustomerQuotaConnection{Edges: []*model.CustomerQuotaEdge{}, Nodes: []*model.CustomerQuota{}, PageInfo: &model.PageInfo{}}, nil
	}
	if !need.rows {
		q = q.positionsOnly()
	}
	total, fresh, err := r.total(ctx, q, need)
	if err != nil {
		return nil, upstreamError(ctx, err)
	}
	w := paging.Resolve(q.args, total)
	if !need.rows || w.Len() == 0 {
		// total is fresh here: step 1 counts whenever a hint says "empty".
		return r.empty(ctx, q, need, w, total, 0)
	}
	reqs := q.plan(w, total, fresh)
	first, rest := q.firstLook(reqs)
	f, err := r.fetch(ctx, q, first)
	switch {
	case upstream.KindOf(err) == upstream.PageNotFound:
		// A page past the end: the list shrank by an unknown number of rows.
		return r.replan(ctx, q, need, 0, false, len(first))
	case err != nil:
		return nil, upstreamError(ctx, err)
	}
	return r.answer(ctx, q, need, f, rest, bounds{gets: maxWindowGets, rows: 2 * w.Len()})
}

// maxWindowGets bounds the GETs of one window, as Plan does.
const maxWindowGets = 2

// bounds is one window's upstream budget: the GETs its fetched rows may come
// from, counting those already made, and the rows they may fetch; replanned
// when a second round was already spent.
type bounds struct {
	gets, rows int
	replanned  bool
}

// answer places the cursors in what f fetched and builds the connection; an
// anchored cursor may spend what is left of b on one more request (settle).
func (r *queryResolver) answer(ctx context.Context, q quotaQuery, need needs, f fetched, rest []paging.Request, b bounds) (*model.CustomerQuotaConnection, error) {
	if q.anchored() {
		placed, f, fw, err := r.settle(ctx, q, f, rest, b)
		if err != nil {
			return nil, upstreamError(ctx, err)
		}
		return placed.buildFrom(fw, f, need), nil
	}
	fw := paging.Resolve(q.args, f.total)
	if !f.covers(fw) {
		if b.replanned {
			// The list keeps changing under us: answer what was fetched.
			if tw, ok := f.trim(fw); ok {
				fw = tw
			}
			return q.buildFrom(fw, f, need), nil
		}
		// The list changed size, and the window it makes now lies beyond the pages.
		return r.replan(ctx, q, need, f.total, true, len(f.reqs))
	}
	return q.buildFrom(fw, f, need), nil
}

// replan is step 4: plan and fetch once more, against total when known, else
// against a fresh count, after spent GETs. It answers even if the list
// changed yet again.
func (r *queryResolver) replan(ctx context.Context, q quotaQuery, need needs, total int, known bool, spent int) (*model.CustomerQuotaConnection, error) {
	// The operation's memo still holds the answers just proven stale (the
	// first total, the 404): ask Waldur itself.
	ctx = upstream.Fresh(ctx)
	if !known {
		var err error
		if total, err = r.Waldur.Count(ctx, q.quotaName, q.ordering); err != nil {
			return nil, upstreamError(ctx, err)
		}
	}
	w := paging.Resolve(q.args, total)
	if w.Len() == 0 {
		return r.empty(ctx, q, need, w, total, spent)
	}
	reqs := q.plan(w, total, true)
	f, err := r.fetch(ctx, q, reqs)
	if err != nil {
		return nil, upstreamError(ctx, err)
	}
	return r.answer(ctx, q, need, f, nil, bounds{gets: max(maxWindowGets-spent, len(reqs)), rows: 2 * w.Len(), replanned: true})
}

// total is step 1: the total to plan with, and whether Waldur has just said
// so (fresh) or it is a cursor's hint, or unknownTotal.
func (r *queryResolver) total(ctx context.Context, q quotaQuery, need needs) (total int, fresh bool, err error) {
	if q.args.NeedsTotal() && need.rows {
		// A total this caller was told a moment ago plans the GET without
		// a HEAD first. Young enough to plan even a short last page with
		// (fresh), it is checked all the same: the GET's X-Result-Count
		// re-plans a window it moved. Only a total Waldur has just given
		// may say a window is empty, hence the HEAD for that.
		if n, ok := r.Waldur.RecentTotal(ctx, q.quotaName, q.ordering); ok && paging.Resolve(q.args, n).Len() > 0 {
			return n, true, nil
		}
	}
	hint := q.totalHint()
	// A window hanging from the end cannot be placed without the total, a
	// selection without rows wants nothing else, and only a fresh total may
	// say a window is empty.
	if q.args.NeedsTotal() || !need.rows || paging.Resolve(q.args, hint).Len() == 0 {
		n, err := r.Waldur.Count(ctx, q.quotaName, q.ordering)
		return n, true, err
	}
	return hint, false, nil
}

// plan is step 2: the requests for window w of a list of total rows.
func (q quotaQuery) plan(w paging.Window, total int, fresh bool) []paging.Request {
	if !fresh {
		// A hint may be stale: were the list longer by now, a page planned as
		// the short last page would come back full, many times the rows
		// wanted. Only a fresh total may plan such a page.
		total = max(total, unknownTotal)
	}
	if q.anchored() {
		return paging.PlanAround(w, q.probes(), total)
	}
	return paging.Plan(w, total)
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

// fetched is what one plan brought: its requests, the rows each returned,
// and the total the first answer reported.
type fetched struct {
	reqs  []paging.Request
	pages [][]upstream.Row
	total int
}

// covers reports whether the requested pages span window w.
func (f fetched) covers(w paging.Window) bool {
	if w.Len() == 0 {
		return true
	}
	first, last := f.reqs[0], f.reqs[len(f.reqs)-1]
	return first.Offset() <= w.Start && w.End <= last.Offset()+last.PageSize
}

// slice returns the fetched rows of window w, in order.
func (f fetched) slice(w paging.Window) []upstream.Row {
	return paging.Slice(w, f.reqs, f.pages)
}

// fetch is step 3: it runs a plan's requests concurrently.
func (r *queryResolver) fetch(ctx context.Context, q quotaQuery, reqs []paging.Request) (fetched, error) {
	f := fetched{reqs: reqs, pages: make([][]upstream.Row, len(reqs))}
	totals := make([]int, len(reqs))
	get := func(ctx context.Context, i int) error {
		p, err := r.Waldur.List(ctx, upstream.PageRequest{
			QuotaName: q.quotaName, Ordering: q.ordering, Page: reqs[i].Page, PageSize: reqs[i].PageSize,
		})
		f.pages[i], totals[i] = p.Rows, p.Total
		return err
	}
	var err error
	if len(reqs) == 1 {
		err = get(ctx, 0)
	} else {
		g, gctx := errgroup.WithContext(ctx)
		for i := range reqs {
			g.Go(func() error { return get(gctx, i) })
		}
		err = g.Wait()
	}
	f.total = totals[0]
	return f, err
}

// buildFrom assembles the connection for window w from the rows f fetched.
func (q quotaQuery) buildFrom(w paging.Window, f fetched, need needs) *model.CustomerQuotaConnection {
	rows, lead := f.window(w)
	return q.build(w, rows, lead, f.total, need)
}

// build assembles the connection for window w of a list of total rows. rows is
// nil when the selection needs no row data; rows[lead:] are the window's rows,
// and may be fewer than w holds when the list shrank between the total and the
// rows, the page then ending early. A row before them (lead 1) and one after
// them, when fetched, are not returned: they give the first and last cursors
// their neighbours, which is how the next page checks that nothing moved.
func (q quotaQuery) build(w paging.Window, rows []upstream.Row, lead, total int, need needs) *model.CustomerQuotaConnection {
	n := w.Len()
	if need.rows {
		n = min(n, len(rows)-lead)
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
	var ids []paging.RowID
	if need.rows {
		ids = q.rowIDs(rows[:min(len(rows), lead+n+1)])
	}
	for i := range n {
		if need.rows {
			r := rows[lead+i]
			nodes[i] = model.CustomerQuota{
				CustomerName:         r.CustomerName,
				CustomerAbbreviation: r.CustomerAbbreviation,
				Value:                r.Value,
			}
		}
		edges[i] = model.CustomerQuotaEdge{Cursor: q.cursor(w.Start+i, total, ids, lead+i), Node: &nodes[i]}
		conn.Edges[i], conn.Nodes[i] = &edges[i], &nodes[i]
	}
	if n > 0 {
		conn.PageInfo.StartCursor = &edges[0].Cursor
		conn.PageInfo.EndCursor = &edges[n-1].Cursor
	}
	return conn
}

// cursor is the cursor of the row at offset in a list of total rows: one that
// points at the row, ids[i], when the rows are at hand, else a position.
func (q quotaQuery) cursor(offset, total int, ids []paging.RowID, i int) string {
	c := paging.Cursor{Offset: offset, Total: total}
	if ids == nil {
		return paging.EncodeCursor(q.cursorScope, c)
	}
	return paging.EncodeAnchoredCursor(q.cursorScope, c, paging.AnchorOf(ids, i))
}
