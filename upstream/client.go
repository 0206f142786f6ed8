package upstream

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	"go.opentelemetry.io/otel/trace"

	"github.com/waldur-quotas/gateway/upstream/waldurapi"
)

// Path is where Waldur serves the endpoint, below the API's base URL.
const Path = waldurapi.Path

// Ordering is Waldur's `o` parameter. Waldur always orders descending.
type Ordering string

// The orderings Waldur accepts.
const (
	OrderByValue Ordering = "value"
	OrderByName  Ordering = "name"
)

// PageRequest asks for one page of one quota's list.
type PageRequest struct {
	QuotaName string
	Ordering  Ordering
	Page      int // 1-based
	PageSize  int // at most 300; Waldur clamps larger sizes
}

// Row is one organisation and its usage of the requested quota.
type Row struct {
	CustomerName         string
	CustomerAbbreviation string
	// Value is nil when Waldur has none (estimated_price). Integers above 2^53
	// lose precision, as they would in any GraphQL Float.
	Value *float64
}

// Page is one page of rows and the total across all pages (X-Result-Count).
type Page struct {
	Rows  []Row
	Total int
}

// Client reads Waldur's customer-quotas endpoint. It is safe for concurrent use
// and holds no per-caller state: no cookie jar, no cache.
type Client struct {
	rc       *resty.Client
	endpoint string

	timeout              time.Duration
	bodyLimit            int
	userAgent            string
	defaultAuthorization string
	transport            http.RoundTripper
	// baseTransport is transport before any wrapper: the readiness probe's
	// road (see probe.go), which no trace or caller header is for.
	baseTransport     http.RoundTripper
	transportWrappers []func(http.RoundTripper) http.RoundTripper
	observers         []func(context.Context, Call)
	keySecret         []byte    // see callerdigest.go
	macs              sync.Pool // HMACs under keySecret, for digestOf
	defaultDigest     string    // the digest of defaultAuthorization
	breaker           *breaker  // nil: none (see breaker.go)
	circuitObservers  []func(from, to string)
	cacheObservers    []func(ctx context.Context, hit bool) // see cacheobserver.go
	tracer            trace.Tracer                          // nil: calls are not traced (see tracing.go)

	// The cache layer's store, nil when it is off, and how long it keeps an
	// answer (see cache.go).
	cache       cacheStore
	cacheTTL    time.Duration
	sharedCache SharedStore // see cacheshared.go
	retries     int         // see retry.go

	maxConcurrency           int // see limit.go
	maxConcurrencyPerRequest int

	// call is the pipeline every request goes down (see pipeline.go).
	call Caller
	// totals remembers the totals callers were told, to plan with (see totals.go).
	totals *recentTotals
}

// New returns a client for the Waldur API at baseURL (for example
// https://waldur.example.com, with or without a trailing slash, possibly with a
// path prefix). The endpoint's path is appended.
func New(baseURL string, opts ...Option) (*Client, error) {
	endpoint, err := endpointURL(baseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		endpoint:  endpoint,
		timeout:   DefaultTimeout,
		bodyLimit: DefaultBodyLimit,
		userAgent: "waldur-quotas-gateway",

		maxConcurrency:           DefaultMaxConcurrency,
		maxConcurrencyPerRequest: DefaultMaxConcurrencyPerRequest,
		totals:                   newRecentTotals(time.Now),
	}
	for _, opt := range opts {
		opt(c)
	}
	if c.transport == nil {
		c.transport = defaultTransport()
	}
	if len(c.keySecret) == 0 {
		c.keySecret = randomSecret()
	}
	c.defaultDigest = c.digestOf(c.defaultAuthorization)
	if c.cache != nil && c.sharedCache != nil {
		c.cache = sharedPages{store: c.sharedCache}
	}
	c.baseTransport = c.transport
	for _, wrap := range c.transportWrappers {
		c.transport = wrap(c.transport)
	}
	c.rc = resty.New().
		SetTransport(c.transport).
		// resty.New installs a cookie jar; Waldur's session cookies must never
		// be kept, let alone replayed for another caller.
		SetCookieJar(nil).
		// A redirect would carry the caller's token somewhere we did not choose.
		SetRedirectPolicy(resty.NoRedirectPolicy()).
		SetResponseBodyLimit(c.bodyLimit).
		SetLogger(silentLogger{}).
		SetHeader("User-Agent", c.userAgent).
		SetHeader("Accept", "application/json")
	c.call = c.pipeline()
	return c, nil
}

