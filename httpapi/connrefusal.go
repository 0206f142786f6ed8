package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/waldur-quotas/gateway/graph"
)

// A connection over the limit while every open one is busy is refused, not
// left waiting: it is accepted, answered with a short 503 (Retry-After,
// Connection: close, a JSON error coded TOO_MANY_CONNECTIONS) as soon as its
// request head is in (or after a second without one) and closed. A listener
// that stops accepting instead (golang.org/x/net/netutil's LimitListener)
// leaves new clients in the kernel's backlog with no answer until a slot
// frees: from outside that looks like a hung gateway, and neither a client
// nor a load balancer learns to go elsewhere or come back later.
const (
	// retryAfterSeconds: slots free as requests finish, within milliseconds
	// to seconds, and idle connections make room after evictableAfterIdle.
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

// refuse reads the request's head, answers the refusal and closes conn. The
// answer waits for the head because a client that gets an answer before it
// has sent its request takes it for garbage on an idle connection (Go's does)
// and reports a broken connection instead of the 503. Then it shuts its own
// side and reads what the client still sends until the client closes:
// closing a socket with unread bytes makes the kernel send a reset, which can
// destroy the answer before the client reads it.
func (l *connLimiter) refuse(conn net.Conn) {
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
