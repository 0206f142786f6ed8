package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// Waldur's docs and clients spell the base URL with /api/; the gateway
// must not turn it into /api/api/customer-quotas/.
func TestEndpointURLAcceptsWaldursSpellings(t *testing.T) {
	for base, want := range map[string]string{
		"https://waldur.example.com/api":                        "https://waldur.example.com/api/customer-quotas/",
		"https://waldur.example.com/api/":                       "https://waldur.example.com/api/customer-quotas/",
		"https://waldur.example.com/api/customer-quotas/":       "https://waldur.example.com/api/customer-quotas/",
		"https://waldur.example.com/api/customer-quotas":        "https://waldur.example.com/api/customer-quotas/",
		"http://127.0.0.1:8000/waldur/api/":                     "http://127.0.0.1:8000/waldur/api/customer-quotas/",
		"http://127.0.0.1:8000/waldur/api/customer-quotas/":     "http://127.0.0.1:8000/waldur/api/customer-quotas/",
		"https://waldur.example.com/apis":                       "https://waldur.example.com/apis/api/customer-quotas/",
		"https://waldur.example.com/api/v2":                     "https://waldur.example.com/api/v2/api/customer-quotas/",
		"https://waldur.example.com":                            "https://waldur.example.com/api/customer-quotas/",
		"https://waldur.example.com/portal/api/customer-quotas": "https://waldur.example.com/portal/api/customer-quotas/",
	} {
		got, err := endpointURL(base)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", base, got, err, want)
		}
		if err := CheckBaseURL(base); err != nil {
			t.Errorf("CheckBaseURL(%q): %v", base, err)
		}
	}
	for _, bad := range []string{"", "waldur.example.com", "https://u:secret@waldur.example.com/api/"} {
		err := CheckBaseURL(bad)
		if err == nil {
			t.Errorf("CheckBaseURL(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckBaseURL(%q) repeats the credential: %v", bad, err)
		}
	}
}

// The client built from the /api/ spelling reaches the fake Waldur's endpoint
// over loopback, where /api/api/customer-quotas/ would be a 404.
func TestClientWithAPIRootBaseURL(t *testing.T) {
	srv := httptest.NewServer(fakewaldur.New(fakewaldur.Demo(25, 1)))
	defer srv.Close()
	for _, base := range []string{srv.URL + "/api/", srv.URL + "/api", srv.URL + "/api/customer-quotas/"} {
		c, err := New(base, WithDefaultToken(fakewaldur.DemoStaffToken), WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.List(context.Background(), PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 1, PageSize: 5})
		if err != nil || p.Total != 25 || len(p.Rows) != 5 {
			t.Errorf("%s: total %d, %d rows, %v", base, p.Total, len(p.Rows), err)
		}
		total, err := c.Count(context.Background(), "os_cpu_count", OrderByValue)
		if err != nil || total != 25 {
			t.Errorf("%s: count %d, %v", base, total, err)
		}
	}
	// The fake itself answers 404 where the old joining pointed.
	resp, err := http.Get(srv.URL + "/api/api/customer-quotas/?quota_name=os_cpu_count")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/api/api/customer-quotas/: %d, want the fake's 404", resp.StatusCode)
	}
}
