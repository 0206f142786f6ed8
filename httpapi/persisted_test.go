package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/waldur-quotas/gateway/httpapi"
)

// The trusted documents of these tests: one named by the SHA-256 of its
// text (Apollo's default id), one by an id that is no hash at all.
const (
	trustedTotal = `query TrustedTotal($q: String!) { customerQuotas(quotaName: $q, first: 2) { totalCount nodes { customerName } } }`
	trustedNames = `query TrustedNames { customerQuotas(quotaName: "os_storage_size", first: 3) { nodes { customerName } } }`
	customID     = "names-v1"
)

// withPersistedDocuments loads manifest (written to a file, as
// PERSISTED_DOCUMENTS_FILE would name it) into the gateway's Config.
func withPersistedDocuments(t *testing.T, manifest any, only bool) harnessOption {
	t.Helper()
	data, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := httpapi.LoadPersistedDocuments(path)
	if err != nil {
		t.Fatalf("load the manifest: %v", err)
	}
	return withConfig(func(c *httpapi.Config) {
		c.PersistedDocuments = list
		c.PersistedDocumentsOnly = only
	})
}

func apolloManifest() map[string]any {
	return map[string]any{
		"format": "apollo-persisted-query-manifest", "version": 1,
		"operations": []map[string]any{
			{"id": sha256Hex(trustedTotal), "name": "TrustedTotal", "type": "query", "body": trustedTotal},
			{"id": customID, "name": "TrustedNames", "type": "query", "body": trustedNames},
		},
	}
}

var storageVars = map[string]any{"q": "os_storage_size"}

// byDocID sends Relay's way: doc_id beside the variables, no query.
func byDocID(h *harness, id string, vars map[string]any) gqlResponse {
	h.t.Helper()
	return h.postJSON("", map[string]any{"doc_id": id, "variables": vars})
}

func TestPersistedDocumentsRunByID(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff), withPersistedDocuments(t, apolloManifest(), false))
	want := h.post("", trustedTotal, storageVars)
	wantData(t, want)

	// Apollo's way, POST and GET: the id where an automatic persisted
	// query's hash goes, no text.
	for name, r := range map[string]gqlResponse{
		"POST sha256Hash": apqPost(h, "", sha256Hex(trustedTotal), storageVars),
		"GET sha256Hash":  apqGet(h, "", sha256Hex(trustedTotal), `{"q": "os_storage_size"}`),
		"POST doc_id":     byDocID(h, sha256Hex(trustedTotal), storageVars),
		"GET doc_id": h.get("", url.Values{"doc_id": {sha256Hex(trustedTotal)},
			"variables": {`{"q": "os_storage_size"}`}}),
	} {
		wantData(t, r)
		if string(r.Data) != string(want.Data) {
			t.Errorf("%s: %s, want %s", name, r.Data, want.Data)
		}
	}

	// An id that is no SHA-256 of its text is still the manifest's: it is
	// not checked, nor cached, as an automatic persisted query.
	for _, r := range []gqlResponse{apqPost(h, "", customID, nil), byDocID(h, customID, nil), apqPost(h, trustedNames, customID, nil)} {
		wantData(t, r)
	}
}

func TestPersistedDocumentsBesideAutomaticPersistedQueries(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff), withPersistedDocuments(t, apolloManifest(), false))
	// Without PERSISTED_DOCUMENTS_ONLY anything else still runs, and a hash
	// the manifest does not know is an automatic persisted query as before.
	wantData(t, h.post("", `{ customerQuotas(quotaName: "os_ram_size") { totalCount } }`, nil))
	const other = `query Other { customerQuotas(quotaName: "os_ram_size", first: 1) { totalCount } }`
	wantNotFound(t, apqPost(h, "", sha256Hex(other), nil), http.StatusOK)
	wantData(t, apqPost(h, other, sha256Hex(other), nil))
	wantData(t, apqPost(h, "", sha256Hex(other), nil))
	h.takeCalls()

	// doc_id is never an automatic persisted query.
	wantRefused(t, byDocID(h, sha256Hex(other), nil), http.StatusNotFound, "PERSISTED_QUERY_NOT_IN_LIST", sha256Hex(other))
	// An id with a text that is not its document is a contradiction.
	wantRefused(t, apqPost(h, trustedTotal, customID, storageVars), http.StatusBadRequest, "BAD_REQUEST", customID)
	h.wantNoUpstreamCalls(t, "the refused requests")
}

