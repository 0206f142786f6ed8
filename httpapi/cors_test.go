package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/waldur-quotas/gateway/httpapi"
)

const appOrigin = "http://app.example"

func withOrigins(origins ...string) func(*httpapi.Config) {
	return func(c *httpapi.Config) { c.CORSAllowedOrigins = origins }
}

// rawResponse sends req and returns the answer with its body read.
func rawResponse(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func preflight(t *testing.T, base, origin, method, headers string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, base+"/query", nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if method != "" {
		req.Header.Set("Access-Control-Request-Method", method)
	}
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	return rawResponse(t, req)
}

func corsPost(t *testing.T, base, origin string) gwReply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(`{"query": "{ customerQuotas(quotaName: \"os_storage_size\", first: 1) { totalCount } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+demoStaff)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return gwSend(t, req)
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
	gw, calls := newCountingGateway(t, withOrigins(appOrigin))

	t.Run("preflight", func(t *testing.T) {
		resp, body := preflight(t, gw.URL, appOrigin, http.MethodPost, "authorization, content-type")
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			t.Errorf("preflight status %d: %s", resp.StatusCode, body)
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
		resp, _ := preflight(t, gw.URL, appOrigin, http.MethodGet, "accept")
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != appOrigin {
			t.Errorf("Access-Control-Allow-Origin %q", got)
		}
	})

	t.Run("preflight for a method or header not allowed", func(t *testing.T) {
		for _, c := range [][2]string{{http.MethodPut, "content-type"}, {http.MethodPost, "x-secret-header"}} {
			resp, _ := preflight(t, gw.URL, appOrigin, c[0], c[1])
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("%v: Access-Control-Allow-Origin %q, want none", c, got)
			}
		}
	})

	t.Run("actual request", func(t *testing.T) {
		r := corsPost(t, gw.URL, appOrigin)
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
			resp, _ := preflight(t, gw.URL, origin, http.MethodPost, "authorization, content-type")
			if got := corsHeaders(resp.Header); len(got) != 0 {
				t.Errorf("%s preflight: CORS headers %v, want none", origin, got)
			}
			r := corsPost(t, gw.URL, origin)
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("%s: Access-Control-Allow-Origin %q, want none", origin, got)
			}
			// CORS is the browser's business: a server-side caller still gets its answer.
			wantData(t, r)
		}
	})

	t.Run("no Origin: a plain request", func(t *testing.T) {
		r := corsPost(t, gw.URL, "")
		wantData(t, r)
		if got := corsHeaders(r.Header); len(got) != 0 {
			t.Errorf("CORS headers %v without Origin", got)
		}
	})

	t.Run("plain OPTIONS without Origin", func(t *testing.T) {
		before := calls.Load()
		resp, body := preflight(t, gw.URL, "", "", "")
		// gqlgen's OPTIONS transport answers: 200 with Allow.
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d: %s", resp.StatusCode, body)
		}
		if allow := headerList(resp.Header, "Allow"); !hasItem(allow, "GET") || !hasItem(allow, "POST") {
			t.Errorf("Allow %v", allow)
		}
		if got := corsHeaders(resp.Header); len(got) != 0 {
			t.Errorf("CORS headers %v without Origin", got)
		}
		if calls.Load() != before {
			t.Error("OPTIONS reached Waldur")
		}
	})
}

func TestCORSOffByDefault(t *testing.T) {
	gw := newConfiguredGateway(t, nil)
	resp, body := preflight(t, gw.URL, appOrigin, http.MethodPost, "authorization, content-type")
	if got := corsHeaders(resp.Header); len(got) != 0 {
		t.Errorf("preflight: CORS headers %v with no origins configured", got)
	}
	// gqlgen's OPTIONS transport answers it like any OPTIONS.
	if resp.StatusCode != http.StatusOK {
		t.Errorf("preflight status %d: %s", resp.StatusCode, body)
	}
	r := corsPost(t, gw.URL, appOrigin)
	wantData(t, r)
	if got := corsHeaders(r.Header); len(got) != 0 {
		t.Errorf("POST: CORS headers %v with no origins configured", got)
	}

	resp, body = preflight(t, gw.URL, "", "", "")
	if resp.StatusCode != http.StatusOK || len(corsHeaders(resp.Header)) != 0 {
		t.Errorf("plain OPTIONS: %d %v %s", resp.StatusCode, corsHeaders(resp.Header), body)
	}
}

// /healthz is not for browsers: no CORS there even for a listed origin.
func TestCORSOnlyOnQuery(t *testing.T) {
	gw := newConfiguredGateway(t, withOrigins(appOrigin))
	req, _ := http.NewRequest(http.MethodGet, gw.URL+"/healthz", nil)
	req.Header.Set("Origin", appOrigin)
	resp, _ := rawResponse(t, req)
	if resp.StatusCode != http.StatusOK || len(corsHeaders(resp.Header)) != 0 {
		t.Errorf("/healthz: %d %v", resp.StatusCode, corsHeaders(resp.Header))
	}
}
