// Command loadrun puts the whole gateway under load and reports it against a
// baseline measured in the same run: the same pages asked of the upstream
// directly. Shared, noisy machines make absolute numbers drift; the ratio of
// the two runs is what to compare across commits.
//
// It starts a fake Waldur on loopback, the gateway binary (-gateway) pointed at
// it on loopback, runs each phase for -duration with -concurrency clients, and
// stops both by their own handles. Every request stays on 127.0.0.1.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/waldur-quotas/gateway/cmd/internal/gatewayproc"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
	"github.com/waldur-quotas/gateway/upstream/waldurapi"
)

type phase struct {
	name string
	req  func() *http.Request
}

type result struct {
	name      string
	requests  int
	failures  int
	elapsed   time.Duration
	latencies []time.Duration
}

func main() {
	bin := flag.String("gateway", "bin/gateway", "gateway binary to start")
	duration := flag.Duration("duration", 10*time.Second, "length of each phase")
	concurrency := flag.Int("concurrency", 16, "concurrent clients")
	customers := flag.Int("customers", 1000, "organisations in the fake Waldur")
	flag.Parse()
	if err := run(*bin, *duration, *concurrency, *customers); err != nil {
		fmt.Fprintln(os.Stderr, "loadrun:", err)
		os.Exit(1)
	}
}

func run(bin string, duration time.Duration, concurrency, customers int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	waldur := &http.Server{Handler: fakewaldur.New(fakewaldur.Demo(customers, 1)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = waldur.Serve(ln) }()
	defer waldur.Close()
	waldurURL := "http://" + ln.Addr().String()

	gateway, err := gatewayproc.Start(bin, "WALDUR_API_URL="+waldurURL)
	if err != nil {
		return err
	}
	defer func() {
		if err := gateway.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "loadrun:", err)
		}
	}()
	gatewayURL := gateway.URL()

	token := "Token " + fakewaldur.DemoStaffToken
	gql := func(query string) func() *http.Request {
		body, _ := json.Marshal(map[string]string{"query": query})
		return func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, gatewayURL+"/query", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", token)
			return r
		}
	}
	direct := func(query string) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, waldurURL+waldurapi.Path+"?"+query, nil)
			r.Header.Set("Authorization", token)
			return r
		}
	}
	phases := []phase{
		{"baseline: Waldur page 1 of 10, direct", direct("quota_name=os_storage_size&o=value&page=1&page_size=10")},
		{"gateway: first 10 (1 GET)", gql(`{ customerQuotas(quotaName: "os_storage_size", first: 10) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { customerName customerAbbreviation value } } } }`)},
		{"gateway: last 10 (HEAD + GET)", gql(`{ customerQuotas(quotaName: "os_storage_size", last: 10) { totalCount pageInfo { hasPreviousPage startCursor } edges { cursor node { customerName customerAbbreviation value } } } }`)},
		{"gateway: totalCount (1 HEAD)", gql(`{ customerQuotas(quotaName: "os_storage_size") { totalCount } }`)},
		{"baseline: Waldur page 1 of 100, direct", direct("quota_name=os_storage_size&o=value&page=1&page_size=100")},
		{"gateway: first 100 (1 GET)", gql(`{ customerQuotas(quotaName: "os_storage_size", first: 100) { totalCount nodes { customerName customerAbbreviation value } } }`)},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency * 2}, Timeout: 30 * time.Second}
	var results []result
	for _, p := range phases {
		results = append(results, load(client, p, duration, concurrency))
	}
	report(results, concurrency, duration)
	return nil
}

func load(client *http.Client, p phase, duration time.Duration, concurrency int) result {
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var mu sync.Mutex
	res := result{name: p.name}
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			failures := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				resp, err := client.Do(p.req())
				if err != nil {
					failures++
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"errors"`)) {
					failures++
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, local...)
			res.failures += failures
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.requests = len(res.latencies)
	slices.Sort(res.latencies)
	return res
}

func (r result) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
}

func report(results []result, concurrency int, duration time.Duration) {
	fmt.Printf("load run: %d clients, %s per phase, all on 127.0.0.1\n\n", concurrency, duration)
	fmt.Printf("%-40s %10s %9s %9s %9s %8s  %s\n", "phase", "req/s", "p50", "p99", "failures", "", "vs baseline (throughput, p50)")
	var base result
	for _, r := range results {
		rel := ""
		if len(r.name) >= 8 && r.name[:8] == "baseline" {
			base = r
		} else if base.requests > 0 {
			rel = fmt.Sprintf("%.2fx, %.2fx", r.rate()/base.rate(), float64(r.pct(0.5))/float64(base.pct(0.5)))
		}
		fmt.Printf("%-40s %10.0f %9s %9s %9d %8s  %s\n", r.name, r.rate(),
			r.pct(0.5).Round(time.Microsecond), r.pct(0.99).Round(time.Microsecond), r.failures, "", rel)
	}
}
