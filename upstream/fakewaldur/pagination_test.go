package fakewaldur

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestPageSize(t *testing.T) {
	ts := newServer(t, New(Demo(1000, 1)))
	tests := []struct {
		pageSize string // "-" for absent
		want     int
	}{
		{"-", 10},
		{"25", 25},
		{"300", 300},
		{"301", 300},
		{"100000", 300},
		{"1000000000000000000000000", 300}, // Python ints do not overflow
		{"0", 10},
		{"-5", 10},
		{"abc", 10},
		{"2.5", 10},
		{"", 10},
		{" 20 ", 20}, // Python's int() strips whitespace
		{"1_0", 10},
		{"+7", 7},
	}
	for _, tt := range tests {
		t.Run(tt.pageSize, func(t *testing.T) {
			target := "/api/customer-quotas/?quota_name=os_cpu_count"
			if tt.pageSize != "-" {
				target += "&page_size=" + strings.ReplaceAll(tt.pageSize, " ", "%20")
			}
			res := get(t, ts, target, DemoStaffToken)
			if res.status != 200 {
				t.Fatalf("status %d", res.status)
			}
			if got := len(decodeRows(t, res.body)); got != tt.want {
				t.Errorf("rows = %d, want %d", got, tt.want)
			}
			if got := res.header.Get("X-Result-Count"); got != "1000" {
				t.Errorf("X-Result-Count = %s, want 1000", got)
			}
		})
	}
}

func TestPageNumber(t *testing.T) {
	// 1000 rows in pages of 300: 300, 300, 300, 100.
	ts := newServer(t, New(Demo(1000, 1)))
	tests := []struct {
		page     string
		status   int
		wantRows int
	}{
		{"1", 200, 300},
		{"3", 200, 300},
		{"4", 200, 100},
		{"last", 200, 100},
		{"", 200, 300},
		{"5", 404, 0},
		{"99999999999999999999999", 404, 0},
		{"0", 404, 0},
		{"-1", 404, 0},
		{"abc", 404, 0},
		{"1.0", 404, 0},
		{"LAST", 404, 0},
	}
	for _, tt := range tests {
		t.Run(tt.page, func(t *testing.T) {
			res := get(t, ts, "/api/customer-quotas/?quota_name=os_ram_size&page_size=300&page="+tt.page, DemoStaffToken)
			if tt.status == 404 {
				wantDetail(t, res, 404, "Invalid page.")
				if res.header.Get("Link") != "" || res.header.Get("X-Result-Count") != "" {
					t.Errorf("404 carries pagination headers: %v", res.header)
				}
				return
			}
			if res.status != tt.status {
				t.Fatalf("status %d, want %d", res.status, tt.status)
			}
			if got := len(decodeRows(t, res.body)); got != tt.wantRows {
				t.Errorf("rows = %d, want %d", got, tt.wantRows)
			}
		})
	}
}

func TestPagesSliceTheOrder(t *testing.T) {
	ts := newServer(t, New(fixture()))
	want := names(fixture().Rows(tokStaff, "os_cpu_count", ""))
	for page, from := range map[string]int{"1": 0, "2": 3, "3": 6, "last": 6} {
		res := get(t, ts, list+"&page_size=3&page="+page, tokStaff)
		got := names(decodeRows(t, res.body))
		if to := min(from+3, len(want)); strings.Join(got, "|") != strings.Join(want[from:to], "|") {
			t.Errorf("page %s = %q, want %q", page, got, want[from:to])
		}
	}
}

func TestLinkHeader(t *testing.T) {
	ts := newServer(t, New(fixture())) // 7 rows: pages of 2 give 4 pages
	host := strings.TrimPrefix(ts.URL, "http://")
	link := func(page int, rel string) string {
		// Other parameters are kept and, as DRF re-encodes them, sorted by key.
		return "<http://" + host + "/api/customer-quotas/?extra=&o=value&page=" + strconv.Itoa(page) +
			"&page_size=2&quota_name=os_cpu_count>; rel=\"" + rel + "\""
	}
	tests := []struct {
		page string
		want []string
	}{
		{"1", []string{link(1, "first"), link(2, "next"), link(4, "last")}},
		{"2", []string{link(1, "first"), link(1, "prev"), link(3, "next"), link(4, "last")}},
		{"3", []string{link(1, "first"), link(2, "prev"), link(4, "next"), link(4, "last")}},
		{"4", []string{link(1, "first"), link(3, "prev"), link(4, "last")}},
		{"last", []string{link(1, "first"), link(3, "prev"), link(4, "last")}},
	}
	for _, tt := range tests {
		t.Run(tt.page, func(t *testing.T) {
			res := get(t, ts, "/api/customer-quotas/?quota_name=os_cpu_count&page_size=2&o=value&extra&page="+tt.page, tokStaff)
			if got, want := res.header.Get("Link"), strings.Join(tt.want, ", "); got != want {
				t.Errorf("Link =\n%s\nwant\n%s", got, want)
			}
			if got := res.header.Get("X-Result-Count"); got != "7" {
				t.Errorf("X-Result-Count = %s, want 7", got)
			}
		})
	}
}

func TestLinkHeaderSchemeAndHost(t *testing.T) {
	ts := httptest.NewTLSServer(New(fixture()))
	defer ts.Close()
	res := do(t, ts, "GET", list+"&page_size=5", "Token "+tokStaff)
	want := "<" + ts.URL + "/api/customer-quotas/?page=1&page_size=5&quota_name=os_cpu_count>; rel=\"first\", " +
		"<" + ts.URL + "/api/customer-quotas/?page=2&page_size=5&quota_name=os_cpu_count>; rel=\"next\", " +
		"<" + ts.URL + "/api/customer-quotas/?page=2&page_size=5&quota_name=os_cpu_count>; rel=\"last\""
	if got := res.header.Get("Link"); got != want || !strings.HasPrefix(ts.URL, "https://") {
		t.Errorf("Link =\n%s\nwant\n%s", got, want)
	}

	// The host comes from the request's Host header, as Django's build_absolute_uri.
	res = serve(New(fixture()), http.MethodGet, "http://waldur.example.org"+list, "Token "+tokStaff)
	if got := res.header.Get("Link"); !strings.HasPrefix(got, "<http://waldur.example.org/api/customer-quotas/?page=1&") {
		t.Errorf("Link = %s, want URLs on waldur.example.org", got)
	}
}

func TestParsePythonInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"42", 42, true}, {"+42", 42, true}, {"-42", -42, true}, {" 7\t", 7, true}, {"007", 7, true},
		{"1_000", 1000, true}, {"1__0", 0, false}, {"_1", 0, false}, {"1_", 0, false},
		{"", 0, false}, {"-", 0, false}, {"1.0", 0, false}, {"1e3", 0, false}, {"0x10", 0, false},
		{"99999999999999999999", 1<<63 - 1, true}, {"-99999999999999999999", -(1<<63 - 1), true},
	}
	for _, tt := range tests {
		if got, ok := parsePythonInt(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("parsePythonInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
