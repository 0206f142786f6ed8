package httpapi_test

import (
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
	failure := lastLogRecord(t, h, "request")
	if failure["level"] != "WARN" || failure["upstream_failures"] != 1.0 || !strings.Contains(failure["upstream_last_cause"].(string), "connection refused") {
		t.Fatalf("log line %v: want a WARN request line with the failed HEAD's cause", failure)
	}
	logs := h.logs.String()
	for _, secret := range []string{"SECRET-log-token", h.waldur.URL, "/api/customer-quotas"} {
		if strings.Contains(logs, secret) || strings.Contains(string(resp.Body), secret) {
			t.Errorf("%q appears in the logs or the answer", secret)
		}
	}
}

// Each request's log line names the operation (from the document when the
// request does not repeat it) and carries the error codes of request errors
// as well as of execution errors, exactly once each.
func TestRequestLogLine(t *testing.T) {
	h := newHarness(t)
	requestLine := func() map[string]any { return lastLogRecord(t, h, "request") }
	codes := func(rec map[string]any) string {
		list, _ := rec["error_codes"].([]any)
		out := make([]string, len(list))
		for i, c := range list {
			out[i], _ = c.(string)
		}
		return strings.Join(out, ",")
	}

	h.post("Token "+demoStaff, `query Named { customerQuotas(quotaName: "os_cpu_count", first: 2) { totalCount } }`, nil)
	if rec := requestLine(); rec["operation"] != "Named" || rec["upstream_calls"] != 1.0 || codes(rec) != "" {
		t.Errorf("named operation without operationName: %v", rec)
	}

	h.post("Token "+demoStaff, `{ customerQuotas(quotaName: "os_cpu_count", first: 101) { totalCount } }`, nil)
	if rec := requestLine(); codes(rec) != "BAD_USER_INPUT" {
		t.Errorf("execution error: %v", rec)
	}

	h.post("Token "+demoStaff, `{ customerQuotas(quotaName: "os_cpu_count") { nope } }`, nil)
	if rec := requestLine(); codes(rec) != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("validation error: %v", rec)
	}

	h.postRaw("", `{"query": 1}`)
	if rec := requestLine(); codes(rec) != "BAD_REQUEST" || rec["status"] != 400.0 {
		t.Errorf("request error: %v", rec)
	}
	if strings.Contains(h.logs.String(), demoStaff) {
		t.Error("the token appears in the logs")
	}
}

// lastLogRecord returns the last JSON log line of the harness with message
// msg, failing the test when a line is not JSON or none has that message.
func lastLogRecord(t *testing.T, h *harness, msg string) map[string]any {
	t.Helper()
	recs := logRecords[map[string]any](t, h.logs.String(), msg)
	if len(recs) == 0 {
		t.Fatalf("no %q line in:\n%s", msg, h.logs.String())
	}
	return recs[len(recs)-1]
}
