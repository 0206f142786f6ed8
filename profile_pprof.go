//go:build pprof

package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

// A gateway built with -tags pprof writes a CPU profile of itself to
// GATEWAY_CPUPROFILE for GATEWAY_CPUPROFILE_SECONDS (default 10) after it
// starts, to profile it under `make load` as deployed, by hand:
//
//	go build -tags pprof -o /tmp/gw-pprof . &&
//	go run ./cmd/loadrun -gateway /tmp/gw-pprof -phases 'gateway: first 10$' -warmup 0 -duration 8s GATEWAY_CPUPROFILE=/tmp/cpu.prof
//
// The gateway the Makefile builds has none of it.
func init() {
	path := os.Getenv("GATEWAY_CPUPROFILE")
	if path == "" {
		return
	}
	seconds := 10
	if v := os.Getenv("GATEWAY_CPUPROFILE_SECONDS"); v != "" {
		if _, err := fmt.Sscan(v, &seconds); err != nil || seconds <= 0 {
			fmt.Fprintln(os.Stderr, "GATEWAY_CPUPROFILE_SECONDS must be a positive integer")
			os.Exit(2)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "GATEWAY_CPUPROFILE:", err)
		os.Exit(2)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "GATEWAY_CPUPROFILE:", err)
		os.Exit(2)
	}
	time.AfterFunc(time.Duration(seconds)*time.Second, func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	})
}
