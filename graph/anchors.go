package graph

import (
	"context"

	"github.com/waldur-quotas/gateway/graph/model"
	"github.com/waldur-quotas/gateway/paging"
	"github.com/waldur-quotas/gateway/upstream"
)

// Cursors that point at rows (version 2, package paging) survive a list that
// changes between pages. The window is fetched exactly as for a position, and
// the rows next to the cursor's place show whether anything moved: an after
// cursor's window begins with the row that followed the cursor's row (a
// before cursor's ends with the one that preceded it). Only when the cursor's
// row moved out of what came back does one more request look on that side,
// within the window's bounds; place then turns each cursor into the position
// of its row, wherever it moved, or, when it is gone or has changed, the
// position its neighbours or its key give it.

// anchored reports whether a cursor points at a row rather than a position.
func (q quotaQuery) anchored() bool { return q.afterAnchor != nil || q.beforeAnchor != nil }

// positionsOnly drops the anchors: a selection without rows costs no GET, so
// its cursors can only be positions.
func (q quotaQuery) positionsOnly() quotaQuery {
	q.afterAnchor, q.beforeAnchor = nil, nil
	return q
}

// side is where rows are missing: before or after those fetched.
type side int

const (
	noSide side = iota
	sideBefore
	sideAfter
)

// place returns q with its anchored cursors turned into positions in the list
// f fetched, and the side of f where the place of a cursor's row lies when f
// does not show it (that cursor then stays a position).
func (q quotaQuery) place(f fetched) (quotaQuery, side) {
	if !q.anchored() {
		return q, noSide
	}
	base, rows := f.run()
	ids := q.rowIDs(rows)
	need := noSide
	locate := func(c *paging.Cursor, a *paging.Anchor, after bool) *paging.Cursor {
		if a == nil {
			return c
		}
		at, how := paging.Locate(*c, *a, after, base, ids, f.total)
		switch how {
		case paging.Above:
			need = sideBefore
		case paging.Below:
			need = sideAfter
		}
		return &paging.Cursor{Offset: at, Total: f.total}
	}
	q.args.After = locate(q.args.After, q.afterAnchor, true)
	q.args.Before = locate(q.args.Before, q.beforeAnchor, false)
	return q.positionsOnly(), need
}

// probes are the offsets where the anchored cursors expect their rows.
func (q quotaQuery) probes() []paging.Probe {
	var out []paging.Probe
	if q.afterAnchor != nil {
		out = append(out, paging.Probe{Offset: q.args.After.Offset, Neighbour: q.afterAnchor.HasNext})
	}
	if q.beforeAnchor != nil {
		out = append(out, paging.Probe{Offset: q.args.Before.Offset, Before: true, Neighbour: q.beforeAnchor.HasPrev})
	}
	return out
}

// firstLook splits a plan of two requests for an anchored cursor: the one
// holding the row next to the cursor goes first, alone, and the other (rest)
// follows only when that row shows the cursor's row did not move away from
// its window; otherwise settle spends it on the side where the row went. On
// an unchanging list that is the very plan a position gets, one request after
// the other instead of both at once.
func (q quotaQuery) firstLook(reqs []paging.Request) (first, rest []paging.Request) {
	if !q.anchored() || len(reqs) < 2 {
		return reqs, nil
	}
	var edge int
	if q.afterAnchor != nil {
		edge = q.args.After.Offset + 1
	} else {
		edge = q.args.Before.Offset - 1
	}
	if reqs[1].Offset() <= edge {
		return reqs[1:], reqs[:1]
	}
	return reqs[:1], reqs[1:]
}

// settle places q's anchored cursors in f and returns the window to answer
// with. rest is what remains of the window's plan, not fetched yet. When the
// window lies beyond f, it fetches one request more, rest when that is on the
// window's side, else on the side where a cursor's row went if the window's
// bounds (b) leave room; a window f still does not cover then comes back
// shorter, with pageInfo exact, or, when f holds none of it, falls back to
// the cursors' positions.
func (r *queryResolver) settle(ctx context.Context, q quotaQuery, f fetched, rest []paging.Request, b bounds) (quotaQuery, fetched, paging.Window, error) {
	placed, need := q.place(f)
	fw := paging.Resolve(placed.args, f.total)
	if need == noSide && !f.covers(fw) {
		need = f.sideOf(fw)
		if _, ok := f.trim(fw); ok && (rest == nil || f.sideOfRequest(rest[0]) != need) {
			need = noSide // a shorter page, as far as f goes
		}
	}
	var more []paging.Request
	switch {
	case need == noSide:
	case rest != nil && f.sideOfRequest(rest[0]) == need:
		more = rest
	case b.gets > len(f.reqs):
		first, last := f.span()
		if req, ok := paging.Extend(first, last, f.total, b.rows-f.rowsFetched(), need == sideBefore); ok {
			more = []paging.Request{req}
		}
	}
	if more != nil {
		g, err := r.fetch(ctx, q, more)
		switch {
		case upstream.KindOf(err) == upstream.PageNotFound:
			// The list shrank since f: answer from f alone.
		case err != nil:
			return q, f, fw, err
		default:
			f = f.merge(g)
			placed, _ = q.place(f)
			fw = paging.Resolve(placed.args, f.total)
		}
	}
	if f.covers(fw) {
		return placed, f, fw, nil
	}
	if tw, ok := f.trim(fw); ok {
		return placed, f, tw, nil
	}
	// The row moved further than the bounds let us look: the cursors are
	// positions, as a version-1 cursor would be.
	q = q.positionsOnly()
	fw = paging.Resolve(q.args, f.total)
	if tw, ok := f.trim(fw); ok {
		fw = tw
	}
	return q, f, fw, nil
}

