package httpapi_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/upstream"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// totalQuery asks for the total only, which the gateway answers with a HEAD.
const totalQuery = `query T($q: String!) { customerQuotas(quotaName: $q) { totalCount } }`

// errCase is one error the gateway must answer through the whole HTTP stack.
type errCase struct {
	name  string
	data  *fakewaldur.Dataset // nil: the demo dataset
	opts  []harnessOption
	auth  string // the caller's Authorization header, "" for none
	query string // "" means connectionQuery
	vars  map[string]any
	// fault answers instead of the fake Waldur (see harness.setFault).
	fault func(w http.ResponseWriter, r *http.Request) bool
	// setup runs once the harness is up, before the request.
	setup func(t *testing.T, h *harness)

	code           string
	upstreamStatus int    // expected extensions.upstreamStatus; 0: must be absent
	method         string // method of every upstream request; "" when none is expected
	// calls is how many requests reach Waldur; attempts how many the gateway
	// logs (they differ only when Waldur cannot be reached).
	calls, attempts int
	// forbidden are extra strings the message must not contain.
	forbidden []string
	check     func(t *testing.T, r gqlResponse)
}

// local is a case the gateway must refuse without asking Waldur.
func local(name, code string, vars map[string]any) errCase {
	return errCase{name: name, auth: "Token " + demoStaff, vars: vars, code: code}
}

// answer is a fault writing status, headers and body; "{auth}" in the body is
// replaced by the Authorization header Waldur received, as a careless proxy
// might echo it.
func answer(status int, headers map[string]string, body string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, strings.ReplaceAll(body, "{auth}", r.Header.Get("Authorization")))
		}
		return true
	}
}

const (
	htmlBody = `<html><head><title>502 Bad Gateway</title></head><body><center>nginx rejected {auth}</center></body></html>`
	jsonRow  = `{"customer_name":"Acme","customer_abbreviation":"AC","value":1}`
)

func countHeader(n string) map[string]string {
	return map[string]string{"X-Result-Count": n, "Content-Type": "application/json"}
}

func vars5() map[string]any { return map[string]any{"q": "os_storage_size", "first": 5} }

func withVars(kv ...any) map[string]any {
	m := map[string]any{"q": "os_storage_size"}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func retryAfterIs(want float64) func(t *testing.T, r gqlResponse) {
	return func(t *testing.T, r gqlResponse) {
		t.Helper()
		got, ok := r.Errors[0].Extensions["retryAfter"]
		if !ok || got != want {
			t.Errorf("extensions.retryAfter = %v (present %v), want %v", got, ok, want)
		}
		if !strings.Contains(r.Errors[0].Message, fmt.Sprintf("%v s", want)) {
			t.Errorf("message %q does not name the %v s to wait", r.Errors[0].Message, want)
		}
	}
}

func retryAfterWithin(lo, hi float64) func(t *testing.T, r gqlResponse) {
	return func(t *testing.T, r gqlResponse) {
		t.Helper()
		got, ok := r.Errors[0].Extensions["retryAfter"].(float64)
		if !ok || got < lo || got > hi || got != float64(int(got)) {
			t.Errorf("extensions.retryAfter = %v, want a whole number in [%v, %v]", r.Errors[0].Extensions["retryAfter"], lo, hi)
		}
	}
}

// retryAfterConsistent: a retryAfter, if any, is a positive whole number of
// seconds and the message names the same number.
func retryAfterConsistent(t *testing.T, r gqlResponse) {
	t.Helper()
	v, ok := r.Errors[0].Extensions["retryAfter"]
	if !ok {
		return
	}
	f, _ := v.(float64)
	if f < 1 || f != float64(int64(f)) {
		t.Errorf("extensions.retryAfter = %v, want a positive whole number", v)
	}
	if !strings.Contains(r.Errors[0].Message, fmt.Sprintf("in %d s", int64(f))) {
		t.Errorf("message %q disagrees with retryAfter %v", r.Errors[0].Message, v)
	}
}

func noRetryAfter(t *testing.T, r gqlResponse) {
	t.Helper()
	if v, ok := r.Errors[0].Extensions["retryAfter"]; ok {
		t.Errorf("extensions.retryAfter = %v, want no such key", v)
	}
}

func messageContains(parts ...string) func(t *testing.T, r gqlResponse) {
	return func(t *testing.T, r gqlResponse) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(r.Errors[0].Message, p) {
				t.Errorf("message %q does not contain %q", r.Errors[0].Message, p)
			}
		}
	}
}

