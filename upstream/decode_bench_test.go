package upstream

import (
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// BenchmarkDecodeRows measures reading a page of Waldur's rows, as the fake
// serves them, with -benchmem: go test -run '^$' -bench DecodeRows -benchmem ./upstream/
func BenchmarkDecodeRows(b *testing.B) {
	for _, size := range []int{10, 100} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", Path+"?quota_name=estimated_price&o=value&page=1&page_size="+strconv.Itoa(size), nil)
		req.Header.Set("Authorization", "Token "+fakewaldur.DemoStaffToken)
		fakewaldur.New(fakewaldur.Demo(1000, 1)).ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		b.Run(strconv.Itoa(size)+" rows", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeRows(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
