package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
