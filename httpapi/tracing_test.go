package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/tracing"
	"github.com/waldur-quotas/gateway/upstream"
)

// A caller's trace context, as a router or a browser's tracing would send it.
const (
	callerTraceID    = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpanID     = "00f067aa0ba902b7"
	callerTraceparen = "00-" + callerTraceID + "-" + callerSpanID + "-01"
	callerTracestate = "vendor=opaque"
)

// recordingProvider keeps every span in memory, sampled, as an exporter would
// receive it once the span ends.
func recordingProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

// failFirstGET answers the first GET with a 503 and lets the rest through.
func failFirstGET() func(w http.ResponseWriter, r *http.Request) bool {
	var failed atomic.Bool
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && failed.CompareAndSwap(false, true) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}
}

const onePageQuery = `query OnePage($q: String!) { customerQuotas(quotaName: $q, first: 5) { nodes { customerName value } } }`

// The figure of the closing note: one query's spans as an exporter
// receives them, the HTTP request's, the operation's, the upstream call's
// with its retry, and the two HTTP attempts, each the child of the one above.
func TestTraceOfOneQuery(t *testing.T) {
	t.Parallel()
	tp, exp := recordingProvider(t)
	h := newHarness(t, withTracing(tp, true), withClientOptions(upstream.WithRetries(1)))
	h.setFault(failFirstGET())

	req := h.postRequest(staffAuth, onePageQuery, map[string]any{"q": "os_storage_size"})
	req.Header.Set("traceparent", callerTraceparen)
	wantData(t, h.do(req))
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	t.Logf("the trace as exported:\n%s", spanTree(spans))

	server := findSpan(t, spans, "POST /query")
	if got := server.SpanContext.TraceID().String(); got != callerTraceID {
		t.Errorf("trace %s, want the caller's %s", got, callerTraceID)
	}
	if got := server.Parent.SpanID().String(); got != callerSpanID || !server.Parent.IsRemote() {
		t.Errorf("the request's span has parent %s (remote %v), want the caller's span %s", got, server.Parent.IsRemote(), callerSpanID)
	}
	operation := findSpan(t, spans, "query OnePage")
	wantChild(t, server, operation)
	wantAttr(t, operation, "graphql.operation.type", "query")
	wantAttr(t, operation, "graphql.operation.name", "OnePage")

	call := findSpan(t, spans, "waldur GET")
	wantChild(t, operation, call)
	wantAttr(t, call, "waldur.quota_name", "os_storage_size")
	wantAttr(t, call, "waldur.page", "1")
	retries := eventsNamed(call, "retry")
	if len(retries) != 1 {
		t.Fatalf("want one retry event on the call, got %+v", call.Events)
	}
	wantEventAttr(t, retries[0], "waldur.attempt", "2")
	wantEventAttr(t, retries[0], "http.response.status_code", "503")

	var statuses []string
	for _, s := range spans {
		if s.Name == "HTTP GET" {
			wantChild(t, call, s)
			statuses = append(statuses, attrOf(s, "http.response.status_code"))
		}
	}
	if !slices.Equal(statuses, []string{"503", "200"}) {
		t.Errorf("HTTP attempts answered %v, want [503 200]", statuses)
	}
	wantNoCredential(t, spans, demoStaff)
}

// No span, attribute or event holds the caller's credential, whatever
// otelhttp records of the requests in and out.
func wantNoCredential(t *testing.T, spans tracetest.SpanStubs, secret string) {
	t.Helper()
	b, err := json.Marshal(spans)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{secret, "Authorization", "authorization"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("the spans hold %q: %s", bad, b)
		}
	}
}

