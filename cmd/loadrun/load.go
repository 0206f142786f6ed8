package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// result is what one phase measured.
type result struct {
	name, baseline string
	requests       int
	failures       int
	elapsed        time.Duration
	latencies      []time.Duration
	upstreamCalls  int64

	gateway bool          // the fields below are set only for a gateway phase
	cpu     time.Duration // the gateway process's user+system time over the phase
	peakRSS int64         // VmHWM at the end of the phase, in bytes
}

// load sends requests built by req to base from concurrency clients, each
// waiting for its answer before sending the next, for duration.
func load(hc *http.Client, base string, req func(string, int) *http.Request, duration time.Duration, concurrency int) result {
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var mu sync.Mutex
	var res result
	var wg sync.WaitGroup
	start := time.Now()
	for client := range concurrency {
		wg.Go(func() {
			local := make([]time.Duration, 0, 1024)
			failures := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				resp, err := hc.Do(req(base, client))
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
		})
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

// cpuPerRequest is the gateway's CPU time per answered request.
func (r result) cpuPerRequest() time.Duration {
	if r.requests == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.requests)
}

// roundTrips is the upstream requests per answered request.
func (r result) roundTrips() float64 {
	if r.requests == 0 {
		return 0
	}
	return float64(r.upstreamCalls) / float64(r.requests)
}
