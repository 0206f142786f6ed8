package main

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP trace receiver on loopback: it decodes each
// export request as a collector would and keeps the spans and the service
// name they came with.
type otlpReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	spans    []*tracepb.Span
	services []string
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	rcv := &otlpReceiver{}
	rcv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
			http.Error(w, "not an OTLP trace export", http.StatusNotFound)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		var req coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(b, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rcv.mu.Lock()
		for _, rs := range req.ResourceSpans {
			rcv.services = append(rcv.services, attrString(rs.GetResource().GetAttributes(), "service.name"))
			for _, ss := range rs.ScopeSpans {
				rcv.spans = append(rcv.spans, ss.Spans...)
			}
		}
		rcv.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(rcv.Close)
	return rcv
}

func (rcv *otlpReceiver) received() ([]*tracepb.Span, []string) {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	return append([]*tracepb.Span(nil), rcv.spans...), append([]string(nil), rcv.services...)
}

// The gateway exports its spans over OTLP/HTTP to the endpoint the standard
// variable names, and sends those still queued when it stops. The trace it
// sends is the caller's, and has the request, the operation, the upstream
// call and its HTTP attempt, each the child of the one before. Printed with
// -v: the figure of the closing note.
func TestBinaryExportsTracesOverOTLP(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	rcv := newOTLPReceiver(t)
	g := startGateway(t, bin,
		"OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.URL,
		"OTEL_SERVICE_NAME=quotas-under-test",
	)

	const traceID, parentID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	body := `{"query":"query Biggest { customerQuotas(quotaName: \"os_storage_size\", first: 3) { totalCount nodes { customerName value } } }"}`
	req, err := http.NewRequest(http.MethodPost, g.base+"/query", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(answer, []byte(`"nodes"`)) {
		t.Fatalf("status %d: %s", resp.StatusCode, answer)
	}

	// The spans may still be queued: stopping the gateway sends them.
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := g.waitExit(t, 20*time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
	spans, services := rcv.received()
	t.Logf("the trace as the OTLP receiver got it (service %v):\n%s", services, otlpTree(spans))
	for _, s := range services {
		if s != "quotas-under-test" {
			t.Errorf("service.name %q, want OTEL_SERVICE_NAME's", s)
		}
	}
	byName := map[string]*tracepb.Span{}
	for _, s := range spans {
		if hex.EncodeToString(s.TraceId) != traceID {
			t.Errorf("span %q in trace %x, want the caller's %s", s.Name, s.TraceId, traceID)
		}
		byName[s.Name] = s
	}
	chain := []string{"POST /query", "query Biggest", "waldur GET", "HTTP GET"}
	parent := parentID
	for _, name := range chain {
		s := byName[name]
		if s == nil {
			t.Fatalf("no span %q among those received", name)
		}
		if got := hex.EncodeToString(s.ParentSpanId); got != parent {
			t.Errorf("span %q has parent %s, want %s", name, got, parent)
		}
		parent = hex.EncodeToString(s.SpanId)
	}
	for _, s := range spans {
		for _, a := range s.Attributes {
			if strings.Contains(a.GetValue().String(), "Token ") || strings.Contains(strings.ToLower(a.Key), "authorization") {
				t.Errorf("span %q holds a credential: %s", s.Name, a)
			}
		}
	}
}

// With no OTEL_* variable the gateway says it exports nothing; a malformed
// one stops it before it starts, like any other malformed setting.
func TestBinaryTracingSettings(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	g := startGateway(t, bin)
	listening := g.logs.waitFor(t, "gateway listening", 5*time.Second)
	if got := listening["traces_exporter"]; got != "none" {
		t.Errorf("traces_exporter %v with nothing set, want none", got)
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	_ = g.waitExit(t, 20*time.Second)

	cmd := exec.Command(bin)
	cmd.Env = []string{"LISTEN_ADDR=127.0.0.1:0", "OTEL_TRACES_EXPORTER=jaeger"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "OTEL_TRACES_EXPORTER") {
		t.Errorf("OTEL_TRACES_EXPORTER=jaeger: %v, %s; want exit 2 naming the setting", err, out)
	}
}

// otlpTree prints spans as a tree, each under its parent, with its
// attributes and events.
func otlpTree(spans []*tracepb.Span) string {
	ids := map[string]bool{}
	children := map[string][]*tracepb.Span{}
	for _, s := range spans {
		ids[hex.EncodeToString(s.SpanId)] = true
	}
	var roots []*tracepb.Span
	for _, s := range spans {
		p := hex.EncodeToString(s.ParentSpanId)
		if ids[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(s *tracepb.Span, depth int)
	walk = func(s *tracepb.Span, depth int) {
		in := strings.Repeat("  ", depth)
		fmt.Fprintf(&b, "%s%s  [%s] span=%x parent=%x %s\n", in, s.Name, strings.TrimPrefix(s.Kind.String(), "SPAN_KIND_"), s.SpanId, s.ParentSpanId,
			time.Duration(s.EndTimeUnixNano-s.StartTimeUnixNano).Round(time.Microsecond))
		for _, a := range s.Attributes {
			fmt.Fprintf(&b, "%s    %s=%s\n", in, a.Key, anyValue(a.Value))
		}
		for _, e := range s.Events {
			fmt.Fprintf(&b, "%s    event %q", in, e.Name)
			for _, a := range e.Attributes {
				fmt.Fprintf(&b, " %s=%s", a.Key, anyValue(a.Value))
			}
			b.WriteString("\n")
		}
		for _, c := range children[hex.EncodeToString(s.SpanId)] {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}

func anyValue(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return fmt.Sprint(x.IntValue)
	case *commonpb.AnyValue_BoolValue:
		return fmt.Sprint(x.BoolValue)
	case *commonpb.AnyValue_DoubleValue:
		return fmt.Sprint(x.DoubleValue)
	}
	return v.String()
}

func attrString(attrs []*commonpb.KeyValue, key string) string {
	for _, a := range attrs {
		if a.Key == key {
			return a.GetValue().GetStringValue()
		}
	}
	return ""
}
