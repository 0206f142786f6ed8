package httpapi_test

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// withMaxConnections bounds the harness gateway's open connections as
// server.go does.
func withMaxConnections(n int) harnessOption {
	return withServer(func(srv *http.Server, ln net.Listener, logger *slog.Logger) net.Listener {
		return httpapi.LimitConnections(srv, ln, n, logger)
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
	askHealthz(t, conn)
	return conn
}

// askHealthz asks /healthz on an open keep-alive connection and fails t
// unless the answer is a 200 that keeps the connection open.
func askHealthz(t *testing.T, conn net.Conn) {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	readHealthz(t, conn)
}

func readHealthz(t *testing.T, conn net.Conn) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("keep-alive /healthz: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("keep-alive /healthz: %d, close %v", resp.StatusCode, resp.Close)
	}
}

// wantClosedByGateway fails t unless the gateway has closed conn: a read
// ends at once with EOF or a reset instead of waiting for an answer.
func wantClosedByGateway(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // generous: only proves no hang
	n, err := conn.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Errorf("%s: still open (read %d bytes, %v)", what, n, err)
	}
}

func healthz(h *harness) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, h.gateway.URL+"/healthz", nil)
	req.Close = true // a connection of its own, not one from the client's pool
	return req
}

// untilServed sends requests made by next until one is not refused for too
// many connections, and returns its answer. A connection that has only just
// finished a request is not closed to make room (its client is likely about
// to send the next), so a client may be refused for a moment first.
func untilServed(t *testing.T, next func() gqlResponse) gqlResponse {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp := next()
		if resp.code() != "TOO_MANY_CONNECTIONS" || time.Now().After(deadline) {
			return resp
		}
	}
}

// gatedWaldur is a fake Waldur whose first hold calls wait until it opens
// (or until their request ends), each announced on arrived: the gateway's
// connections asking them stay busy in a request as long as the test wants.
type gatedWaldur struct {
	next    http.Handler
	arrived chan struct{}
	release chan struct{}

	mu     sync.Mutex
	hold   int
	opened sync.Once
}

func newGatedWaldur(hold int) *gatedWaldur {
	return &gatedWaldur{next: fakewaldur.New(demo()), arrived: make(chan struct{}, hold), release: make(chan struct{}), hold: hold}
}

// open lets the held calls and every later one through.
func (g *gatedWaldur) open() { g.opened.Do(func() { close(g.release) }) }

func (g *gatedWaldur) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	held := g.hold > 0
	g.hold--
	g.mu.Unlock()
	if held {
		g.arrived <- struct{}{}
		select {
		case <-g.release:
		case <-r.Context().Done():
		}
	}
	g.next.ServeHTTP(w, r)
}

// busyRequests starts n GraphQL requests, each on a connection of its own,
// and returns once every one is waiting on the gate; wait gives their
// answers once the gate is opened.
func busyRequests(t *testing.T, h *harness, gate *gatedWaldur, n int) (wait func() []gqlResponse) {
	t.Helper()
	answers := make(chan gqlResponse, n)
	for i := range n {
		// Distinct queries: identical ones in flight together share one call.
		req := h.postRequest("", connectionQuery, withVars("first", 5+i))
		req.Close = true
		go func() {
			resp, err := h.send(req)
			if err != nil {
				resp = gqlResponse{Body: []byte(err.Error())}
			}
			answers <- resp
		}()
	}
	for range n {
		select {
		case <-gate.arrived:
		case <-time.After(10 * time.Second): // generous: only proves no hang
			t.Fatal("the busy requests did not reach Waldur")
		}
	}
	return func() []gqlResponse {
		out := make([]gqlResponse, n)
		for i := range out {
			out[i] = <-answers
		}
		return out
	}
}

// gatedHarness is a gateway of at most limit connections whose Waldur holds
// its first hold calls until the returned gate opens; it opens
// by itself when the test ends, before the gateway stops.
func gatedHarness(t *testing.T, limit, hold int) (*harness, *gatedWaldur) {
	gate := newGatedWaldur(hold)
	h := newHarness(t, withDefaultToken(demoStaff), withUpstream(gate), withUpstreamTimeout(time.Minute), withMaxConnections(limit))
	t.Cleanup(gate.open)
	return h, gate
}

// The flaw this fixes: a client holding every slot with idle keep-alive
// connections (one cheap request each per idle timeout) shut every other
// caller out. At the limit, the connection idle the longest is closed to make
// room for the new one, whose request is served.
func TestIdleConnectionsMakeRoomForANewClient(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff), withMaxConnections(2))
	oldest := keepAlive(t, h)
	newer := keepAlive(t, h)

	wantData(t, untilServed(t, func() gqlResponse { return h.post("", connectionQuery, vars5()) }))
	wantClosedByGateway(t, oldest, "the connection idle the longest")
	askHealthz(t, newer) // the other one still serves
	if line := lastLogRecord(t, h, "idle connection closed to make room"); line["max_connections"] != 2.0 {
		t.Errorf("eviction line %v", line)
	}
}

// A connection busy with a request is never closed to make room: the idle
// one goes, and the busy one's answer arrives whole.
func TestBusyConnectionIsNotClosedToMakeRoom(t *testing.T) {
	h, gate := gatedHarness(t, 2, 1)
	busy := busyRequests(t, h, gate, 1)
	idle := keepAlive(t, h)

	// Not a query: the gate holds Waldur's first call only, but this one must
	// not depend on which call that was.
	if resp := untilServed(t, func() gqlResponse { return h.do(healthz(h)) }); resp.Status != http.StatusOK {
		t.Fatalf("a new client beside a busy and an idle connection: %s", resp)
	}
	wantClosedByGateway(t, idle, "the idle connection")
	gate.open()
	wantData(t, busy()[0])
}

// A connection whose client has begun sending its next request is busy,
// even before the gateway has its whole head (net/http reports it idle until
// then): it is not closed to make room although it has been idle the longest.
func TestConnectionSendingARequestIsNotClosedToMakeRoom(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff), withMaxConnections(2))
	sending := keepAlive(t, h)
	idle := keepAlive(t, h)
	if _, err := io.WriteString(sending, "GET /healthz HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}

	wantData(t, untilServed(t, func() gqlResponse { return h.post("", connectionQuery, vars5()) }))
	wantClosedByGateway(t, idle, "the idle connection")
	if _, err := io.WriteString(sending, "Host: gateway\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	readHealthz(t, sending)
}

// When every connection is busy with a request, a new one gets a short 503
// with Retry-After, a JSON error with a code and Connection: close, and is
// closed; the busy ones finish their answers, and a slot given back is taken
// again.
func TestNewConnectionIsRefusedWhenAllAreBusy(t *testing.T) {
	h, gate := gatedHarness(t, 2, 2)
	busy := busyRequests(t, h, gate, 2)

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

	gate.open()
	for _, answer := range busy() {
		wantData(t, answer)
	}
	if resp := untilServed(t, func() gqlResponse { return h.do(healthz(h)) }); resp.Status != http.StatusOK {
		t.Fatalf("once the busy requests are answered: %s", resp)
	}
}

// A client over the limit that sends nothing, or only part of a request,
// still gets the refusal, which says Connection: close, and the end of the
// connection: it never hangs. (Go's client hides the Connection header, so
// this reads the raw answer.)
func TestRefusedConnectionNeverHangs(t *testing.T) {
	h, gate := gatedHarness(t, 1, 1)
	busyRequests(t, h, gate, 1)
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
