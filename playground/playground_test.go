package playground

import (
	"bytes"
	"compress/gzip"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vektah/gqlparser/v2"

	"github.com/waldur-quotas/gateway/graph"
)

const wantCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; " +
	"base-uri 'none'; form-action 'none'"

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fakeBuild is what `npm run build` writes, in miniature.
func fakeBuild(t *testing.T) fstest.MapFS {
	return fstest.MapFS{
		"README.txt":                            {Data: []byte("placeholder\n")},
		"manifest.json":                         {Data: []byte(`{"js": "assets/graphiql-ABCD2345.js", "css": "assets/graphiql-EFGH6789.css"}`)},
		"assets/graphiql-ABCD2345.js":           {Data: []byte("console.log('graphiql')")},
		"assets/graphiql-ABCD2345.js.gz":        {Data: gz(t, "console.log('graphiql')")},
		"assets/graphiql-ABCD2345.js.LEGAL.txt": {Data: []byte("MIT")},
		"assets/graphiql-EFGH6789.css":          {Data: []byte("body{margin:0}")},
		"assets/plain.css":                      {Data: []byte("a{}")},
	}
}

// notBuilt is the embedded folder as committed: the placeholder only.
var notBuilt = fstest.MapFS{"README.txt": {Data: []byte("placeholder\n")}}