// With nothing exported (the provider the gateway runs without OTEL_*
// settings), Waldur still gets the caller's trace and its sampled flag, so its
// logs can be joined to the caller's trace; and a request that brings no
// trace starts one, whose ID its log line and Waldur share.
func TestTraceContextReachesWaldurWithExportOff(t *testing.T) {
	t.Parallel()
	off, err := tracing.New(context.Background(), tracing.Settings{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = off.Shutdown(context.Background()) })
	if off.Exporter() != tracing.ExporterNone {
		t.Fatalf("exporter %q without settings, want none", off.Exporter())
	}
	h := newHarness(t, withTracing(off.TracerProvider(), off.Exporting()), withClientOptions(upstream.WithRetries(1)))
	seen := h.headersSeen(nil)

	req := h.postRequest(staffAuth, onePageQuery, map[string]any{"q": "os_storage_size"})
	req.Header.Set("traceparent", callerTraceparen)
	req.Header.Set("tracestate", callerTracestate)
	wantData(t, h.do(req))
	headers := seen()
	if len(headers) == 0 {
		t.Fatal("nothing reached Waldur")
	}
	for _, hd := range headers {
		tp := strings.Split(hd.Get("traceparent"), "-")
		if len(tp) != 4 || tp[1] != callerTraceID || tp[3] != "01" {
			t.Errorf("Waldur got traceparent %q, want the caller's trace %s, sampled", hd.Get("traceparent"), callerTraceID)
		}
		if got := hd.Get("tracestate"); got != callerTracestate {
			t.Errorf("Waldur got tracestate %q, want %q", got, callerTracestate)
		}
	}
	line := lastRequestIDs(t, h)
	if line.TraceID != callerTraceID {
		t.Errorf("request line trace_id %q, want %q", line.TraceID, callerTraceID)
	}

	// No trace from the caller: one is started, not sampled, and shared.
	wantData(t, h.post(staffAuth, onePageQuery, map[string]any{"q": "os_storage_size"}))
	headers = seen()[len(headers):]
	if len(headers) == 0 {
		t.Fatal("nothing reached Waldur")
	}
	tp := strings.Split(headers[0].Get("traceparent"), "-")
	if len(tp) != 4 || tp[1] == callerTraceID || tp[3] != "00" {
		t.Fatalf("Waldur got traceparent %q, want a new trace, not sampled", headers[0].Get("traceparent"))
	}
	if line := lastRequestIDs(t, h); line.TraceID != tp[1] {
		t.Errorf("request line trace_id %q, Waldur got trace %s", line.TraceID, tp[1])
	}
}

// idLine is what the tests of trace and request IDs read of a log line.
type idLine struct {
	Msg       string `json:"msg"`
	TraceID   string `json:"trace_id"`
	SpanID    string `json:"span_id"`
	RequestID string `json:"request_id"`
	Failures  int    `json:"upstream_failures"`
}

// lastRequestIDs reads the last request line in h's log.
func lastRequestIDs(t *testing.T, h *harness) idLine {
	t.Helper()
	lines := logRecords[idLine](t, h.logs.String(), "request")
	if len(lines) == 0 {
		t.Fatalf("no request line in the log:\n%s", h.logs.String())
	}
	return lines[len(lines)-1]
}

// Every line logged with a request's context carries the request's trace,
// span and request IDs, whoever logs it.
func TestLogLinesCarryTheRequestsIDs(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	logger := httpapi.WithRequestContext(slog.New(slog.NewJSONHandler(&buf, nil)))
	logger = httpapi.WithRequestContext(logger) // twice adds them once
	tid, _ := trace.TraceIDFromHex(callerTraceID)
	sid, _ := trace.SpanIDFromHex(callerSpanID)
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	ctx = upstream.WithRequestID(ctx, "req-1")
	logger.With("component", "x").WarnContext(ctx, "something")
	logger.Info("outside any request")

	lines := logRecords[map[string]any](t, buf.String(), "")
	if len(lines) != 2 {
		t.Fatalf("want two lines, got %s", buf.String())
	}
	want := map[string]any{"trace_id": callerTraceID, "span_id": callerSpanID, "request_id": "req-1", "component": "x"}
	for k, v := range want {
		if lines[0][k] != v {
			t.Errorf("%s = %v, want %v: %s", k, lines[0][k], v, buf.String())
		}
	}
	if strings.Count(buf.String(), "trace_id") != 1 {
		t.Errorf("trace_id written more or less than once: %s", buf.String())
	}
	for _, k := range []string{"trace_id", "span_id", "request_id"} {
		if _, ok := lines[1][k]; ok {
			t.Errorf("a line outside any request has %s: %s", k, buf.String())
		}
	}
}