// issuedCursors are real cursors the gateway handed out, each for a scope.
type issuedCursors struct {
	storageValue, cpuValue, storageName string
}

func issueCursors(t *testing.T) issuedCursors {
	t.Helper()
	h := newHarness(t)
	end := func(q, o string) string {
		c := h.page("Token "+demoStaff, map[string]any{"q": q, "o": o, "first": 3})
		if c.PageInfo.EndCursor == nil {
			t.Fatalf("%s/%s: no endCursor", q, o)
		}
		return *c.PageInfo.EndCursor
	}
	return issuedCursors{
		storageValue: end("os_storage_size", "VALUE"),
		cpuValue:     end("os_cpu_count", "VALUE"),
		storageName:  end("os_storage_size", "NAME"),
	}
}

// errorCases is every error the gateway answers, with how to provoke it.
func errorCases(t *testing.T) []errCase {
	t.Helper()
	cur := issueCursors(t)
	inactive := &fakewaldur.Dataset{
		Customers: demo().Customers,
		Users:     map[string]fakewaldur.User{"sleepy-token": {Inactive: true}, demoStaff: {Staff: true}},
	}

	// A second server the redirects point at: nothing may ever reach it.
	var redirected atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirected.Add(1)
		w.Header().Set("X-Result-Count", "1")
		_, _ = io.WriteString(w, "["+jsonRow+"]")
	}))
	t.Cleanup(target.Close)
	notRedirected := func(t *testing.T, _ gqlResponse) {
		t.Helper()
		if n := redirected.Load(); n != 0 {
			t.Errorf("the redirect target was requested %d times; the token travelled", n)
		}
	}
	redirect := func(status int) func(http.ResponseWriter, *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, target.URL+"/api/customer-quotas/?"+r.URL.RawQuery, status)
			return true
		}
	}

	// Sleeps past the client's timeout, but stops as soon as the client gives up.
	slow := func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return true
	}

	big := `[` + strings.TrimSuffix(strings.Repeat(jsonRow+",", 40), ",") + `]` // ~2.5 KiB, 40 rows
	staff := "Token " + demoStaff
	dead := deadAddr(t)

	cases := []errCase{
		// UNAUTHENTICATED
		{name: "401 no credentials", auth: "", vars: vars5(), code: "UNAUTHENTICATED", upstreamStatus: 401, method: "GET", calls: 1,
			check: messageContains("Authorization")},
		{name: "401 invalid token", auth: "Token not-a-token", vars: vars5(), code: "UNAUTHENTICATED", upstreamStatus: 401, method: "GET", calls: 1,
			check: messageContains("credentials")},
		{name: "401 invalid bearer", auth: "Bearer w_not-a-token", vars: vars5(), code: "UNAUTHENTICATED", upstreamStatus: 401, method: "GET", calls: 1},
		{name: "401 inactive user", data: inactive, auth: "Token sleepy-token", vars: vars5(), code: "UNAUTHENTICATED", upstreamStatus: 401, method: "GET", calls: 1},
		{name: "malformed header with a tab", auth: "Token\t" + demoStaff, vars: vars5(), code: "UNAUTHENTICATED",
			check: messageContains("malformed")},
		{name: "malformed header with non-ASCII", auth: "Token d\u00e9mo-" + demoStaff, vars: vars5(), code: "UNAUTHENTICATED",
			check: messageContains("malformed")},
		{name: "HEAD 401 invalid token", auth: "Token not-a-token", query: totalQuery, vars: withVars(), code: "UNAUTHENTICATED", upstreamStatus: 401, method: "HEAD", calls: 1},

		// FORBIDDEN
		{name: "403 legacy Waldur", auth: "Token " + fakewaldur.DemoLegacyToken, vars: vars5(), code: "FORBIDDEN", upstreamStatus: 403, method: "GET", calls: 1},
		{name: "HEAD 403 legacy Waldur", auth: "Token " + fakewaldur.DemoLegacyToken, query: totalQuery, vars: withVars(), code: "FORBIDDEN", upstreamStatus: 403, method: "HEAD", calls: 1},

		// BAD_USER_INPUT, decided locally
		local("first 101", "BAD_USER_INPUT", withVars("first", 101)),
		local("first -1", "BAD_USER_INPUT", withVars("first", -1)),
		local("last 101", "BAD_USER_INPUT", withVars("last", 101)),
		local("last -1", "BAD_USER_INPUT", withVars("last", -1)),
		// Far beyond the bound: the resolver's error, not the complexity limit's.
		local("first 2^31-1", "BAD_USER_INPUT", withVars("first", math.MaxInt32)),
		local("last 1000000", "BAD_USER_INPUT", withVars("last", 1000000)),
		local("first and last 2^31-1", "BAD_USER_INPUT", withVars("first", math.MaxInt32, "last", math.MaxInt32)),
		local("empty quotaName", "BAD_USER_INPUT", map[string]any{"q": "", "first": 5}),
		local("quotaName with spaces", "BAD_USER_INPUT", map[string]any{"q": "os storage size", "first": 5}),
		local("quotaName with unicode", "BAD_USER_INPUT", map[string]any{"q": "\u043a\u0432\u043e\u0442\u0430", "first": 5}),
		local("quotaName with a query string", "BAD_USER_INPUT", map[string]any{"q": "x&page_size=300", "first": 5}),
		local("quotaName of 65 chars", "BAD_USER_INPUT", map[string]any{"q": strings.Repeat("a", 65), "first": 5}),
		local("after garbage", "BAD_USER_INPUT", withVars("first", 5, "after", "!!not a cursor!!")),
		local("after base64 of garbage", "BAD_USER_INPUT", withVars("first", 5, "after", base64.RawURLEncoding.EncodeToString([]byte("v1:garbage")))),
		local("after empty", "BAD_USER_INPUT", withVars("first", 5, "after", "")),
		local("after too long", "BAD_USER_INPUT", withVars("first", 5, "after", strings.Repeat("A", 10000))),
		local("before garbage", "BAD_USER_INPUT", withVars("last", 5, "before", "!!not a cursor!!")),
		local("before base64 of garbage", "BAD_USER_INPUT", withVars("last", 5, "before", base64.StdEncoding.EncodeToString([]byte("offset=3")))),
		local("before empty", "BAD_USER_INPUT", withVars("last", 5, "before", "")),
		local("after from another quotaName", "BAD_USER_INPUT", withVars("first", 5, "after", cur.cpuValue)),
		local("after from another orderBy", "BAD_USER_INPUT", withVars("first", 5, "after", cur.storageName)),
		local("before from another quotaName", "BAD_USER_INPUT", withVars("last", 5, "before", cur.cpuValue)),
		local("before from another orderBy", "BAD_USER_INPUT", withVars("last", 5, "before", cur.storageName)),
		local("NAME cursor used with VALUE", "BAD_USER_INPUT", withVars("o", "VALUE", "first", 5, "after", cur.storageName)),
		local("VALUE cursor used with NAME", "BAD_USER_INPUT", withVars("o", "NAME", "first", 5, "before", cur.storageValue)),

		// BAD_USER_INPUT from Waldur
		{name: "400 empty body", auth: staff, vars: vars5(), fault: answer(400, nil, ""), code: "BAD_USER_INPUT", upstreamStatus: 400, method: "GET", calls: 1},
		{name: "HEAD 400 empty body", auth: staff, query: totalQuery, vars: withVars(), fault: answer(400, nil, ""), code: "BAD_USER_INPUT", upstreamStatus: 400, method: "HEAD", calls: 1},

		// RATE_LIMITED
		{name: "429 Retry-After seconds", auth: staff, vars: vars5(),
			fault: answer(429, map[string]string{"Retry-After": "7"}, `{"detail":"Request was throttled for {auth}."}`),
			code:  "RATE_LIMITED", upstreamStatus: 429, method: "GET", calls: 1, check: retryAfterIs(7), forbidden: []string{"throttled"}},
		{name: "429 Retry-After HTTP date", auth: staff, vars: vars5(),
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				return answer(429, map[string]string{"Retry-After": time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)}, "")(w, r)
			},
			code: "RATE_LIMITED", upstreamStatus: 429, method: "GET", calls: 1, check: retryAfterWithin(28, 31)},
		{name: "429 without Retry-After", auth: staff, vars: vars5(), fault: answer(429, nil, htmlBody),
			code: "RATE_LIMITED", upstreamStatus: 429, method: "GET", calls: 1, check: noRetryAfter},
		{name: "429 unparsable Retry-After", auth: staff, vars: vars5(), fault: answer(429, map[string]string{"Retry-After": "soon"}, ""),
			code: "RATE_LIMITED", upstreamStatus: 429, method: "GET", calls: 1, check: noRetryAfter},
		{name: "429 Retry-After beyond time.Duration", auth: staff, vars: vars5(), fault: answer(429, map[string]string{"Retry-After": "9223372036"}, ""),
			code: "RATE_LIMITED", upstreamStatus: 429, method: "GET", calls: 1, check: retryAfterConsistent},
		{name: "HEAD 429 Retry-After seconds", auth: staff, query: totalQuery, vars: withVars(),
			fault: answer(429, map[string]string{"Retry-After": "7"}, ""),
			code:  "RATE_LIMITED", upstreamStatus: 429, method: "HEAD", calls: 1, check: retryAfterIs(7)},
		{name: "HEAD 429 without Retry-After", auth: staff, query: totalQuery, vars: withVars(), fault: answer(429, nil, ""),
			code: "RATE_LIMITED", upstreamStatus: 429, method: "HEAD", calls: 1, check: noRetryAfter},

		// UPSTREAM_UNAVAILABLE
		{name: "500 JSON body", auth: staff, vars: vars5(), fault: answer(500, nil, `{"detail":"Internal error for {auth}"}`),
			code: "UPSTREAM_UNAVAILABLE", upstreamStatus: 500, method: "GET", calls: 1, forbidden: []string{"Internal error"}},
		{name: "502 HTML body", auth: staff, vars: vars5(), fault: answer(502, map[string]string{"Content-Type": "text/html"}, htmlBody),
			code: "UPSTREAM_UNAVAILABLE", upstreamStatus: 502, method: "GET", calls: 1, check: noRetryAfter},
		{name: "503", auth: staff, vars: vars5(), fault: answer(503, map[string]string{"Retry-After": "7"}, "Service Unavailable"),
			code: "UPSTREAM_UNAVAILABLE", upstreamStatus: 503, method: "GET", calls: 1, check: retryAfterIs(7), forbidden: []string{"Service Unavailable"}},
		{name: "504", auth: staff, vars: vars5(), fault: answer(504, nil, htmlBody),
			code: "UPSTREAM_UNAVAILABLE", upstreamStatus: 504, method: "GET", calls: 1},
		{name: "HEAD 503", auth: staff, query: totalQuery, vars: withVars(), fault: answer(503, nil, ""),
			code: "UPSTREAM_UNAVAILABLE", upstreamStatus: 503, method: "HEAD", calls: 1},
		{name: "Waldur closed", auth: staff, vars: vars5(), setup: func(t *testing.T, h *harness) { h.waldur.Close() },
			code: "UPSTREAM_UNAVAILABLE", attempts: 1},
		{name: "HEAD Waldur closed", auth: staff, query: totalQuery, vars: withVars(), setup: func(t *testing.T, h *harness) { h.waldur.Close() },
			code: "UPSTREAM_UNAVAILABLE", attempts: 1},
		{name: "nothing listens", auth: staff, vars: vars5(),
			opts: []harnessOption{withClientOptions(upstream.WithTransport(redirectTo(dead)))},
			code: "UPSTREAM_UNAVAILABLE", attempts: 1, forbidden: []string{dead}},
		{name: "timeout", auth: staff, vars: vars5(), opts: []harnessOption{withUpstreamTimeout(200 * time.Millisecond)}, fault: slow,
			code: "UPSTREAM_UNAVAILABLE", method: "GET", calls: 1, forbidden: []string{"deadline", "Client.Timeout"}},
		{name: "HEAD timeout", auth: staff, query: totalQuery, vars: withVars(), opts: []harnessOption{withUpstreamTimeout(200 * time.Millisecond)}, fault: slow,
			code: "UPSTREAM_UNAVAILABLE", method: "HEAD", calls: 1},
		{name: "connection dropped", auth: staff, vars: vars5(), fault: func(w http.ResponseWriter, r *http.Request) bool {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return true
		}, code: "UPSTREAM_UNAVAILABLE", method: "GET", calls: -1, attempts: 1, forbidden: []string{"EOF"}},

		// UPSTREAM_BAD_RESPONSE
		{name: "404 for page 1: no endpoint there", auth: staff, vars: vars5(), fault: answer(404, nil, "<h1>Not Found</h1>"),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 404, method: "GET", calls: 1, check: messageContains("check the Waldur API URL"), forbidden: []string{"Not Found"}},
		{name: "HEAD 404: no endpoint there", auth: staff, query: totalQuery, vars: withVars(), fault: answer(404, nil, ""),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 404, method: "HEAD", calls: 1, check: messageContains("check the Waldur API URL")},
		{name: "malformed JSON", auth: staff, vars: vars5(), fault: answer(200, countHeader("1"), `[{"customer_name":"Acme {auth}",`),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1, forbidden: []string{"Acme", "unexpected end"}},
		{name: "object instead of array", auth: staff, vars: vars5(), fault: answer(200, countHeader("1"), `{"results":[`+jsonRow+`]}`),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1, forbidden: []string{"results", "Go value"}},
		{name: "null body", auth: staff, vars: vars5(), fault: answer(200, countHeader("1"), `null`),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1},
		{name: "empty body", auth: staff, vars: vars5(), fault: answer(200, countHeader("1"), ``),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1},
		{name: "row without customer_name", auth: staff, vars: vars5(), fault: answer(200, countHeader("1"), `[{"customer_abbreviation":"AC","value":1}]`),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1},
		{name: "value is a string", auth: staff, vars: vars5(), fault: answer(200, countHeader("1"), `[{"customer_name":"Acme","customer_abbreviation":"AC","value":"12"}]`),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1, forbidden: []string{"Acme"}},
		{name: "no X-Result-Count", auth: staff, vars: vars5(), fault: answer(200, nil, "["+jsonRow+"]"),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1, check: messageContains("X-Result-Count")},
		{name: "X-Result-Count abc", auth: staff, vars: vars5(), fault: answer(200, countHeader("abc"), "["+jsonRow+"]"),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1, forbidden: []string{"abc", "strconv"}},
		{name: "X-Result-Count -3", auth: staff, vars: vars5(), fault: answer(200, countHeader("-3"), "["+jsonRow+"]"),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1},
		{name: "X-Result-Count +1", auth: staff, vars: vars5(), fault: answer(200, countHeader("+1"), "["+jsonRow+"]"),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1},
		{name: "X-Result-Count beyond GraphQL Int", auth: staff, vars: vars5(), fault: answer(200, countHeader("3000000000"), "["+jsonRow+"]"),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1},
		{name: "HEAD X-Result-Count beyond cursor range with last", auth: staff, vars: withVars("last", 5), fault: answer(200, countHeader("2000000000"), "["+jsonRow+"]"),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "HEAD", calls: 1},
		{name: "more rows than asked", auth: staff, vars: withVars("first", 2), fault: answer(200, countHeader("40"), big),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1},
		{name: "body over the cap", auth: staff, vars: withVars("first", 100), opts: []harnessOption{withClientOptions(upstream.WithBodyLimit(1024))},
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1, check: messageContains("1024")},
		{name: "chunked body over the cap", auth: staff, vars: withVars("first", 50), opts: []harnessOption{withClientOptions(upstream.WithBodyLimit(1024))},
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("X-Result-Count", "40")
				for i := range 40 {
					if i == 0 {
						_, _ = io.WriteString(w, "["+jsonRow)
					} else {
						_, _ = io.WriteString(w, ","+jsonRow)
					}
					http.NewResponseController(w).Flush()
				}
				_, _ = io.WriteString(w, "]")
				return true
			},
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "GET", calls: 1},
		{name: "302 redirect", auth: staff, vars: vars5(), fault: redirect(http.StatusFound),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 302, method: "GET", calls: 1, check: notRedirected, forbidden: []string{target.URL}},
		{name: "307 redirect", auth: staff, vars: vars5(), fault: redirect(http.StatusTemporaryRedirect),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 307, method: "GET", calls: 1, check: notRedirected},
		{name: "HEAD 302 redirect", auth: staff, query: totalQuery, vars: withVars(), fault: redirect(http.StatusFound),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 302, method: "HEAD", calls: 1, check: notRedirected},
		{name: "418", auth: staff, vars: vars5(), fault: answer(418, nil, "I'm a teapot"),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 418, method: "GET", calls: 1, forbidden: []string{"teapot"}},
		{name: "HEAD no X-Result-Count", auth: staff, query: totalQuery, vars: withVars(), fault: answer(200, nil, ""),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "HEAD", calls: 1, check: messageContains("X-Result-Count")},
		{name: "HEAD X-Result-Count abc", auth: staff, query: totalQuery, vars: withVars(), fault: answer(200, countHeader("abc"), ""),
			code: "UPSTREAM_BAD_RESPONSE", upstreamStatus: 200, method: "HEAD", calls: 1},
	}
	return cases
}

