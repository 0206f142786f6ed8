package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/playground"
)

const browserOrigin = "http://browser.example"

// A method /query does not serve is the client's mistake, said in JSON with a
// code like every other refusal, and with the Allow header RFC 9110 requires
// of a 405.
func TestQueryRefusesOtherMethods(t *testing.T) {
	h := newHarness(t)
	for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodTrace, "PROPFIND", "BREW"} {
		for _, accept := range []string{mediaGQL, mediaJSON, ""} {
			req := h.request(method, "/query", `{"query": "{ __typename }"}`)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Token "+demoStaff)
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			r := h.do(req)
			if r.Status != http.StatusMethodNotAllowed {
				t.Errorf("%s, Accept %q: status %d, want 405: %s", method, accept, r.Status, r.Body)
			}
			if got := r.Header.Get("Allow"); got != "GET, POST" {
				t.Errorf("%s: Allow %q, want \"GET, POST\"", method, got)
			}
			wantMedia := mediaJSON
			if accept == mediaGQL {
				wantMedia = mediaGQL
			}
			if got := r.Header.Get("Content-Type"); got != wantMedia+"; charset=utf-8" {
				t.Errorf("%s, Accept %q: Content-Type %q, want %s", method, accept, got, wantMedia)
			}
			if r.hasData() || len(r.Errors) != 1 || r.code() != "METHOD_NOT_ALLOWED" {
				t.Errorf("%s: want one METHOD_NOT_ALLOWED error and no data entry, got %s", method, r.Body)
			} else if msg := r.Errors[0].Message; !strings.Contains(msg, "GET") || !strings.Contains(msg, "POST") {
				t.Errorf("%s: message %q does not say which methods work", method, msg)
			}
		}
	}
	if calls := h.takeCalls(); len(calls) != 0 {
		t.Errorf("refused methods reached Waldur: %+v", calls)
	}
}

// HEAD is GET without a body; GraphQL over HTTP has no use for it, so it gets
// the same 405 and Allow, and (as HEAD) no body.
func TestQueryRefusesHEAD(t *testing.T) {
	h := newHarness(t)
	req := h.request(http.MethodHead, "/query?"+url.Values{"query": {okQuery}}.Encode(), "")
	req.Header.Set("Authorization", "Token "+demoStaff)
	r := h.raw(req)
	if r.Status != http.StatusMethodNotAllowed {
		t.Errorf("status %d, want 405", r.Status)
	}
	if got := r.Header.Get("Allow"); got != "GET, POST" {
		t.Errorf("Allow %q, want \"GET, POST\"", got)
	}
	if len(r.Body) != 0 {
		t.Errorf("HEAD answered a body: %q", r.Body)
	}
	if calls := h.takeCalls(); len(calls) != 0 {
		t.Errorf("HEAD reached Waldur: %+v", calls)
	}
}

// An OPTIONS that is not a CORS preflight asks what the resource supports: a
// success with Allow, no body, nothing run.
func TestQueryOPTIONSSaysWhatIsAllowed(t *testing.T) {
	for name, origins := range map[string][]string{"no CORS": nil, "CORS on": {browserOrigin}} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, withConfig(func(c *httpapi.Config) { c.CORSAllowedOrigins = origins }))
			r := h.raw(h.request(http.MethodOptions, "/query", ""))
			if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
				t.Errorf("status %d, want 200 or 204", r.Status)
			}
			allow := r.Header.Get("Allow")
			if !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") || strings.Contains(allow, "HEAD") {
				t.Errorf("Allow %q, want GET and POST (and not HEAD, which is refused)", allow)
			}
			if len(r.Body) != 0 {
				t.Errorf("body %q, want none", r.Body)
			}
			if calls := h.takeCalls(); len(calls) != 0 {
				t.Errorf("OPTIONS reached Waldur: %+v", calls)
			}
		})
	}
}

