package httpapi

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Lines that are not one request's own line (an unexpected error, a refused
// connection) can come as fast as requests do when something is broken, and a
// flood hides everything else and fills disks. They go through a handler that
// writes at most eventLinesPerSecond lines of each message, after a burst of
// eventLinesBurst. Each message has its own budget, so a flood of one kind does
// not hide a rare other one, and the next line written says how many of its
// kind were dropped before it. The request line is never limited: one line
// per request is the contract.
const (
	eventLinesPerSecond = 1
	eventLinesBurst     = 5
	// Messages are constants in the code, so a handful of budgets suffice;
	// past this many, the rest share one and the map cannot grow.
	maxLineBudgets = 64
)

// droppedLinesKey is the attribute that counts the lines of the same message
// dropped since the last one written.
const droppedLinesKey = "lines_dropped"

// rateLimited returns a logger writing through logger's handler, limited as
// described above.
func rateLimited(logger *slog.Logger) *slog.Logger {
	return slog.New(newRateLimitedHandler(logger.Handler(), eventLinesPerSecond, eventLinesBurst))
}

func newRateLimitedHandler(next slog.Handler, perSecond rate.Limit, burst int) slog.Handler {
	return &rateLimitedHandler{next: next, budgets: &lineBudgets{perSecond: perSecond, burst: burst, byMessage: map[string]*lineBudget{}}}
}

type rateLimitedHandler struct {
	next slog.Handler
	// Shared with the handlers WithAttrs and WithGroup derive: a logger
	// with attributes is still the same stream of lines.
	budgets *lineBudgets
}

type lineBudgets struct {
	perSecond rate.Limit
	burst     int

	mu        sync.Mutex
	byMessage map[string]*lineBudget
}

type lineBudget struct {
	limiter *rate.Limiter
	dropped int
}

func (h *rateLimitedHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *rateLimitedHandler) Handle(ctx context.Context, r slog.Record) error {
	at := r.Time
	if at.IsZero() {
		at = time.Now()
	}
	dropped, ok := h.budgets.admit(r.Message, at)
	if !ok {
		return nil
	}
	if dropped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int(droppedLinesKey, dropped))
	}
	return h.next.Handle(ctx, r)
}

func (h *rateLimitedHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &rateLimitedHandler{next: h.next.WithAttrs(attrs), budgets: h.budgets}
}

func (h *rateLimitedHandler) WithGroup(name string) slog.Handler {
	return &rateLimitedHandler{next: h.next.WithGroup(name), budgets: h.budgets}
}

// admit says whether a line with this message, logged at the given time, may
// be written, and how many of its kind were dropped since the last one was.
func (b *lineBudgets) admit(message string, at time.Time) (dropped int, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	key := message
	if _, known := b.byMessage[key]; !known && len(b.byMessage) >= maxLineBudgets {
		key = "" // the shared budget of the overflow
	}
	budget := b.byMessage[key]
	if budget == nil {
		budget = &lineBudget{limiter: rate.NewLimiter(b.perSecond, b.burst)}
		b.byMessage[key] = budget
	}
	if !budget.limiter.AllowN(at, 1) {
		budget.dropped++
		return 0, false
	}
	dropped, budget.dropped = budget.dropped, 0
	return dropped, true
}

// LibraryLog is the writer for the standard library's log package
// (log.SetOutput), which net/http writes its own complaints to: a line for
// each answer Waldur sends on an idle connection (a body after a HEAD's
// headers, say), a panic. Left alone they come out as plain text, one per
// occurrence, and quote what the peer sent: an upstream body in the log. Here
// each becomes a rate-limited JSON line that keeps the complaint and drops
// whatever it quotes.
func LibraryLog(logger *slog.Logger) io.Writer {
	return libraryLog{events: rateLimited(logger)}
}

// maxLibraryDetail bounds what is kept of a library's line (a panic's comes
// with its stack).
const maxLibraryDetail = 200

type libraryLog struct{ events *slog.Logger }

func (l libraryLog) Write(p []byte) (int, error) {
	detail := strings.TrimSpace(string(p))
	// net/http quotes what the peer sent (%q); what comes before is its own.
	if i := strings.IndexByte(detail, '"'); i >= 0 {
		detail = strings.TrimSpace(detail[:i]) + " …"
	}
	if len(detail) > maxLibraryDetail {
		detail = strings.ToValidUTF8(detail[:maxLibraryDetail], "") + " …"
	}
	l.events.Warn("net/http reported a problem", slog.String("detail", detail))
	return len(p), nil
}
