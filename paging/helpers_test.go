package paging

import "testing"

// wantPanic fails t unless fn panics; call names what fn calls.
func wantPanic(t *testing.T, call string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if recover() == nil {
			t.Errorf("%s did not panic", call)
		}
	}()
	fn()
}
