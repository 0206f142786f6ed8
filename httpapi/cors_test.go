package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/waldur-quotas/gateway/httpapi"
)

const appOrigin = "http://app.example"

func withOrigins(origins ...string) harnessOption {
	return withConfig(func(c *httpapi.Config) { c.CORSAllowedOrigins = origins })
}

// preflight sends OPTIONS /query; its answer need not be JSON.
func preflight(h *harness, origin, method, headers string) gqlResponse {
	h.t.Helper()
	req := h.request(http.MethodOptions, "/query", "")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if method != "" {
		req.Header.Set("Access-Control-Request-Method", method)
	}
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	return h.raw(req)
}

func corsPost(h *harness, origin string) gqlResponse {
	h.t.Helper()
	req := h.postRequest("Token "+demoStaff, `{ customerQuotas(quotaName: "os_storage_size", first: 1) { totalCount } }`, nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return h.do(req)
}

// headerList splits a comma-separated header into lower-cased items.
func headerList(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, strings.ToLower(item))
			}
		}
	}
	return out
}

func hasItem(items []string, want string) bool {
	for _, i := range items {
		if i == strings.ToLower(want) {
			return true
		}
	}
	return false
}

func corsHeaders(h http.Header) []string {
	var out []string
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), "access-control-") {
			out = append(out, name+": "+h.Get(name))
		}
	}
	return out
}

func TestCORSAllowedOrigin(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff), withOrigins(appOrigin))

	t.Run("preflight", func(t *testing.T) {
		resp := preflight(h, appOrigin, http.MethodPost, "authorization, content-type")
		if resp.Status < 200 || resp.Status > 299 {
			t.Errorf("preflight status %d: %s", resp.Status, resp.Body)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != appOrigin {
			t.Errorf("Access-Control-Allow-Origin %q, want %q", got, appOrigin)
		}
		allowed := headerList(resp.Header, "Access-Control-Allow-Headers")
		for _, h := range []string{"Authorization", "Content-Type"} {
			if !hasItem(allowed, h) {
				t.Errorf("Access-Control-Allow-Headers %v lacks %s", allowed, h)
			}
		}
		if m := headerList(resp.Header, "Access-Control-Allow-Methods"); !hasItem(m, "POST") {
			t.Errorf("Access-Control-Allow-Methods %v lacks POST", m)
		}
		if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
			t.Errorf("credentials mode must stay off, got Access-Control-Allow-Credentials %q", got)
		}
		if !hasItem(headerList(resp.Header, "Vary"), "Origin") {
			t.Errorf("Vary %v lacks Origin", resp.Header.Values("Vary"))
		}
	})

	t.Run("preflight for GET with Accept", func(t *testing.T) {
		resp := preflight(h, appOrigin, http.MethodGet, "accept")
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != appOrigin {
			t.Errorf("Access-Control-Allow-Origin %q", got)
		}
	})

	t.Run("preflight for a method or header not allowed", func(t *testing.T) {
		for _, c := range [][2]string{{http.MethodPut, "content-type"}, {http.MethodPost, "x-secret-header"}} {
			resp := preflight(h, appOrigin, c[0], c[1])
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("%v: Access-Control-Allow-Origin %q, want none", c, got)
			}
		}
	})

	t.Run("actual request", func(t *testing.T) {
		r := corsPost(h, appOrigin)
		wantData(t, r)
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != appOrigin {
			t.Errorf("Access-Control-Allow-Origin %q, want %q", got, appOrigin)
		}
		if !hasItem(headerList(r.Header, "Vary"), "Origin") {
			t.Errorf("Vary %v lacks Origin", r.Header.Values("Vary"))
		}
	})

	t.Run("unlisted origin", func(t *testing.T) {
		for _, origin := range []string{"http://evil.example", "https://app.example", "http://app.example.evil", "null"} {
			resp := preflight(h, origin, http.MethodPost, "authorization, content-type")
			if got := corsHeaders(resp.Header); len(got) != 0 {
				t.Errorf("%s preflight: CORS headers %v, want none", origin, got)
			}
			r := corsPost(h, origin)
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("%s: Access-Control-Allow-Origin %q, want none", origin, got)
			}
			// CORS is the browser's business: a server-side caller still gets its answer.
			wantData(t, r)
		}
	})

	t.Run("no Origin: a plain request", func(t *testing.T) {
		r := corsPost(h, "")
		wantData(t, r)
		if got := corsHeaders(r.Header); len(got) != 0 {
			t.Errorf("CORS headers %v without Origin", got)
		}
	})

	t.Run("plain OPTIONS without Origin", func(t *testing.T) {
		h.takeCalls()
		resp := preflight(h, "", "", "")
		// gqlgen's OPTIONS transport answers: 200 with Allow.
		if resp.Status != http.StatusOK {
			t.Errorf("status %d: %s", resp.Status, resp.Body)
		}
		if allow := headerList(resp.Header, "Allow"); !hasItem(allow, "GET") || !hasItem(allow, "POST") {
			t.Errorf("Allow %v", allow)
		}
		if got := corsHeaders(resp.Header); len(got) != 0 {
			t.Errorf("CORS headers %v without Origin", got)
		}
		h.wantNoUpstreamCalls(t, "OPTIONS")
	})
}

func TestCORSOffByDefault(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	resp := preflight(h, appOrigin, http.MethodPost, "authorization, content-type")
	if got := corsHeaders(resp.Header); len(got) != 0 {
		t.Errorf("preflight: CORS headers %v with no origins configured", got)
	}
	// gqlgen's OPTIONS transport answers it like any OPTIONS.
	if resp.Status != http.StatusOK {
		t.Errorf("preflight status %d: %s", resp.Status, resp.Body)
	}
	r := corsPost(h, appOrigin)
	wantData(t, r)
	if got := corsHeaders(r.Header); len(got) != 0 {
		t.Errorf("POST: CORS headers %v with no origins configured", got)
	}

	resp = preflight(h, "", "", "")
	if resp.Status != http.StatusOK || len(corsHeaders(resp.Header)) != 0 {
		t.Errorf("plain OPTIONS: %d %v %s", resp.Status, corsHeaders(resp.Header), resp.Body)
	}
}

// /healthz is not for browsers: no CORS there even for a listed origin.
func TestCORSOnlyOnQuery(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff), withOrigins(appOrigin))
	req := h.request(http.MethodGet, "/healthz", "")
	req.Header.Set("Origin", appOrigin)
	resp := h.raw(req)
	if resp.Status != http.StatusOK || len(corsHeaders(resp.Header)) != 0 {
		t.Errorf("/healthz: %d %v", resp.Status, corsHeaders(resp.Header))
	}
}
