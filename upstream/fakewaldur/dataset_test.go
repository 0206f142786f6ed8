package fakewaldur

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
)

func TestRowsErrorsAndEmpty(t *testing.T) {
	d := fixture()
	for _, tt := range []struct{ name, token, quota, o string }{
		{"unknown token", "nope", "os_cpu_count", ""},
		{"forbidden", tokLegacy, "os_cpu_count", ""},
		{"inactive", tokInactive, "os_cpu_count", ""},
		{"empty quota", tokStaff, "", ""},
		{"bad ordering", tokStaff, "os_cpu_count", "-value"},
	} {
		if rows := d.Rows(tt.token, tt.quota, tt.o); rows != nil {
			t.Errorf("%s: Rows = %v, want nil", tt.name, rows)
		}
	}
	if rows := d.Rows(tokNobody, "os_cpu_count", ""); rows == nil || len(rows) != 0 {
		t.Errorf("nobody: Rows = %#v, want empty non-nil", rows)
	}
	want := []Row{
		{"Epsilon Group", "EG", Int(16)},
		{"Beta Institute", "", Int(8)},
		{"Gamma Labs", "GL", Int(0)},
	}
	if got := d.Rows(tokOwner, "os_cpu_count", "value"); !slices.Equal(got, want) {
		t.Errorf("owner rows = %v, want %v", got, want)
	}
}

// TestRowsEqualsAllPages is the contract the gateway's tests rely on: Rows is what
// fetching every page over HTTP yields, for any page size.
func TestRowsEqualsAllPages(t *testing.T) {
	d := Demo(1000, 1)
	ts := newServer(t, New(d))
	tests := []struct {
		token, quota, o string
		pageSizes       []int
	}{
		{DemoStaffToken, "os_storage_size", "", []int{7, 300}},
		{DemoStaffToken, "estimated_price", "value", []int{33, 300}},
		{DemoStaffToken, "nc_resource_count", "name", []int{300}},
		{DemoStaffToken, "not_a_quota", "", []int{300}},
		{DemoOwnerToken, "os_cpu_count", "", []int{1, 10, 300}},
		{DemoOwnerToken, "estimated_price", "name", []int{4, 300}},
		{DemoNobodyToken, "os_cpu_count", "", []int{10}},
	}
	for _, tt := range tests {
		want := d.Rows(tt.token, tt.quota, tt.o)
		if want == nil {
			t.Fatalf("Rows(%s, %s, %q) = nil", tt.token, tt.quota, tt.o)
		}
		for _, size := range tt.pageSizes {
			t.Run(fmt.Sprintf("%s/%s/%s/%d", tt.token, tt.quota, tt.o, size), func(t *testing.T) {
				got := fetchAll(t, ts, tt.token, "quota_name="+tt.quota+"&o="+tt.o+"&page_size="+strconv.Itoa(size))
				if !slices.Equal(got, want) {
					t.Errorf("pages (%d rows) differ from Rows (%d rows)", len(got), len(want))
				}
			})
		}
	}
}

// fetchAll follows pages until the last, checking X-Result-Count against the rows seen.
func fetchAll(t *testing.T, ts *httptest.Server, token, query string) []Row {
	t.Helper()
	var all []Row
	for page := 1; ; page++ {
		res := get(t, ts, "/api/customer-quotas/?"+query+"&page="+strconv.Itoa(page), token)
		if res.status != 200 {
			t.Fatalf("page %d: status %d", page, res.status)
		}
		all = append(all, decodeRows(t, res.body)...)
		total, err := strconv.Atoi(res.header.Get("X-Result-Count"))
		if err != nil {
			t.Fatal(err)
		}
		if len(all) >= total {
			if len(all) != total {
				t.Errorf("saw %d rows, X-Result-Count says %d", len(all), total)
			}
			if all == nil {
				all = []Row{}
			}
			return all
		}
	}
}

func TestTiesDeterministicByDefault(t *testing.T) {
	d := Demo(200, 5)
	ts := newServer(t, New(d))
	target := "/api/customer-quotas/?quota_name=vpc_instance_count&page_size=300"
	first := get(t, ts, target, DemoStaffToken).body
	for range 5 {
		if again := get(t, ts, target, DemoStaffToken).body; string(again) != string(first) {
			t.Fatal("the same request answered in a different order without WithShuffledTies")
		}
	}
	// Among ties (here: the many zeros) the order is ascending ID, i.e. creation order.
	rows := decodeRows(t, first)
	ids := idsByName(d)
	for i := 1; i < len(rows); i++ {
		if rows[i].Value == rows[i-1].Value && ids[rows[i].CustomerName] < ids[rows[i-1].CustomerName] {
			t.Fatalf("tie %q (ID %d) after %q (ID %d)", rows[i].CustomerName, ids[rows[i].CustomerName],
				rows[i-1].CustomerName, ids[rows[i-1].CustomerName])
		}
	}
}

func TestShuffledTiesVary(t *testing.T) {
	d := Demo(200, 5)
	want := d.Rows(DemoStaffToken, "vpc_instance_count", "")
	ts := newServer(t, New(d, WithShuffledTies(42)))
	target := "/api/customer-quotas/?quota_name=vpc_instance_count&page_size=300"
	orders := map[string]bool{}
	for range 8 {
		rows := decodeRows(t, get(t, ts, target, DemoStaffToken).body)
		if len(rows) != len(want) {
			t.Fatalf("got %d rows, want %d", len(rows), len(want))
		}
		// Same values in the same places: only the order among ties may change.
		for i := range rows {
			if rows[i].Value != want[i].Value {
				t.Fatalf("row %d has value %v, want %v: shuffling moved a row out of its tie", i, rows[i].Value, want[i].Value)
			}
		}
		got := names(rows)
		if !sameSet(got, names(want)) {
			t.Fatal("shuffled answer is not a permutation of the rows")
		}
		orders[fmt.Sprint(got)] = true
	}
	if len(orders) < 2 {
		t.Error("8 requests with WithShuffledTies all answered in the same order")
	}
}

func TestShuffledTiesByName(t *testing.T) {
	d := &Dataset{
		Customers: []Customer{{ID: 1, Name: "Same"}, {ID: 2, Name: "Same"}, {ID: 3, Name: "Other"}, {ID: 4, Name: "Same", Abbreviation: "X"}},
		Users:     map[string]User{"k": {Staff: true}},
	}
	ts := newServer(t, New(d, WithShuffledTies(1)))
	seen := map[string]bool{}
	for range 20 {
		rows := decodeRows(t, get(t, ts, "/api/customer-quotas/?quota_name=q&o=name", "k").body)
		if rows[3].CustomerName != "Other" {
			t.Fatalf("non-tie moved: %v", rows)
		}
		seen[fmt.Sprint(rows)] = true
	}
	if len(seen) < 2 {
		t.Error("ties on equal names never changed order")
	}
}

func idsByName(d *Dataset) map[string]int {
	m := make(map[string]int, len(d.Customers))
	for _, c := range d.Customers {
		m[c.Name] = c.ID
	}
	return m
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