// deadAddr is a loopback address nothing listens on (it was listening a moment ago).
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// redirectTo is a transport that sends every request to addr instead.
func redirectTo(addr string) http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Host = addr
		return tr.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// genericLeaks may never appear in an error message: Go-isms, library names,
// addresses and upstream bodies.
var genericLeaks = []string{
	"%!", "<nil>", "&{", "resty", "http://", "https://", "127.0.0.1", "localhost", "[::1]",
	`{"detail"`, `"detail"`, "<html", "nginx", "Acme", "dial tcp", "connection refused",
	"context deadline", "context canceled", "invalid character", "json:", "Get \"", "Head \"",
	"Authentication credentials were not provided.", "Invalid token.", "User inactive or deleted.",
	"You do not have permission", "panic", "goroutine",
}

// logLine is one line of the gateway's JSON log.
type logLine struct {
	Msg           string   `json:"msg"`
	Path          string   `json:"path"`
	Status        int      `json:"status"`
	UpstreamCalls *int     `json:"upstream_calls"`
	ErrorCodes    []string `json:"error_codes"`
}

// requestLines are the one-per-request lines among logs.
func requestLines(t *testing.T, logs string) []logLine {
	t.Helper()
	return logRecords[logLine](t, logs, "request")
}

func intOrMissing(p *int) string {
	if p == nil {
		return "missing"
	}
	return fmt.Sprint(*p)
}

