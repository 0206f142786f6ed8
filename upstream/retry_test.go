package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// scriptedWaldur is the fake Waldur over loopback, answering its first
// requests with the script instead, and counting every request.
type scriptedWaldur struct {
	*httptest.Server
	requests atomic.Int32
}

func newScriptedWaldur(t *testing.T, script ...http.HandlerFunc) *scriptedWaldur {
	t.Helper()
	fake := fakewaldur.New(fakewaldur.Demo(40, 1))
	s := &scriptedWaldur{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.requests.Add(1))
		if n <= len(script) {
			script[n-1](w, r)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func status(code int, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		fmt.Fprint(w, "<html>proxy error</html>")
	}
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

// breakOff promises a body it never finishes.
func breakOff(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Length", "1000")
	w.Header().Set("X-Result-Count", "40")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, `[{"customer_name":`)
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
	}
}

// stall answers nothing until the client gives up.
func stall(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// attempts records what the observers were told.
type attempts struct {
	mu    sync.Mutex
	calls []Call
}

func (a *attempts) observe(_ context.Context, c Call) {
	a.mu.Lock()
	a.calls = append(a.calls, c)
	a.mu.Unlock()
}

func (a *attempts) numbers() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []int
	for _, c := range a.calls {
		out = append(out, c.Attempt)
	}
	return out
}

// Each failure a second attempt may cure is retried, for a GET and a HEAD,
// and the observers are told which attempt each request was.
func TestRetryCuresTransientFailures(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"502":                  status(http.StatusBadGateway),
		"503":                  status(http.StatusServiceUnavailable),
		"504":                  status(http.StatusGatewayTimeout),
		"429":                  status(http.StatusTooManyRequests),
		"connection closed":    hangUp,
		"body broken off":      breakOff,
		"no answer in time":    stall,
		"429 with Retry-After": status(http.StatusTooManyRequests, "Retry-After", "1"),
	}
	for name, first := range cases {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			if name == "body broken off" && method == http.MethodHead {
				continue // a HEAD's answer has no body to break
			}
			t.Run(name+" "+method, func(t *testing.T) {
				t.Parallel()
				waldur := newScriptedWaldur(t, first)
				seen := &attempts{}
				c, err := New(waldur.URL, WithDefaultToken(fakewaldur.DemoStaffToken), WithTimeout(time.Second),
					WithRetries(2), WithObserver(seen.observe))
				if err != nil {
					t.Fatal(err)
				}
				if method == http.MethodGet {
					page, err := c.List(context.Background(), firstPage)
					if err != nil || len(page.Rows) != firstPage.PageSize || page.Total != 40 {
						t.Fatalf("%d rows of %d, %v", len(page.Rows), page.Total, err)
					}
				} else if total, err := c.Count(context.Background(), "os_cpu_count", OrderByValue); err != nil || total != 40 {
					t.Fatalf("total %d, %v", total, err)
				}
				if n := waldur.requests.Load(); n != 2 {
					t.Errorf("%d requests reached Waldur, want 2", n)
				}
				if got := seen.numbers(); len(got) != 2 || got[0] != 1 || got[1] != 2 {
					t.Errorf("observers heard attempts %v, want [1 2]", got)
				}
			})
		}
	}
}

