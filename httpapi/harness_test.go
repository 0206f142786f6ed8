package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/redisstore"
	"github.com/waldur-quotas/gateway/tracing"
	"github.com/waldur-quotas/gateway/upstream"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// harness is the whole gateway over real loopback HTTP: a fake Waldur served by
// httptest, the resty client pointed at it, and the gateway's handler served
// by httptest too. It records every request that reached the fake Waldur.
type harness struct {
	t        testing.TB
	data     *fakewaldur.Dataset
	waldur   *httptest.Server
	gateway  *httptest.Server
	logs     *syncBuffer
	upstream http.Handler

	mu    sync.Mutex
	calls []upstreamCall
	fault func(w http.ResponseWriter, r *http.Request) bool
}

// upstreamCall is one request as the fake Waldur saw it.
type upstreamCall struct {
	Method        string
	Page          int
	PageSize      int
	QuotaName     string
	Ordering      string
	Authorization string
}

type harnessOption func(*harnessConfig)

type harnessConfig struct {
	data          *fakewaldur.Dataset
	defaultToken  string
	timeout       time.Duration
	upstream      http.Handler
	clientOptions []upstream.Option
	gateway       []func(*httpapi.Config)
	server        func(*http.Server, net.Listener, *slog.Logger) net.Listener
	redisURL      string
}

// withConfig changes the gateway's Config (limits, CORS, introspection, APQ)
// before the handler is built.
func withConfig(mutate func(*httpapi.Config)) harnessOption {
	return func(c *harnessConfig) { c.gateway = append(c.gateway, mutate) }
}

func withDataset(d *fakewaldur.Dataset) harnessOption {
	return func(c *harnessConfig) { c.data = d }
}

func withDefaultToken(tok string) harnessOption {
	return func(c *harnessConfig) { c.defaultToken = tok }
}

func withUpstreamTimeout(d time.Duration) harnessOption {
	return func(c *harnessConfig) { c.timeout = d }
}

// withUpstream replaces the fake Waldur with another handler (still recorded).
func withUpstream(h http.Handler) harnessOption {
	return func(c *harnessConfig) { c.upstream = h }
}

// withClientOptions adds options to the upstream client the harness builds
// (after the harness's own, so they win).
func withClientOptions(opts ...upstream.Option) harnessOption {
	return func(c *harnessConfig) { c.clientOptions = append(c.clientOptions, opts...) }
}

var (
	demoOnce sync.Once
	demoData *fakewaldur.Dataset
)

// demo is the dataset most tests share: built once, never modified (the fake
// copies what it serves).
func demo() *fakewaldur.Dataset {
	demoOnce.Do(func() { demoData = fakewaldur.Demo(300, 7) })
	return demoData
}

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	cfg := harnessConfig{data: demo(), timeout: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	h := &harness{t: t, data: cfg.data, logs: &syncBuffer{}}
	h.upstream = cfg.upstream
	if h.upstream == nil {
		h.upstream = fakewaldur.New(cfg.data)
	}
	h.waldur = httptest.NewServer(http.HandlerFunc(h.serveWaldur))
	t.Cleanup(h.waldur.Close)

	logger := slog.New(slog.NewJSONHandler(h.logs, nil))
	var shared *redisstore.Store
	if cfg.redisURL != "" {
		var err error
		shared, err = redisstore.Open(cfg.redisURL, redisstore.WithLogger(logger), redisstore.WithRetryIn(50*time.Millisecond))
		if err != nil {
			t.Fatalf("redisstore.Open: %v", err)
		}
		t.Cleanup(func() { shared.Close() })
		cfg.clientOptions = append(cfg.clientOptions, upstream.WithSharedCache(shared))
	}
	client, err := upstream.New(h.waldur.URL, append([]upstream.Option{
		upstream.WithTimeout(cfg.timeout),
		upstream.WithDefaultToken(cfg.defaultToken),
		upstream.WithUserAgent("waldur-quotas-gateway/test"),
		upstream.WithObserver(httpapi.UpstreamObserver(logger)),
	}, cfg.clientOptions...)...)
	if err != nil {
		t.Fatalf("upstream.New: %v", err)
	}
	gwConfig := httpapi.Config{Waldur: client, Logger: logger, Version: "test"}
	if shared != nil {
		gwConfig.SharedStore = shared
	}
	for _, mutate := range cfg.gateway {
		mutate(&gwConfig)
	}
	h.gateway = httptest.NewUnstartedServer(httpapi.New(gwConfig))
	if cfg.server != nil {
		h.gateway.Listener = cfg.server(h.gateway.Config, h.gateway.Listener, logger)
	}
	h.gateway.Start()
	t.Cleanup(h.gateway.Close)
	return h
}

