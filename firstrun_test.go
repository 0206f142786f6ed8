package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/playground"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// settingsRead is every environment variable parseConfig reads, learnt by
// asking it: the list cannot fall behind the code.
func settingsRead(t *testing.T) []string {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	if _, err := parseConfig(nil, func(k string) string {
		mu.Lock()
		defer mu.Unlock()
		seen[k] = true
		return ""
	}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range seen {
		names = append(names, k)
	}
	slices.Sort(names)
	if len(names) < 20 {
		t.Fatalf("parseConfig read only %v", names)
	}
	return names
}

func TestParseConfigFirstRunSettings(t *testing.T) {
	cfg, err := parseConfig(nil, envOf(map[string]string{"DEMO_CUSTOMERS": "25", "GRAPHQL_PLAYGROUND": "false"}))
	if err != nil || cfg.demoCustomers != 25 || cfg.playground {
		t.Errorf("from env: customers %d, playground %v, %v", cfg.demoCustomers, cfg.playground, err)
	}
	cfg, err = parseConfig([]string{"-demo-customers", "7", "-playground=true"}, envOf(map[string]string{"DEMO_CUSTOMERS": "25", "GRAPHQL_PLAYGROUND": "false"}))
	if err != nil || cfg.demoCustomers != 7 || !cfg.playground {
		t.Errorf("flags over env: customers %d, playground %v, %v", cfg.demoCustomers, cfg.playground, err)
	}
	cfg, err = parseConfig([]string{"-playground=false"}, envOf(nil))
	if err != nil || cfg.playground {
		t.Errorf("-playground=false: %v, %v", cfg.playground, err)
	}
	for _, c := range []struct{ key, value string }{
		{"DEMO_CUSTOMERS", "0"}, {"DEMO_CUSTOMERS", "many"},
		{"GRAPHQL_PLAYGROUND", "off"},
		{"LISTEN_ADDR", "8080"},
		{"WALDUR_API_URL", "waldur.example.com"},
	} {
		if _, err := parseConfig(nil, envOf(map[string]string{c.key: c.value})); err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s=%q: error %v, want one naming it", c.key, c.value, err)
		}
	}
	if _, err := parseConfig([]string{"-demo-customers", "0"}, envOf(nil)); err == nil || !strings.Contains(err.Error(), "DEMO_CUSTOMERS") {
		t.Errorf("-demo-customers 0: %v", err)
	}
	cfg, err = parseConfig(nil, envOf(map[string]string{"WALDUR_API_URL": "https://waldur.example.com/api/"}))
	if err != nil || cfg.waldurURL != "https://waldur.example.com/api/" {
		t.Errorf("Waldur's own /api/ spelling: %q, %v", cfg.waldurURL, err)
	}
}

// -h lists every setting the gateway reads, flag or not, and the endpoints.
func TestHelpListsEverySettingAndEndpoint(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		cfg, err := parseConfig([]string{arg}, envOf(map[string]string{"GRAPHQL_MAX_DEPTH": "-1"}))
		if err != nil || cfg.help == "" {
			t.Fatalf("%s: %v, help %q", arg, err, cfg.help)
		}
		for _, name := range settingsRead(t) {
			if !strings.Contains(cfg.help, name) {
				t.Errorf("%s does not list %s", arg, name)
			}
		}
		for _, path := range []string{"/query", "/healthz", "\n  /  "} {
			if !strings.Contains(cfg.help, path) {
				t.Errorf("%s does not list the endpoint %q", arg, path)
			}
		}
		for _, f := range []string{"-listen", "-waldur-url", "-playground", "-demo-customers", "-version"} {
			if !strings.Contains(cfg.help, "\n  "+f+" ") && !strings.Contains(cfg.help, "\n  "+f+"\n") {
				t.Errorf("%s does not list %s", arg, f)
			}
		}
	}
}

