package gatewayproc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a stand-in gateway when fakeMode is set: it logs
// like the gateway, so Start, the /proc readings and Stop run against a real
// child process without building the module.
const fakeMode = "GATEWAYPROC_FAKE"

func TestMain(m *testing.M) {
	switch os.Getenv(fakeMode) {
	case "":
		os.Exit(m.Run())
	case "fail":
		fmt.Fprintln(os.Stderr, `{"level":"ERROR","msg":"UPSTREAM_TIMEOUT must be a positive duration"}`)
		os.Exit(2)
	case "serve":
		serveLikeTheGateway()
	}
}

func serveLikeTheGateway() {
	ln, err := net.Listen("tcp", os.Getenv("LISTEN_ADDR"))
	if err != nil {
		os.Exit(3)
	}
	line, _ := json.Marshal(map[string]string{"level": "INFO", "msg": "gateway listening", "addr": ln.Addr().String()})
	fmt.Fprintln(os.Stderr, string(line))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// The environment the gateway was given, to check Start's defaults.
		fmt.Fprintf(w, "url=%q token=%q", os.Getenv("WALDUR_API_URL"), os.Getenv("WALDUR_API_TOKEN"))
		fmt.Fprintln(os.Stderr, `{"level":"WARN","msg":"request"}`)
	})}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); _ = srv.Shutdown(context.Background()) }()
	_ = srv.Serve(ln)
	os.Exit(0)
}

func self(t *testing.T, mode string) string {
	t.Helper()
	t.Setenv(fakeMode, mode)                // inherited by the child through os.Environ
	t.Setenv("GORACE", "atexit_sleep_ms=0") // a -race child would otherwise linger 1 s at exit
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestStartRunsDemoModeReadsProcAndStopsCleanly(t *testing.T) {
	t.Setenv("WALDUR_API_URL", "https://operator.example") // the tool's own environment must not leak in
	p, err := Start(self(t, "serve"))
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, p.URL()); got != `url="" token=""` {
		t.Errorf("gateway environment: %s, want demo mode without a token", got)
	}
	if cpu, err := p.CPU(); err != nil || cpu < 0 {
		t.Errorf("CPU() = %v, %v", cpu, err)
	}
	rss, err := p.RSS()
	if err != nil || rss <= 0 {
		t.Errorf("RSS() = %d, %v", rss, err)
	}
	if peak, err := p.Peak(); err != nil || peak < rss {
		t.Errorf("Peak() = %d, %v; RSS %d", peak, err, rss)
	}
	lines := p.TakeLogLines()
	for deadline := time.Now().Add(10 * time.Second); lines["WARN request"] == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // the request's line is read from the pipe a moment later
		maps.Copy(lines, p.TakeLogLines())
	}
	if lines["INFO gateway listening"] != 1 || lines["WARN request"] != 1 {
		t.Errorf("log lines %v, want the listening line and one request", lines)
	}
	if again := p.TakeLogLines(); len(again) != 0 {
		t.Errorf("lines counted twice: %v", again)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if _, err := p.RSS(); err == nil {
		t.Error("RSS of a stopped gateway read without an error")
	}
}

func TestStartPassesEnvOverTheDefaults(t *testing.T) {
	p, err := Start(self(t, "serve"), "WALDUR_API_URL=http://127.0.0.1:9", "WALDUR_API_TOKEN=probe-token")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if got := get(t, p.URL()); got != `url="http://127.0.0.1:9" token="probe-token"` {
		t.Errorf("gateway environment: %s", got)
	}
}

func TestStartSaysWhyTheGatewayDidNotListen(t *testing.T) {
	_, err := Start(self(t, "fail"))
	if err == nil || !strings.Contains(err.Error(), "exited before listening (exit status 2)") ||
		!strings.Contains(err.Error(), "UPSTREAM_TIMEOUT must be a positive duration") {
		t.Errorf("error %v, want the exit status and the gateway's last line", err)
	}
	_, err = Start(t.TempDir() + "/gateway")
	if err == nil || !strings.Contains(err.Error(), "run 'make build' first") {
		t.Errorf("error %v, want a hint to build the binary", err)
	}
}
