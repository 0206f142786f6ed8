// Command opsprobe measures how the gateway binary behaves as an operator sees
// it, in runs that each start their own gateway on loopback:
//
//	opsprobe -gateway bin/gateway -mode idle -conns 8000
//	    opens that many keep-alive connections, each after one /healthz, leaves
//	    them idle and reports the gateway's resident memory and how the
//	    connections were answered;
//	opsprobe -gateway bin/gateway -mode logs -duration 60s -concurrency 8
//	    puts the gateway under load while its Waldur fails every call and counts
//	    the log lines it writes;
//	opsprobe -gateway bin/gateway -mode docs -levels 27 -docs 450
//	    sends hostile documents to a demo-mode gateway: the CPU and time to
//	    answer a fragment fan-out, and the resident memory after many distinct
//	    dense documents have gone through its caches.
//
// Figures come from the gateway process itself (/proc/PID), so the probe's own
// work does not count; Linux only. Every connection stays on 127.0.0.1; the
// gateway and the failing Waldur are stopped by their own handles when the run
// ends.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/waldur-quotas/gateway/cmd/internal/gatewayproc"
)

func main() {
	bin := flag.String("gateway", "bin/gateway", "gateway binary to start")
	mode := flag.String("mode", "idle", "idle: memory with idle connections; logs: log lines while Waldur fails; docs: cost of hostile documents")
	conns := flag.Int("conns", 8000, "idle: connections to open")
	hold := flag.Duration("hold", 5*time.Second, "idle: how long to leave the connections idle before measuring again")
	duration := flag.Duration("duration", 60*time.Second, "logs: length of the load run")
	concurrency := flag.Int("concurrency", 8, "logs: concurrent clients")
	aliases := flag.Int("aliases", 1, "logs: customerQuotas fields per request (each costs a failed upstream call)")
	levels := flag.Int("levels", 27, "docs: levels of the fragment fan-out")
	docs := flag.Int("docs", 450, "docs: distinct dense documents per memory measurement")
	timeout := flag.Duration("timeout", 5*time.Minute, "docs: longest wait for one answer")
	flag.Parse()
	var err error
	switch *mode {
	case "idle":
		err = measureIdle(*bin, *conns, *hold)
	case "logs":
		err = measureLogs(*bin, *duration, *concurrency, *aliases)
	case "docs":
		err = measureDocs(*bin, *levels, *docs, *timeout)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "opsprobe:", err)
		os.Exit(1)
	}
}

// stop stops a probe's gateway and says so when it did not go cleanly: a
// gateway that had to be killed, or exited with an error, spoils the figures.
func stop(g *gatewayproc.Process) {
	if err := g.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "opsprobe:", err)
	}
}
