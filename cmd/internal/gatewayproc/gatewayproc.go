// Package gatewayproc runs the built gateway binary for the measuring tools
// under cmd/: it starts one process on a free loopback port, reads the
// process's own CPU time and memory from /proc (so the tool's work never
// counts), counts its log lines and stops it by its own PID. Linux only.
package gatewayproc

import (
	"bufio"
	"bytes"
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

const (
	// listenWait: the gateway listens within milliseconds; one that has said
	// nothing by then is stuck (or is not the gateway).
	listenWait = 15 * time.Second
	// stopWait: the tools stop the gateway with nothing in flight, so it exits
	// at once; one that lingers is killed rather than waited out for its full
	// shutdown grace on a shared machine.
	stopWait = 10 * time.Second
	// maxLogLine: longer lines are not parsed, but still drained so that the
	// gateway never blocks writing to a full pipe.
	maxLogLine = 1 << 20
)

// Process is one running gateway binary.
type Process struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{} // closed once the process has been reaped
	err    error         // how it exited; read after exited is closed

	mu       sync.Mutex
	lines    map[string]int // "LEVEL msg" -> lines written since the last TakeLogLines
	lastLine string         // the last line written, for a start-up failure
}

// Start runs the binary on a free loopback port and waits for its "gateway
// listening" log line. The gateway runs in demo mode without a Waldur token
// unless env (KEY=value entries, which win over the defaults and the tool's
// own environment) says otherwise.
func Start(bin string, env ...string) (*Process, error) {
	cmd := exec.Command(bin)
	defaults := []string{"LISTEN_ADDR=127.0.0.1:0", "METRICS_LISTEN_ADDR=127.0.0.1:0", "WALDUR_API_URL=", "WALDUR_API_TOKEN="}
	cmd.Env = append(append(os.Environ(), defaults...), env...) // os/exec keeps the last of duplicate keys
	// The log lines go through a pipe of our own rather than StderrPipe so
	// that the process is reaped as soon as it exits: with WaitDelay, Wait does
	// not wait for a pipe that a stray child of it still holds open.
	logs, stderr := io.Pipe()
	cmd.Stderr = stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (run 'make build' first): %w", bin, err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{}), lines: map[string]int{}}
	listening := make(chan string, 1)
	logsRead := make(chan struct{})
	go func() {
		defer close(logsRead)
		p.readLogs(logs, listening)
	}()
	go func() {
		err := cmd.Wait()
		stderr.Close()
		<-logsRead // so that lastLogLine holds its final words
		p.err = err
		close(p.exited)
	}()
	select {
	case p.addr = <-listening:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("the gateway %s exited before listening (%v): %s", bin, p.err, p.lastLogLine())
	case <-time.After(listenWait):
		_ = p.Stop()
		return nil, fmt.Errorf("the gateway did not report listening within %s", listenWait)
	}
}

// readLogs counts the JSON log lines on r until the process closes it, and
// hands on the address of the first "gateway listening" line.
func (p *Process) readLogs(r io.Reader, listening chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLogLine)
	for sc.Scan() {
		var line struct{ Level, Msg, Addr string }
		_ = json.Unmarshal(sc.Bytes(), &line) // a line that is not JSON counts as " "
		p.mu.Lock()
		p.lines[line.Level+" "+line.Msg]++
		p.lastLine = sc.Text()
		p.mu.Unlock()
		if line.Msg == "gateway listening" && line.Addr != "" {
			select {
			case listening <- line.Addr:
			default:
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func (p *Process) lastLogLine() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastLine == "" {
		return "it wrote nothing"
	}
	return p.lastLine
}

// Addr is the gateway's host:port on loopback.
func (p *Process) Addr() string { return p.addr }

// URL is the gateway's base URL, without a trailing slash.
func (p *Process) URL() string { return "http://" + p.addr }

// TakeLogLines returns the log lines written since the last call, counted
// by "LEVEL msg", and forgets them.
func (p *Process) TakeLogLines() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.lines
	p.lines = map[string]int{}
	return out
}

// CPU is the user and system time the process has used so far.
func (p *Process) CPU() (time.Duration, error) {
	stat, err := os.ReadFile(p.procFile("stat"))
	if err != nil {
		return 0, fmt.Errorf("gateway CPU time: %w", err)
	}
	// The fields after the command name, which is in parentheses and may hold
	// spaces: utime and stime are the 12th and 13th.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("gateway CPU time: unexpected %s", p.procFile("stat"))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("gateway CPU time: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / 100, nil // USER_HZ, 100 on Linux
}

// RSS is the process's resident memory in bytes now.
func (p *Process) RSS() (int64, error) { return p.statusBytes("VmRSS:") }

// Peak is the highest resident memory in bytes the process has had.
func (p *Process) Peak() (int64, error) { return p.statusBytes("VmHWM:") }

func (p *Process) statusBytes(field string) (int64, error) {
	status, err := os.ReadFile(p.procFile("status"))
	if err != nil {
		return 0, fmt.Errorf("gateway memory: %w", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("gateway memory %s %w", field, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("gateway memory: no %s in %s", field, p.procFile("status"))
}

func (p *Process) procFile(name string) string {
	return fmt.Sprintf("/proc/%d/%s", p.cmd.Process.Pid, name)
}

// Stop sends SIGTERM to this process (by its own PID), kills it if it has not
// exited within stopWait, and returns how it exited when that was not clean.
func (p *Process) Stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopWait):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("the gateway did not stop within %s of SIGTERM and was killed", stopWait)
	}
	if p.err != nil {
		return fmt.Errorf("the gateway stopped badly: %w (last log line: %s)", p.err, p.lastLogLine())
	}
	return nil
}
