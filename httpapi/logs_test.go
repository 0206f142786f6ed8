package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// A failed upstream call is logged with its cause for the operator, while the
// client gets only the message for people. Neither holds the token or the
// upstream URL.
func TestUpstreamFailureIsLoggedWithItsCause(t *testing.T) {
	h := newHarness(t)
	h.waldur.Close() // nothing listens any more: connection refused
	resp := h.post("Token SECRET-log-token", `{ customerQuotas(quotaName: "os_cpu_count") { totalCount } }`, nil)
	if resp.code() != "UPSTREAM_UNAVAILABLE" {
		t.Fatalf("code %q, want UPSTREAM_UNAVAILABLE", resp.code())
	}
	var failure map[string]any
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["msg"] == "upstream call failed" {
			failure = rec
		}
	}
	if failure == nil {
		t.Fatalf("no 'upstream call failed' line in:\n%s", h.logs.String())
	}
	if failure["level"] != "WARN" || failure["method"] != "HEAD" || !strings.Contains(failure["cause"].(string), "connection refused") {
		t.Fatalf("log line %v: want a WARN for the HEAD with the cause", failure)
	}
	logs := h.logs.String()
	for _, secret := range []string{"SECRET-log-token", h.waldur.URL, "/api/customer-quotas"} {
		if strings.Contains(logs, secret) || strings.Contains(string(resp.Body), secret) {
			t.Errorf("%q appears in the logs or the answer", secret)
		}
	}
}
