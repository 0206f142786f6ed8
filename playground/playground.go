// Package playground serves GraphiQL, built offline from pinned npm packages
// (playground/web) and embedded into the binary, so that it works in closed
// networks and under a strict Content-Security-Policy: every script, style and
// font comes from the gateway itself.
//
// Build the assets with `make playground` (cd playground/web && npm ci && npm run
// build) before `go build`; without them the page at "/" says how to build them.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dist holds the build output. Only dist/README.txt is committed, so the
// pattern always matches; `npm run build` adds manifest.json and assets/.
//
//go:embed dist
var dist embed.FS

// AssetPrefix is the path, below the handler's mount point, under which the
// bundled scripts and styles are served.
const AssetPrefix = "/playground/assets/"

// DemoQuery is what a new GraphiQL tab starts with.
const DemoQuery = `# Organisations by storage use, largest first.
# Page on with after: <endCursor>, or back with last + before.
# Against a real Waldur, fill in Authorization under Headers:
#   "Token <key>" or "Bearer <token>".
query DemoCustomerQuotas {
  customerQuotas(quotaName: "os_storage_size", first: 5) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { customerName customerAbbreviation value } }
  }
}
`

// Handler serves GraphiQL at the mount path ("/") and its assets under
// AssetPrefix ("/playground/assets/"), from the embedded build. endpoint is the
// GraphQL endpoint the page sends queries to: a path on the same origin such as
// "/query", or an absolute http(s) URL (whose origin is then allowed in the
// page's connect-src). Any other path answers 404, any method but GET and HEAD
// 405. When the assets were not built into the binary, "/" answers 503 with a
// page that says how to build them.
func Handler(title, endpoint string) http.Handler {
	return newHandler(embeddedDist(), title, endpoint)
}

// Built reports whether the assets were built into this binary.
func Built() bool {
	return embeddedBuilt()
}

var embeddedBuilt = sync.OnceValue(func() bool {
	_, err := loadBundle(embeddedDist())
	return err == nil
})

var embeddedDist = sync.OnceValue(func() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // cannot happen: "dist" is a valid path
	}
	return sub
})

// contentSecurityPolicy is sent with every page. GraphiQL needs
// 'unsafe-inline' styles (React and its UI libraries set style attributes) and
// data: fonts and images (its CSS inlines them); scripts stay 'self' only.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'%s; frame-ancestors 'none'; " +
	"base-uri 'none'; form-action 'none'"

// asset is one embedded file under assets/, with its gzip-compressed copy when
// the build made one.
type asset struct {
	body, gz     []byte
	etag, gzETag string
	contentType  string
	immutable    bool
}

type bundle struct {
	js, css string // URLs relative to the page, e.g. "playground/assets/graphiql-ABCD1234.js"
	assets  map[string]*asset
}

type manifest struct {
	JS  string `json:"js"`
	CSS string `json:"css"`
}

// hashedName matches the content hash esbuild puts in file names
// ("graphiql-IFGHEXTC.js", "graphiql-IFGHEXTC.js.LEGAL.txt"): such files never
// change under the same name and may be cached for good.
var hashedName = regexp.MustCompile(`-[A-Z0-9]{8}\.`)

// loadBundle reads the build output from fsys, rooted at the dist folder.
func loadBundle(fsys fs.FS) (*bundle, error) {
	raw, err := fs.ReadFile(fsys, "manifest.json")
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	b := &bundle{assets: map[string]*asset{}}
	entries, err := fs.ReadDir(fsys, "assets")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasSuffix(name, ".gz") {
			continue
		}
		body, err := fs.ReadFile(fsys, "assets/"+name)
		if err != nil {
			return nil, err
		}
		a := &asset{
			body:        body,
			etag:        etag(body),
			contentType: contentType(name),
			immutable:   hashedName.MatchString(name),
		}
		if gz, err := fs.ReadFile(fsys, "assets/"+name+".gz"); err == nil {
			a.gz, a.gzETag = gz, etag(gz)
		}
		b.assets[name] = a
	}
	for _, ref := range []struct {
		field, file string
		dst         *string
	}{{"js", m.JS, &b.js}, {"css", m.CSS, &b.css}} {
		name, ok := strings.CutPrefix(ref.file, "assets/")
		if !ok || b.assets[name] == nil {
			return nil, fmt.Errorf("manifest.json: %s %q is not a built asset", ref.field, ref.file)
		}
		*ref.dst = strings.TrimPrefix(AssetPrefix, "/") + name
	}
	return b, nil
}