// The method gate sits behind CORS: a browser's preflight is still answered by
// the CORS layer, and a cross-origin request with a wrong method gets the
// JSON 405 like any other.
func TestQueryMethodsWithCORS(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) { c.CORSAllowedOrigins = []string{browserOrigin} }))
	pre := h.request(http.MethodOptions, "/query", "")
	pre.Header.Set("Origin", browserOrigin)
	pre.Header.Set("Access-Control-Request-Method", http.MethodPost)
	pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp := h.raw(pre)
	if resp.Status < 200 || resp.Status > 299 || resp.Header.Get("Access-Control-Allow-Origin") != browserOrigin {
		t.Errorf("preflight: status %d, Access-Control-Allow-Origin %q", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	req := h.request(http.MethodDelete, "/query", "")
	req.Header.Set("Origin", browserOrigin)
	r := h.do(req)
	if r.Status != http.StatusMethodNotAllowed || r.code() != "METHOD_NOT_ALLOWED" || r.Header.Get("Allow") != "GET, POST" {
		t.Errorf("cross-origin DELETE: status %d, Allow %q: %s", r.Status, r.Header.Get("Allow"), r.Body)
	}
}

// A mutation over GET is a 405 too, so it carries the same code; only POST is
// allowed for it.
func TestGETMutationIsMethodNotAllowed(t *testing.T) {
	h := newHarness(t)
	for _, accept := range []string{mediaGQL, mediaJSON} {
		req := h.request(http.MethodGet, "/query?"+url.Values{"query": {`mutation { x }`}}.Encode(), "")
		req.Header.Set("Accept", accept)
		r := h.do(req)
		if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" || r.hasData() || r.code() != "METHOD_NOT_ALLOWED" {
			t.Errorf("Accept %s: status %d, Allow %q: %s", accept, r.Status, r.Header.Get("Allow"), r.Body)
		}
		if got := r.Header.Values("Vary"); len(got) != 1 {
			t.Errorf("Vary %q, want it once", got)
		}
	}
}

// /healthz and the playground are served by Go's mux and the playground
// handler, which answer a wrong method with 405 and Allow themselves.
func TestOtherPathsRefuseOtherMethods(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) {
		c.Playground = playground.Handler("test", "/query")
	}))
	for _, c := range []struct {
		path, method string
		allow        []string
	}{
		{"/healthz", http.MethodPost, []string{"GET", "HEAD"}},
		{"/healthz", http.MethodPut, []string{"GET", "HEAD"}},
		{"/healthz", http.MethodDelete, []string{"GET", "HEAD"}},
		{"/", http.MethodPost, []string{"GET", "HEAD"}},
		{"/", http.MethodDelete, []string{"GET", "HEAD"}},
	} {
		resp := h.raw(h.request(c.method, c.path, ""))
		if resp.Status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: status %d, want 405", c.method, c.path, resp.Status)
		}
		allow := resp.Header.Get("Allow")
		for _, m := range c.allow {
			if !strings.Contains(allow, m) {
				t.Errorf("%s %s: Allow %v lacks %s", c.method, c.path, allow, m)
			}
		}
	}
	resp := h.raw(h.request(http.MethodHead, "/healthz", ""))
	if resp.Status != http.StatusOK {
		t.Errorf("HEAD /healthz: status %d, want 200", resp.Status)
	}
}

// A server may ignore Upgrade, and with no other transport to take it this one
// does: the request is answered as the GraphQL request it also is.
func TestQueryIgnoresUpgrade(t *testing.T) {
	h := newHarness(t)
	req := h.request(http.MethodPost, "/query", `{"query": "{ __typename }"}`)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Upgrade", "websocket")
	r := h.do(req)
	if r.Status != http.StatusOK || string(r.Data) != `{"__typename":"Query"}` {
		t.Errorf("status %d: %s", r.Status, r.Body)
	}
	if got := r.Header.Values("Vary"); len(got) != 1 {
		t.Errorf("Vary %q, want it once", got)
	}
}
