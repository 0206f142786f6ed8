package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

const apqQuery = `{ customerQuotas(quotaName: "os_storage_size", first: 1) { totalCount } }`

// A persisted-query hash that is not the hash of the query sent with it is a
// malformed request, not a document error: 400 whatever the media type, as for
// every BAD_REQUEST, and nothing is registered or run.
func TestAPQHashMismatchIs400(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	wrong := sha256Hex(`{ __typename }`)
	for _, accept := range []string{mediaGQL, mediaJSON, ""} {
		r := h.postJSON(accept, map[string]any{"query": apqQuery, "extensions": persisted(wrong)})
		wantBadRequest(t, "POST, Accept "+accept, r)

		ext, _ := json.Marshal(persisted(wrong))
		req := h.request(http.MethodGet, "/query?"+url.Values{"query": {apqQuery}, "extensions": {string(ext)}}.Encode(), "")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		wantBadRequest(t, "GET, Accept "+accept, h.do(req))
	}
	if calls := h.takeCalls(); len(calls) != 0 {
		t.Errorf("a mismatched hash reached Waldur: %+v", calls)
	}
	// Neither hash was registered by the mismatched pair.
	for _, hash := range []string{wrong, sha256Hex(apqQuery)} {
		r := h.postJSON(mediaJSON, map[string]any{"extensions": persisted(hash)})
		if r.code() != "PERSISTED_QUERY_NOT_FOUND" {
			t.Errorf("hash %s: %s", hash, r.Body)
		}
	}
}

// The other malformed persisted-query extensions are request errors alike.
func TestAPQMalformedExtensionIs400(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	for _, ext := range []any{
		map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": sha256Hex(apqQuery)}},
		map[string]any{"persistedQuery": "x"},
	} {
		for _, accept := range []string{mediaGQL, mediaJSON, ""} {
			r := h.postJSON(accept, map[string]any{"query": apqQuery, "extensions": ext})
			wantBadRequest(t, "Accept "+accept, r)
		}
	}
}

// An unknown hash is not malformed: it is how Apollo's persisted-query link
// asks. It keeps the status of other document errors (200 under
// application/json, 400 under graphql-response+json), the code and the
// message the link retries on; the retry with the query then answers.
func TestAPQNotFoundKeepsApolloFlow(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	hash := sha256Hex(apqQuery)
	for accept, status := range map[string]int{mediaGQL: http.StatusBadRequest, mediaJSON: http.StatusOK, "": http.StatusOK} {
		r := h.postJSON(accept, map[string]any{"extensions": persisted(hash)})
		if r.Status != status || r.hasData() || r.code() != "PERSISTED_QUERY_NOT_FOUND" ||
			len(r.Errors) != 1 || r.Errors[0].Message != "PersistedQueryNotFound" {
			t.Errorf("Accept %q: status %d (want %d): %s", accept, r.Status, status, r.Body)
		}
	}
	r := h.postJSON(mediaGQL, map[string]any{"query": apqQuery, "extensions": persisted(hash)})
	if r.Status != http.StatusOK || len(r.Errors) != 0 || !r.hasData() {
		t.Fatalf("registering: status %d: %s", r.Status, r.Body)
	}
	r = h.postJSON(mediaGQL, map[string]any{"extensions": persisted(hash)})
	if r.Status != http.StatusOK || len(r.Errors) != 0 || !r.hasData() {
		t.Errorf("by hash: status %d: %s", r.Status, r.Body)
	}
}

func wantBadRequest(t *testing.T, what string, r gqlResponse) {
	t.Helper()
	if r.Status != http.StatusBadRequest || r.hasData() || len(r.Errors) != 1 || r.code() != "BAD_REQUEST" {
		t.Errorf("%s: want a 400 BAD_REQUEST without data, got status %d: %s", what, r.Status, r.Body)
	}
}