// The request line that reports Waldur failing names the caller's trace and
// the request's ID, so the failure can be found in the trace and in Waldur's
// logs.
func TestUpstreamFailureLineCarriesTheRequestsIDs(t *testing.T) {
	t.Parallel()
	tp, _ := recordingProvider(t)
	h := newHarness(t, withTracing(tp, true))
	h.setFault(func(w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	req := h.postRequest(staffAuth, onePageQuery, map[string]any{"q": "os_storage_size"})
	req.Header.Set("traceparent", callerTraceparen)
	req.Header.Set("X-Request-Id", "lb-7f3a")
	if r := h.do(req); r.code() != "UPSTREAM_UNAVAILABLE" {
		t.Fatalf("want UPSTREAM_UNAVAILABLE, got %s", r)
	}
	line := lastRequestIDs(t, h)
	if line.Failures == 0 || line.TraceID != callerTraceID || line.RequestID != "lb-7f3a" || line.SpanID == "" {
		t.Errorf("request line %+v: want upstream failures, trace %s, request lb-7f3a and a span", line, callerTraceID)
	}
}

// Apollo's federated trace is in the answer when a router asks for it, and
// only then: it is work, and timings are no business of other callers.
func TestFederatedTraceOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, ask := range []bool{true, false} {
		req := h.postRequest(staffAuth, onePageQuery, map[string]any{"q": "os_storage_size"})
		if ask {
			req.Header.Set("apollo-federation-include-trace", "ftv1")
		}
		r := h.do(req)
		wantData(t, r)
		var ext struct {
			FTV1 *string `json:"ftv1"`
		}
		if raw, ok := r.Keys["extensions"]; ok {
			if err := json.Unmarshal(raw, &ext); err != nil {
				t.Fatal(err)
			}
		}
		switch {
		case ask && ext.FTV1 == nil:
			t.Errorf("asked for ftv1, got none: %s", r.Body)
		case ask:
			if b, err := base64.StdEncoding.DecodeString(*ext.FTV1); err != nil || len(b) == 0 {
				t.Errorf("ftv1 is not a base64 trace: %q (%v)", *ext.FTV1, err)
			}
		case ext.FTV1 != nil:
			t.Errorf("ftv1 without being asked: %s", r.Body)
		}
	}
}

// spanTree prints spans as a tree: name, kind, key attributes and events,
// each below its parent.
func spanTree(spans tracetest.SpanStubs) string {
	children := map[trace.SpanID][]tracetest.SpanStub{}
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		ids[s.SpanContext.SpanID()] = true
	}
	var roots []tracetest.SpanStub
	for _, s := range spans {
		if ids[s.Parent.SpanID()] {
			children[s.Parent.SpanID()] = append(children[s.Parent.SpanID()], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(s tracetest.SpanStub, depth int)
	walk = func(s tracetest.SpanStub, depth int) {
		indent := strings.Repeat("  ", depth)
		fmt.Fprintf(&b, "%s%s  [%s] trace=%s span=%s parent=%s\n", indent, s.Name, s.SpanKind, s.SpanContext.TraceID(), s.SpanContext.SpanID(), s.Parent.SpanID())
		for _, a := range s.Attributes {
			fmt.Fprintf(&b, "%s    %s=%s\n", indent, a.Key, a.Value.String())
		}
		for _, e := range s.Events {
			fmt.Fprintf(&b, "%s    event %q", indent, e.Name)
			for _, a := range e.Attributes {
				fmt.Fprintf(&b, " %s=%s", a.Key, a.Value.String())
			}
			b.WriteString("\n")
		}
		for _, c := range children[s.SpanContext.SpanID()] {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}

func findSpan(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no span %q in:\n%s", name, spanTree(spans))
	return tracetest.SpanStub{}
}

func wantChild(t *testing.T, parent, child tracetest.SpanStub) {
	t.Helper()
	if child.Parent.SpanID() != parent.SpanContext.SpanID() || child.SpanContext.TraceID() != parent.SpanContext.TraceID() {
		t.Errorf("span %q is not a child of %q", child.Name, parent.Name)
	}
}

func attrOf(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

func wantAttr(t *testing.T, s tracetest.SpanStub, key, want string) {
	t.Helper()
	if got := attrOf(s, key); got != want {
		t.Errorf("span %q: %s = %q, want %q", s.Name, key, got, want)
	}
}

func eventsNamed(s tracetest.SpanStub, name string) []sdktrace.Event {
	var out []sdktrace.Event
	for _, e := range s.Events {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

func wantEventAttr(t *testing.T, e sdktrace.Event, key, want string) {
	t.Helper()
	for _, a := range e.Attributes {
		if string(a.Key) == key {
			if a.Value.String() != want {
				t.Errorf("event %q: %s = %q, want %q", e.Name, key, a.Value.String(), want)
			}
			return
		}
	}
	t.Errorf("event %q has no %s", e.Name, key)
}
