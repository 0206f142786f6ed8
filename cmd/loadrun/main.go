// Command loadrun puts the gateway binary under load and reports it against
// baselines measured in the same run: the same pages asked of the upstream
// directly. Shared, noisy machines make absolute numbers drift; ratios within
// one run are what to compare across commits.
//
// It serves the fake Waldur from this process on loopback (twice: as fast as
// it goes, and with a fixed delay per request), and starts a fresh gateway
// process for every gateway phase, so that each phase's CPU time and peak
// memory (VmHWM, which cannot be reset) are its own. Every request stays on
// 127.0.0.1, and both gateways and fakes are stopped by their own handles.
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime/pprof"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.bin, "gateway", "bin/gateway", "gateway binary to start")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each phase")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "load before each gateway phase is measured (connections, caches)")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent clients")
	flag.IntVar(&o.customers, "customers", 1000, "organisations in the fake Waldur")
	flag.DurationVar(&o.slowUpstream, "slow-upstream", 50*time.Millisecond, "delay per request of the slow fake Waldur")
	cpuprofile := flag.String("cpuprofile", "", "write this tool's own CPU profile here (the load it makes, and the fake Waldur)")
	phases := flag.String("phases", "", "run only the phases whose names match this regular expression (their baselines as well)")
	flag.Parse()
	var err error
	if o.only, err = regexp.Compile(*phases); err != nil {
		fmt.Fprintln(os.Stderr, "loadrun: -phases:", err)
		os.Exit(2)
	}
	o.env = flag.Args() // KEY=value settings for every gateway started
	if o.concurrency < 1 || o.concurrency > maxClients {
		fmt.Fprintf(os.Stderr, "loadrun: -concurrency must be from 1 to %d\n", maxClients)
		os.Exit(2)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadrun: -cpuprofile:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(o); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "loadrun:", err)
		os.Exit(1)
	}
}

type options struct {
	bin          string
	duration     time.Duration
	warmup       time.Duration
	concurrency  int
	customers    int
	slowUpstream time.Duration
	env          []string
	only         *regexp.Regexp
}
