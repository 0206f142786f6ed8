package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/waldur-quotas/gateway/graph"
)

// Each open connection costs memory (about 20 KB idle, far more busy) and a
// file descriptor, and keep-alive connections stay open between requests:
// without a bound, thousands of idle clients grew the gateway by 160 MB.
//
// LimitConnections bounds them by refusing, not by waiting: over the limit a
// new connection is accepted, answered with a short 503 (Retry-After,
// Connection: close, a JSON error coded TOO_MANY_CONNECTIONS) as soon as its
// request head is in (or after a second without one) and closed. A
// listener that stops accepting instead (golang.org/x/net/netutil's
// LimitListener) leaves new clients in the kernel's backlog with no answer
// until a slot frees, up to the idle timeout: from outside that looks like a
// hung gateway, and neither a client nor a load balancer learns to go
// elsewhere or come back later.
const (
	// retryAfterSeconds: slots free as requests finish, within milliseconds
	// to seconds, or as idle connections time out.
	retryAfterSeconds = 1
	// refusalHeadWait bounds the wait for a refused client's request head,
	// and refusalLinger the answer and the close after it.
	refusalHeadWait = time.Second
	refusalLinger   = time.Second
	// refusalDrain bounds what is read from a refused client, head included.
	refusalDrain = 64 << 10
	// maxRefusing bounds the refusals in progress: past it, under a flood of
	// new connections, they are closed without an answer rather than
	// costing a goroutine each.
	maxRefusing = 128
)

// DefaultMaxConnections is MAX_CONNECTIONS unless set: at about 20 KB per idle
// connection, a full house costs some 20 MB, and a thousand concurrent clients
// of one gateway are well past this API's use.
const DefaultMaxConnections = 1024

// LimitConnections returns ln with at most limit connections open at a time,
// refusing those over the limit as described above. Refusals are logged to
// logger, rate-limited.
func LimitConnections(ln net.Listener, limit int, logger *slog.Logger) net.Listener {
	return &connLimitListener{Listener: ln, max: int64(limit), events: rateLimited(logger), refusal: refusalResponse()}
}

type connLimitListener struct {
	net.Listener
	max      int64
	open     atomic.Int64
	refusing atomic.Int64
	events   *slog.Logger
	refusal  []byte
}

func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &limitedConn{Conn: conn, release: func() { l.open.Add(-1) }}, nil
		}
		l.open.Add(-1)
		l.events.Warn("connection refused: too many open connections", slog.Int64("max_connections", l.max))
		if l.refusing.Add(1) > maxRefusing {
			l.refusing.Add(-1)
			_ = conn.Close()
			continue
		}
		go func() {
			defer l.refusing.Add(-1)
			l.refuse(conn)
		}()
	}
}

// refuse reads the request's head, answers the refusal and closes conn. The
// answer waits for the head because a client that gets an answer before it
// has sent its request takes it for garbage on an idle connection (Go's does)
// and reports a broken connection instead of the 503. Then it shuts its own
// side and reads what the client still sends until the client closes:
// closing a socket with unread bytes makes the kernel send a reset, which can
// destroy the answer before the client reads it.
func (l *connLimitListener) refuse(conn net.Conn) {
	defer conn.Close()
	fromClient := bufio.NewReader(io.LimitReader(conn, refusalDrain))
	_ = conn.SetReadDeadline(time.Now().Add(refusalHeadWait))
	_, _ = http.ReadRequest(fromClient) // whatever came, or nothing, it is refused
	_ = conn.SetDeadline(time.Now().Add(refusalLinger))
	if _, err := conn.Write(l.refusal); err != nil {
		return
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, fromClient)
}

// refusalResponse is the whole HTTP answer to a refused connection, built once.
func refusalResponse() []byte {
	body, _ := json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
	}{gqlerror.List{graph.Coded(graph.CodeTooManyConnections, "the gateway has too many open connections; try again shortly")}})
	resp := &http.Response{
		StatusCode: http.StatusServiceUnavailable, ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type": {"application/json"},
			"Retry-After":  {strconv.Itoa(retryAfterSeconds)},
		},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Close:         true, // writes Connection: close
	}
	var buf bytes.Buffer
	_ = resp.Write(&buf)
	return buf.Bytes()
}

// limitedConn gives its slot back when closed, once however often it is closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite keeps net/http's graceful close (shut the write side, then
// wait briefly) working through the wrapper.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
