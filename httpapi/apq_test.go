package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/waldur-quotas/gateway/httpapi"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func persisted(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

// apqPost sends an APQ request: the query is left out when "".
func apqPost(h *harness, query, hash string, vars map[string]any) gqlResponse {
	h.t.Helper()
	params := map[string]any{"extensions": persisted(hash)}
	if query != "" {
		params["query"] = query
	}
	if vars != nil {
		params["variables"] = vars
	}
	body, err := json.Marshal(params)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.postRaw("", string(body))
}

func apqGet(h *harness, accept, hash string, vars string) gqlResponse {
	h.t.Helper()
	ext, _ := json.Marshal(persisted(hash))
	p := url.Values{"extensions": {string(ext)}}
	if vars != "" {
		p.Set("variables", vars)
	}
	return h.get(accept, p)
}

func wantNotFound(t *testing.T, r gqlResponse, status int) {
	t.Helper()
	wantRefused(t, r, status, "PERSISTED_QUERY_NOT_FOUND")
	if len(r.Errors) == 1 && r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Errorf("message %q, want PersistedQueryNotFound (Apollo's link matches on it)", r.Errors[0].Message)
	}
}

func TestAutomaticPersistedQueries(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	const query = `query APQ($n: Int) { customerQuotas(quotaName: "os_storage_size", first: $n) { totalCount nodes { customerName } } }`
	hash := sha256Hex(query)
	vars := map[string]any{"n": 2}

	// The first optimistic attempt: the hash is unknown.
	wantNotFound(t, apqPost(h, "", hash, vars), http.StatusOK)
	wantNotFound(t, apqGet(h, mediaGQL, hash, `{"n": 2}`), http.StatusBadRequest)
	if n := len(h.takeCalls()); n != 0 {
		t.Fatalf("an unknown hash made %d upstream requests", n)
	}

	// The retry with the query registers it and answers.
	r := apqPost(h, query, hash, vars)
	wantData(t, r)
	if got := r.customerQuotas(t).TotalCount; got != 300 {
		t.Errorf("totalCount %d, want 300", got)
	}

	// From now on the hash alone is enough, over POST and GET.
	r = apqPost(h, "", hash, vars)
	wantData(t, r)
	if got := r.customerQuotas(t).TotalCount; got != 300 {
		t.Errorf("POST by hash: totalCount %d", got)
	}
	for _, accept := range []string{mediaGQL, mediaJSON} {
		r = apqGet(h, accept, hash, `{"n": 1}`)
		wantData(t, r)
		if got := r.customerQuotas(t).TotalCount; got != 300 {
			t.Errorf("GET by hash: totalCount %d", got)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET by hash: Cache-Control %q", r.Header.Get("Cache-Control"))
		}
	}

	// A hash registered for one query is not another's.
	wantNotFound(t, apqPost(h, "", sha256Hex(query+" "), vars), http.StatusOK)
}

func TestAPQWrongHashRefused(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	const query = `{ customerQuotas(quotaName: "os_storage_size", first: 1) { totalCount } }`
	other := sha256Hex(`{ __typename }`)
	for _, accept := range []string{"", mediaGQL} {
		body, _ := json.Marshal(map[string]any{"query": query, "extensions": persisted(other)})
		r := h.postRaw(accept, string(body))
		if r.Status != http.StatusBadRequest || r.hasData() || len(r.Errors) != 1 || r.Errors[0].Message != "provided APQ hash does not match query" {
			t.Errorf("Accept %q: %s", accept, r)
		}
	}
	h.wantNoUpstreamCalls(t, "a wrong hash")
	// The mismatched pair registered nothing under either hash.
	wantNotFound(t, apqPost(h, "", other, nil), http.StatusOK)
	wantNotFound(t, apqPost(h, "", sha256Hex(query), nil), http.StatusOK)

	t.Run("carries a code", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"query": query, "extensions": persisted(other)})
		r := h.postRaw("", string(body))
		if r.code() == "" || r.code() == "INTERNAL_SERVER_ERROR" {
			t.Fatalf("the APQ hash-mismatch error (gqlgen's, raised before parsing) is the client's mistake "+
				"but carries code %q; want a request-error code such as BAD_REQUEST: %s", r.code(), r)
		}
		if r.code() != "BAD_REQUEST" {
			t.Errorf("code %q, want BAD_REQUEST", r.code())
		}
	})
}

func TestAPQBadExtension(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	for _, ext := range []string{
		`{"persistedQuery": {"version": 2, "sha256Hash": "00"}}`,
		`{"persistedQuery": "x"}`,
	} {
		r := h.postRaw(mediaGQL, `{"extensions": `+ext+`}`)
		if r.Status != http.StatusBadRequest || r.hasData() || len(r.Errors) != 1 {
			t.Errorf("%s: want a 400 request error, got %s", ext, r)
		}
	}
}

func TestAPQCacheIsBounded(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff), withConfig(func(c *httpapi.Config) { c.APQCacheSize = 2 }))
	queries := []string{
		`{ customerQuotas(quotaName: "os_storage_size", first: 1) { totalCount } }`,
		`{ customerQuotas(quotaName: "os_cpu_count", first: 1) { totalCount } }`,
		`{ customerQuotas(quotaName: "os_ram_size", first: 1) { totalCount } }`,
	}
	for _, q := range queries[:2] {
		wantData(t, apqPost(h, q, sha256Hex(q), nil))
	}
	// Both fit.
	for _, q := range queries[:2] {
		wantData(t, apqPost(h, "", sha256Hex(q), nil))
	}
	// A third evicts the least recently used: the first.
	wantData(t, apqPost(h, queries[2], sha256Hex(queries[2]), nil))
	wantNotFound(t, apqPost(h, "", sha256Hex(queries[0]), nil), http.StatusOK)
	for _, q := range queries[1:] {
		wantData(t, apqPost(h, "", sha256Hex(q), nil))
	}
	// Registering the first again works as at the start.
	wantData(t, apqPost(h, queries[0], sha256Hex(queries[0]), nil))
	wantData(t, apqPost(h, "", sha256Hex(queries[0]), nil))
}
