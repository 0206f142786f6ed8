package fakewaldur

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/waldur-quotas/gateway/upstream/waldurapi"
)

// Waldur's LinkHeaderPagination settings.
const (
	defaultPageSize = waldurapi.DefaultPageSize
	maxPageSize     = waldurapi.MaxPageSize
)

// lastParam returns the last value of a repeated query parameter, as Django's
// QueryDict does (Go's url.Values.Get returns the first).
func lastParam(q url.Values, key string) (string, bool) {
	vs := q[key]
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// pageSize reads page_size like DRF's _positive_int(strict=True, cutoff=300): values
// above 300 are clamped, and anything that is not a positive integer silently falls
// back to the default.
func pageSize(q url.Values) int {
	raw, ok := lastParam(q, "page_size")
	if !ok {
		return defaultPageSize
	}
	n, ok := parsePythonInt(raw)
	switch {
	case !ok || n <= 0:
		return defaultPageSize
	case n > maxPageSize:
		return maxPageSize
	}
	return int(n)
}

// pageNumber reads page like DRF's PageNumberPagination with Django's Paginator: an
// absent or empty page is 1, "last" is the last page, and anything not naming an
// existing page is refused (the caller answers 404 "Invalid page.").
func pageNumber(q url.Values, pages int) (int, bool) {
	raw, _ := lastParam(q, "page")
	switch raw {
	case "":
		return 1, true
	case "last":
		return pages, true
	}
	n, ok := parsePythonInt(raw)
	if !ok || n < 1 || n > int64(pages) {
		return 0, false
	}
	return int(n), true
}

// pageCount is Django's Paginator.num_pages with allow_empty_first_page: an empty
// result still has one (empty) page.
func pageCount(total, size int) int {
	return max(1, (total+size-1)/size)
}

// parsePythonInt accepts what Python's int(str) accepts for ASCII input: surrounding
// whitespace, a sign, and digits with single underscores between them ("1_000").
// Python integers do not overflow, so out-of-range values saturate: a page_size of
// 10^30 still clamps to 300 and a page of 10^30 is still past the end.
func parsePythonInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, false
	}
	var n uint64
	saturated := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			continue
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxInt64-uint64(c-'0'))/10 {
			saturated = true
			continue
		}
		n = n*10 + uint64(c-'0')
	}
	if saturated {
		n = math.MaxInt64
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// linkHeader builds Waldur's Link header: absolute URLs of the first, previous,
// next and last pages, each the request's URL with page replaced. Like DRF's
// replace_query_param, the query keeps every other parameter (blank ones too) and
// comes out sorted by key.
func linkHeader(r *http.Request, page, pages int) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost" // HTTP/1.0 without Host; Django would use SERVER_NAME
	}
	base := scheme + "://" + host + r.URL.EscapedPath() + "?"
	q := r.URL.Query()
	link := func(n int, rel string) string {
		q.Set("page", strconv.Itoa(n))
		return "<" + base + q.Encode() + `>; rel="` + rel + `"`
	}
	links := []string{link(1, "first")}
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < pages {
		links = append(links, link(page+1, "next"))
	}
	links = append(links, link(pages, "last"))
	return strings.Join(links, ", ")
}