func (h *harness) serveWaldur(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	size, _ := strconv.Atoi(q.Get("page_size"))
	h.mu.Lock()
	h.calls = append(h.calls, upstreamCall{
		Method: r.Method, Page: page, PageSize: size,
		QuotaName: q.Get("quota_name"), Ordering: q.Get("o"),
		Authorization: r.Header.Get("Authorization"),
	})
	fault := h.fault
	h.mu.Unlock()
	if fault != nil && fault(w, r) {
		return
	}
	h.upstream.ServeHTTP(w, r)
}

// setFault makes the fake Waldur answer through fn first; fn returns true when
// it wrote the answer itself.
func (h *harness) setFault(fn func(w http.ResponseWriter, r *http.Request) bool) {
	h.mu.Lock()
	h.fault = fn
	h.mu.Unlock()
}

// takeCalls returns the upstream requests since the last call and forgets them.
func (h *harness) takeCalls() []upstreamCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.calls
	h.calls = nil
	return c
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// The two media types a client may ask for in Accept.
const (
	mediaGQL  = "application/graphql-response+json"
	mediaJSON = "application/json"
)

// gqlResponse is one HTTP answer of the gateway. Keys holds its top-level JSON
// entries, so that the absence of "data" can be told from "data": null.
type gqlResponse struct {
	Status int                        `json:"-"`
	Header http.Header                `json:"-"`
	Body   []byte                     `json:"-"`
	Keys   map[string]json.RawMessage `json:"-"`
	Data   json.RawMessage            `json:"data"`
	Errors []gqlError                 `json:"errors"`
}

func (r gqlResponse) hasData() bool {
	_, ok := r.Keys["data"]
	return ok
}

// code returns the first error's extensions.code, "" without errors.
func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func (r gqlResponse) String() string { return fmt.Sprintf("status %d: %s", r.Status, r.Body) }

// post sends a GraphQL request to the gateway with the given Authorization
// header ("" for none).
func (h *harness) post(auth, query string, vars map[string]any) gqlResponse {
	h.t.Helper()
	return h.do(h.postRequest(auth, query, vars))
}

// postRequest is the request post sends, for a test that adds headers to it
// or sends it from another goroutine.
func (h *harness) postRequest(auth, query string, vars map[string]any) *http.Request {
	h.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		h.t.Fatalf("encode the request: %v", err)
	}
	req := h.request(http.MethodPost, "/query", string(body))
	req.Header.Set("Content-Type", mediaJSON)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return req
}

// postRaw POSTs body as it is (JSON or not) as application/json, with the
// given Accept ("" for none) and no Authorization.
func (h *harness) postRaw(accept, body string) gqlResponse {
	h.t.Helper()
	req := h.request(http.MethodPost, "/query", body)
	req.Header.Set("Content-Type", mediaJSON)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return h.do(req)
}

// get sends a GraphQL request as GET /query with params in the query string,
// with the given Accept ("" for none).
func (h *harness) get(accept string, params url.Values) gqlResponse {
	h.t.Helper()
	req := h.request(http.MethodGet, "/query?"+params.Encode(), "")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return h.do(req)
}

// request is a request to the gateway for target, a path with an optional
// query string, without headers.
func (h *harness) request(method, target, body string) *http.Request {
	h.t.Helper()
	req, err := http.NewRequest(method, h.gateway.URL+target, strings.NewReader(body))
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, target, err)
	}
	return req
}

