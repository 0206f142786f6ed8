// Package redistest runs a real redis-server for tests: on a free loopback
// port, with nothing persisted, stopped by its PID when the test ends — and
// killed with the test process should that die first.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one redis-server process, which Kill and Start can stop and
// bring back on the same port.
type Server struct {
	t    testing.TB
	bin  string
	port int
	cmd  *exec.Cmd
}

// Start runs a redis-server for t. Without one on the machine the test is
// skipped — except under CI, which installs it, where that is a failure.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is not installed (Debian's redis-server package; .ci/run installs it)")
		}
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	s := &Server{t: t, bin: bin, port: freePort(t)}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// Start starts the server again after Kill, on the same port, empty.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatalf("redis-server is already running")
	}
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	// Killed with the test binary if that dies before its cleanups run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	s.cmd = cmd
	s.waitReady()
}

// Kill stops the server at once, as a crash would, by its PID.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Dump returns every key in the server with its value, for tests that check
// what was written.
func (s *Server) Dump(ctx context.Context) map[string]string {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port)})
	defer c.Close()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		s.t.Fatalf("redis KEYS: %v", err)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		v, err := c.Get(ctx, k).Result()
		if err != nil {
			s.t.Fatalf("redis GET %q: %v", k, err)
		}
		out[k] = v
	}
	return out
}

// waitReady waits until the server answers PING, generously.
func (s *Server) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ping(s.port) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Kill()
	s.t.Fatalf("redis-server on port %d did not answer PING within 10s", s.port)
}

func ping(port int) bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// freePort asks the kernel for a loopback port nobody uses now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Set writes a value under key, as another writer of the same Redis could.
func (s *Server) Set(ctx context.Context, key, value string) {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port)})
	defer c.Close()
	if err := c.Set(ctx, key, value, time.Minute).Err(); err != nil {
		s.t.Fatalf("redis SET %q: %v", key, err)
	}
}
