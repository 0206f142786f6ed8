package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/upstream"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := parseConfig(nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		listen:          ":8080",
		upstreamTimeout: upstream.DefaultTimeout,
		upstreamRetries: upstream.DefaultRetries,
		demoCustomers:   1000,
		introspection:   true,
		apqCacheSize:    1000,
		maxConnections:  httpapi.DefaultMaxConnections,
		limits:          httpapi.DefaultLimits(),
		breaker:         defaultBreaker,
		cacheMaxBytes:   upstream.DefaultCacheMaxBytes,
		metricsListen:   defaultMetricsListen,

		maxConcurrency: 64, maxConcurrencyPerRequest: 8,
		playground: true,
	}
	if cfg != want {
		t.Errorf("defaults\n got %+v\nwant %+v", cfg, want)
	}
	if upstream.DefaultTimeout != 10*time.Second {
		t.Errorf("upstream.DefaultTimeout %v, README says 10s", upstream.DefaultTimeout)
	}
	if d := httpapi.DefaultLimits(); d != (httpapi.Limits{MaxDepth: 8, MaxComplexity: 10000, MaxAliases: 20, MaxFields: 300, MaxTokens: 2000, MaxBodyBytes: 65536}) {
		t.Errorf("DefaultLimits %+v differ from the README's table", d)
	}
}

var fullEnv = map[string]string{
	"LISTEN_ADDR":            "127.0.0.1:9999",
	"WALDUR_API_URL":         "https://waldur.example.com",
	"WALDUR_API_TOKEN":       "s3cret",
	"UPSTREAM_TIMEOUT":       "3s",
	"CORS_ALLOWED_ORIGINS":   "https://a.example, https://b.example",
	"GRAPHQL_INTROSPECTION":  "false",
	"GRAPHQL_MAX_DEPTH":      "5",
	"GRAPHQL_MAX_COMPLEXITY": "500",
	"GRAPHQL_MAX_ALIASES":    "7",
	"GRAPHQL_MAX_FIELDS":     "150",
	"GRAPHQL_MAX_TOKENS":     "300",
	"GRAPHQL_MAX_BODY_BYTES": "4096",
	"APQ_CACHE_SIZE":         "50",
	"MAX_CONNECTIONS":        "200",

	"UPSTREAM_MAX_CONCURRENCY": "16", "UPSTREAM_MAX_CONCURRENCY_PER_REQUEST": "4",
}

func TestParseConfigFromEnv(t *testing.T) {
	cfg, err := parseConfig(nil, envOf(fullEnv))
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		listen:          "127.0.0.1:9999",
		waldurURL:       "https://waldur.example.com",
		waldurToken:     "s3cret",
		upstreamTimeout: 3 * time.Second,
		upstreamRetries: upstream.DefaultRetries,
		demoCustomers:   1000,
		introspection:   false,
		corsOrigins:     "https://a.example, https://b.example",
		apqCacheSize:    50,
		maxConnections:  200,
		limits:          httpapi.Limits{MaxDepth: 5, MaxComplexity: 500, MaxAliases: 7, MaxFields: 150, MaxTokens: 300, MaxBodyBytes: 4096},
		breaker:         defaultBreaker,
		cacheMaxBytes:   upstream.DefaultCacheMaxBytes,
		metricsListen:   defaultMetricsListen,

		maxConcurrency: 16, maxConcurrencyPerRequest: 4,
		playground: true,
	}
	if cfg != want {
		t.Errorf("from env\n got %+v\nwant %+v", cfg, want)
	}
	// Each variable on its own, the others at their defaults.
	for key := range fullEnv {
		t.Run(key, func(t *testing.T) {
			one, err := parseConfig(nil, envOf(map[string]string{key: fullEnv[key]}))
			if err != nil {
				t.Fatal(err)
			}
			def, _ := parseConfig(nil, envOf(nil))
			if one == def {
				t.Errorf("%s=%s changed nothing", key, fullEnv[key])
			}
		})
	}
	for _, v := range []string{"1", "t", "TRUE", "true"} {
		cfg, err := parseConfig(nil, envOf(map[string]string{"GRAPHQL_INTROSPECTION": v}))
		if err != nil || !cfg.introspection {
			t.Errorf("GRAPHQL_INTROSPECTION=%s: %v %v", v, cfg.introspection, err)
		}
	}
}