// do sends req and decodes the answer, failing the test unless it is a JSON
// object.
func (h *harness) do(req *http.Request) gqlResponse {
	h.t.Helper()
	r, err := h.send(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// send is do for other goroutines than the test's: it returns what do fails on.
func (h *harness) send(req *http.Request) (gqlResponse, error) {
	r, err := exchange(req)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(r.Body, &r.Keys); err != nil {
		return r, fmt.Errorf("gateway answer is not a JSON object (status %d): %q", r.Status, r.Body)
	}
	if err := json.Unmarshal(r.Body, &r); err != nil {
		return r, fmt.Errorf("gateway answer is not a GraphQL response (status %d): %v: %s", r.Status, err, r.Body)
	}
	return r, nil
}

// raw sends req and returns the answer undecoded (Status, Header and Body),
// for answers that need not be JSON: preflights, other paths, refused methods.
func (h *harness) raw(req *http.Request) gqlResponse {
	h.t.Helper()
	r, err := exchange(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func exchange(req *http.Request) (gqlResponse, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return gqlResponse{}, fmt.Errorf("gateway request %s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return gqlResponse{}, fmt.Errorf("read the gateway's answer to %s %s: %w", req.Method, req.URL.Path, err)
	}
	return gqlResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// wantData fails unless r is a 200 with data and no errors.
func wantData(t testing.TB, r gqlResponse) {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 || !r.hasData() || string(r.Data) == "null" {
		t.Fatalf("want data without errors, got %s", r)
	}
}

// wantRefused fails unless r is a request error (no data entry) with one error
// of the code whose message contains every part.
func wantRefused(t testing.TB, r gqlResponse, status int, code string, parts ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if r.hasData() {
		t.Errorf("a refused request must have no data entry: %s", r.Body)
	}
	if len(r.Errors) != 1 {
		t.Fatalf("want exactly one error, got %s", r.Body)
	}
	if r.code() != code {
		t.Errorf("code %q, want %q: %s", r.code(), code, r.Body)
	}
	for _, p := range parts {
		if !strings.Contains(r.Errors[0].Message, p) {
			t.Errorf("message %q does not contain %q", r.Errors[0].Message, p)
		}
	}
}

// wantNoUpstreamCalls fails t when any request reached Waldur since the last
// takeCalls; what names the requests that must not have caused any.
func (h *harness) wantNoUpstreamCalls(t testing.TB, what string) {
	t.Helper()
	if calls := h.takeCalls(); len(calls) != 0 {
		t.Errorf("%s made %d upstream requests: %+v", what, len(calls), calls)
	}
}

// logRecords decodes each line of logs (the gateway's JSON log, as in h.logs)
// whose msg is msg ("" for every line) into a T, failing t when a line is not JSON.
func logRecords[T any](t testing.TB, logs, msg string) []T {
	t.Helper()
	var out []T
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var head struct {
			Msg string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &head); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if msg != "" && head.Msg != msg {
			continue
		}
		var rec T
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// connection is the JSON shape of a customerQuotas answer.
type connection struct {
	TotalCount int `json:"totalCount"`
	PageInfo   struct {
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
	} `json:"pageInfo"`
	Edges []struct {
		Cursor string `json:"cursor"`
		Node   node   `json:"node"`
	} `json:"edges"`
	Nodes []node `json:"nodes"`
}

type node struct {
	CustomerName         string   `json:"customerName"`
	CustomerAbbreviation string   `json:"customerAbbreviation"`
	Value                *float64 `json:"value"`
}

const connectionQuery = `query Q($q: String!, $o: CustomerQuotaOrderField, $first: Int, $after: String, $last: Int, $before: String) {
  customerQuotas(quotaName: $q, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { customerName customerAbbreviation value } }
    nodes { customerName customerAbbreviation value }
  }
}`

// page runs connectionQuery and fails the test on any error.
func (h *harness) page(auth string, vars map[string]any) connection {
	h.t.Helper()
	resp := h.post(auth, connectionQuery, vars)
	if len(resp.Errors) > 0 || resp.Status != http.StatusOK {
		h.t.Fatalf("vars %v: status %d, errors %+v", vars, resp.Status, resp.Errors)
	}
	return resp.customerQuotas(h.t)
}

// customerQuotas decodes the answer's data.customerQuotas, failing t when it
// is not a connection.
func (r gqlResponse) customerQuotas(t testing.TB) connection {
	t.Helper()
	var data struct {
		CustomerQuotas connection `json:"customerQuotas"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatalf("decode data: %v: %s", err, r.Data)
	}
	return data.CustomerQuotas
}

// nodeOf converts a reference row into the node the gateway must answer.
func nodeOf(r fakewaldur.Row) node {
	n := node{CustomerName: r.CustomerName, CustomerAbbreviation: r.CustomerAbbreviation}
	if f, ok := r.Value.Float64(); ok {
		n.Value = &f
	}
	return n
}

func sameNode(a, b node) bool {
	if a.CustomerName != b.CustomerName || a.CustomerAbbreviation != b.CustomerAbbreviation {
		return false
	}
	if a.Value == nil || b.Value == nil {
		return a.Value == nil && b.Value == nil
	}
	return *a.Value == *b.Value
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const demoStaff = fakewaldur.DemoStaffToken

// staffAuth is the Authorization header of the demo staff user.
const staffAuth = "Token " + demoStaff

// postJSON sends body, marshalled to JSON, as a POST to /query with the given
// Accept header ("" for none): for requests post cannot spell (extensions,
// operationName, raw JSON values).
func (h *harness) postJSON(accept string, body any) gqlResponse {
	h.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.postRaw(accept, string(b))
}

// withServer wires something into the gateway's http.Server (hooks such as
// ConnState) and its loopback listener before it starts, as server.go's
// wiring does, with the harness's logger at hand.
func withServer(wire func(*http.Server, net.Listener, *slog.Logger) net.Listener) harnessOption {
	return func(c *harnessConfig) { c.server = wire }
}

// serve runs req through the gateway's handler directly, without a
// connection: for requests no client can send, such as one whose context is
// cancelled before the gateway sees it.
func (h *harness) serve(req *http.Request) gqlResponse {
	h.t.Helper()
	rec := httptest.NewRecorder()
	h.gateway.Config.Handler.ServeHTTP(rec, req)
	out := gqlResponse{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if err := json.Unmarshal(out.Body, &out); err != nil {
		h.t.Fatalf("gateway answer is not JSON (status %d): %s", out.Status, out.Body)
	}
	_ = json.Unmarshal(out.Body, &out.Keys)
	return out
}

// withRedis makes the gateway one replica of several sharing the Redis at
// url: its persisted queries, and its page cache when one is on (withCache;
// replicas that share it share a CACHE_KEY_SECRET too, withClientOptions).
func withRedis(url string) harnessOption {
	return func(c *harnessConfig) { c.redisURL = url }
}

// withTracing traces the gateway and its upstream client with tp, wired as
// server.go wires them for a provider that exports its spans (export) or not.
func withTracing(tp trace.TracerProvider, export bool) harnessOption {
	return func(c *harnessConfig) {
		c.clientOptions = append(c.clientOptions, tracing.UpstreamOptions(tp, export)...)
		c.gateway = append(c.gateway, func(cfg *httpapi.Config) { cfg.TracerProvider, cfg.ExportTraces = tp, export })
	}
}

// headersSeen records the headers of every request that reaches the fake
// Waldur, in order, then answers through fault (nil: the fake answers). It
// takes setFault's place.
func (h *harness) headersSeen(fault func(http.ResponseWriter, *http.Request) bool) func() []http.Header {
	var mu sync.Mutex
	var seen []http.Header
	h.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		return fault != nil && fault(w, r)
	})
	return func() []http.Header {
		mu.Lock()
		defer mu.Unlock()
		return append([]http.Header(nil), seen...)
	}
}
