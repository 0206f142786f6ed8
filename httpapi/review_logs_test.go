package httpapi_test

import (
	"io"
	"net/http"
	"testing"
)

// An answer Waldur gave in full but the gateway cannot use (a page that is not
// JSON, no X-Result-Count: typically WALDUR_API_URL pointing at a web UI that
// answers 200 to every path) is Waldur failing the request, as much as a 503
// is: the request line must say so at WARN, with the failure folded in,
// rather than an INFO line an operator filtering on WARN never sees.
func TestUnusableUpstreamAnswerIsAnUpstreamFailureInTheLog(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer func(w http.ResponseWriter)
	}{
		{"HTML with a 200", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("X-Result-Count", "3")
			_, _ = io.WriteString(w, "<html>upstream body</html>")
		}},
		{"no X-Result-Count", func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, "[]")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.setFault(func(w http.ResponseWriter, _ *http.Request) bool {
				c.answer(w)
				return true
			})
			resp := h.post("Token "+demoStaff, `{ customerQuotas(quotaName: "os_cpu_count", first: 5) { nodes { customerName } } }`, nil)
			if resp.code() != "UPSTREAM_BAD_RESPONSE" {
				t.Fatalf("code %q, want UPSTREAM_BAD_RESPONSE: %s", resp.code(), resp)
			}
			lines := logRecords[map[string]any](t, h.logs.String(), "request")
			if len(lines) != 1 {
				t.Fatalf("want one request line, got %s", h.logs.String())
			}
			rec := lines[0]
			if rec["level"] != "WARN" || rec["upstream_failures"] != 1.0 || rec["upstream_last_status"] != 200.0 {
				t.Errorf("line %v: want WARN with 1 upstream failure, last status 200", rec)
			}
			if cause, _ := rec["upstream_last_cause"].(string); cause == "" {
				t.Errorf("line %v: want the cause", rec)
			}
		})
	}
}
