package paging

// Extend plans the one request that fetches the rows next to [from, to), the
// rows already fetched of a list of total rows: on the side before them
// (before) or after them. It fetches at most budget rows, counting what the
// page really holds, and brings as many new rows as it can, then the fewest
// rows, ties going to the smaller page size. ok is false when no request fits
// or there is nothing on that side.
//
// It is the second look a cursor's row may need when the list changed under
// it: the first request is the window's own plan, exactly what a position
// costs, and only when that shows the row moved out of it does a second one
// follow, within what is left of the window's bounds.
func Extend(from, to, total, budget int, before bool) (r Request, ok bool) {
	bestNew, bestRows := 0, 0
	for p := 1; p <= MaxPageSize; p++ {
		var k, fresh, rows int
		if before {
			if from <= 0 {
				return Request{}, false
			}
			k = (from - 1) / p // the page holding the row just before from
			fresh, rows = from-k*p, min((k+1)*p, total)-k*p
		} else {
			if to >= total {
				return Request{}, false
			}
			k = to / p // the page holding the row at to
			fresh, rows = min((k+1)*p, total)-to, min((k+1)*p, total)-k*p
		}
		if rows > budget {
			continue
		}
		if fresh > bestNew || fresh == bestNew && rows < bestRows {
			r, bestNew, bestRows = Request{Page: k + 1, PageSize: p}, fresh, rows
		}
	}
	return r, bestNew > 0
}
