package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/waldur-quotas/gateway/cmd/internal/gatewayproc"
)

// measureIdle opens n keep-alive connections to a fresh gateway, one /healthz
// on each, and leaves those that stay open idle. The gateway's Waldur is never
// called: its URL points at a closed port.
func measureIdle(bin string, n int, hold time.Duration) error {
	g, err := gatewayproc.Start(bin, "WALDUR_API_URL=http://127.0.0.1:9")
	if err != nil {
		return err
	}
	defer stop(g)
	time.Sleep(time.Second) // let the runtime settle before the first reading
	rss0, err := mib(g.RSS())
	if err != nil {
		return err
	}

	var (
		mu      sync.Mutex
		open    []net.Conn
		answers = map[string]int{}
	)
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				conn, outcome := healthzOnce(g.Addr())
				mu.Lock()
				answers[outcome]++
				if conn != nil {
					open = append(open, conn)
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	opened := time.Since(start)
	rss1, err := mib(g.RSS())
	if err != nil {
		return err
	}
	time.Sleep(hold)
	rss2, err := mib(g.RSS())
	if err != nil {
		return err
	}
	peak, err := mib(g.Peak())
	if err != nil {
		return err
	}
	stillOpen := 0
	for _, c := range open {
		// A peer that closed the idle connection reads as EOF at once.
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && isTimeout(err) {
			stillOpen++
		}
		c.Close()
	}

	fmt.Printf("idle connections: %d dialled in %s, %d kept open by the client\n", n, opened.Round(time.Millisecond), len(open))
	for outcome, count := range answers {
		fmt.Printf("  %-60s %6d\n", outcome, count)
	}
	fmt.Printf("gateway RSS: %.1f MiB before, %.1f MiB with the connections open, %.1f MiB after %s idle (peak %.1f MiB); %d still open then\n",
		rss0, rss1, rss2, hold, peak, stillOpen)
	return nil
}

// healthzOnce dials the gateway, asks GET /healthz on a keep-alive connection
// and returns the connection when the gateway kept it open.
func healthzOnce(addr string) (net.Conn, string) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, "dial failed: " + err.Error()
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
		conn.Close()
		return nil, "write failed"
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		conn.Close()
		return nil, "no answer: " + err.Error()
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	outcome := fmt.Sprintf("HTTP %d Retry-After=%q Connection: close=%v", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Close)
	if resp.StatusCode != http.StatusOK || resp.Close {
		conn.Close()
		return nil, outcome
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, outcome
}

// mib turns a byte count from gatewayproc into MiB.
func mib(bytes int64, err error) (float64, error) {
	return float64(bytes) / (1 << 20), err
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
