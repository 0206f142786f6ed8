package fakewaldur

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
)

// Change serves the changed data to the next request, and a Churn changes the
// same way for the same seed: tests that page through a changing list can be
// replayed.
func TestChurnChangesServedDataDeterministically(t *testing.T) {
	run := func() ([]Row, []Row, int) {
		h := New(Demo(200, 5))
		before := h.Rows(DemoStaffToken, "os_cpu_count", "value")
		c := NewChurn(9)
		for range 3 {
			h.Change(func(d *Dataset) { c.Step(d, DemoStaffToken, "os_cpu_count", 6, 1, 1) })
		}
		srv := httptest.NewServer(h)
		defer srv.Close()
		req, _ := http.NewRequest(http.MethodHead, srv.URL+endpointPath+"?quota_name=os_cpu_count", nil)
		req.Header.Set("Authorization", "Token "+DemoStaffToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		n, _ := strconv.Atoi(resp.Header.Get("X-Result-Count"))
		return before, h.Rows(DemoStaffToken, "os_cpu_count", "value"), n
	}
	before, after, served := run()
	if served != len(after) || len(after) != len(before) {
		t.Fatalf("served total %d, reference %d, before %d: 3 additions and 3 removals keep the length", served, len(after), len(before))
	}
	if reflect.DeepEqual(before, after) {
		t.Fatal("the churn changed nothing")
	}
	if _, again, _ := run(); !reflect.DeepEqual(after, again) {
		t.Fatal("the same seed changed the data differently")
	}
}