// Every kind of configuration problem is reported in one shape: a header, one
// indented line per problem naming its setting, the pointer to -h.
func TestConfigErrorsLookAlike(t *testing.T) {
	for _, c := range []struct {
		args    []string
		env     map[string]string
		setting []string
	}{
		{nil, map[string]string{"GRAPHQL_MAX_DEPTH": "-1", "UPSTREAM_TIMEOUT": "soon"}, []string{"GRAPHQL_MAX_DEPTH", "UPSTREAM_TIMEOUT"}},
		{[]string{"-max-depth", "0", "-apq-cache-size", "0"}, nil, []string{"-max-depth", "-apq-cache-size"}},
		{[]string{"-max-depth", "deep"}, nil, []string{"-max-depth"}},
		{[]string{"-no-such-flag"}, nil, []string{"-no-such-flag"}},
		{nil, map[string]string{"WALDUR_API_URL": "https://admin:hunter2@waldur.example.com/api/"}, []string{"WALDUR_API_URL"}},
		{nil, map[string]string{"LISTEN_ADDR": "localhost"}, []string{"LISTEN_ADDR"}},
		{nil, map[string]string{"CACHE_KEY_SECRET": "short"}, []string{"CACHE_KEY_SECRET"}},
	} {
		_, err := parseConfig(c.args, envOf(c.env))
		if err == nil {
			t.Errorf("%v %v accepted", c.args, c.env)
			continue
		}
		var out bytes.Buffer
		reportConfigError(&out, err)
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(c.setting)+2 || lines[0] != "gateway: configuration error:" || lines[len(lines)-1] != "Run 'gateway -h' for every setting." {
			t.Errorf("%v %v:\n%s", c.args, c.env, out.String())
			continue
		}
		for i, setting := range c.setting {
			problem := lines[i+1]
			if !strings.HasPrefix(problem, "  ") || !strings.Contains(out.String(), setting) {
				t.Errorf("%v %v: problem %q, want each line indented and %s named:\n%s", c.args, c.env, problem, setting, out.String())
			}
		}
		if strings.Contains(out.String(), "hunter2") {
			t.Errorf("the report repeats a credential:\n%s", out.String())
		}
	}
}

func TestTokenExposureWarning(t *testing.T) {
	for _, c := range []struct {
		addr     net.Addr
		tokenSet bool
		warn     bool
	}{
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, true, true},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, true, true},
		{&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 8080}, true, true},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, true, false},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, true, false},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, false, false},
	} {
		var logs bytes.Buffer
		warnIfTokenExposed(slog.New(slog.NewJSONHandler(&logs, nil)), c.addr, c.tokenSet)
		warned := strings.Contains(logs.String(), `"level":"WARN"`) && strings.Contains(logs.String(), "WALDUR_API_TOKEN")
		if warned != c.warn {
			t.Errorf("%v, token set %v: warned %v, want %v: %s", c.addr, c.tokenSet, warned, c.warn, logs.String())
		}
	}
}

func TestPlaygroundMissingNotice(t *testing.T) {
	for _, c := range []struct{ enabled, built, notice bool }{
		{true, false, true}, {true, true, false}, {false, false, false},
	} {
		var logs bytes.Buffer
		notePlaygroundMissing(slog.New(slog.NewJSONHandler(&logs, nil)), c.enabled, c.built)
		if got := strings.Contains(logs.String(), "make playground"); got != c.notice {
			t.Errorf("enabled %v built %v: notice %v: %s", c.enabled, c.built, got, logs.String())
		}
	}
}

func TestBrowseURL(t *testing.T) {
	for addr, want := range map[*net.TCPAddr]string{
		{IP: net.IPv6unspecified, Port: 8080}:   "http://localhost:8080/",
		{IP: net.IPv4(127, 0, 0, 1), Port: 9}:   "http://127.0.0.1:9/",
		{IP: net.IPv6loopback, Port: 8080}:      "http://[::1]:8080/",
		{IP: net.ParseIP("10.0.0.7"), Port: 80}: "http://10.0.0.7:80/",
	} {
		if got := browseURL(addr); got != want {
			t.Errorf("%v: %q, want %q", addr, got, want)
		}
	}
}