// What would be answered the same again is answered at once.
func TestRetryLeavesLastingFailuresAlone(t *testing.T) {
	cases := []struct {
		name   string
		answer http.HandlerFunc
		page   int
		kind   Kind
	}{
		{"400", status(http.StatusBadRequest), 1, BadRequest},
		{"401", status(http.StatusUnauthorized), 1, Unauthenticated},
		{"403", status(http.StatusForbidden), 1, Forbidden},
		{"404 for page 1", status(http.StatusNotFound), 1, BadResponse},
		{"404 past the end", status(http.StatusNotFound), 3, PageNotFound},
		{"500", status(http.StatusInternalServerError), 1, Unavailable},
		{"redirect", status(http.StatusFound, "Location", "http://127.0.0.1:1/"), 1, BadResponse},
		{"no X-Result-Count", status(http.StatusOK), 1, BadResponse},
		{"malformed JSON", status(http.StatusOK, "X-Result-Count", "40"), 1, BadResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			waldur := newScriptedWaldur(t, tc.answer, tc.answer, tc.answer)
			c, _ := New(waldur.URL, WithDefaultToken(fakewaldur.DemoStaffToken), WithRetries(2))
			req := firstPage
			req.Page = tc.page
			_, err := c.List(context.Background(), req)
			if KindOf(err) != tc.kind {
				t.Errorf("got %v (kind %v), want kind %v", err, KindOf(err), tc.kind)
			}
			if n := waldur.requests.Load(); n != 1 {
				t.Errorf("%d requests reached Waldur, want 1", n)
			}
		})
	}
}

// A Retry-After that would not leave a whole attempt, within the call's
// budget or the caller's deadline, is not waited for: the caller hears the
// 429 at once.
func TestRetryAfterMustLeaveAWholeAttempt(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter string
		deadline   time.Duration // 0: none
	}{
		// The budget leaves 2 × (1 s + maxWait) for waits.
		{"beyond the budget", "5", 0},
		{"beyond the caller's deadline", "1", 1500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			waldur := newScriptedWaldur(t, status(http.StatusTooManyRequests, "Retry-After", tc.retryAfter))
			c, _ := New(waldur.URL, WithDefaultToken(fakewaldur.DemoStaffToken), WithTimeout(time.Second), WithRetries(2))
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			start := time.Now()
			_, err := c.List(ctx, firstPage)
			var ue *Error
			if KindOf(err) != RateLimited || !errors.As(err, &ue) || ue.RetryAfterSeconds() == 0 {
				t.Fatalf("got %v, want the 429 with its Retry-After", err)
			}
			if took := time.Since(start); took > 900*time.Millisecond {
				t.Errorf("answered after %s: the Retry-After was waited for", took)
			}
			if n := waldur.requests.Load(); n != 1 {
				t.Errorf("%d requests reached Waldur, want 1", n)
			}
		})
	}
}

// When Waldur never answers, every attempt runs to its timeout, and the
// call still ends within its budget.
func TestRetriesStayWithinTheCallBudget(t *testing.T) {
	waldur := newScriptedWaldur(t, stall, stall, stall, stall)
	const timeout = 200 * time.Millisecond
	c, _ := New(waldur.URL, WithDefaultToken(fakewaldur.DemoStaffToken), WithTimeout(timeout), WithRetries(2))
	start := time.Now()
	_, err := c.Count(context.Background(), "os_cpu_count", OrderByValue)
	took := time.Since(start)
	if KindOf(err) != Unavailable {
		t.Fatalf("got %v, want Waldur unavailable", err)
	}
	if n := waldur.requests.Load(); n != 3 {
		t.Errorf("%d requests reached Waldur, want 3", n)
	}
	// Generous: the bound is what matters, not the figure.
	if budget := CallBudget(timeout, 2); took > budget+time.Second {
		t.Errorf("the call took %s, its budget is %s", took, budget)
	}
}

// Without WithRetries, or with 0, a call is made once.
func TestRetriesOffByDefault(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithRetries(0)}} {
		waldur := newScriptedWaldur(t, status(http.StatusServiceUnavailable))
		c, _ := New(waldur.URL, append(opts, WithDefaultToken(fakewaldur.DemoStaffToken))...)
		if _, err := c.List(context.Background(), firstPage); KindOf(err) != Unavailable {
			t.Errorf("%d options: got %v, want the 503", len(opts), err)
		}
		if n := waldur.requests.Load(); n != 1 {
			t.Errorf("%d options: %d requests reached Waldur, want 1", len(opts), n)
		}
	}
}
