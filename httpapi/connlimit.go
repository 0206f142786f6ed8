package httpapi

import (
	"container/list"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Each open connection costs memory (about 20 KB idle, far more busy) and a
// file descriptor, and keep-alive connections stay open between requests:
// without a bound, thousands of idle clients grew the gateway by 160 MB.
//
// A bound alone lets one client shut out every other: a thousand idle
// keep-alive connections, one cheap request each per idle timeout, would
// hold every slot. So at the limit a new connection takes the slot of the
// connection idle the longest, which is closed, as nginx and others reuse
// idle keep-alive slots. Closing a keep-alive connection between requests is
// what the idle timeout, and net/http's own Shutdown, do anyway; clients
// reconnect (and retry an idempotent request that met the close). Only when
// no connection is idle is the new one refused (connrefusal.go).
//
// A connection counts as idle from the moment net/http reports it so
// (ConnState StateIdle: its answer is written) until the first byte of its
// next request is read, here, before net/http has the head and reports
// StateActive: a request the gateway has begun to read is never cut. Bytes
// on their way when the close happens are lost, as with any keep-alive close;
// evictableAfterIdle makes that unlikely. A connection that has sent nothing
// yet (StateNew) is busy: it holds its slot until ReadHeaderTimeout at most.
const (
	// evictableAfterIdle: a connection idle for less has only just been
	// answered, and its client, if it is busy, is about to send the next
	// request (within a round trip), or has already sent it, buffered
	// unread (pipelining): closing it then would most likely cut a request
	// on the wire. A client that keeps a connection idle for a second is
	// waiting, not working; holding every slot against this rule takes
	// limit requests a second, which is load, not an idle connection.
	evictableAfterIdle = time.Second
)

// DefaultMaxConnections is MAX_CONNECTIONS unless set: at about 20 KB per idle
// connection, a full house costs some 20 MB, and a thousand concurrent clients
// of one gateway are well past this API's use.
const DefaultMaxConnections = 1024

// LimitConnections returns ln with at most limit connections open at a time,
// and sets srv's ConnState hook (keeping one set before) to learn which are
// idle. At the limit a new connection replaces the one idle the longest, or
// is refused when none is, as described above. Replacements and refusals are
// logged to logger, rate-limited.
func LimitConnections(srv *http.Server, ln net.Listener, limit int, logger *slog.Logger) net.Listener {
	l := &connLimiter{Listener: ln, max: limit, events: rateLimited(logger), refusal: refusalResponse()}
	next := srv.ConnState
	srv.ConnState = func(conn net.Conn, state http.ConnState) {
		if c, ok := conn.(*limitedConn); ok && c.limiter == l {
			if state == http.StateIdle {
				l.enterIdle(c)
			} else {
				l.leaveIdle(c)
			}
		}
		if next != nil {
			next(conn, state)
		}
	}
	return l
}

type connLimiter struct {
	net.Listener
	max      int
	events   *slog.Logger
	refusal  []byte
	refusing atomic.Int64

	mu   sync.Mutex
	open int       // slots taken by connections not yet closed
	idle list.List // *limitedConn between requests, idle the longest first
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if admitted := l.admit(conn); admitted != nil {
			return admitted, nil
		}
		l.events.Warn("connection refused: too many open connections", slog.Int("max_connections", l.max))
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

// admit gives conn a free slot, or the slot of the connection idle the
// longest, which it closes; it returns nil when there is neither.
func (l *connLimiter) admit(conn net.Conn) net.Conn {
	admitted := &limitedConn{Conn: conn, limiter: l}
	l.mu.Lock()
	if l.open < l.max {
		l.open++
		l.mu.Unlock()
		return admitted
	}
	evicted := l.takeLongestIdle(time.Now())
	l.mu.Unlock()
	if evicted == nil {
		return nil
	}
	// Its serving goroutine, waiting for a next request, sees the close,
	// ends and closes it again through limitedConn, which then knows its
	// slot went to admitted.
	_ = evicted.Conn.Close()
	l.events.Info("idle connection closed to make room", slog.Int("max_connections", l.max))
	return admitted
}

// takeLongestIdle marks the connection idle the longest as evicted, its
// slot handed on, unless it has been idle less than evictableAfterIdle.
// l.mu is held.
func (l *connLimiter) takeLongestIdle(now time.Time) *limitedConn {
	front := l.idle.Front()
	if front == nil {
		return nil
	}
	c := front.Value.(*limitedConn)
	if now.Sub(c.idleSince) < evictableAfterIdle {
		return nil
	}
	l.removeIdle(c)
	c.evicted = true
	return c
}

// enterIdle: net/http has written c's answer and waits for its next request.
func (l *connLimiter) enterIdle(c *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.evicted || c.closed || c.inIdle != nil {
		return
	}
	c.idleSince = time.Now()
	c.inIdle = l.idle.PushBack(c)
	c.idle.Store(true)
}

// leaveIdle: c is busy (a request has begun) or gone.
func (l *connLimiter) leaveIdle(c *limitedConn) {
	// Only c's own serving goroutine marks it idle, the goroutine that calls
	// this (through ConnState or Read): false here stays false.
	if !c.idle.Load() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.removeIdle(c)
}

// removeIdle takes c out of the idle list if it is in. l.mu is held.
func (l *connLimiter) removeIdle(c *limitedConn) {
	if c.inIdle != nil {
		l.idle.Remove(c.inIdle)
		c.inIdle = nil
	}
	c.idle.Store(false)
}

// release gives c's slot back, unless an eviction handed it on already.
func (l *connLimiter) release(c *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.removeIdle(c)
	c.closed = true
	if !c.evicted {
		l.open--
	}
}

// limitedConn holds a slot from Accept to its first Close, and tells its
// limiter when a request starts arriving on it.
type limitedConn struct {
	net.Conn
	limiter *connLimiter
	once    sync.Once
	idle    atomic.Bool // in limiter.idle: read without the lock on every Read

	// Guarded by limiter.mu.
	inIdle    *list.Element
	idleSince time.Time
	evicted   bool
	closed    bool
}

// Read marks c busy as soon as bytes of a request arrive: net/http reports
// StateActive only once the whole head is in, which a slow client can
// stretch to ReadHeaderTimeout.
func (c *limitedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.limiter.leaveIdle(c)
	}
	return n, err
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.limiter.release(c) })
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