// caseRun is what running an errCase produced.
type caseRun struct {
	h     *harness
	resp  gqlResponse
	calls []upstreamCall
}

// runErrCase runs c through a fresh harness and checks everything every error
// must satisfy: HTTP status, a single error with its code, path, a clean
// message and only known extensions, data null, the upstream requests made,
// and the log line.
func runErrCase(t *testing.T, c errCase) caseRun {
	t.Helper()
	opts := slices.Clone(c.opts)
	if c.data != nil {
		opts = append(opts, withDataset(c.data))
	}
	h := newHarness(t, opts...)
	waldurURL := h.waldur.URL
	u, _ := url.Parse(waldurURL)
	if c.fault != nil {
		h.setFault(c.fault)
	}
	if c.setup != nil {
		c.setup(t, h)
	}
	query := c.query
	if query == "" {
		query = connectionQuery
	}
	start := time.Now()
	resp := h.post(c.auth, query, c.vars)
	elapsed := time.Since(start)
	calls := h.takeCalls()

	if resp.Status != http.StatusOK {
		t.Errorf("HTTP status %d, want 200", resp.Status)
	}
	if elapsed > 3*time.Second {
		t.Errorf("the answer took %s", elapsed)
	}
	if string(resp.Data) != "null" {
		t.Errorf("data = %s, want null", resp.Data)
	}
	if len(resp.Errors) != 1 {
		t.Fatalf("want exactly one error, got %d: %s", len(resp.Errors), resp.Body)
	}
	e := resp.Errors[0]
	if got := resp.code(); got != c.code {
		t.Errorf("extensions.code = %q, want %q (message %q)", got, c.code, e.Message)
	}
	if !slices.Equal(e.Path, []any{"customerQuotas"}) {
		t.Errorf("path = %v, want [customerQuotas]", e.Path)
	}
	msg := e.Message
	if strings.TrimSpace(msg) == "" {
		t.Errorf("empty message")
	}
	leaks := append(slices.Clone(genericLeaks), u.Host, u.Port(), "SECRET")
	leaks = append(leaks, c.forbidden...)
	if _, tok, ok := strings.Cut(c.auth, " "); ok && tok != "" {
		leaks = append(leaks, tok)
	}
	if _, tok, ok := strings.Cut(c.auth, "\t"); ok && tok != "" {
		leaks = append(leaks, tok)
	}
	for _, l := range leaks {
		if l != "" && strings.Contains(msg, l) {
			t.Errorf("message %q contains %q", msg, l)
		}
	}
	for k := range e.Extensions {
		if k != "code" && k != "upstreamStatus" && k != "retryAfter" {
			t.Errorf("unexpected extension %q = %v", k, e.Extensions[k])
		}
	}
	// A wait is told for a 429, and for a 5xx that asked for one.
	if _, ok := e.Extensions["retryAfter"]; ok && c.code != "RATE_LIMITED" && c.code != "UPSTREAM_UNAVAILABLE" {
		t.Errorf("retryAfter on a %s error", c.code)
	}
	st, hasStatus := e.Extensions["upstreamStatus"]
	switch {
	case c.upstreamStatus == 0 && hasStatus:
		t.Errorf("extensions.upstreamStatus = %v, want none", st)
	case c.upstreamStatus != 0 && st != float64(c.upstreamStatus):
		t.Errorf("extensions.upstreamStatus = %v, want %d", st, c.upstreamStatus)
	}

	if c.calls >= 0 {
		if len(calls) != c.calls {
			t.Errorf("Waldur saw %d requests %+v, want %d", len(calls), calls, c.calls)
		}
	}
	for _, call := range calls {
		if call.Method != c.method {
			t.Errorf("Waldur saw a %s request, want %q", call.Method, c.method)
		}
	}

	attempts := c.attempts
	if attempts == 0 {
		attempts = c.calls
	}
	lines := requestLines(t, h.logs.String())
	if len(lines) != 1 {
		t.Errorf("want one request log line, got %d: %s", len(lines), h.logs.String())
	} else {
		l := lines[0]
		if l.Path != "/query" || l.Status != http.StatusOK {
			t.Errorf("log line path %q status %d", l.Path, l.Status)
		}
		if l.UpstreamCalls == nil || *l.UpstreamCalls != attempts {
			t.Errorf("log upstream_calls = %s, want %d", intOrMissing(l.UpstreamCalls), attempts)
		}
		if !slices.Equal(l.ErrorCodes, []string{c.code}) {
			t.Errorf("log error_codes = %v, want [%s]", l.ErrorCodes, c.code)
		}
	}
	if c.check != nil {
		c.check(t, resp)
	}
	return caseRun{h: h, resp: resp, calls: calls}
}

