package httpapi_test

import "testing"

func TestFirstPageMatchesUpstream(t *testing.T) {
	h := newHarness(t)
	got := h.page("Token "+demoStaff, map[string]any{"q": "os_storage_size", "first": 5})
	want := h.data.Rows(demoStaff, "os_storage_size", "value")
	if got.TotalCount != len(want) || len(got.Nodes) != 5 {
		t.Fatalf("totalCount %d nodes %d, want %d and 5", got.TotalCount, len(got.Nodes), len(want))
	}
	for i, n := range got.Nodes {
		if !sameNode(n, nodeOf(want[i])) {
			t.Errorf("row %d: got %+v, want %+v", i, n, nodeOf(want[i]))
		}
	}
	if calls := h.takeCalls(); len(calls) != 1 || calls[0].Method != "GET" || calls[0].Page != 1 || calls[0].PageSize != 5 {
		t.Errorf("upstream calls %+v, want one GET page 1 size 5", calls)
	}
}
