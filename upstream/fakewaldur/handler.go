package fakewaldur

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/waldur-quotas/gateway/upstream/waldurapi"
)

const (
	endpointPath = waldurapi.Path
	allowMethods = "GET, HEAD, OPTIONS"
)

// optionsBody is DRF's SimpleMetadata answer to OPTIONS for this view.
const optionsBody = `{"name":"Customer Quotas List","description":"List customer quotas.",` +
	`"renders":["application/json","text/html"],` +
	`"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"]}`

// Option configures a Handler.
type Option func(*Handler)

// WithShuffledTies makes each request order ties differently, from a random source
// seeded by seed. Real PostgreSQL does not promise an order among ties under
// LIMIT/OFFSET, so neighbouring pages may repeat or skip rows; this option lets tests
// prove the gateway copes. Without it, ties are ordered by Customer.ID ascending.
func WithShuffledTies(seed int64) Option {
	return func(h *Handler) {
		h.rng = rand.New(rand.NewPCG(uint64(seed), 0x5eed_f00d_cafe_d00d))
	}
}

// Handler serves GET /api/customer-quotas/ over a snapshot of a Dataset. It is safe
// for concurrent use. Change replaces the snapshot, as a live Waldur's data changes
// between requests.
type Handler struct {
	snap atomic.Pointer[snapshot]

	changeMu sync.Mutex // serialises Change

	rngMu sync.Mutex
	rng   *rand.Rand // nil unless WithShuffledTies
}

// snapshot is one state of the data, never modified once served; its orderings
// are computed on first use.
type snapshot struct {
	data  *Dataset
	known map[string]bool // quota names some customer has; all others read as 0

	mu     sync.Mutex
	orders map[orderKey]*orderCache
}

func newSnapshot(d *Dataset) *snapshot {
	s := &snapshot{data: d, known: make(map[string]bool), orders: make(map[orderKey]*orderCache)}
	for _, c := range d.Customers {
		for name := range c.Quotas {
			s.known[name] = true
		}
	}
	return s
}

// Change applies fn to a copy of the data served, then serves that copy to every
// later request; a request under way finishes on the data it started with.
func (h *Handler) Change(fn func(*Dataset)) {
	h.changeMu.Lock()
	defer h.changeMu.Unlock()
	d := h.snap.Load().data.clone()
	fn(d)
	h.snap.Store(newSnapshot(d))
}

// Rows is Dataset.Rows over the data served now: the reference list tests
// compare with.
func (h *Handler) Rows(token, quotaName, ordering string) []Row {
	return h.snap.Load().data.Rows(token, quotaName, ordering)
}

// orderKey names one cached ordering. Every unknown quota shares a single key (with
// an empty name), since all its values are 0: a load test asking for random quota
// names cannot grow the cache without bound.
type orderKey struct {
	quota  string
	known  bool
	byName bool
}

// orderCache holds one ordering of all customers, computed on first use.
type orderCache struct {
	once sync.Once
	list []entry
}

// New returns a Handler serving a deep copy of d; later changes to d do not affect it.
func New(d *Dataset, opts ...Option) *Handler {
	h := &Handler{}
	h.snap.Store(newSnapshot(d.clone()))
	for _, opt := range opts {
		opt(h)
	}
	return h
}

// ServeHTTP routes like Django would: the exact path runs the view, the path without
// its trailing slash is redirected (APPEND_SLASH, before any authentication), and
// anything else is not found.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case endpointPath:
		h.serveView(w, r)
	case endpointPath[:len(endpointPath)-1]:
		// Django's CommonMiddleware keeps the query string and answers a relative URL.
		loc := endpointPath
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		writeResponse(w, r, http.StatusMovedPermanently, "text/html; charset=utf-8", nil)
	default:
		writeDetail(w, r, http.StatusNotFound, "Not found.")
	}
}

