package graph

import (
	"github.com/waldur-quotas/gateway/paging"
	"github.com/waldur-quotas/gateway/upstream"
)

// Cursors that point at rows (version 2, package paging) survive a list that
// changes between pages: the plan fetches a little around where each cursor
// expects its row, and place turns each cursor into the position of its row in
// what came back, wherever the row has moved to, or, when it is gone or has
// changed, the position its sort key gives it.

// anchored reports whether a cursor points at a row rather than a position.
func (q quotaQuery) anchored() bool { return q.afterAnchor != nil || q.beforeAnchor != nil }

// positionsOnly drops the anchors: a selection without rows costs no GET, so
// its cursors can only be positions.
func (q quotaQuery) positionsOnly() quotaQuery {
	q.afterAnchor, q.beforeAnchor = nil, nil
	return q
}

// probes are the offsets where the anchored cursors expect their rows.
func (q quotaQuery) probes() []paging.Probe {
	var out []paging.Probe
	if q.afterAnchor != nil {
		out = append(out, paging.Probe{Offset: q.args.After.Offset})
	}
	if q.beforeAnchor != nil {
		out = append(out, paging.Probe{Offset: q.args.Before.Offset, Before: true})
	}
	return out
}

// place returns q with its anchored cursors turned into positions in the list
// f fetched: an after cursor becomes its row's position (or the one before
// its key's place), a before cursor its row's position (or its key's place).
func (q quotaQuery) place(f fetched) quotaQuery {
	if !q.anchored() {
		return q
	}
	base, rows := f.run()
	ids := q.rowIDs(rows)
	if a := q.afterAnchor; a != nil {
		at, how := paging.Locate(*q.args.After, *a, base, ids)
		if how == paging.ByKey {
			at-- // the row at the key's place is the first after the gone row
		}
		q.args.After = &paging.Cursor{Offset: at, Total: f.total}
	}
	if a := q.beforeAnchor; a != nil {
		at, _ := paging.Locate(*q.args.Before, *a, base, ids)
		q.args.Before = &paging.Cursor{Offset: at, Total: f.total}
	}
	return q.positionsOnly()
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

// run is every row f fetched, in list order, and the offset of the first.
func (f fetched) run() (int, []upstream.Row) {
	first, last := f.reqs[0], f.reqs[len(f.reqs)-1]
	w := paging.Window{Start: first.Offset(), End: last.Offset() + last.PageSize}
	return w.Start, paging.Slice(w, f.reqs, f.pages)
}

// trim cuts window w to the rows f fetched, keeping the edge the cursors fix
// (its start, or for a window counted back from its end, its end). When a
// cursor's row moved further than the plan's margin the page comes back
// shorter than asked, with pageInfo exact, rather than costing another round.
func (f fetched) trim(w paging.Window) (paging.Window, bool) {
	first, last := f.reqs[0], f.reqs[len(f.reqs)-1]
	t := paging.Window{Start: max(w.Start, first.Offset()), End: min(w.End, last.Offset()+last.PageSize)}
	if t.Len() <= 0 || (t.Start != w.Start && t.End != w.End) {
		return w, false
	}
	return t, true
}