func do(t *testing.T, h http.Handler, method, target string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantHeader(t *testing.T, res *http.Response, key, want string) {
	t.Helper()
	if got := res.Header.Get(key); got != want {
		t.Errorf("%s = %q, want %q", key, got, want)
	}
}

var metaContent = regexp.MustCompile(`<meta name="([^"]+)" content="([^"]*)">`)

func metas(page string) map[string]string {
	m := map[string]string{}
	for _, sm := range metaContent.FindAllStringSubmatch(page, -1) {
		m[sm[1]] = html.UnescapeString(sm[2])
	}
	return m
}

func TestPageWhenBuilt(t *testing.T) {
	h := newHandler(fakeBuild(t), `Quotas <&> "gateway"`, "/api/query")
	res := do(t, h, http.MethodGet, "/")
	page := body(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200; body:\n%s", res.StatusCode, page)
	}
	wantHeader(t, res, "Content-Type", "text/html; charset=utf-8")
	wantHeader(t, res, "Content-Security-Policy", wantCSP)
	wantHeader(t, res, "X-Content-Type-Options", "nosniff")
	wantHeader(t, res, "Cache-Control", "no-cache")
	wantHeader(t, res, "X-Frame-Options", "DENY")

	m := metas(page)
	if m["graphiql-endpoint"] != "/api/query" {
		t.Errorf("endpoint meta = %q, want /api/query", m["graphiql-endpoint"])
	}
	if m["graphiql-default-query"] != DemoQuery {
		t.Errorf("default query meta = %q, want DemoQuery", m["graphiql-default-query"])
	}
	for _, want := range []string{
		`<title>Quotas &lt;&amp;&gt; &#34;gateway&#34;</title>`,
		`<script defer src="playground/assets/graphiql-ABCD2345.js"></script>`,
		`<link rel="stylesheet" href="playground/assets/graphiql-EFGH6789.css">`,
		`<div id="graphiql">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s:\n%s", want, page)
		}
	}
	// The CSP forbids inline scripts: the page must have none.
	if n := strings.Count(page, "<script"); n != 1 || strings.Contains(page, "<script>") {
		t.Errorf("page has an inline script or more than one script tag:\n%s", page)
	}

	head := do(t, h, http.MethodHead, "/")
	if head.StatusCode != http.StatusOK || body(t, head) != "" {
		t.Errorf("HEAD /: status %d, want 200 with no body", head.StatusCode)
	}
	wantHeader(t, head, "Content-Security-Policy", wantCSP)
}

func TestDefaultsAndAbsoluteEndpoint(t *testing.T) {
	page := body(t, do(t, newHandler(fakeBuild(t), "", ""), http.MethodGet, "/"))
	if m := metas(page); m["graphiql-endpoint"] != "/query" {
		t.Errorf("default endpoint = %q, want /query", m["graphiql-endpoint"])
	}
	if !strings.Contains(page, "<title>GraphiQL</title>") {
		t.Errorf("default title missing:\n%s", page)
	}

	res := do(t, newHandler(fakeBuild(t), "t", "https://api.example.test:8443/query"), http.MethodGet, "/")
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' https://api.example.test:8443;") {
		t.Errorf("CSP does not allow the endpoint's origin: %s", csp)
	}
	if !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("CSP loosened script-src: %s", csp)
	}
}

func TestAssetsWhenBuilt(t *testing.T) {
	h := newHandler(fakeBuild(t), "t", "/query")
	for _, tc := range []struct {
		path, ctype, cache, body string
	}{
		{"/playground/assets/graphiql-ABCD2345.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log('graphiql')"},
		{"/playground/assets/graphiql-EFGH6789.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{margin:0}"},
		{"/playground/assets/graphiql-ABCD2345.js.LEGAL.txt", "text/plain; charset=utf-8", "public, max-age=31536000, immutable", "MIT"},
		{"/playground/assets/plain.css", "text/css; charset=utf-8", "no-cache", "a{}"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := do(t, h, http.MethodGet, tc.path)
			if got := body(t, res); res.StatusCode != http.StatusOK || got != tc.body {
				t.Fatalf("status %d body %q, want 200 %q", res.StatusCode, got, tc.body)
			}
			wantHeader(t, res, "Content-Type", tc.ctype)
			wantHeader(t, res, "Cache-Control", tc.cache)
			wantHeader(t, res, "X-Content-Type-Options", "nosniff")
			wantHeader(t, res, "Content-Encoding", "")
			if res.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
		})
	}
}

func TestAssetGzipAndConditional(t *testing.T) {
	h := newHandler(fakeBuild(t), "t", "/query")
	const js = "/playground/assets/graphiql-ABCD2345.js"

	res := do(t, h, http.MethodGet, js, "Accept-Encoding", "br, gzip;q=0.8")
	wantHeader(t, res, "Content-Encoding", "gzip")
	wantHeader(t, res, "Vary", "Accept-Encoding")
	wantHeader(t, res, "Content-Type", "text/javascript; charset=utf-8")
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); string(b) != "console.log('graphiql')" {
		t.Errorf("gunzipped body %q", b)
	}
	gzTag := res.Header.Get("ETag")

	plain := do(t, h, http.MethodGet, js, "Accept-Encoding", "gzip;q=0, identity")
	wantHeader(t, plain, "Content-Encoding", "")
	if plain.Header.Get("ETag") == gzTag {
		t.Error("gzip and identity responses share an ETag")
	}

	again := do(t, h, http.MethodGet, js, "Accept-Encoding", "gzip", "If-None-Match", gzTag)
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", again.StatusCode)
	}

	head := do(t, h, http.MethodHead, js)
	if head.StatusCode != http.StatusOK || body(t, head) != "" {
		t.Errorf("HEAD: status %d, want 200 without body", head.StatusCode)
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{"built": fakeBuild(t), "not built": notBuilt} {
		t.Run(name, func(t *testing.T) {
			h := newHandler(fsys, "t", "/query")
			for _, p := range []string{
				"/index.html", "/query", "/playground/assets/", "/playground/assets/nope.js",
				"/playground/assets/graphiql-ABCD2345.js.gz", "/playground/assets/../manifest.json",
				"/manifest.json", "/README.txt", "/playground/", "/playground/assets",
			} {
				if res := do(t, h, http.MethodGet, p); res.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s: status %d, want 404", p, res.StatusCode)
				}
			}
			for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions} {
				res := do(t, h, m, "/")
				if res.StatusCode != http.StatusMethodNotAllowed {
					t.Errorf("%s /: status %d, want 405", m, res.StatusCode)
				}
				wantHeader(t, res, "Allow", "GET, HEAD")
			}
		})
	}
	h := newHandler(fakeBuild(t), "t", "/query")
	if res := do(t, h, http.MethodPost, "/playground/assets/graphiql-ABCD2345.js"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST asset: status %d, want 405", res.StatusCode)
	}
}

func TestFallbackWhenNotBuilt(t *testing.T) {
	h := newHandler(notBuilt, "Waldur quotas", "/query")
	res := do(t, h, http.MethodGet, "/")
	page := body(t, res)
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", res.StatusCode)
	}
	wantHeader(t, res, "Content-Type", "text/html; charset=utf-8")
	wantHeader(t, res, "Content-Security-Policy", wantCSP)
	wantHeader(t, res, "Cache-Control", "no-store")
	wantHeader(t, res, "X-Content-Type-Options", "nosniff")
	for _, want := range []string{"Waldur quotas", "make playground", "npm ci", "npm run build", "not built"} {
		if !strings.Contains(page, want) {
			t.Errorf("fallback page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script") {
		t.Errorf("fallback page has a script:\n%s", page)
	}
}

func TestBrokenBuildFallsBack(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"bad json":         {"manifest.json": {Data: []byte("{")}, "assets/a.js": {Data: []byte("x")}},
		"missing css":      {"manifest.json": {Data: []byte(`{"js":"assets/a.js","css":"assets/a.css"}`)}, "assets/a.js": {Data: []byte("x")}},
		"outside assets":   {"manifest.json": {Data: []byte(`{"js":"a.js","css":"a.css"}`)}, "a.js": {}, "a.css": {}, "assets/x.js": {}},
		"no assets folder": {"manifest.json": {Data: []byte(`{"js":"assets/a.js","css":"assets/a.css"}`)}},
	} {
		t.Run(name, func(t *testing.T) {
			if res := do(t, newHandler(fsys, "t", "/query"), http.MethodGet, "/"); res.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503", res.StatusCode)
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	for in, want := range map[string]bool{
		"":                     false,
		"gzip":                 true,
		"GZIP":                 true,
		"deflate, gzip":        true,
		"gzip;q=0":             false,
		"gzip; q=0.0, br":      false,
		"*":                    true,
		"*;q=0":                false,
		"identity":             false,
		"br;q=1, gzip ; q=0.5": true,
		"x-gzip":               true,
		"gzipped":              false,
	} {
		if got := acceptsGzip([]string{in}); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestEmbedded checks the real embedded folder, whichever state it is in: the
// committed placeholder only, or a build from `make playground`.
func TestEmbedded(t *testing.T) {
	h := Handler("Waldur quotas", "/query")
	res := do(t, h, http.MethodGet, "/")
	page := body(t, res)
	wantHeader(t, res, "Content-Security-Policy", wantCSP)
	if !Built() {
		t.Log("assets not built (run `make playground`): checking the fallback page only")
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "make playground") {
			t.Errorf("not built: status %d, want 503 with build instructions", res.StatusCode)
		}
		return
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("built: status %d, want 200", res.StatusCode)
	}
	if m := metas(page); m["graphiql-endpoint"] != "/query" || m["graphiql-default-query"] != DemoQuery {
		t.Errorf("built page metas: %q", m)
	}
	refs := regexp.MustCompile(`(?:src|href)="(playground/assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 2 {
		t.Fatalf("want a script and a stylesheet, found %q in:\n%s", refs, page)
	}
	for _, ref := range refs {
		p := "/" + ref[1]
		res := do(t, h, http.MethodGet, p)
		b := body(t, res)
		if res.StatusCode != http.StatusOK || len(b) < 1000 {
			t.Errorf("GET %s: status %d, %d bytes", p, res.StatusCode, len(b))
		}
		want := "text/javascript; charset=utf-8"
		if strings.HasSuffix(p, ".css") {
			want = "text/css; charset=utf-8"
		}
		wantHeader(t, res, "Content-Type", want)
		wantHeader(t, res, "Cache-Control", "public, max-age=31536000, immutable")
		// Nothing may load from elsewhere or spawn workers (the CSP would block it).
		for _, bad := range []string{"@import", "url(http", "url(\"http", "url('http", "url(//", "new Worker(", "importScripts("} {
			if strings.Contains(b, bad) {
				t.Errorf("%s contains %q", p, bad)
			}
		}
	}
}

// TestDemoQueryMatchesSchema keeps the prefilled query valid as the schema changes.
func TestDemoQueryMatchesSchema(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema()
	doc, errs := gqlparser.LoadQueryWithRules(schema, DemoQuery, nil)
	if len(errs) > 0 {
		t.Fatalf("DemoQuery does not validate against graph/schema.graphqls: %v", errs)
	}
	if len(doc.Operations) != 1 || doc.Operations[0].Name != "DemoCustomerQuotas" {
		t.Errorf("want the one operation DemoCustomerQuotas, got %d", len(doc.Operations))
	}
}
