package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waldur-quotas/gateway/graph"
	"github.com/waldur-quotas/gateway/internal/bytelru"
	"github.com/waldur-quotas/gateway/upstream"
)

// The response cache: with UPSTREAM_CACHE_TTL set, a dashboard asking the
// same question again and again is answered from the whole answer it got
// last time, without parsing, planning or marshalling again. It is keyed
// and bounded as the page cache is: per caller (the upstream client's caller
// digest, never the credential), by everything in the request that shapes
// the answer (method, Content-Type, Accept and the body or query string,
// hence the document, variables and operation name), in a byte-bounded LRU.
// A router asking for the federated trace (ftv1) passes it by: the trace in
// its answer's extensions is of that one execution.
// Only a 200 without errors is kept, never longer than the oldest page it
// was built from may be (see upstream.AnswerAge), and Cache-Control:
// no-cache asks past it, as past the page cache, replacing what it held.

const (
	// responseCacheBytes bounds the answers kept: a page of 100 rows
	// answers in about 15 KiB, so this holds a thousand such.
	responseCacheBytes = 16 << 20
	// maxCachedResponse: a larger answer is served but not kept.
	maxCachedResponse = 1 << 20
	// responseOverhead is what an entry holds besides its key and body: its
	// headers, the LRU's element and map slot.
	responseOverhead = 512
)

type responseCache struct {
	waldur       *upstream.Client
	ttl          time.Duration
	maxBodyBytes int64
	lru          *bytelru.Cache[cachedResponse]
	now          func() time.Time
}

type cachedResponse struct {
	header    http.Header
	body      []byte
	operation string // for the request's log line
	expires   time.Time
}

// withResponseCache caches next's answers as described above when the
// upstream cache is on; otherwise it is next.
func withResponseCache(waldur *upstream.Client, maxBodyBytes int64, next http.Handler) http.Handler {
	if waldur == nil || waldur.CacheTTL() <= 0 {
		return next
	}
	ttl := waldur.CacheTTL()
	cost := func(key string, r cachedResponse) int { return len(key) + len(r.body) + responseOverhead }
	rc := &responseCache{
		waldur: waldur, ttl: ttl, maxBodyBytes: maxBodyBytes, now: time.Now,
		lru: bytelru.New(responseCacheBytes/responseOverhead, responseCacheBytes, cost),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rc.serve(w, r, next) })
}

func (rc *responseCache) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Header.Get(graph.FederatedTraceHeader) != "" {
		next.ServeHTTP(w, r)
		return
	}
	key, ok := rc.key(r)
	if !ok {
		next.ServeHTTP(w, r)
		return
	}
	if !noCache(r.Header) {
		if e, ok := rc.lru.Get(r.Context(), key); ok && rc.now().Before(e.expires) {
			rc.replay(w, r, e)
			return
		}
	}
	start := rc.now()
	ctx, age := upstream.WithAnswerAge(r.Context())
	// What the layers outside have set (the request id, a CORS grant) belongs
	// to this request; only what the GraphQL server adds is the answer's.
	rec := &recordingWriter{ResponseWriter: w, before: w.Header().Clone()}
	next.ServeHTTP(rec, r.WithContext(ctx))
	if !rec.cacheable() {
		return
	}
	expires := start.Add(rc.ttl)
	oldest, known := age.Oldest()
	if !known {
		return
	}
	if !oldest.IsZero() && oldest.Add(rc.ttl).Before(expires) {
		expires = oldest.Add(rc.ttl)
	}
	if !rc.now().Before(expires) {
		return
	}
	e := cachedResponse{header: rec.header, body: rec.body.Bytes(), expires: expires}
	if s := statsFrom(r.Context()); s != nil {
		e.operation = s.snapshot().operation
	}
	rc.lru.Add(r.Context(), key, e)
}

func (rc *responseCache) replay(w http.ResponseWriter, r *http.Request, e cachedResponse) {
	if s := statsFrom(r.Context()); s != nil {
		s.answeredFromCache(e.operation)
	}
	h := w.Header()
	for k, v := range e.header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(e.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.body)
}

// key names the request for its caller: the caller's digest, then every
// part of the request that shapes the answer, each ended by a NUL (which no
// header holds), the body last. It leaves r's body to be read again, and is
// false for a body too large to be answered (which the transport refuses).
// The key holds the body itself rather than a hash of it: a map hashes it
// faster than SHA-256 would, and the bytes bound counts it.
func (rc *responseCache) key(r *http.Request) (string, bool) {
	var body []byte
	if r.Method == http.MethodPost && r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, rc.maxBodyBytes+1))
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		if err != nil || int64(len(body)) > rc.maxBodyBytes {
			return "", false
		}
	}
	var k strings.Builder
	parts := []string{rc.waldur.CallerDigest(r.Context()), r.Method, r.Header.Get("Content-Type"), r.Header.Get("Accept"), r.URL.RawQuery}
	n := len(body)
	for _, p := range parts {
		n += len(p) + 1
	}
	k.Grow(n)
	for _, p := range parts {
		k.WriteString(p)
		k.WriteByte(0)
	}
	k.Write(body)
	return k.String(), true
}

// recordingWriter passes an answer on and keeps a copy of it, while it is
// small enough to cache.
type recordingWriter struct {
	http.ResponseWriter
	status   int
	before   http.Header // the headers set before the answer began
	header   http.Header // those the answer added or changed
	body     bytes.Buffer
	tooLarge bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.header = http.Header{}
		for k, v := range w.ResponseWriter.Header() {
			if old, ok := w.before[k]; !ok || !slices.Equal(old, v) {
				w.header[k] = slices.Clone(v)
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.tooLarge {
		if w.body.Len()+len(b) > maxCachedResponse {
			w.tooLarge = true
			w.body = bytes.Buffer{}
		} else {
			w.body.Write(b)
		}
	}
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// cacheable: a whole 200 answer with data and no errors. An error's
// "errors" key cannot be mistaken for text in the data, where JSON escapes
// every quote.
func (w *recordingWriter) cacheable() bool {
	return w.status == http.StatusOK && !w.tooLarge && w.body.Len() > 0 &&
		!bytes.Contains(w.body.Bytes(), []byte(`"errors":`))
}
