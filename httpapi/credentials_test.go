package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/waldur-quotas/gateway/upstream"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// secret is a credential distinctive enough to grep for.
const secret = "SECRET-abc123"

// datasetWith is the demo's customers with extra users (the demo's own kept).
func datasetWith(users map[string]fakewaldur.User) *fakewaldur.Dataset {
	d := &fakewaldur.Dataset{Customers: demo().Customers, Users: maps.Clone(demo().Users)}
	maps.Copy(d.Users, users)
	return d
}

func TestAuthorizationForwardedVerbatim(t *testing.T) {
	h := newHarness(t, withDataset(datasetWith(map[string]fakewaldur.User{"x": {Staff: true}, "w_x": {Staff: true}})))
	want := h.data.Rows("x", "os_storage_size", "value")
	for _, auth := range []string{"Token x", "Bearer w_x", "token   x", "BEARER w_x"} {
		for _, q := range []struct{ method, query string }{{"GET", connectionQuery}, {"HEAD", totalQuery}} {
			resp := h.post(auth, q.query, map[string]any{"q": "os_storage_size", "first": 3})
			if len(resp.Errors) != 0 {
				t.Fatalf("%q %s: %s", auth, q.method, resp.Body)
			}
			if got := resp.customerQuotas(t).TotalCount; got != len(want) {
				t.Errorf("%q %s: totalCount %d, want %d", auth, q.method, got, len(want))
			}
			calls := h.takeCalls()
			if len(calls) != 1 || calls[0].Method != q.method || calls[0].Authorization != auth {
				t.Errorf("%q: Waldur saw %+v, want one %s with Authorization %q", auth, calls, q.method, auth)
			}
		}
	}
}

func TestDefaultTokenOnlyWithoutCallerHeader(t *testing.T) {
	h := newHarness(t, withDefaultToken("svc"), withDataset(datasetWith(map[string]fakewaldur.User{"svc": {Staff: true}})))
	owner := "Token " + fakewaldur.DemoOwnerToken
	for _, tc := range []struct {
		auth, sent, token string
	}{
		{"", "Token svc", "svc"},
		{owner, owner, fakewaldur.DemoOwnerToken},
		{"Bearer " + fakewaldur.DemoNobodyToken, "Bearer " + fakewaldur.DemoNobodyToken, fakewaldur.DemoNobodyToken},
	} {
		want := h.data.Rows(tc.token, "os_storage_size", "value")
		for _, q := range []struct{ method, query string }{{"GET", connectionQuery}, {"HEAD", totalQuery}} {
			resp := h.post(tc.auth, q.query, map[string]any{"q": "os_storage_size", "first": 5})
			if len(resp.Errors) != 0 {
				t.Fatalf("%q %s: %s", tc.auth, q.method, resp.Body)
			}
			c := resp.customerQuotas(t)
			if c.TotalCount != len(want) {
				t.Errorf("%q %s: totalCount %d, want %d (the rows of %s)", tc.auth, q.method, c.TotalCount, len(want), tc.token)
			}
			if q.method == "GET" {
				for i, n := range c.Nodes {
					if !sameNode(n, nodeOf(want[i])) {
						t.Errorf("%q row %d: %+v, want %+v", tc.auth, i, n, nodeOf(want[i]))
					}
				}
			}
			if calls := h.takeCalls(); len(calls) != 1 || calls[0].Authorization != tc.sent || calls[0].Method != q.method {
				t.Errorf("caller %q: Waldur saw %+v, want one %s with %q", tc.auth, calls, q.method, tc.sent)
			}
		}
	}
	// A malformed header of the caller's is refused, never replaced by the default.
	resp := h.post("Token\tnope", connectionQuery, vars5())
	if resp.code() != "UNAUTHENTICATED" {
		t.Errorf("malformed caller header: %s", resp.Body)
	}
	if calls := h.takeCalls(); len(calls) != 0 {
		t.Errorf("malformed caller header: Waldur saw %+v", calls)
	}
}