func TestErrorCodesOverHTTP(t *testing.T) {
	cases := errorCases(t)
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runErrCase(t, c)
		})
	}
	t.Run("every code is covered", func(t *testing.T) {
		codes := map[string]bool{}
		for _, c := range cases {
			codes[c.code] = true
		}
		for _, want := range []string{"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "RATE_LIMITED", "UPSTREAM_UNAVAILABLE", "UPSTREAM_BAD_RESPONSE"} {
			if !codes[want] {
				t.Errorf("no case for %s", want)
			}
		}
	})
}

// The cursors the error cases call foreign are accepted in their own scope, so
// the refusals above are about scope, not about malformed cursors.
func TestIssuedCursorsWorkInTheirOwnScope(t *testing.T) {
	cur := issueCursors(t)
	h := newHarness(t)
	for _, v := range []map[string]any{
		{"q": "os_storage_size", "o": "VALUE", "first": 2, "after": cur.storageValue},
		{"q": "os_cpu_count", "o": "VALUE", "first": 2, "after": cur.cpuValue},
		{"q": "os_storage_size", "o": "NAME", "first": 2, "after": cur.storageName},
		{"q": "os_storage_size", "o": "NAME", "last": 2, "before": cur.storageName},
	} {
		if c := h.page("Token "+demoStaff, v); len(c.Nodes) != 2 {
			t.Errorf("%v: %d nodes, want 2", v, len(c.Nodes))
		}
	}
}

