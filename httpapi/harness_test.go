package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/httpapi"
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
	for _, mutate := range cfg.gateway {
		mutate(&gwConfig)
	}
	h.gateway = httptest.NewServer(httpapi.New(gwConfig))
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

// gqlResponse is one HTTP answer of the gateway. Keys holds its top-level JSON
// entries, so that the absence of "data" can be told from "data": null.
type gqlResponse struct {
	Status int
	Header http.Header
	Body   []byte
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

// post sends a GraphQL request to the gateway with the given Authorization
// header ("" for none).
func (h *harness) post(auth, query string, vars map[string]any) gqlResponse {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, h.gateway.URL+"/query", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return h.do(req)
}

func (h *harness) do(req *http.Request) gqlResponse {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("gateway request: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("read gateway answer: %v", err)
	}
	out := gqlResponse{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("gateway answer is not JSON (status %d): %s", resp.StatusCode, raw)
	}
	_ = json.Unmarshal(raw, &out.Keys)
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
	var data struct {
		CustomerQuotas connection `json:"customerQuotas"`
	}
	if err := json.Unmarshal(resp.Data, &data); err != nil {
		h.t.Fatalf("decode data: %v: %s", err, resp.Data)
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

// try sends req like do, but returns the client's error (a request cancelled
// or timed out on purpose) instead of failing the test.
func (h *harness) try(req *http.Request) (gqlResponse, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return gqlResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return gqlResponse{}, err
	}
	out := gqlResponse{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, err // not JSON: the caller has Status and Body
	}
	_ = json.Unmarshal(raw, &out.Keys)
	return out, nil
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