func TestDefaultTokenRefusedIsNotAskedForCredentials(t *testing.T) {
	h := newHarness(t, withDefaultToken("svc")) // svc is no user of the demo
	resp := h.post("", connectionQuery, vars5())
	if resp.code() != "UNAUTHENTICATED" || strings.Contains(resp.Errors[0].Message, "send an Authorization header") {
		t.Errorf("got %s; want UNAUTHENTICATED saying the credentials were refused", resp.Body)
	}
	if calls := h.takeCalls(); len(calls) != 1 || calls[0].Authorization != "Token svc" {
		t.Errorf("Waldur saw %+v", calls)
	}
}

func TestConcurrentCallersGetOnlyTheirOwnRows(t *testing.T) {
	h := newHarness(t)
	const quota, perCaller = "os_storage_size", 20
	// Two aliases with identical arguments: deduplicated into one upstream call
	// within an operation; across operations only while one is in flight
	// (coalescing), and never across callers.
	const query = `query D($q: String!) {
  a: customerQuotas(quotaName: $q, first: 10) { totalCount nodes { customerName customerAbbreviation value } }
  b: customerQuotas(quotaName: $q, first: 10) { totalCount nodes { customerName customerAbbreviation value } }
}`
	tokens := []string{demoStaff, fakewaldur.DemoOwnerToken}
	want := map[string][]fakewaldur.Row{}
	for _, tok := range tokens {
		want[tok] = h.data.Rows(tok, quota, "value")
	}
	if slices.EqualFunc(want[demoStaff][:10], want[fakewaldur.DemoOwnerToken][:10], func(a, b fakewaldur.Row) bool { return sameNode(nodeOf(a), nodeOf(b)) }) {
		t.Fatal("staff and owner see the same first page; the test would prove nothing")
	}

	var wg sync.WaitGroup
	errs := make(chan error, 2*perCaller)
	for i := range 2 * perCaller {
		tok := tokens[i%2]
		req := h.postRequest("Token "+tok, query, map[string]any{"q": quota})
		wg.Go(func() {
			resp, err := h.send(req)
			if err != nil {
				errs <- err
				return
			}
			if len(resp.Errors) != 0 {
				errs <- fmt.Errorf("%s: %s", tok, resp.Body)
				return
			}
			var data map[string]struct {
				TotalCount int    `json:"totalCount"`
				Nodes      []node `json:"nodes"`
			}
			if err := json.Unmarshal(resp.Data, &data); err != nil {
				errs <- err
				return
			}
			rows := want[tok]
			for _, alias := range []string{"a", "b"} {
				c := data[alias]
				if c.TotalCount != len(rows) || len(c.Nodes) != min(10, len(rows)) {
					errs <- fmt.Errorf("%s %s: totalCount %d, %d nodes; want %d, %d", tok, alias, c.TotalCount, len(c.Nodes), len(rows), min(10, len(rows)))
					return
				}
				for j, n := range c.Nodes {
					if !sameNode(n, nodeOf(rows[j])) {
						errs <- fmt.Errorf("%s %s row %d: %+v, want %+v", tok, alias, j, n, nodeOf(rows[j]))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	perToken := map[string]int{}
	for _, c := range h.takeCalls() {
		perToken[c.Authorization]++
	}
	if len(perToken) != 2 {
		t.Errorf("upstream calls per credential %v, want both callers", perToken)
	}
	for _, n := range perToken {
		if n < 1 || n > perCaller {
			t.Errorf("upstream calls per credential %v, want at most one per operation", perToken)
		}
	}
	logs := h.logs.String()
	lines := logRecords[requestLine](t, logs, "request")
	if len(lines) != 2*perCaller {
		t.Errorf("%d request log lines, want %d", len(lines), 2*perCaller)
	}
	for _, l := range lines {
		if l.UpstreamCalls+l.UpstreamCoalesced != 1 || l.UpstreamFailures != 0 {
			t.Errorf("log line %+v: want one upstream call, made or shared, and no failure", l)
		}
	}
	for _, tok := range tokens {
		if strings.Contains(logs, tok) {
			t.Errorf("the log holds %s", tok)
		}
	}
}

// knownTokens are the tokens the error cases send, longest match first.
var knownTokens = []string{
	"w_not-a-token", "not-a-token", "sleepy-token",
	demoStaff, fakewaldur.DemoOwnerToken, fakewaldur.DemoNobodyToken, fakewaldur.DemoLegacyToken,
}

// withSecret turns c into the same case sent with the secret credential: the
// secret takes the place of the case's token, and of its user in Waldur, so
// the case answers exactly as before. A case without a header gets the secret
// as the gateway's default token.
func withSecret(t *testing.T, c errCase) errCase {
	t.Helper()
	base := c.data
	if base == nil {
		base = demo()
	}
	d := &fakewaldur.Dataset{Customers: base.Customers, Users: maps.Clone(base.Users)}
	c.data = d
	if c.auth == "" {
		c.opts = append(slices.Clone(c.opts), withDefaultToken(secret))
		c.check = nil // the message now says the credentials were refused
		return c
	}
	for _, tok := range knownTokens {
		if strings.Contains(c.auth, tok) {
			c.auth = strings.Replace(c.auth, tok, secret, 1)
			if u, ok := base.Users[tok]; ok {
				d.Users[secret] = u
			}
			return c
		}
	}
	t.Fatalf("case %q: no known token in %q", c.name, c.auth)
	return c
}

func TestNoCredentialLeaksInAnyError(t *testing.T) {
	for _, c := range errorCases(t) {
		c := withSecret(t, c)
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			run := runErrCase(t, c)
			if bytes.Contains(run.resp.Body, []byte(secret)) {
				t.Errorf("the answer holds the credential: %s", run.resp.Body)
			}
			for k, vs := range run.resp.Header {
				for _, v := range vs {
					if strings.Contains(v, secret) {
						t.Errorf("answer header %s holds the credential", k)
					}
				}
			}
			if logs := run.h.logs.String(); strings.Contains(logs, secret) {
				t.Errorf("the log holds the credential: %s", logs)
			}
			// The secret really was in play: Waldur received it.
			for _, call := range run.calls {
				if !strings.Contains(call.Authorization, secret) {
					t.Errorf("Waldur received %q, not the secret", call.Authorization)
				}
			}
		})
	}
}

func TestUserAgentNamesTheGateway(t *testing.T) {
	var mu sync.Mutex
	var agents, cookies []string
	fake := fakewaldur.New(demo())
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.Method+" "+r.Header.Get("User-Agent"))
		cookies = append(cookies, r.Header.Get("Cookie"))
		mu.Unlock()
		// A session cookie the gateway must neither keep nor pass on.
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: secret, Path: "/"})
		fake.ServeHTTP(w, r)
	})
	h := newHarness(t, withUpstream(record))
	for range 2 {
		for _, q := range []string{connectionQuery, totalQuery} {
			req := h.postRequest("Token "+demoStaff, q, map[string]any{"q": "os_cpu_count", "first": 2})
			req.Header.Set("Cookie", "sessionid=caller-cookie")
			resp := h.do(req)
			if len(resp.Errors) != 0 {
				t.Fatalf("%s", resp.Body)
			}
			if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 {
				t.Errorf("the gateway passed on Set-Cookie %v", sc)
			}
		}
	}
	mu.Lock()
	want := []string{"GET waldur-quotas-gateway/test", "HEAD waldur-quotas-gateway/test"}
	if !slices.Equal(agents, append(want, want...)) {
		t.Errorf("User-Agents %q, want %q twice", agents, want)
	}
	for _, c := range cookies {
		if c != "" {
			t.Errorf("Waldur received Cookie %q", c)
		}
	}
	mu.Unlock()

	// Without WithUserAgent the client still names the gateway, not resty.
	var ua []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ua = append(ua, r.Header.Get("User-Agent"))
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	client, err := upstream.New(srv.URL, upstream.WithDefaultToken(demoStaff))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.List(ctx, upstream.PageRequest{QuotaName: "os_cpu_count", Ordering: upstream.OrderByValue, Page: 1, PageSize: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Count(ctx, "os_cpu_count", upstream.OrderByValue); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ua) != 2 {
		t.Fatalf("User-Agents %q", ua)
	}
	for _, a := range ua {
		if !strings.HasPrefix(a, "waldur-quotas-gateway") {
			t.Errorf("default User-Agent %q does not name the gateway", a)
		}
	}
}