// Endpoint is the absolute URL the client requests (it holds no credentials).
func (c *Client) Endpoint() string { return c.endpoint }

func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// The default of 2 idle connections per host makes every burst of concurrent
	// page requests open new connections (and TLS handshakes) to the one Waldur.
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// List fetches one page. Requests for the same page within one operation (see
// WithDedup) share a single upstream call.
func (c *Client) List(ctx context.Context, req PageRequest) (Page, error) {
	if m := memoFrom(ctx); m != nil {
		return m.list(ctx, c, req)
	}
	return c.list(ctx, req)
}

// Count returns the list's total with a HEAD request, the cheapest way Waldur
// offers. Within one operation it reuses a total a GET already brought.
func (c *Client) Count(ctx context.Context, quotaName string, ordering Ordering) (int, error) {
	if m := memoFrom(ctx); m != nil {
		return m.count(ctx, c, quotaName, ordering)
	}
	return c.count(ctx, quotaName, ordering)
}

func (c *Client) list(ctx context.Context, req PageRequest) (Page, error) {
	page, err := c.call.Call(ctx, Request{Method: http.MethodGet, QuotaName: req.QuotaName, Ordering: req.Ordering, Page: req.Page, PageSize: req.PageSize})
	if err == nil {
		c.learnTotal(ctx, req.QuotaName, req.Ordering, page.Total)
	}
	return page, err
}

func (c *Client) count(ctx context.Context, quotaName string, ordering Ordering) (int, error) {
	page, err := c.call.Call(ctx, Request{Method: http.MethodHead, QuotaName: quotaName, Ordering: ordering})
	if err == nil {
		c.learnTotal(ctx, quotaName, ordering, page.Total)
	}
	return page.Total, err
}

// send is the transport at the bottom of the pipeline: one HTTP request to
// Waldur, its answer read into a Page (for a HEAD, only its Total).
func (c *Client) send(ctx context.Context, req Request) (Page, error) {
	if req.Method == http.MethodHead {
		return c.sendHead(ctx, req)
	}
	var page Page
	err := c.do(ctx, http.MethodGet, req.QuotaName, req.Ordering, req.Page, req.PageSize, func(resp *resty.Response) error {
		total, err := resultCount(resp)
		if err != nil {
			return err
		}
		rows, err := decodeRows(resp.Body())
		if err != nil {
			return err
		}
		if len(rows) > min(req.PageSize, waldurapi.MaxPageSize) {
			return newError(BadResponse, resp.StatusCode(), nil,
				"Waldur returned %d rows for a page of %d", len(rows), req.PageSize)
		}
		page = Page{Rows: rows, Total: total}
		return nil
	})
	return page, err
}

func (c *Client) sendHead(ctx context.Context, req Request) (Page, error) {
	var page Page
	err := c.do(ctx, http.MethodHead, req.QuotaName, req.Ordering, 0, 0, func(resp *resty.Response) (err error) {
		page.Total, err = resultCount(resp)
		return err
	})
	return page, err
}