// serveView is DRF's APIView.dispatch: authentication and permissions come first
// for every method (so an anonymous POST gets 401, not 405), then the method's
// handler. DRF stamps Allow and Vary on every response of the view.
func (h *Handler) serveView(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", allowMethods)
	w.Header().Set("Vary", "Accept")
	snap := h.snap.Load()
	user, aerr := authenticate(r.Header.Get("Authorization"), snap.data.Users)
	if aerr != nil {
		if aerr.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "Token")
		}
		writeDetail(w, r, aerr.status, aerr.detail)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.list(w, r, snap, user)
	case http.MethodOptions:
		writeResponse(w, r, http.StatusOK, contentTypeJSON, []byte(optionsBody))
	default:
		writeDetail(w, r, http.StatusMethodNotAllowed, `Method "`+r.Method+`" not allowed.`)
	}
}

// list answers GET and HEAD, checking quota_name, then o, then the page, as Waldur does.
func (h *Handler) list(w http.ResponseWriter, r *http.Request, snap *snapshot, user User) {
	q := r.URL.Query()
	quota, _ := lastParam(q, "quota_name")
	if quota == "" {
		writeResponse(w, r, http.StatusBadRequest, "", nil)
		return
	}
	o, _ := lastParam(q, "o")
	byName, ok := parseOrdering(o)
	if !ok {
		writeResponse(w, r, http.StatusBadRequest, "", nil)
		return
	}
	size := pageSize(q)

	rows := h.visible(snap, snap.ordered(quota, byName), user)
	if h.rng != nil {
		h.shuffleTies(snap, rows, byName)
	}
	pages := pageCount(len(rows), size)
	page, ok := pageNumber(q, pages)
	if !ok {
		writeDetail(w, r, http.StatusNotFound, "Invalid page.")
		return
	}
	start := (page - 1) * size
	end := min(start+size, len(rows))

	w.Header().Set("X-Result-Count", strconv.Itoa(len(rows)))
	w.Header().Set("Link", linkHeader(r, page, pages))
	body := appendRowsJSON(make([]byte, 0, 64+96*(end-start)), snap.data.Customers, rows[start:end])
	writeResponse(w, r, http.StatusOK, contentTypeJSON, body)
}

// ordered returns every customer in the endpoint's order for this quota, computing
// each ordering once. The result is shared and must not be modified.
func (s *snapshot) ordered(quota string, byName bool) []entry {
	key := orderKey{quota: quota, known: s.known[quota], byName: byName}
	if !key.known {
		key.quota = ""
	}
	s.mu.Lock()
	c := s.orders[key]
	if c == nil {
		c = &orderCache{}
		s.orders[key] = c
	}
	s.mu.Unlock()
	// Sorting happens outside s.mu so that one slow ordering does not hold up others.
	c.once.Do(func() { c.list = orderCustomers(s.data.Customers, quota, byName) })
	return c.list
}

// visible keeps what user may see. Staff get the shared list itself unless ties are
// shuffled, which reorders in place and so needs a private copy.
func (h *Handler) visible(snap *snapshot, list []entry, user User) []entry {
	if user.Staff {
		if h.rng == nil {
			return list
		}
		return append([]entry(nil), list...)
	}
	var out []entry
	for _, e := range list {
		if user.sees(snap.data.Customers[e.idx].ID) {
			out = append(out, e)
		}
	}
	return out
}

// shuffleTies puts every run of equal sort keys in a fresh random order. Only two
// numbers are drawn under the lock; the shuffling itself runs unlocked.
func (h *Handler) shuffleTies(snap *snapshot, rows []entry, byName bool) {
	h.rngMu.Lock()
	s1, s2 := h.rng.Uint64(), h.rng.Uint64()
	h.rngMu.Unlock()
	rng := rand.New(rand.NewPCG(s1, s2))
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && compareKeys(snap.data.Customers, rows[i], rows[j], byName) == 0 {
			j++
		}
		run := rows[i:j]
		rng.Shuffle(len(run), func(a, b int) { run[a], run[b] = run[b], run[a] })
		i = j
	}
}