func TestParseConfigFlagsOverrideEnv(t *testing.T) {
	args := []string{
		"-listen", "127.0.0.1:7777",
		"-waldur-url", "https://other.example",
		"-upstream-timeout", "250ms",
		"-demo-customers", "12",
		"-cors-allowed-origins", "https://c.example",
		"-introspection=true",
		"-max-depth", "6",
		"-max-complexity", "600",
		"-max-aliases", "8",
		"-max-fields", "250",
		"-max-tokens", "400",
		"-max-body-bytes", "8192",
		"-apq-cache-size", "60",
		"-max-connections", "300",
		"-max-concurrency", "32", "-max-concurrency-per-request", "2",
	}
	cfg, err := parseConfig(args, envOf(fullEnv))
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		listen:          "127.0.0.1:7777",
		waldurURL:       "https://other.example",
		waldurToken:     "s3cret", // environment only
		upstreamTimeout: 250 * time.Millisecond,
		upstreamRetries: upstream.DefaultRetries,
		demoCustomers:   12,
		introspection:   true,
		corsOrigins:     "https://c.example",
		apqCacheSize:    60,
		maxConnections:  300,
		limits:          httpapi.Limits{MaxDepth: 6, MaxComplexity: 600, MaxAliases: 8, MaxFields: 250, MaxTokens: 400, MaxBodyBytes: 8192},
		breaker:         defaultBreaker,
		cacheMaxBytes:   upstream.DefaultCacheMaxBytes,
		metricsListen:   defaultMetricsListen,

		maxConcurrency: 32, maxConcurrencyPerRequest: 2,
		playground: true,
	}
	if cfg != want {
		t.Errorf("flags over env\n got %+v\nwant %+v", cfg, want)
	}
	cfg, err = parseConfig([]string{"-introspection=false"}, envOf(map[string]string{"GRAPHQL_INTROSPECTION": "true"}))
	if err != nil || cfg.introspection {
		t.Errorf("-introspection=false over env true: %v %v", cfg.introspection, err)
	}
	cfg, err = parseConfig([]string{"-version"}, envOf(nil))
	if err != nil || !cfg.showVersion {
		t.Errorf("-version: %v %v", cfg.showVersion, err)
	}
}

func TestParseConfigRejectsBadValues(t *testing.T) {
	for _, c := range []struct {
		key, value string
	}{
		{"UPSTREAM_TIMEOUT", "abc"},
		{"UPSTREAM_TIMEOUT", "10"}, // no unit
		{"UPSTREAM_TIMEOUT", "0s"},
		{"UPSTREAM_TIMEOUT", "-1s"},
		{"GRAPHQL_INTROSPECTION", "maybe"},
		{"GRAPHQL_INTROSPECTION", "yes"},
		{"GRAPHQL_MAX_DEPTH", "-1"},
		{"GRAPHQL_MAX_DEPTH", "0"},
		{"GRAPHQL_MAX_DEPTH", "deep"},
		{"GRAPHQL_MAX_COMPLEXITY", "1e4"},
		{"GRAPHQL_MAX_ALIASES", "-3"},
		{"GRAPHQL_MAX_FIELDS", "0"},
		{"GRAPHQL_MAX_TOKENS", "2k"},
		{"GRAPHQL_MAX_BODY_BYTES", "64KiB"},
		{"APQ_CACHE_SIZE", "0"},
		{"MAX_CONNECTIONS", "0"},
		{"MAX_CONNECTIONS", "many"},
		{"UPSTREAM_MAX_CONCURRENCY", "0"},
		{"UPSTREAM_MAX_CONCURRENCY_PER_REQUEST", "-2"},
		{"CACHE_KEY_SECRET", "short"},
	} {
		t.Run(c.key+"="+c.value, func(t *testing.T) {
			_, err := parseConfig(nil, envOf(map[string]string{c.key: c.value}))
			if err == nil {
				t.Fatalf("%s=%q accepted", c.key, c.value)
			}
			if !strings.Contains(err.Error(), c.key) {
				t.Errorf("error %q does not name %s", err, c.key)
			}
		})
	}
	t.Run("-version answers whatever the environment holds", func(t *testing.T) {
		cfg, err := parseConfig([]string{"-version"}, envOf(map[string]string{"UPSTREAM_TIMEOUT": "abc", "GRAPHQL_MAX_DEPTH": "-1"}))
		if err != nil || !cfg.showVersion {
			t.Errorf("-version with a bad environment: %v, %v", cfg.showVersion, err)
		}
	})
	t.Run("every bad variable is named", func(t *testing.T) {
		_, err := parseConfig(nil, envOf(map[string]string{"GRAPHQL_MAX_DEPTH": "-1", "APQ_CACHE_SIZE": "x", "GRAPHQL_INTROSPECTION": "maybe", "UPSTREAM_TIMEOUT": "soon"}))
		for _, key := range []string{"GRAPHQL_MAX_DEPTH", "APQ_CACHE_SIZE", "GRAPHQL_INTROSPECTION", "UPSTREAM_TIMEOUT"} {
			if err == nil || !strings.Contains(err.Error(), key) {
				t.Errorf("error %v does not name %s", err, key)
			}
		}
	})
	for _, args := range [][]string{
		{"-max-depth", "0"},
		{"-max-complexity", "-1"},
		{"-max-aliases", "0"},
		{"-max-fields", "0"},
		{"-max-tokens", "0"},
		{"-max-body-bytes", "0"},
		{"-apq-cache-size", "0"},
		{"-max-connections", "0"},
		{"-max-concurrency", "0"},
		{"-max-concurrency-per-request", "0"},
		{"-upstream-timeout", "0s"},
		{"-upstream-timeout", "abc"},
		{"-max-depth", "x"},
		{"-waldur-token", "s3cret"}, // the token is environment only
		{"-no-such-flag"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if _, err := parseConfig(args, envOf(nil)); err == nil {
				t.Errorf("%v accepted", args)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                       nil,
		" , ,, ":                                 nil,
		"http://a.example":                       {"http://a.example"},
		" http://a.example ,http://b.example,, ": {"http://a.example", "http://b.example"},
		"a,b,c":                                  {"a", "b", "c"},
	} {
		if got := splitList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitList(%q) = %q, want %q", in, got, want)
		}
	}
}

// logRecorder collects the binary's stderr JSON lines as they come.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
	added chan struct{}
}