func etag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".woff2":
		return "font/woff2"
	case ".woff":
		return "font/woff"
	case ".ttf":
		return "font/ttf"
	case ".png":
		return "image/png"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

type handler struct {
	page   []byte // the rendered GraphiQL page, or the fallback page
	status int    // 200, or 503 for the fallback page
	csp    string
	bundle *bundle // nil when the assets were not built
}

// newHandler serves the build found in fsys (rooted at the dist folder); tests
// hand it a fake build.
func newHandler(fsys fs.FS, title, endpoint string) http.Handler {
	if title == "" {
		title = "GraphiQL"
	}
	if endpoint == "" {
		endpoint = "/query"
	}
	h := &handler{csp: fmt.Sprintf(contentSecurityPolicy, extraConnectSrc(endpoint))}
	b, err := loadBundle(fsys)
	var buf bytes.Buffer
	if err != nil {
		h.status = http.StatusServiceUnavailable
		err = fallbackTemplate.Execute(&buf, fallbackData{Title: title, Reason: err.Error()})
	} else {
		h.status, h.bundle = http.StatusOK, b
		err = pageTemplate.Execute(&buf, pageData{
			Title: title, Endpoint: endpoint, DefaultQuery: DemoQuery, JS: b.js, CSS: b.css,
		})
	}
	if err != nil {
		panic(fmt.Sprintf("playground: rendering page: %v", err)) // the templates are fixed; cannot happen
	}
	h.page = buf.Bytes()
	return h
}

// extraConnectSrc returns " <origin>" when endpoint is an absolute http(s) URL,
// so that the page may send queries there; a path needs nothing beyond 'self'.
func extraConnectSrc(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return " " + u.Scheme + "://" + u.Host
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var serve func(http.ResponseWriter, *http.Request)
	switch p := r.URL.Path; {
	case p == "/" || p == "":
		serve = h.servePage
	case strings.HasPrefix(p, AssetPrefix):
		name := strings.TrimPrefix(p, AssetPrefix)
		if h.bundle == nil || h.bundle.assets[name] == nil {
			http.NotFound(w, r)
			return
		}
		a := h.bundle.assets[name]
		serve = func(w http.ResponseWriter, r *http.Request) { serveAsset(w, r, a) }
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	serve(w, r)
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	if h.status == http.StatusOK {
		hd.Set("Cache-Control", "no-cache")
	} else {
		// Never keep the "not built" page once a built binary replaces this one.
		hd.Set("Cache-Control", "no-store")
	}
	hd.Set("Content-Length", strconv.Itoa(len(h.page)))
	w.WriteHeader(h.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(h.page)
	}
}

func serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	if a.immutable {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	body, tag := a.body, a.etag
	if a.gz != nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Values("Accept-Encoding")) {
			body, tag = a.gz, a.gzETag
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("ETag", tag)
	// ServeContent answers conditional and range requests, and HEAD.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether Accept-Encoding lists gzip (or *) with a
// non-zero quality.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "x-gzip" && coding != "*" {
				continue
			}
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			if q > 0 {
				return true
			}
		}
	}
	return false
}

type pageData struct {
	Title, Endpoint, DefaultQuery, JS, CSS string
}

// The page carries its configuration in <meta> tags, read by
// web/src/index.jsx: the CSP forbids inline scripts. Asset URLs are relative,
// so the handler also works mounted below a prefix with http.StripPrefix
// (open it with the trailing slash then).
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
<meta name="graphiql-endpoint" content="{{.Endpoint}}">
<meta name="graphiql-default-query" content="{{.DefaultQuery}}">
<link rel="stylesheet" href="{{.CSS}}">
<script defer src="{{.JS}}"></script>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript. The GraphQL endpoint is <code>{{.Endpoint}}</code>.</noscript>
</body>
</html>
`))

type fallbackData struct {
	Title, Reason string
}

var fallbackTemplate = template.Must(template.New("fallback").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}: playground not built</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;line-height:1.5}code,pre{background:#f3f3f3;padding:.1rem .3rem}pre{padding:.6rem}</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>The GraphiQL playground was not built into this binary, so there is nothing to show here.
The GraphQL API itself works as usual.</p>
<p>To include the playground, build its assets from the pinned npm packages, then build the gateway again:</p>
<pre>make playground</pre>
<p><code>make playground</code> runs <code>cd playground/web &amp;&amp; npm ci &amp;&amp; npm run build</code> (Node.js 20 or later),
which writes <code>playground/dist/</code>; the next <code>go build</code> embeds it.</p>
<p><small>Reason: {{.Reason}}</small></p>
</body>
</html>
`))
