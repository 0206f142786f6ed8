package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// The last rows of a list hang from its end: without a total the gateway
// first asks Waldur for one (HEAD), then for the rows (GET). A total this
// caller learnt a moment ago for the same list plans the GET at once; the
// GET's X-Result-Count checks it.

const lastQuota = "os_ram_size"

func lastVars() map[string]any { return map[string]any{"q": lastQuota, "last": 10} }

// methods lists the methods of calls, in order.
func methods(calls []upstreamCall) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.Method
	}
	return out
}

func TestLastWithARecentTotalTakesOneRoundTrip(t *testing.T) {
	h := newHarness(t)
	want := demo().Rows(demoStaff, lastQuota, "value")

	first := h.page("Token "+demoStaff, lastVars())
	if problem := rowsProblem(first, want, len(want)-10, 10); problem != "" {
		t.Fatalf("first answer: %s", problem)
	}
	h.takeCalls() // a HEAD and a GET: nothing was known yet

	again := h.page("Token "+demoStaff, lastVars())
	if problem := rowsProblem(again, want, len(want)-10, 10); problem != "" {
		t.Errorf("second answer: %s", problem)
	}
	if calls := h.takeCalls(); len(calls) != 1 || calls[0].Method != http.MethodGet {
		t.Errorf("second last: 10 made calls %v, want one GET", methods(calls))
	}
}

func TestRecentTotalsAreNotShared(t *testing.T) {
	h := newHarness(t)
	h.page("Token "+demoStaff, lastVars())
	h.takeCalls()

	// Another caller sees another list: staff's total says nothing of it.
	owner := h.page("Token "+fakewaldur.DemoOwnerToken, lastVars())
	want := demo().Rows(fakewaldur.DemoOwnerToken, lastQuota, "value")
	if problem := rowsProblem(owner, want, max(0, len(want)-10), 10); problem != "" {
		t.Errorf("owner's answer: %s", problem)
	}
	if calls := h.takeCalls(); len(calls) == 0 || calls[0].Method != http.MethodHead {
		t.Errorf("another caller's last: 10 made calls %v, want a HEAD first", methods(calls))
	}
}

func TestRecentTotalThatChangedIsDetected(t *testing.T) {
	full := demo()
	for _, tc := range []struct {
		name  string
		after *fakewaldur.Dataset
	}{
		{"list shrank", shrunk(full, len(full.Customers)-5)},
		{"list grew", grown(full, 7)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			waldur := newSwitchingWaldur(full, tc.after)
			h := newHarness(t, withUpstream(waldur))
			h.page("Token "+demoStaff, lastVars())
			h.takeCalls()

			waldur.switched.Store(true)
			got := h.page("Token "+demoStaff, lastVars())
			want := tc.after.Rows(demoStaff, lastQuota, "value")
			if problem := rowsProblem(got, want, len(want)-10, 10); problem != "" {
				t.Errorf("after the change: %s", problem)
			}
			calls := h.takeCalls()
			if len(calls) == 0 || calls[0].Method != http.MethodGet || len(calls) > 3 {
				t.Errorf("calls %v, want a GET planned with the recent total, then at most two to plan again", methods(calls))
			}
			// What the GET reported is now the recent total.
			h.page("Token "+demoStaff, lastVars())
			if calls := h.takeCalls(); len(calls) != 1 {
				t.Errorf("next last: 10 made calls %v, want one GET", methods(calls))
			}
		})
	}
}

// grown is d with n more customers, each with a usage of every quota larger
// than any in d, so that they change where every row of the list sits.
func grown(d *fakewaldur.Dataset, n int) *fakewaldur.Dataset {
	out := &fakewaldur.Dataset{Customers: append([]fakewaldur.Customer(nil), d.Customers...), Users: d.Users}
	for i := range n {
		id := len(d.Customers) + i + 1
		out.Customers = append(out.Customers, fakewaldur.Customer{
			ID: id, Name: "Grown " + string(rune('A'+i)), Abbreviation: "GR",
			Quotas: map[string]fakewaldur.Value{lastQuota: fakewaldur.Int(1 << 40)},
		})
	}
	return out
}