func (l *logRecorder) read(r io.Reader, done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		l.mu.Unlock()
		select {
		case l.added <- struct{}{}:
		default:
		}
	}
}

func (l *logRecorder) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// waitFor returns the first log record whose msg contains msg.
func (l *logRecorder) waitFor(t *testing.T, msg string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(timeout)
	for {
		for _, line := range l.all() {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil {
				if m, _ := rec["msg"].(string); strings.Contains(m, msg) {
					return rec
				}
			}
		}
		select {
		case <-l.added:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no log line %q within %v; logs:\n%s", msg, timeout, strings.Join(l.all(), "\n"))
		}
	}
}

// buildGateway builds the binary into the test's temporary directory.
func buildGateway(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "gateway")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=e2e-test", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runningGateway is the binary started by one test, on a loopback port.
type runningGateway struct {
	cmd      *exec.Cmd
	logs     *logRecorder
	base     string // http://127.0.0.1:port
	addr     string
	exited   chan struct{} // closed when the process has exited…
	waitErr  error         // …with this
	readDone chan struct{} // closed when its stderr is read to the end
}

// startGateway runs bin with env (LISTEN_ADDR=127.0.0.1:0 added) and waits for
// its "gateway listening" line. The process is killed, by its own PID, if the
// test ends with it still running.
func startGateway(t *testing.T, bin string, env ...string) *runningGateway {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"LISTEN_ADDR=127.0.0.1:0", "METRICS_LISTEN_ADDR=127.0.0.1:0"}, env...)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	g := &runningGateway{cmd: cmd, logs: &logRecorder{added: make(chan struct{}, 1)}, exited: make(chan struct{}), readDone: make(chan struct{})}
	go func() { g.waitErr = cmd.Wait(); close(g.exited) }()
	t.Cleanup(func() {
		select {
		case <-g.exited:
		default:
			_ = cmd.Process.Kill()
			<-g.exited
		}
	})
	go g.logs.read(pr, g.readDone)

	listening := g.logs.waitFor(t, "gateway listening", 10*time.Second)
	g.addr, _ = listening["addr"].(string)
	if !strings.HasPrefix(g.addr, "127.0.0.1:") || g.addr == "127.0.0.1:0" {
		t.Fatalf("listening on %q", g.addr)
	}
	g.base = "http://" + g.addr
	return g
}

// waitExit waits for the process to exit after a signal and returns its error.
func (g *runningGateway) waitExit(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-g.exited:
		<-g.readDone
		return g.waitErr
	case <-time.After(within):
		t.Fatalf("still running %v after the signal", within)
		return nil
	}
}

