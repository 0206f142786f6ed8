package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// gateway is a running gateway binary whose log lines are counted.
type gateway struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}

	mu    sync.Mutex
	lines map[string]int // "LEVEL msg" -> lines written
}

// startGateway runs the binary on a free loopback port with the given extra
// environment and waits for its "gateway listening" line.
func startGateway(bin string, env ...string) (*gateway, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append([]string{"LISTEN_ADDR=127.0.0.1:0", "WALDUR_API_TOKEN="}, env...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (run 'make build' first): %w", bin, err)
	}
	g := &gateway{cmd: cmd, done: make(chan struct{}), lines: map[string]int{}}
	addr := make(chan string, 1)
	go g.readLogs(stderr, addr)
	select {
	case g.addr = <-addr:
		return g, nil
	case <-time.After(15 * time.Second):
		g.stop()
		return nil, errors.New("the gateway did not report listening within 15 s")
	}
}

func (g *gateway) readLogs(r io.Reader, addr chan<- string) {
	defer close(g.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct{ Level, Msg, Addr string }
		_ = json.Unmarshal(sc.Bytes(), &line)
		if line.Msg == "gateway listening" {
			addr <- line.Addr
		}
		g.mu.Lock()
		g.lines[line.Level+" "+line.Msg]++
		g.mu.Unlock()
	}
}

// takeLines returns the lines counted since the last call and forgets them.
func (g *gateway) takeLines() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.lines
	g.lines = map[string]int{}
	return out
}

// rssMiB reads the gateway's resident and peak resident memory from /proc.
func (g *gateway) rssMiB() (rss, peak float64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak, nil
}

// stop sends SIGTERM to this run's own gateway and kills it if it lingers.
func (g *gateway) stop() {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(90 * time.Second):
		_ = g.cmd.Process.Kill()
		<-exited
	}
}
