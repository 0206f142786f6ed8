package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// BenchmarkFirstPage measures one page of 10 rows through the whole gateway
// (HTTP, GraphQL, planning, resty, the fake Waldur over loopback) against the
// baseline of asking the fake Waldur for the same page directly. Compare the
// two in one run: ns/op differ from machine to machine, their ratio less so.
func BenchmarkFirstPage(b *testing.B) {
	h := newHarness(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	b.Run("baseline=waldur-direct", func(b *testing.B) {
		req, _ := http.NewRequest(http.MethodGet, h.waldur.URL+"/api/customer-quotas/?quota_name=os_storage_size&o=value&page=1&page_size=10", nil)
		req.Header.Set("Authorization", "Token "+demoStaff)
		for b.Loop() {
			drain(b, client, req.Clone(req.Context()), nil)
		}
	})
	for _, tc := range []struct{ name, query string }{
		{"gateway/first10", `{ customerQuotas(quotaName: "os_storage_size", first: 10) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { customerName customerAbbreviation value } } } }`},
		{"gateway/last10", `{ customerQuotas(quotaName: "os_storage_size", last: 10) { totalCount pageInfo { hasPreviousPage startCursor } edges { cursor node { customerName customerAbbreviation value } } } }`},
		{"gateway/first100", `{ customerQuotas(quotaName: "os_storage_size", first: 100) { totalCount nodes { customerName customerAbbreviation value } } }`},
		{"gateway/totalCount", `{ customerQuotas(quotaName: "os_storage_size") { totalCount } }`},
	} {
		body, _ := json.Marshal(map[string]string{"query": tc.query})
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				req := h.request(http.MethodPost, "/query", string(body))
				req.Header.Set("Content-Type", mediaJSON)
				req.Header.Set("Authorization", "Token "+demoStaff)
				drain(b, client, req, []byte(`"errors"`))
			}
		})
	}
}

func drain(b *testing.B, client *http.Client, req *http.Request, mustNotContain []byte) {
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || (mustNotContain != nil && bytes.Contains(body, mustNotContain)) {
		b.Fatalf("status %d: %s", resp.StatusCode, body)
	}
}
