package main

import (
	"fmt"
	"strings"
	"time"
)

func report(results []result, o options) {
	fmt.Printf("load run: %d clients, %s per phase (after %s of warm-up), a fresh gateway process per gateway phase (metrics on, trace export off), each client a caller of its own, all on 127.0.0.1\n",
		o.concurrency, o.duration, o.warmup)
	if len(o.env) > 0 {
		fmt.Printf("gateway settings: %s\n", strings.Join(o.env, " "))
	}
	fmt.Println()
	fmt.Printf("%-40s %8s %7s %9s %9s %7s %9s %7s %8s %5s\n",
		"phase", "req/s", "×direct", "p50", "p99", "p99×dir", "CPU/req", "calls/q", "peak RSS", "fail")
	byName := map[string]result{}
	for _, r := range results {
		byName[r.name] = r
		ratio, p99ratio := "", ""
		if base, ok := byName[r.baseline]; ok && base.requests > 0 && r.baseline != "" {
			ratio = fmt.Sprintf("%.2f", r.rate()/base.rate())
			p99ratio = fmt.Sprintf("%.2f", float64(r.pct(0.99))/float64(base.pct(0.99)))
		}
		cpu, rss := "", ""
		if r.gateway {
			cpu = fmt.Sprintf("%.3fms", float64(r.cpuPerRequest())/float64(time.Millisecond))
			rss = fmt.Sprintf("%.1fMiB", float64(r.peakRSS)/(1<<20))
		}
		fmt.Printf("%-40s %8.0f %7s %9s %9s %7s %9s %7.2f %8s %5d\n", r.name, r.rate(), ratio,
			r.pct(0.5).Round(time.Microsecond), r.pct(0.99).Round(time.Microsecond), p99ratio,
			cpu, r.roundTrips(), rss, r.failures)
	}
	fmt.Println()
	fmt.Println("×direct: requests per second against the phase's direct baseline; p99×dir likewise for p99.")
	fmt.Println("CPU/req: the gateway process's utime+stime over the phase (from /proc/<pid>/stat) per answered request.")
	fmt.Println("calls/q: requests the fake Waldur answered per answered query; peak RSS: VmHWM of that phase's own gateway.")
	fmt.Println("The machine's noise: compare the two direct page-of-10 phases (the second one's ×direct).")
	goals(byName, o)
}

// goals checks the targets on this run's figures.
func goals(by map[string]result, o options) {
	fmt.Println()
	fmt.Println("goals:")
	check := func(ok bool, format string, args ...any) {
		mark := "ok  "
		if !ok {
			mark = "MISS"
		}
		fmt.Printf("  %s %s\n", mark, fmt.Sprintf(format, args...))
	}
	direct, first := by["direct: page of 10"], by["gateway: first 10"]
	if direct.requests > 0 && first.requests > 0 {
		r := first.rate() / direct.rate()
		check(r >= 1.0/3, "uncached first 10 at %.2f× the direct rps (goal ≥ 0.33)", r)
		cpu := float64(first.cpuPerRequest()) / float64(time.Millisecond)
		check(cpu <= 0.08, "uncached first 10 at %.3f ms gateway CPU per request (goal ≤ 0.08)", cpu)
		p := float64(first.pct(0.99)) / float64(direct.pct(0.99))
		check(p <= 2, "uncached first 10 p99 at %.2f× the direct p99 (goal ≤ 2)", p)
	}
	if c := by["gateway cached: first 10, repeated"]; c.requests > 0 && direct.requests > 0 {
		r := c.rate() / direct.rate()
		check(r >= 1, "cached first 10 at %.2f× the direct rps (goal ≥ 1)", r)
	}
	d := o.slowUpstream.String()
	// The upstream's latency is what a client asking it directly waits, in
	// this run: the delay plus the fake's own HTTP and JSON work.
	upstreamP50 := o.slowUpstream
	if r := by["direct "+d+": page of 10"]; r.requests > 0 {
		upstreamP50 = r.pct(0.5)
	}
	for _, q := range []string{"first 10", "last 10", "totalCount only"} {
		r, ok := by["gateway "+d+": "+q]
		if !ok || r.requests == 0 {
			continue
		}
		check(r.roundTrips() <= 1.0, "%s upstream: %s in %.2f round trips per query (goal 1)", d, q, r.roundTrips())
		goal := upstreamP50 + 2*time.Millisecond
		check(r.pct(0.5) <= goal, "%s upstream: %s p50 %s (goal ≤ the direct p50 + 2 ms = %s)", d, q,
			r.pct(0.5).Round(10*time.Microsecond), goal.Round(10*time.Microsecond))
	}
	var peak int64
	for _, r := range by {
		peak = max(peak, r.peakRSS)
	}
	check(peak <= 64<<20, "peak RSS %.1f MiB over every gateway phase with %d clients (goal ≤ 64 MiB)", float64(peak)/(1<<20), o.concurrency)
}
