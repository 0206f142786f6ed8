package main

import (
	"fmt"
	"net/http"
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
	for _, p := range phases(fast, slow, o.slowUpstream) {
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
