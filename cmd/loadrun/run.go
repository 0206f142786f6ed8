package main

import (
	"fmt"
	"net/http"
	"regexp"
	"time"
)

func run(o options) error {
	fast, err := serveFake(o.customers, 0)
	if err != nil {
		return err
	}
	defer fast.Close()
	slow, err := serveFake(o.customers, o.slowUpstream)
	if err != nil {
		return err
	}
	defer slow.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency * 2}, Timeout: 30 * time.Second}
	var results []result
	for _, p := range selected(phases(fast, slow, o.slowUpstream), o.only) {
		r, err := runPhase(o, client, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		r.name, r.baseline = p.name, p.baseline
		results = append(results, r)
		fmt.Printf("  %-40s done: %.0f req/s\n", p.name, r.rate())
		client.CloseIdleConnections()
		settle()
	}
	fmt.Println()
	report(results, o)
	return nil
}

// selected keeps the phases whose names match only, and their baselines.
func selected(all []phase, only *regexp.Regexp) []phase {
	keep := map[string]bool{}
	for _, p := range all {
		if only.MatchString(p.name) {
			keep[p.name], keep[p.baseline] = true, true
		}
	}
	var out []phase
	for _, p := range all {
		if keep[p.name] {
			out = append(out, p)
		}
	}
	return out
}
