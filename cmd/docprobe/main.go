// Command docprobe measures what hostile documents cost a running gateway
// binary: the CPU and time to answer a fragment fan-out, and the resident
// memory after many distinct dense documents have gone through its caches.
// Figures come from the gateway process itself (/proc/PID), so the probe's
// own work does not count. Linux only.
//
// It starts the binary (-gateway) in demo mode on a free loopback port, once
// per measurement so that each starts from a fresh process, and stops it by
// its own handle. Every request stays on 127.0.0.1.
//
//	go build -o bin/gateway . && go run ./cmd/docprobe -gateway bin/gateway
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("gateway", "bin/gateway", "gateway binary to start")
	levels := flag.Int("levels", 27, "levels of the fragment fan-out")
	docs := flag.Int("docs", 450, "distinct dense documents per memory measurement")
	timeout := flag.Duration("timeout", 5*time.Minute, "longest wait for one answer")
	flag.Parse()
	client := &http.Client{Timeout: *timeout}
	if err := run(client, *bin, *levels, *docs); err != nil {
		fmt.Fprintln(os.Stderr, "docprobe:", err)
		os.Exit(1)
	}
}

func run(client *http.Client, bin string, levels, docs int) error {
	g, err := start(bin)
	if err != nil {
		return err
	}
	q := fanOut(levels)
	cpu0, t0 := g.cpu(), time.Now()
	status, body, err := post(client, g.url, q)
	answer := fmt.Sprintf("HTTP %d %s", status, code(body))
	if err != nil {
		// The server's write timeout may have run out before the answer was ready.
		answer = "no answer: " + err.Error()
	}
	fmt.Printf("fragment fan-out, %d levels, %d bytes: %s, %.1f s of CPU; %s\n",
		levels, len(q), time.Since(t0).Round(time.Millisecond), (g.cpu() - cpu0).Seconds(), answer)
	g.stop()

	for _, shape := range denseShapes {
		g, err := start(bin)
		if err != nil {
			return err
		}
		before := g.rss()
		codes := map[string]int{}
		for i := range docs {
			_, body, err := post(client, g.url, shape.query+strings.Repeat(" ", i))
			if err != nil {
				g.stop()
				return err
			}
			codes[code(body)]++
		}
		time.Sleep(2 * time.Second) // let the collector run once more
		fmt.Printf("%d distinct documents of %s (%d bytes each): RSS %d MB before, %d MB after; answers %v\n",
			docs, shape.name, len(shape.query), before>>20, g.rss()>>20, codes)
		g.stop()
	}
	return nil
}

// fanOut is a document of fragments that each spread the next twice.
func fanOut(levels int) string {
	var b strings.Builder
	b.WriteString("{...a0}")
	for i := range levels {
		fmt.Fprintf(&b, "fragment a%d on Query{...a%d ...a%d}", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment a%d on Query{__typename}", levels)
	return b.String()
}

// denseShapes are documents within the token limit that each hold as many
// syntax-tree nodes as their shape allows; trailing spaces make them distinct.
var denseShapes = []struct{ name, query string }{
	{"aliased __typename", func() string {
		var b strings.Builder
		b.WriteString("{")
		for i := range 660 {
			fmt.Fprintf(&b, " a%d: __typename", i)
		}
		return b.String() + " }"
	}()},
	{"comments", "{\n" + strings.Repeat("#\n", 1985) + "__typename }"},
	{"fields", `{ customerQuotas(quotaName: "os_cpu_count") { nodes { ` +
		strings.TrimSpace(strings.Repeat("value customerName customerAbbreviation ", 96)) + " } } }"},
}

func post(client *http.Client, url, query string) (int, []byte, error) {
	body, _ := json.Marshal(map[string]string{"query": query})
	resp, err := client.Post(url+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// code is the first error's code of an answer, "data" without errors.
func code(body []byte) string {
	var r struct {
		Errors []struct {
			Extensions struct{ Code string } `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &r) != nil || len(r.Errors) == 0 {
		return "data"
	}
	return r.Errors[0].Extensions.Code
}

type gateway struct {
	cmd *exec.Cmd
	url string
}

// start runs the binary in demo mode on a free loopback port and waits for
// its "gateway listening" log line.
func start(bin string) (*gateway, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "LISTEN_ADDR=127.0.0.1:0", "WALDUR_API_URL=", "WALDUR_API_TOKEN=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (build it first): %w", bin, err)
	}
	g := &gateway{cmd: cmd}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "gateway listening" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		g.url = "http://" + a
		return g, nil
	case <-time.After(15 * time.Second):
		g.stop()
		return nil, errors.New("the gateway did not report listening within 15 s")
	}
}

func (g *gateway) stop() {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
		<-done
	}
}

// cpu is the user and system time the gateway process has used.
func (g *gateway) cpu() time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", g.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ, 100 on Linux
}

// rss is the gateway process's resident set size in bytes.
func (g *gateway) rss() int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