// do sends one request, hands a 200 to read, and turns every failure into an
// *Error (or the caller's own cancellation). The observer hears of the call
// after read: an answer that arrived but cannot be used (not JSON, no
// X-Result-Count) is as much Waldur failing the call as a 503 is, and the
// request's log line must count it so.
func (c *Client) do(ctx context.Context, method, quotaName string, ordering Ordering, page, pageSize int, read func(*resty.Response) error) error {
	auth := c.authorization(ctx)
	if !validHeaderValue(auth) {
		return newError(Unauthenticated, 0, nil, "the Authorization header is malformed")
	}
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	r := c.rc.R().SetContext(reqCtx).
		SetQueryParam("quota_name", quotaName).
		SetQueryParam("o", string(ordering))
	if auth != "" {
		r.SetHeader("Authorization", auth)
	}
	if id := RequestID(ctx); id != "" {
		r.SetHeader(RequestIDHeader, id)
	}
	if page > 0 {
		r.SetQueryParam("page", strconv.Itoa(page)).
			SetQueryParam("page_size", strconv.Itoa(pageSize))
	}
	start := time.Now()
	resp, err := r.Execute(method, c.endpoint)
	status := 0
	if resp != nil && resp.RawResponse != nil {
		status = resp.StatusCode()
	}
	err = c.classify(ctx, reqCtx, resp, page, status, err)
	if err == nil {
		err = read(resp)
	}
	call := Call{Method: method, QuotaName: quotaName, Page: page, PageSize: pageSize, Attempt: attemptOf(ctx), Status: status, Duration: time.Since(start), Err: err}
	for _, observe := range c.observers {
		observe(ctx, call)
	}
	return err
}

// classify turns a response or a transport error into an *Error. page is the
// page asked for, 0 for a HEAD.
func (c *Client) classify(ctx, reqCtx context.Context, resp *resty.Response, page, status int, err error) error {
	if status != 0 && status != http.StatusOK {
		// The status says what happened; a failure reading an error page's body
		// (too large, cut short) changes nothing.
		err = nil
	}
	switch {
	case status >= 300 && status < 400:
		return newError(BadResponse, status, nil, "Waldur answered with a redirect (HTTP %d); check the configured Waldur API URL", status)
	case err != nil && errors.Is(err, resty.ErrResponseBodyTooLarge):
		return newError(BadResponse, status, err, "Waldur's answer is larger than the %d bytes the gateway accepts", c.bodyLimit)
	case err != nil && ctx.Err() != nil:
		// The caller went away or ran out of time: not Waldur's fault.
		return fmt.Errorf("waldur request abandoned: %w", ctx.Err())
	case err != nil:
		return c.brokenExchange(status, err, reqCtx.Err() != nil || isTimeout(err))
	}
	switch {
	case status == http.StatusOK:
		return nil
	case status == http.StatusUnauthorized:
		if c.authorization(ctx) == "" {
			return newError(Unauthenticated, status, nil, "Waldur requires credentials: send an Authorization header with \"Token <key>\" or \"Bearer <token>\"")
		}
		return newError(Unauthenticated, status, nil, "Waldur did not accept the credentials (invalid or expired token, or inactive user)")
	case status == http.StatusForbidden:
		return newError(Forbidden, status, nil, "Waldur does not allow this user to list customer quotas")
	case status == http.StatusBadRequest:
		return newError(BadRequest, status, nil, "Waldur rejected the query (check quotaName and orderBy)")
	case status == http.StatusNotFound && page <= 1:
		// Waldur answers page 1 of an empty list, and HEAD, with 200: a 404
		// here means the endpoint itself is not there.
		return newError(BadResponse, status, nil, "Waldur has no customer-quotas endpoint at the configured URL (HTTP 404); check the Waldur API URL")
	case status == http.StatusNotFound:
		return newError(PageNotFound, status, nil, "Waldur has no such page (the list is shorter than expected)")
	case status == http.StatusTooManyRequests:
		e := newError(RateLimited, status, nil, "Waldur is rate limiting requests; try again later")
		e.RetryAfter = retryAfter(resp.Header().Get("Retry-After"), time.Now())
		if e.RetryAfter > 0 {
			e.message = fmt.Sprintf("Waldur is rate limiting requests; try again in %d s", e.RetryAfterSeconds())
		}
		return e
	case status >= 500:
		// A 503 may say when to come back (RFC 9110), and proxies in front of
		// Waldur say it on 502 and 504 too: the retry waits for it when it
		// fits, and the caller is told it otherwise.
		e := newError(Unavailable, status, nil, "Waldur is unavailable (HTTP %d); try again later", status)
		if e.RetryAfter = retryAfter(resp.Header().Get("Retry-After"), time.Now()); e.RetryAfter > 0 {
			e.message = fmt.Sprintf("Waldur is unavailable (HTTP %d); try again in %d s", status, e.RetryAfterSeconds())
		}
		return e
	}
	return newError(BadResponse, status, nil, "Waldur answered with unexpected HTTP status %d", status)
}