func TestPersistedDocumentsOnlyRefusesEverythingElse(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff), withPersistedDocuments(t, apolloManifest(), true),
		withConfig(func(c *httpapi.Config) { c.Introspection = true }))
	h.takeCalls()

	t.Run("by id", func(t *testing.T) {
		wantData(t, apqPost(h, "", sha256Hex(trustedTotal), storageVars))
		wantData(t, byDocID(h, customID, nil))
	})
	t.Run("a listed document sent as text, however it is spaced", func(t *testing.T) {
		wantData(t, h.post("", trustedTotal, storageVars))
		spaced := "# the same document\nquery TrustedTotal($q: String!)\n{\n  customerQuotas(quotaName: $q, first: 2) {\n    totalCount,\n    nodes { customerName }\n  }\n}\n"
		wantData(t, h.post("", spaced, storageVars))
	})
	h.takeCalls()

	const freeForm = `{ customerQuotas(quotaName: "os_storage_size", first: 100) { nodes { customerName value } } }`
	t.Run("free-form documents", func(t *testing.T) {
		for accept, status := range map[string]int{"": http.StatusForbidden, mediaGQL: http.StatusForbidden} {
			req := h.postRequest("", freeForm, nil)
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			wantRefused(t, h.do(req), status, "QUERY_NOT_IN_SAFELIST")
		}
		wantRefused(t, h.get("", url.Values{"query": {freeForm}}), http.StatusForbidden, "QUERY_NOT_IN_SAFELIST")
		// A listed text with a field more is another document.
		wantRefused(t, h.post("", trustedNames[:len(trustedNames)-4]+" value } } }", nil), http.StatusForbidden, "QUERY_NOT_IN_SAFELIST")
		// Invalid, or not even GraphQL: refused before it is parsed.
		wantRefused(t, h.post("", `{ nosuchfield }`, nil), http.StatusForbidden, "QUERY_NOT_IN_SAFELIST")
		wantRefused(t, h.post("", `{{{`, nil), http.StatusForbidden, "QUERY_NOT_IN_SAFELIST")
	})
	t.Run("unknown ids", func(t *testing.T) {
		wantRefused(t, apqPost(h, "", sha256Hex(freeForm), nil), http.StatusNotFound, "PERSISTED_QUERY_NOT_IN_LIST")
		wantRefused(t, apqGet(h, mediaGQL, sha256Hex(freeForm), ""), http.StatusNotFound, "PERSISTED_QUERY_NOT_IN_LIST")
		wantRefused(t, byDocID(h, "nope", nil), http.StatusNotFound, "PERSISTED_QUERY_NOT_IN_LIST", "nope")
	})
	t.Run("registering an automatic persisted query is no way in", func(t *testing.T) {
		wantRefused(t, apqPost(h, freeForm, sha256Hex(freeForm), nil), http.StatusForbidden, "QUERY_NOT_IN_SAFELIST")
		wantRefused(t, apqPost(h, "", sha256Hex(freeForm), nil), http.StatusNotFound, "PERSISTED_QUERY_NOT_IN_LIST")
	})
	t.Run("introspection passes while it is on", func(t *testing.T) {
		wantData(t, h.post("", `query IntrospectionQuery { __schema { queryType { name } } }`, nil))
		wantData(t, h.post("", `query { ...T } fragment T on Query { __typename __type(name: "Query") { name } }`, nil))
		// Not with data beside it.
		wantRefused(t, h.post("", `{ __typename customerQuotas(quotaName: "x") { totalCount } }`, nil), http.StatusForbidden, "QUERY_NOT_IN_SAFELIST")
		wantRefused(t, h.post("", `{ _service { sdl } }`, nil), http.StatusForbidden, "QUERY_NOT_IN_SAFELIST")
	})
	h.wantNoUpstreamCalls(t, "the refused requests")
}

func TestPersistedDocumentsOnlyWithoutIntrospection(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff), withPersistedDocuments(t, apolloManifest(), true)) // introspection off
	wantRefused(t, h.post("", `query IntrospectionQuery { __schema { queryType { name } } }`, nil), http.StatusForbidden, "QUERY_NOT_IN_SAFELIST")
	wantData(t, byDocID(h, customID, nil))
}

func TestPersistedDocumentsRelayFile(t *testing.T) {
	relay := map[string]string{"5f3a": trustedTotal, "9c1e": trustedNames}
	h := newHarness(t, withDefaultToken(demoStaff), withPersistedDocuments(t, relay, true))
	wantData(t, byDocID(h, "5f3a", storageVars))
	wantData(t, h.get("", url.Values{"doc_id": {"9c1e"}}))
	wantRefused(t, byDocID(h, "0000", nil), http.StatusNotFound, "PERSISTED_QUERY_NOT_IN_LIST")
	wantRefused(t, h.post("", `{ __typename customerQuotas(quotaName: "x") { totalCount } }`, nil), http.StatusForbidden, "QUERY_NOT_IN_SAFELIST")
}

func TestDocIDWithoutPersistedDocuments(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	wantRefused(t, byDocID(h, "5f3a", nil), http.StatusNotFound, "PERSISTED_QUERY_NOT_IN_LIST", "PERSISTED_DOCUMENTS_FILE")
	wantRefused(t, h.postJSON("", map[string]any{"doc_id": 7}), http.StatusBadRequest, "BAD_REQUEST", "doc_id")
}