func TestBinaryDemoMode(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)

	t.Run("-version", func(t *testing.T) {
		cmd := exec.Command(bin, "-version")
		cmd.Env = []string{}
		out, err := cmd.Output()
		if err != nil || string(out) != "waldur-quotas-gateway e2e-test\n" {
			t.Errorf("-version: %q %v", out, err)
		}
	})

	t.Run("bad environment exits 2", func(t *testing.T) {
		cmd := exec.Command(bin)
		cmd.Env = []string{"GRAPHQL_MAX_DEPTH=-1"}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(stderr.String(), "GRAPHQL_MAX_DEPTH") {
			t.Errorf("exit %v, stderr %q", err, stderr.String())
		}
	})

	g := startGateway(t, bin) // no WALDUR_API_URL: demo mode
	logs, base := g.logs, g.base
	listening := logs.waitFor(t, "gateway listening", time.Second)
	if v := listening["version"]; v != "e2e-test" {
		t.Errorf("version %v", v)
	}
	if dt := listening["default_token"]; dt != true {
		t.Errorf("default_token %v, want true in demo mode", dt)
	}
	demo := logs.waitFor(t, "DEMO MODE", time.Second)
	if demo["level"] != "WARN" {
		t.Errorf("demo line level %v", demo["level"])
	}

	body := `{"query": "{ customerQuotas(quotaName: \"os_storage_size\", first: 3) { totalCount nodes { customerName customerAbbreviation value } } }"}`
	resp, err := http.Post(base+"/query", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var answer struct {
		Data struct {
			CustomerQuotas struct {
				TotalCount int `json:"totalCount"`
				Nodes      []struct {
					CustomerName string   `json:"customerName"`
					Value        *float64 `json:"value"`
				} `json:"nodes"`
			} `json:"customerQuotas"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil || resp.StatusCode != http.StatusOK || len(answer.Errors) > 0 {
		t.Fatalf("query: %d %s (%v)", resp.StatusCode, raw, err)
	}
	cq := answer.Data.CustomerQuotas
	if cq.TotalCount != 1000 || len(cq.Nodes) != 3 || cq.Nodes[0].CustomerName == "" || cq.Nodes[0].Value == nil {
		t.Errorf("demo rows: %s", raw)
	}

	resp, err = http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var health map[string]string
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &health) != nil || health["status"] != "ok" || health["version"] != "e2e-test" {
		t.Errorf("/healthz: %d %s", resp.StatusCode, raw)
	}

	// The request lines name what happened.
	reqLine := logs.waitFor(t, "request", time.Second)
	if reqLine["path"] != "/query" || reqLine["status"] != float64(200) {
		t.Errorf("first request line %v", reqLine)
	}

	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := g.waitExit(t, 10*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	logs.waitFor(t, "shutting down", time.Second)

	lines := logs.all()
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", line)
		}
		if strings.Contains(line, "demo-staff-token") {
			t.Errorf("log line reveals the demo token: %q", line)
		}
	}
}

// slowWaldur is the fake Waldur answering each call after delay; arrived
// hears of the first call.
func slowWaldur(t *testing.T, delay time.Duration) (url string, arrived <-chan struct{}) {
	fake := fakewaldur.New(fakewaldur.Demo(50, 1))
	first := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			// The readiness probe (anonymous) is no caller's call.
			fake.ServeHTTP(w, r)
			return
		}
		once.Do(func() { close(first) })
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, first
}

// SIGTERM during a request as long as the gateway may legitimately run (two
// upstream rounds of almost UPSTREAM_TIMEOUT each, longer than the old fixed
// 15 s grace) lets it finish with its data, refuses new connections at once,
// and then the process exits 0.
func TestBinaryDrainsRequestsOnSIGTERM(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	const upstreamTimeout, delay = 9 * time.Second, 8 * time.Second
	waldurURL, arrived := slowWaldur(t, delay)
	g := startGateway(t, bin, "WALDUR_API_URL="+waldurURL, "WALDUR_API_TOKEN="+fakewaldur.DemoStaffToken,
		"UPSTREAM_TIMEOUT="+upstreamTimeout.String())

	type answer struct {
		status int
		body   []byte
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		// last: 3 without before costs a HEAD for the total, then a GET.
		body := `{"query": "{ customerQuotas(quotaName: \"os_cpu_count\", last: 3) { totalCount nodes { customerName } } }"}`
		resp, err := http.Post(g.base+"/query", "application/json", strings.NewReader(body))
		if err != nil {
			answered <- answer{err: err}
			return
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- answer{resp.StatusCode, raw, err}
	}()
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the request never reached Waldur")
	}
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	g.logs.waitFor(t, "shutting down", 10*time.Second)

	// New connections are refused while the request is still running.
	for deadline := time.Now().Add(10 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", g.addr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 10 s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case a := <-answered:
		t.Fatalf("the request ended before new connections were refused: %d %s %v", a.status, a.body, a.err)
	default:
	}

	a := <-answered
	var reply struct {
		Data struct {
			CustomerQuotas struct {
				TotalCount int               `json:"totalCount"`
				Nodes      []json.RawMessage `json:"nodes"`
			} `json:"customerQuotas"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	if a.err != nil || a.status != http.StatusOK || json.Unmarshal(a.body, &reply) != nil || len(reply.Errors) > 0 ||
		reply.Data.CustomerQuotas.TotalCount != 50 || len(reply.Data.CustomerQuotas.Nodes) != 3 {
		t.Fatalf("the request in flight at SIGTERM: %d %s %v", a.status, a.body, a.err)
	}
	if err := g.waitExit(t, time.Minute); err != nil {
		t.Errorf("exit after draining: %v, want status 0:\n%s", err, strings.Join(g.logs.all(), "\n"))
	}
}

// A GET whose query string is within GRAPHQL_MAX_BODY_BYTES reaches the
// gateway, however that limit is set: the server's header limit leaves room
// for it.
func TestBinaryLongGETWithinTheBodyLimit(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	g := startGateway(t, bin, "GRAPHQL_MAX_BODY_BYTES=200000")
	query := "{" + strings.Repeat(" ", 150_000) + "__typename }"
	resp, err := http.Get(g.base + "/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"__typename":"Query"`) {
		t.Errorf("GET of %d bytes: %d %.200s", len(query), resp.StatusCode, raw)
	}
}

// bodyAfterHEAD is a Waldur (or a proxy before it) that breaks HTTP the way
// some do: it sends a body after the headers of a HEAD answer. It stops when
// the test ends.
func bodyAfterHEAD(t *testing.T, body string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
					return
				}
				_, _ = fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Result-Count: 5\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
				// Keep the connection open: Go's transport takes the body
				// for an answer nobody asked for on an idle connection.
				_, _ = io.Copy(io.Discard, conn)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// net/http writes some complaints with the standard library's log package,
// quoting what the peer sent: the bytes Waldur sent after a HEAD's answer came
// out on stderr verbatim, as a line that is neither JSON nor rate-limited, an
// upstream body in the log. Every line the binary writes is JSON and none
// repeats an upstream body.
func TestBinaryLogsNoUpstreamBodyFromTheStandardLibrary(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)
	const secret = "Token LEAKED-IN-BODY"
	g := startGateway(t, bin, "WALDUR_API_URL="+bodyAfterHEAD(t, "<html>"+secret+"</html>"))

	for range 3 {
		body := `{"query": "{ customerQuotas(quotaName: \"os_cpu_count\") { totalCount } }"}`
		resp, err := http.Post(g.base+"/query", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// The transport notices the stray bytes as soon as its idle connection
	// has them; give it a moment before stopping the binary.
	time.Sleep(200 * time.Millisecond)
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := g.waitExit(t, 30*time.Second); err != nil {
		t.Errorf("exit: %v", err)
	}
	for _, line := range g.logs.all() {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", line)
		}
		if strings.Contains(line, "LEAKED-IN-BODY") {
			t.Errorf("log line repeats Waldur's body: %q", line)
		}
	}
}

// CACHE_KEY_SECRET comes from the environment only, and a secret too short to
// be one is refused without being repeated.
func TestCacheKeySecret(t *testing.T) {
	secret := strings.Repeat("k", minCacheKeySecret)
	cfg, err := parseConfig(nil, envOf(map[string]string{"CACHE_KEY_SECRET": secret}))
	if err != nil || cfg.cacheKeySecret != secret {
		t.Fatalf("a %d-character secret: %q, %v", len(secret), cfg.cacheKeySecret, err)
	}
	_, err = parseConfig(nil, envOf(map[string]string{"CACHE_KEY_SECRET": "tooshort-xyz"}))
	if err == nil || strings.Contains(err.Error(), "tooshort-xyz") {
		t.Errorf("a short secret: %v (accepted, or repeated in the error)", err)
	}
	if _, err := parseConfig([]string{"-cache-key-secret", secret}, envOf(nil)); err == nil {
		t.Error("the secret was accepted as a flag, which the process list shows")
	}
}