// brokenExchange reports a request whose answer never arrived in full. status
// is what Waldur had sent before the failure, 0 when no answer began.
//
// A break (no connection, a connection closed or reset, a timeout), before or
// in the middle of the body, is transient: Unavailable, so that clients retry.
// A body whose gzip encoding is corrupt arrived whole and would arrive the same
// again: BadResponse, like malformed JSON.
func (c *Client) brokenExchange(status int, err error, timedOut bool) *Error {
	cause := stripURL(err)
	var corrupt flate.CorruptInputError
	switch {
	case status == 0 && timedOut:
		return newError(Unavailable, 0, cause, "Waldur did not answer within %s", c.timeout)
	case status == 0:
		return newError(Unavailable, 0, cause, "Waldur could not be reached")
	case errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &corrupt):
		return newError(BadResponse, status, cause, "Waldur's answer (HTTP %d) is not valid gzip", status)
	case timedOut:
		return newError(Unavailable, status, cause, "Waldur's answer (HTTP %d) broke off: it did not arrive in full within %s", status, c.timeout)
	}
	return newError(Unavailable, status, cause, "Waldur's answer (HTTP %d) broke off before it was complete; try again", status)
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

// stripURL drops the URL from a transport error: the cause stays useful in
// logs without repeating the endpoint and the caller's query on every line.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// resultCount reads X-Result-Count, which Waldur sends on every listing.
func resultCount(resp *resty.Response) (int, error) {
	h := resp.Header().Get("X-Result-Count")
	if h == "" {
		return 0, newError(BadResponse, resp.StatusCode(), nil, "Waldur's answer has no X-Result-Count header")
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 || strings.TrimSpace(h) != h || h[0] == '+' {
		return 0, newError(BadResponse, resp.StatusCode(), nil, "Waldur's X-Result-Count header is not a count")
	}
	if n > MaxResultCount {
		return 0, newError(BadResponse, resp.StatusCode(), nil, "Waldur's X-Result-Count header is implausibly large")
	}
	return n, nil
}

// maxRetryAfter caps what a Retry-After may ask for: a proxy asking for longer
// is better reported as "a day" than as an overflowed or absurd number.
const maxRetryAfter = 24 * time.Hour

// MaxResultCount is the largest X-Result-Count accepted.
const MaxResultCount = waldurapi.MaxRows

// retryAfter reads a Retry-After header, in seconds or as an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	s, err := strconv.Atoi(h)
	switch {
	case err == nil && s < 0:
		return 0
	case err == nil:
		// Clamped before multiplying: a huge value would overflow Duration.
		return time.Duration(min(s, int(maxRetryAfter/time.Second))) * time.Second
	case errors.Is(err, strconv.ErrRange) && h[0] != '-':
		// More seconds than an int holds is still a number of seconds: the longest wait.
		return maxRetryAfter
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now).Round(time.Second), maxRetryAfter)
	}
	return 0
}

// silentLogger keeps resty quiet: its warnings could print request details.
type silentLogger struct{}

func (silentLogger) Errorf(string, ...any) {}
func (silentLogger) Warnf(string, ...any)  {}
func (silentLogger) Debugf(string, ...any) {}
