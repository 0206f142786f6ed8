package httpapi_test

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The connection is written straight to JSON (graph/fastconnection.go) unless
// a router asks for the federated trace, when gqlgen's generated marshaller
// times every field. Both must give the same bytes for any selection:
// aliases, a repeated alias, fragments on each type, @skip/@include,
// __typename, null values and cursors, empty pages.
func TestConnectionIsWrittenAsGqlgenWouldWriteIt(t *testing.T) {
	h := newHarness(t)
	const fragments = `
fragment Row on CustomerQuota { __typename n: customerName customerAbbreviation value }
fragment Info on PageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }`
	for _, tc := range []struct{ name, query string }{
		{"everything", `query($q: String!, $o: CustomerQuotaOrderField) { customerQuotas(quotaName: $q, orderBy: $o, first: 7) {
			__typename totalCount pageInfo { ...Info } edges { __typename cursor node { ...Row } } nodes { ...Row } } }` + fragments},
		{"aliases, repeated and nested", `query($q: String!) { a: customerQuotas(quotaName: $q, last: 3) {
			t: totalCount t: totalCount e: edges { c: cursor node { x: value x: value name: customerName } }
			p: pageInfo { end: endCursor start: startCursor } } }`},
		{"skip and include", `query($q: String!, $yes: Boolean!, $no: Boolean!) { customerQuotas(quotaName: $q, first: 4) {
			totalCount @skip(if: $yes) pageInfo @include(if: $yes) { hasNextPage endCursor @include(if: $no) }
			nodes { customerName @skip(if: $no) value @include(if: $no) ... on CustomerQuota @include(if: $yes) { customerAbbreviation } } } }`},
		{"nulls: no value, no cursors on an empty page", `query { empty: customerQuotas(quotaName: "estimated_price", first: 0) {
			totalCount pageInfo { startCursor endCursor hasNextPage } edges { cursor } }
			priced: customerQuotas(quotaName: "estimated_price", orderBy: VALUE, last: 30) { nodes { customerName value } } }`},
		{"inline fragments", `query($q: String!) { customerQuotas(quotaName: $q, first: 2) {
			... on CustomerQuotaConnection { edges { ... on CustomerQuotaEdge { node { ... { customerName } } } } } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]any{"q": "os_storage_size", "o": "NAME", "yes": true, "no": false}
			direct := h.do(h.postRequest(staffAuth, tc.query, vars))
			req := h.postRequest(staffAuth, tc.query, vars)
			req.Header.Set("apollo-federation-include-trace", "ftv1")
			generated := h.do(req)
			if len(direct.Errors) > 0 || len(generated.Errors) > 0 || len(direct.Data) < 20 {
				t.Fatalf("errors: %+v / %+v: %s", direct.Errors, generated.Errors, direct.Body)
			}
			// The answer with a trace goes through encoding/json, which
			// HTML-escapes (& as \u0026); a plain answer is written as it is.
			var a, b bytes.Buffer
			json.HTMLEscape(&a, direct.Data)
			json.HTMLEscape(&b, generated.Data)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("written directly:\n%s\nby gqlgen:\n%s", direct.Data, generated.Data)
			}
		})
	}
}
