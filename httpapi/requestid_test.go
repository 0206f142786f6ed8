package httpapi_test

import (
	"strings"
	"testing"

	"github.com/waldur-quotas/gateway/upstream"
)

// A sane X-Request-Id from the caller is the request's ID: echoed in the
// answer, sent to Waldur on every attempt (a retried one too), and on the
// request's log line.
func TestRequestIDFromTheCaller(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withClientOptions(upstream.WithRetries(1)))
	seen := h.headersSeen(failFirstGET())

	const id = `lb-2c1f "edge" 42`
	req := h.postRequest(staffAuth, onePageQuery, map[string]any{"q": "os_storage_size"})
	req.Header.Set("X-Request-Id", id)
	r := h.do(req)
	wantData(t, r)
	if got := r.Header.Get("X-Request-Id"); got != id {
		t.Errorf("answer's X-Request-Id %q, want the caller's %q", got, id)
	}
	headers := seen()
	if len(headers) != 2 {
		t.Fatalf("want a failed attempt and its retry at Waldur, got %d requests", len(headers))
	}
	for i, hd := range headers {
		if got := hd.Get("X-Request-Id"); got != id {
			t.Errorf("attempt %d reached Waldur with X-Request-Id %q, want %q", i+1, got, id)
		}
	}
	if line := lastRequestIDs(t, h); line.RequestID != id {
		t.Errorf("request line request_id %q, want %q", line.RequestID, id)
	}
}

// An X-Request-Id that is too long or not printable ASCII, or none at all,
// is replaced by a new ID, used everywhere the caller's would have been.
func TestRequestIDReplaced(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seen := h.headersSeen(nil)
	given := map[string]string{
		"none":            "",
		"129 bytes":       strings.Repeat("a", 129),
		"a tab":           "a\tb",
		"not ASCII":       "zürich-1",
		"only 128 bytes*": strings.Repeat("b", 128), // kept: the bound is inclusive
	}
	ids := map[string]bool{}
	for name, sent := range given {
		before := len(seen())
		req := h.postRequest(staffAuth, onePageQuery, map[string]any{"q": "os_storage_size"})
		if sent != "" {
			req.Header.Set("X-Request-Id", sent)
		}
		r := h.do(req)
		wantData(t, r)
		got := r.Header.Get("X-Request-Id")
		keep := strings.HasSuffix(name, "*")
		switch {
		case keep && got != sent:
			t.Errorf("%s: answer's X-Request-Id %q, want the caller's", name, got)
		case !keep && (got == "" || got == sent || len(got) > 128):
			t.Errorf("%s: answer's X-Request-Id %q, want a new ID", name, got)
		}
		if ids[got] {
			t.Errorf("%s: ID %q given twice", name, got)
		}
		ids[got] = true
		for _, hd := range seen()[before:] {
			if hd.Get("X-Request-Id") != got {
				t.Errorf("%s: Waldur got X-Request-Id %q, the answer says %q", name, hd.Get("X-Request-Id"), got)
			}
		}
		if line := lastRequestIDs(t, h); line.RequestID != got {
			t.Errorf("%s: request line request_id %q, the answer says %q", name, line.RequestID, got)
		}
	}
}