// The built binary, as a new user meets it.
func TestBinaryFirstRun(t *testing.T) {
	t.Parallel()
	bin := buildGateway(t)

	t.Run("-h exits 0 with every setting on stdout", func(t *testing.T) {
		cmd := exec.Command(bin, "-h")
		cmd.Env = []string{}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("-h: %v, stderr %q", err, stderr.String())
		}
		for _, want := range append(settingsRead(t), "/query", "/healthz", "Endpoints:") {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("-h does not mention %s", want)
			}
		}
	})

	t.Run("configuration errors exit 2 before anything starts", func(t *testing.T) {
		for _, env := range [][]string{
			{"GRAPHQL_MAX_DEPTH=-1"},
			{"WALDUR_API_URL=ftp://waldur.example.com"},
			{"LISTEN_ADDR=8080"},
			{"GRAPHQL_PLAYGROUND=maybe"},
			{"DEMO_CUSTOMERS=0"},
		} {
			// Should it start after all, it must stay on loopback and stop.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = append([]string{"LISTEN_ADDR=127.0.0.1:0"}, env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Errorf("%v: %v, want exit 2", env, err)
			}
			key, _, _ := strings.Cut(env[0], "=")
			got := stderr.String()
			if !strings.HasPrefix(got, "gateway: configuration error:\n") || !strings.HasSuffix(got, "Run 'gateway -h' for every setting.\n") ||
				!strings.Contains(got, key) {
				t.Errorf("%v: stderr %q", env, got)
			}
			if stdout.Len() > 0 || strings.Contains(got, "{") {
				t.Errorf("%v: something started: stdout %q stderr %q", env, stdout.String(), got)
			}
		}
	})

	t.Run("defaults: GraphiQL at /, the URL to open, no token warning on loopback", func(t *testing.T) {
		g := startGateway(t, bin, "DEMO_CUSTOMERS=42", "WALDUR_API_TOKEN="+fakewaldur.DemoStaffToken)
		listening := g.logs.waitFor(t, "gateway listening", time.Second)
		if listening["url"] != g.base+"/" {
			t.Errorf("url %v, want %s/", listening["url"], g.base)
		}
		resp := get(t, g.base+"/")
		if resp.StatusCode == http.StatusNotFound {
			t.Errorf("/ answers 404 with GraphiQL on")
		}
		if got := totalCount(t, g.base); got != 42 {
			t.Errorf("DEMO_CUSTOMERS=42: totalCount %d", got)
		}
		g.stop(t)
		logs := strings.Join(g.logs.all(), "\n")
		if strings.Contains(logs, "beyond loopback") {
			t.Errorf("token warning on a loopback listener:\n%s", logs)
		}
		if got := strings.Contains(logs, "GraphiQL is not built"); got == playground.Built() {
			t.Errorf("GraphiQL built %v, notice logged %v:\n%s", playground.Built(), got, logs)
		}
	})

	t.Run("GRAPHQL_PLAYGROUND=false answers 404 at /, and Waldur's /api/ spelling works", func(t *testing.T) {
		fake := httptest.NewServer(fakewaldur.New(fakewaldur.Demo(17, 1)))
		t.Cleanup(fake.Close)
		g := startGateway(t, bin, "GRAPHQL_PLAYGROUND=false", "WALDUR_API_URL="+fake.URL+"/api/", "WALDUR_API_TOKEN="+fakewaldur.DemoStaffToken)
		for _, path := range []string{"/", "/playground/assets/x.js"} {
			if resp := get(t, g.base+path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, resp.StatusCode)
			}
		}
		if got := totalCount(t, g.base); got != 17 {
			t.Errorf("through %s/api/: totalCount %d", fake.URL, got)
		}
		listening := g.logs.waitFor(t, "gateway listening", time.Second)
		if listening["waldur"] != fake.URL+"/api/customer-quotas/" || listening["playground"] != false {
			t.Errorf("start-up line %v", listening)
		}
		g.stop(t)
		if logs := strings.Join(g.logs.all(), "\n"); strings.Contains(logs, "GraphiQL is not built") {
			t.Errorf("GraphiQL notice while it is off:\n%s", logs)
		}
	})
}

func (g *runningGateway) stop(t *testing.T) {
	t.Helper()
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	if err := g.waitExit(t, 10*time.Second); err != nil {
		t.Errorf("exit: %v", err)
	}
}

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func totalCount(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Post(base+"/query", "application/json", strings.NewReader(`{"query":"{ customerQuotas(quotaName: \"os_cpu_count\", first: 1) { totalCount } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Data struct {
			CustomerQuotas struct{ TotalCount int } `json:"customerQuotas"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		t.Fatal(err)
	}
	return answer.Data.CustomerQuotas.TotalCount
}
