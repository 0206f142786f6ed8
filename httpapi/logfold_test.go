package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/upstream"
)

// threeFields asks three questions that each cost one GET of their own.
const threeFields = `{
  a: customerQuotas(quotaName: "os_cpu_count", first: 5) { totalCount }
  b: customerQuotas(quotaName: "os_ram_size", first: 5) { totalCount }
  c: customerQuotas(quotaName: "os_storage_size", first: 5) { totalCount }
}`

// With Waldur failing every call, each request writes exactly one line, its
// own, at WARN, carrying how many upstream calls failed, the last status and
// the last cause; no line per failed call.
func TestUpstreamFailuresFoldIntoTheRequestLine(t *testing.T) {
	const requests = 4
	for _, c := range []struct {
		name       string
		breakIt    func(h *harness)
		wantStatus float64
		wantCause  string
	}{
		{"Waldur answers 503", func(h *harness) {
			h.setFault(func(w http.ResponseWriter, _ *http.Request) bool {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "<html>upstream body</html>")
				return true
			})
		}, 503, "HTTP 503"},
		{"Waldur is gone", func(h *harness) { h.waldur.Close() }, 0, "connection refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			c.breakIt(h)
			for range requests {
				if resp := h.post("Token SECRET-fold-token", threeFields, nil); resp.code() != "UPSTREAM_UNAVAILABLE" {
					t.Fatalf("code %q, want UPSTREAM_UNAVAILABLE", resp.code())
				}
			}
			lines := logRecords[map[string]any](t, h.logs.String(), "")
			if len(lines) != requests {
				t.Fatalf("%d requests wrote %d lines, want one each:\n%s", requests, len(lines), h.logs.String())
			}
			for _, rec := range lines {
				if rec["msg"] != "request" || rec["level"] != "WARN" {
					t.Errorf("line %v: want a WARN request line", rec)
				}
				if rec["upstream_calls"] != 3.0 || rec["upstream_failures"] != 3.0 || rec["upstream_last_status"] != c.wantStatus {
					t.Errorf("line %v: want 3 calls, 3 failures, last status %v", rec, c.wantStatus)
				}
				if cause, _ := rec["upstream_last_cause"].(string); !strings.Contains(cause, c.wantCause) {
					t.Errorf("last cause %q, want it to say %q", cause, c.wantCause)
				}
			}
			for _, secret := range []string{"SECRET-fold-token", h.waldur.URL, "/api/customer-quotas", "upstream body"} {
				if strings.Contains(h.logs.String(), secret) {
					t.Errorf("%q appears in the logs", secret)
				}
			}
		})
	}
}

// A request that went well writes its line at INFO, with no failure fields.
func TestRequestLineWithoutFailures(t *testing.T) {
	h := newHarness(t)
	h.post("Token "+demoStaff, threeFields, nil)
	lines := logRecords[map[string]any](t, h.logs.String(), "")
	if len(lines) != 1 || lines[0]["level"] != "INFO" || lines[0]["upstream_calls"] != 3.0 {
		t.Fatalf("lines %v: want one INFO request line with 3 upstream calls", lines)
	}
	if _, ok := lines[0]["upstream_failures"]; ok {
		t.Errorf("line %v reports failures", lines[0])
	}
}

// Liveness probes come every few seconds and say nothing: they write no line
// at INFO (the harness logs at INFO), and still one at DEBUG.
func TestHealthzWritesNothingAtInfo(t *testing.T) {
	probe := func(h *harness) {
		for range 3 {
			req, _ := http.NewRequest(http.MethodGet, h.gateway.URL+"/healthz", nil)
			if resp := h.do(req); resp.Status != http.StatusOK {
				t.Fatalf("/healthz: %d", resp.Status)
			}
		}
	}
	h := newHarness(t)
	probe(h)
	if logs := h.logs.String(); logs != "" {
		t.Errorf("/healthz wrote at INFO:\n%s", logs)
	}

	var debug syncBuffer
	h = newHarness(t, withConfig(func(c *httpapi.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	probe(h)
	if lines := strings.Count(debug.String(), `"level":"DEBUG","msg":"request","method":"GET","path":"/healthz"`); lines != 3 {
		t.Errorf("3 probes wrote %d DEBUG request lines:\n%s", lines, debug.String())
	}
}

// panickingTransport stands for a bug under a resolver: every request made
// through it panics.
type panickingTransport struct{}

func (panickingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	panic("a bug in the transport")
}

// A line that is not a request's own (here the unexpected error a bug causes
// in every request) is rate-limited: a burst is written, the rest are dropped
// and counted, and the next line written says how many were dropped. The
// request lines are all written.
func TestEventLinesAreRateLimited(t *testing.T) {
	h := newHarness(t, withClientOptions(upstream.WithTransport(panickingTransport{})))
	const flood = 30
	ask := func() {
		if resp := h.post("Token "+demoStaff, `{ customerQuotas(quotaName: "os_cpu_count") { totalCount } }`, nil); resp.code() != "INTERNAL_SERVER_ERROR" {
			t.Fatalf("code %q, want INTERNAL_SERVER_ERROR", resp.code())
		}
	}
	for range flood {
		ask()
	}
	count := func() (requestLines, eventLines, dropped int) {
		for _, rec := range logRecords[map[string]any](t, h.logs.String(), "") {
			switch rec["msg"] {
			case "request":
				requestLines++
			case "unexpected error while resolving":
				eventLines++
				n, _ := rec["lines_dropped"].(float64)
				dropped += int(n)
			default:
				t.Errorf("unexpected line %v", rec)
			}
		}
		return
	}
	if requestLines, eventLines, _ := count(); requestLines != flood || eventLines == 0 || eventLines >= flood/2 {
		t.Fatalf("%d requests wrote %d request lines and %d error lines: want every request line and far fewer error lines",
			flood, requestLines, eventLines)
	}
	// The budget refills in time; the first line written then counts the
	// dropped ones. Each request causes exactly one unexpected error, so
	// written and dropped add up to the requests sent.
	sent := flood
	for deadline := time.Now().Add(15 * time.Second); ; sent++ {
		if _, _, dropped := count(); dropped > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line reported dropped lines:\n%s", h.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
		ask()
	}
	if requestLines, eventLines, dropped := count(); requestLines != sent || eventLines+dropped != sent {
		t.Errorf("%d requests: %d request lines, %d error lines written + %d dropped", sent, requestLines, eventLines, dropped)
	}
}

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