// empty answers a window that is empty by position. An after cursor whose row
// had rows after it when it was issued but now stands at or past the end of
// a list that shrank may simply have moved up: the rows that followed it are
// then still there, so the last rows of the list are fetched (as many as the
// page asks for) and the cursor placed in them like any other. spent is the
// GETs this window has already made (a re-plan's): the look only gets what
// the window's bound leaves.
func (r *queryResolver) empty(ctx context.Context, q quotaQuery, need needs, w paging.Window, total, spent int) (*model.CustomerQuotaConnection, error) {
	c := q.args.After
	if !need.rows || q.afterAnchor == nil || q.args.Before != nil || total == 0 || c.Offset+1 >= c.Total {
		return q.build(w, nil, 0, total, need), nil
	}
	// As many rows as the page's counts ask for, from the list's end.
	n := paging.Resolve(paging.Args{First: q.args.First, Last: q.args.Last}, total).Len()
	look := paging.Window{Start: total - n, End: total}
	gets := maxWindowGets - spent
	if n == 0 {
		return q.build(w, nil, 0, total, need), nil
	}
	reqs := paging.PlanAround(look, q.probes(), total)
	if len(reqs) > gets {
		return q.build(w, nil, 0, total, need), nil
	}
	f, err := r.fetch(ctx, q, reqs)
	switch {
	case upstream.KindOf(err) == upstream.PageNotFound:
		return q.build(w, nil, 0, total, need), nil // shrank again: nothing to show
	case err != nil:
		return nil, upstreamError(ctx, err)
	}
	return r.answer(ctx, q, need, f, nil, bounds{gets: gets, rows: 2 * look.Len(), replanned: spent > 0})
}

// rowIDs is what paging's lookup needs of rows, keyed by q's order.
func (q quotaQuery) rowIDs(rows []upstream.Row) []paging.RowID {
	ids := make([]paging.RowID, len(rows))
	for i, r := range rows {
		ids[i] = paging.RowID{Name: r.CustomerName, Abbreviation: r.CustomerAbbreviation}
		if q.ordering == upstream.OrderByName {
			ids[i].Key = paging.NameKey(r.CustomerName)
		} else {
			ids[i].Key = paging.ValueKey(r.Value)
		}
	}
	return ids
}

// span is the range of offsets f's requests cover, [first, last).
func (f fetched) span() (first, last int) {
	a, z := f.reqs[0], f.reqs[len(f.reqs)-1]
	return a.Offset(), z.Offset() + z.PageSize
}

// run is every row f fetched, in list order, and the offset of the first.
func (f fetched) run() (int, []upstream.Row) {
	first, last := f.span()
	w := paging.Window{Start: first, End: last}
	return w.Start, paging.Slice(w, f.reqs, f.pages)
}

// window is the rows of window w that f fetched, with the row just before
// them (lead 1) and the one just after them when f holds those too.
func (f fetched) window(w paging.Window) (rows []upstream.Row, lead int) {
	in := f.slice(w)
	base, run := f.run()
	i := w.Start - base
	if i < 0 || i > len(run) || len(run)-i < len(in) {
		return in, 0 // a gap in what f holds: the window's rows alone
	}
	lead = min(i, 1)
	return run[i-lead : min(len(run), i+len(in)+1)], lead
}

// rowsFetched is how many rows f's pages hold in a list of f.total rows.
func (f fetched) rowsFetched() int {
	n := 0
	for _, r := range f.reqs {
		n += max(min(r.Offset()+r.PageSize, f.total)-r.Offset(), 0)
	}
	return n
}

// merge adds g, one request next to f's, keeping the requests in list order
// and f's total: the window was placed with it.
func (f fetched) merge(g fetched) fetched {
	out := fetched{total: f.total}
	if g.reqs[0].Offset() < f.reqs[0].Offset() {
		out.reqs, out.pages = append(g.reqs, f.reqs...), append(g.pages, f.pages...)
	} else {
		out.reqs, out.pages = append(f.reqs, g.reqs...), append(f.pages, g.pages...)
	}
	return out
}

// sideOf is the side of f where window w's fixed edge lies (its start, or for
// a window counted back from its end, its end).
func (f fetched) sideOf(w paging.Window) side {
	first, _ := f.span()
	if w.Start < first {
		return sideBefore
	}
	return sideAfter
}

// sideOfRequest is the side of f where request r lies.
func (f fetched) sideOfRequest(r paging.Request) side {
	if first, _ := f.span(); r.Offset() < first {
		return sideBefore
	}
	return sideAfter
}

// trim cuts window w to the rows f fetched, keeping the edge the cursors fix
// (its start, or for a window counted back from its end, its end). When a
// cursor's row moved further than could be looked at, the page comes back
// shorter than asked, with pageInfo exact, rather than costing another round.
func (f fetched) trim(w paging.Window) (paging.Window, bool) {
	first, last := f.span()
	t := paging.Window{Start: max(w.Start, first), End: min(w.End, last)}
	if t.Len() <= 0 || (t.Start != w.Start && t.End != w.End) {
		return w, false
	}
	return t, true
}