// The limits themselves are accepted: the refusals are exactly at the edges.
func TestValidationEdgesAccepted(t *testing.T) {
	h := newHarness(t)
	for _, v := range []map[string]any{
		{"q": "os_storage_size", "first": 100},
		{"q": "os_storage_size", "first": 0},
		{"q": "os_storage_size", "last": 100},
		{"q": "os_storage_size", "last": 0},
		{"q": strings.Repeat("a", 64), "first": 1},
		{"q": "Os.storage-size_2", "first": 1},
	} {
		h.page("Token "+demoStaff, v)
	}
}

// A control character other than a tab cannot reach the gateway: Go's client
// refuses to send it, and net/http's server answers 400 before any handler
// runs, so Waldur never sees it and the header is not echoed.
func TestControlCharacterInAuthorization(t *testing.T) {
	h := newHarness(t)
	for _, bad := range []string{"Token SECRET-abc123\x01", "Token SECRET-abc123\x7f", "Token \x00SECRET-abc123"} {
		req := h.request(http.MethodPost, "/query", `{"query":"{__typename}"}`)
		req.Header.Set("Content-Type", mediaJSON)
		req.Header.Set("Authorization", bad)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Errorf("%q: Go's client sent the header (status %d)", bad, resp.StatusCode)
		}

		conn, err := net.Dial("tcp", h.gateway.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		body := `{"query":"{ customerQuotas(quotaName: \"os_storage_size\", first: 1) { totalCount } }"}`
		fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nAuthorization: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", bad, len(body), body)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			conn.Close()
			t.Fatalf("%q: %v", bad, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", bad, resp.StatusCode)
		}
		if strings.Contains(string(raw), "SECRET") {
			t.Errorf("%q: the answer echoes the header: %s", bad, raw)
		}
	}
	if calls := h.takeCalls(); len(calls) != 0 {
		t.Errorf("Waldur saw %+v", calls)
	}
	if strings.Contains(h.logs.String(), "SECRET") {
		t.Errorf("the log holds the header: %s", h.logs.String())
	}
}

// A proxy's error page larger than the body cap is still the proxy's 5xx.
func TestLargeErrorPageStaysUnavailable(t *testing.T) {
	h := newHarness(t, withClientOptions(upstream.WithBodyLimit(1024)))
	h.setFault(answer(503, map[string]string{"Content-Type": "text/html"}, strings.Repeat(htmlBody, 20)))
	resp := h.post("Token "+demoStaff, connectionQuery, vars5())
	if resp.code() != "UPSTREAM_UNAVAILABLE" {
		t.Errorf("code %q (%v), want UPSTREAM_UNAVAILABLE", resp.code(), resp.Errors)
	}
}
