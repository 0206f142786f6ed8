package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waldur-quotas/gateway/cmd/internal/gatewayproc"
)

// measureLogs loads a gateway whose Waldur answers 503 to every call and counts
// the lines the gateway writes during the run.
func measureLogs(bin string, duration time.Duration, concurrency, aliases int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	waldur := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "<html><body>503 Service Unavailable</body></html>")
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = waldur.Serve(ln) }()
	defer waldur.Close()

	g, err := gatewayproc.Start(bin, "WALDUR_API_URL=http://"+ln.Addr().String(), "WALDUR_API_TOKEN=probe-token")
	if err != nil {
		return err
	}
	defer stop(g)
	time.Sleep(200 * time.Millisecond)
	g.TakeLogLines() // the start-up lines are not the run's

	// Distinct quota names: the gateway shares one call among fields that
	// ask the same page.
	quotas := []string{"os_cpu_count", "os_ram_size", "os_storage_size", "vpc_cpu_count", "vpc_ram_size",
		"vpc_storage_size", "vpc_instance_count", "vpc_floating_ip_count", "nc_resource_count", "estimated_price"}
	var fields []string
	for i := range aliases {
		fields = append(fields, fmt.Sprintf(`f%d: customerQuotas(quotaName: %q, first: 5) { totalCount }`, i, quotas[i%len(quotas)]))
	}
	body, _ := json.Marshal(map[string]string{"query": "{ " + strings.Join(fields, " ") + " }"})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency * 2}, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var requests, transportErrors atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequest(http.MethodPost, g.URL()+"/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					transportErrors.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				requests.Add(1)
			}
		}()
	}
	wg.Wait()
	time.Sleep(500 * time.Millisecond) // the last lines reach the pipe
	lines := g.TakeLogLines()

	total := 0
	var kinds []string
	for k, n := range lines {
		total += n
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Printf("log lines with Waldur answering 503: %s, %d clients, %d field(s) per request\n", duration, concurrency, aliases)
	fmt.Printf("  requests answered %d (transport errors %d)\n", requests.Load(), transportErrors.Load())
	for _, k := range kinds {
		fmt.Printf("  %-50s %8d\n", k, lines[k])
	}
	fmt.Printf("  total lines %d, %.2f per request\n", total, float64(total)/float64(max(requests.Load(), 1)))
	return nil
}
