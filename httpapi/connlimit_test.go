package httpapi_test

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/httpapi"
)

// withMaxConnections bounds the harness gateway's open connections as
// server.go does.
func withMaxConnections(n int) harnessOption {
	return withListener(func(ln net.Listener, logger *slog.Logger) net.Listener {
		return httpapi.LimitConnections(ln, n, logger)
	})
}

// keepAlive opens a connection, asks /healthz on it and leaves it open and
// idle, as a keep-alive client does between requests.
func keepAlive(t *testing.T, h *harness) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", h.gateway.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("keep-alive /healthz: %d, close %v", resp.StatusCode, resp.Close)
	}
	return conn
}

func healthz(h *harness) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, h.gateway.URL+"/healthz", nil)
	req.Close = true // a connection of its own, not one from the client's pool
	return req
}

// Over the limit, a new connection gets a short 503 with Retry-After, a
// JSON error with a code and Connection: close, and is closed; the open
// ones keep working, and a slot given back is taken again.
func TestConnectionsOverTheLimitAreRefused(t *testing.T) {
	h := newHarness(t, withMaxConnections(2))
	first, _ := keepAlive(t, h), keepAlive(t, h)

	resp := h.do(healthz(h))
	if resp.Status != http.StatusServiceUnavailable || resp.code() != "TOO_MANY_CONNECTIONS" || resp.hasData() {
		t.Fatalf("over the limit: %d %s", resp.Status, resp.Body)
	}
	if resp.Header.Get("Retry-After") != "1" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v: want Retry-After: 1 and JSON", resp.Header)
	}
	if refusal := lastLogRecord(t, h, "connection refused: too many open connections"); refusal["level"] != "WARN" || refusal["max_connections"] != 2.0 {
		t.Errorf("refusal line %v", refusal)
	}

	// The held connections still serve.
	if _, err := io.WriteString(first, "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if again, err := http.ReadResponse(bufio.NewReader(first), nil); err != nil || again.StatusCode != http.StatusOK {
		t.Fatalf("a held connection over the limit: %v %v", again, err)
	}

	// Closing one gives its slot back, once the server has seen it close.
	first.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if resp := h.do(healthz(h)); resp.Status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection's slot was not given back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A client over the limit that sends nothing, or only part of a request,
// still gets the refusal, which says Connection: close, and the end of the
// connection: it never hangs. (Go's client hides the Connection header, so
// this reads the raw answer.)
func TestRefusedConnectionNeverHangs(t *testing.T) {
	h := newHarness(t, withMaxConnections(1))
	keepAlive(t, h)
	for _, sent := range []string{"", "GET /query?query=%7B", "POST /query HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("x", 50000)} {
		conn, err := net.Dial("tcp", h.gateway.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		// Generous: the refusal comes at once; this only proves no hang.
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		go func() { _, _ = io.WriteString(conn, sent) }()
		answer, err := io.ReadAll(conn) // up to the gateway's close
		conn.Close()
		if err != nil && !errors.Is(err, net.ErrClosed) {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("after sending %.30q: no close within the bound, got %q", sent, answer)
			}
		}
		if !strings.HasPrefix(string(answer), "HTTP/1.1 503 ") || !strings.Contains(string(answer), "\r\nConnection: close\r\n") ||
			!strings.Contains(string(answer), `"TOO_MANY_CONNECTIONS"`) {
			t.Errorf("after sending %.30q: answer %q", sent, answer)
		}
	}
}
