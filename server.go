// Command gateway serves Waldur's customer quotas as a GraphQL API.
//
// With WALDUR_API_URL unset it runs in demo mode: a fake Waldur with about a
// thousand synthetic organisations is served in-process on loopback, so the
// gateway shows real-looking data on a machine with no Waldur at hand.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/playground"
	"github.com/waldur-quotas/gateway/redisstore"
	"github.com/waldur-quotas/gateway/tracing"
	"github.com/waldur-quotas/gateway/trusted"
	"github.com/waldur-quotas/gateway/upstream"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// version is set at build time: -ldflags "-X main.version=…".
var version = "dev"

type config struct {
	listen          string
	waldurURL       string
	waldurToken     string
	cacheKeySecret  string // CACHE_KEY_SECRET, environment only
	redisURL        string // REDIS_URL, environment only: it may hold a password
	upstreamTimeout time.Duration
	upstreamRetries int
	demoCustomers   int
	showVersion     bool
	introspection   bool
	corsOrigins     string
	apqCacheSize    int
	maxConnections  int
	limits          httpapi.Limits
	breaker         breakerConfig

	// The upstream cache: off while cacheTTL is 0.
	cacheTTL      time.Duration
	cacheMaxBytes byteSize

	maxConcurrency, maxConcurrencyPerRequest int // calls in flight to Waldur

	// Trusted documents: PERSISTED_DOCUMENTS_FILE, loaded and validated
	// while parsing, so that a bad file is a configuration error.
	persistedDocumentsFile string
	persistedDocumentsOnly bool
	persistedDocuments     *trusted.List
	tracing                tracing.Settings // the OTEL_* environment, environment only
	playground             bool             // GRAPHQL_PLAYGROUND: GraphiQL at "/"
	help                   string           // -h: the usage text to print instead of starting
	metricsListen          string           // METRICS_LISTEN_ADDR: /metrics, /healthz, /readyz; empty: off
}

// breakerConfig is the upstream circuit breaker's settings.
type breakerConfig struct {
	failures int           // UPSTREAM_BREAKER_FAILURES
	cooldown time.Duration // UPSTREAM_BREAKER_COOLDOWN
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if err != nil {
		reportConfigError(os.Stderr, err)
		os.Exit(2)
	}
	if cfg.help != "" {
		fmt.Print(cfg.help)
		return
	}
	if cfg.showVersion {
		fmt.Println("waldur-quotas-gateway", version)
		return
	}
	tuneGC()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	// net/http's own lines (http.Server and Transport log through the
	// standard logger) join the JSON log, without what they quote.
	log.SetFlags(0)
	log.SetOutput(httpapi.LibraryLog(logger))
	if err := run(cfg, logger); err != nil {
		logger.Error("gateway stopped", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// maxUpstreamRetries bounds UPSTREAM_RETRIES: every retry may take another
// UPSTREAM_TIMEOUT, and the write timeout and shutdown grace grow with it.
const maxUpstreamRetries = 10

func parseConfig(args []string, getenv func(string) string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	// Errors are reported by main, in one shape; -h prints usage() to stdout.
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.listen, "listen", envOr(getenv, "LISTEN_ADDR", ":8080"), "address to listen on (env LISTEN_ADDR)")
	fs.StringVar(&cfg.waldurURL, "waldur-url", getenv("WALDUR_API_URL"), "Waldur base URL, e.g. https://waldur.example.com; empty runs the demo (env WALDUR_API_URL)")
	var envErr error
	timeout, err := time.ParseDuration(envOr(getenv, "UPSTREAM_TIMEOUT", upstream.DefaultTimeout.String()))
	if err != nil || timeout <= 0 {
		envErr = errors.Join(envErr, fmt.Errorf("UPSTREAM_TIMEOUT must be a positive duration such as 10s, got %q", getenv("UPSTREAM_TIMEOUT")))
	}
	fs.DurationVar(&cfg.upstreamTimeout, "upstream-timeout", timeout, "timeout of each Waldur request (env UPSTREAM_TIMEOUT)")
	retries, err := strconv.Atoi(envOr(getenv, "UPSTREAM_RETRIES", strconv.Itoa(upstream.DefaultRetries)))
	if err != nil || retries < 0 || retries > maxUpstreamRetries {
		envErr = errors.Join(envErr, fmt.Errorf("UPSTREAM_RETRIES must be an integer from 0 to %d, got %q", maxUpstreamRetries, getenv("UPSTREAM_RETRIES")))
	}
	fs.IntVar(&cfg.upstreamRetries, "upstream-retries", retries, "times a failed GET or HEAD to Waldur is tried again, 0 for never (env UPSTREAM_RETRIES)")
	fs.BoolVar(&cfg.showVersion, "version", false, "print the version and exit")
	fs.StringVar(&cfg.corsOrigins, "cors-allowed-origins", getenv("CORS_ALLOWED_ORIGINS"), "comma-separated browser origins allowed to call /query; empty: none (env CORS_ALLOWED_ORIGINS)")

	// Numeric and boolean settings: the environment gives the default, a flag
	// overrides it; a malformed environment value is an error, not a silent default.
	d := httpapi.DefaultLimits()
	envInt := func(key string, fallback int) int {
		v := getenv(key)
		if v == "" {
			return fallback
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			envErr = errors.Join(envErr, fmt.Errorf("%s must be a positive integer, got %q", key, v))
		}
		return n
	}
	envBool := func(key string, fallback bool) bool {
		v := getenv(key)
		if v == "" {
			return fallback
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("%s must be true or false, got %q", key, v))
		}
		return b
	}
	fs.BoolVar(&cfg.introspection, "introspection", envBool("GRAPHQL_INTROSPECTION", true), "allow introspection queries (env GRAPHQL_INTROSPECTION)")
	fs.IntVar(&cfg.limits.MaxDepth, "max-depth", envInt("GRAPHQL_MAX_DEPTH", d.MaxDepth), "maximum selection depth (env GRAPHQL_MAX_DEPTH)")
	fs.IntVar(&cfg.limits.MaxComplexity, "max-complexity", envInt("GRAPHQL_MAX_COMPLEXITY", d.MaxComplexity), "maximum query complexity; first/last multiply their children (env GRAPHQL_MAX_COMPLEXITY)")
	fs.IntVar(&cfg.limits.MaxAliases, "max-aliases", envInt("GRAPHQL_MAX_ALIASES", d.MaxAliases), "maximum aliased fields per operation (env GRAPHQL_MAX_ALIASES)")
	fs.IntVar(&cfg.limits.MaxFields, "max-fields", envInt("GRAPHQL_MAX_FIELDS", d.MaxFields), "maximum fields per document, with their arguments and directives, a fragment counting in each operation that spreads it (env GRAPHQL_MAX_FIELDS)")
	fs.IntVar(&cfg.limits.MaxTokens, "max-tokens", envInt("GRAPHQL_MAX_TOKENS", d.MaxTokens), "maximum parser tokens per query (env GRAPHQL_MAX_TOKENS)")
	fs.Int64Var(&cfg.limits.MaxBodyBytes, "max-body-bytes", int64(envInt("GRAPHQL_MAX_BODY_BYTES", int(d.MaxBodyBytes))), "maximum request body in bytes (env GRAPHQL_MAX_BODY_BYTES)")
	fs.IntVar(&cfg.apqCacheSize, "apq-cache-size", envInt("APQ_CACHE_SIZE", httpapi.DefaultAPQCacheSize), "automatic persisted queries kept (env APQ_CACHE_SIZE)")
	// The upstream circuit breaker.
	cooldown, err := time.ParseDuration(envOr(getenv, "UPSTREAM_BREAKER_COOLDOWN", upstream.DefaultBreakerCooldown.String()))
	if err != nil || cooldown <= 0 {
		envErr = errors.Join(envErr, fmt.Errorf("UPSTREAM_BREAKER_COOLDOWN must be a positive duration such as 10s, got %q", getenv("UPSTREAM_BREAKER_COOLDOWN")))
	}
	fs.IntVar(&cfg.breaker.failures, "upstream-breaker-failures", envInt("UPSTREAM_BREAKER_FAILURES", upstream.DefaultBreakerFailures), "consecutive failed Waldur calls (5xx, no answer, timeout) that open the circuit (env UPSTREAM_BREAKER_FAILURES)")
	fs.DurationVar(&cfg.breaker.cooldown, "upstream-breaker-cooldown", cooldown, "how long an open circuit refuses calls before one probe decides (env UPSTREAM_BREAKER_COOLDOWN)")
	fs.IntVar(&cfg.maxConnections, "max-connections", envInt("MAX_CONNECTIONS", httpapi.DefaultMaxConnections), "open client connections at most; at the limit a new one replaces the one idle the longest, or is answered 503 and closed when all are busy (env MAX_CONNECTIONS)")

	// The upstream cache, off by default (answers may then be that old).
	cacheTTL, err := time.ParseDuration(envOr(getenv, "UPSTREAM_CACHE_TTL", "0s"))
	if err != nil || cacheTTL < 0 {
		envErr = errors.Join(envErr, fmt.Errorf("UPSTREAM_CACHE_TTL must be a duration such as 30s, or 0 for no cache, got %q", getenv("UPSTREAM_CACHE_TTL")))
	}
	fs.DurationVar(&cfg.cacheTTL, "upstream-cache-ttl", cacheTTL, "keep Waldur's pages and totals this long, per caller; 0: no cache (env UPSTREAM_CACHE_TTL)")
	cfg.cacheMaxBytes = upstream.DefaultCacheMaxBytes
	if v := getenv("UPSTREAM_CACHE_MAX_BYTES"); v != "" {
		if err := cfg.cacheMaxBytes.Set(v); err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("UPSTREAM_CACHE_MAX_BYTES: %w", err))
		}
	}
	fs.Var(&cfg.cacheMaxBytes, "upstream-cache-max-bytes", "memory the upstream cache may hold, in bytes or with a unit such as 64MiB (env UPSTREAM_CACHE_MAX_BYTES)")

	fs.IntVar(&cfg.maxConcurrency, "max-concurrency", envInt("UPSTREAM_MAX_CONCURRENCY", upstream.DefaultMaxConcurrency), "calls in flight to Waldur across all callers; others wait (env UPSTREAM_MAX_CONCURRENCY)")
	fs.IntVar(&cfg.maxConcurrencyPerRequest, "max-concurrency-per-request", envInt("UPSTREAM_MAX_CONCURRENCY_PER_REQUEST", upstream.DefaultMaxConcurrencyPerRequest), "calls in flight to Waldur for one GraphQL request (env UPSTREAM_MAX_CONCURRENCY_PER_REQUEST)")

	// Trusted documents.
	fs.StringVar(&cfg.persistedDocumentsFile, "persisted-documents-file", getenv("PERSISTED_DOCUMENTS_FILE"), "an Apollo persisted-query manifest or Relay's persisted_queries.json whose operations clients may send by id (env PERSISTED_DOCUMENTS_FILE)")
	persistedOnly := false
	if v := getenv("PERSISTED_DOCUMENTS_ONLY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("PERSISTED_DOCUMENTS_ONLY must be true or false, got %q", v))
		}
		persistedOnly = b
	}
	fs.BoolVar(&cfg.persistedDocumentsOnly, "persisted-documents-only", persistedOnly, "run only the operations of the persisted-documents file (env PERSISTED_DOCUMENTS_ONLY)")
	// Traces: the standard OTEL_* variables, read where the SDK reads them,
	// checked here so that a typo stops the start like any other setting.
	cfg.tracing, err = tracing.ParseEnv(getenv)
	envErr = errors.Join(envErr, err)
	// The first run: the demo, GraphiQL.
	fs.IntVar(&cfg.demoCustomers, "demo-customers", envInt("DEMO_CUSTOMERS", 1000), "organisations in the demo's fake Waldur, when WALDUR_API_URL is unset (env DEMO_CUSTOMERS)")
	fs.BoolVar(&cfg.playground, "playground", envBool("GRAPHQL_PLAYGROUND", true), "serve GraphiQL at /; false answers 404 there (env GRAPHQL_PLAYGROUND)")

	// The operations listener; METRICS_LISTEN_ADDR set but empty turns it off.
	metricsListen := getenv("METRICS_LISTEN_ADDR")
	if metricsListen == "" && !setInEnvironment("METRICS_LISTEN_ADDR") {
		metricsListen = defaultMetricsListen
	}
	fs.StringVar(&cfg.metricsListen, "metrics-listen", metricsListen, "address serving /metrics, /healthz and /readyz, off the public listener; empty: no metrics (env METRICS_LISTEN_ADDR)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cfg.help = usage(fs)
			return cfg, nil
		}
		return cfg, err
	}
	if cfg.showVersion {
		return cfg, nil // whatever else is configured
	}
	if envErr != nil {
		return cfg, envErr
	}
	if err := checkFlagValues(cfg); err != nil {
		return cfg, err
	}
	if cfg.persistedDocumentsOnly && cfg.persistedDocumentsFile == "" {
		return cfg, fmt.Errorf("PERSISTED_DOCUMENTS_ONLY needs PERSISTED_DOCUMENTS_FILE: the persisted documents to allow")
	}
	if cfg.persistedDocumentsFile != "" {
		list, err := httpapi.LoadPersistedDocuments(cfg.persistedDocumentsFile)
		if err != nil {
			return cfg, fmt.Errorf("PERSISTED_DOCUMENTS_FILE: %w", err)
		}
		cfg.persistedDocuments = list
	}
	// The token and the secret only from the environment: a flag would show in
	// the process list.
	cfg.waldurToken = getenv("WALDUR_API_TOKEN")
	cfg.cacheKeySecret = getenv("CACHE_KEY_SECRET")
	if n := len(cfg.cacheKeySecret); n > 0 && n < minCacheKeySecret {
		return cfg, fmt.Errorf("CACHE_KEY_SECRET must be at least %d characters (a random string such as `openssl rand -hex 32` prints); unset, each process draws its own", minCacheKeySecret)
	}
	if cfg.redisURL = getenv("REDIS_URL"); cfg.redisURL != "" {
		if err := redisstore.CheckURL(cfg.redisURL); err != nil {
			return cfg, err
		}
	}
	if _, _, err := net.SplitHostPort(cfg.listen); err != nil {
		return cfg, fmt.Errorf("LISTEN_ADDR (-listen) must be host:port or :port such as :8080, got %q", cfg.listen)
	}
	if cfg.waldurURL != "" {
		if err := upstream.CheckBaseURL(cfg.waldurURL); err != nil {
			return cfg, fmt.Errorf("WALDUR_API_URL (-waldur-url): %w", err)
		}
	}
	return cfg, nil
}

// minCacheKeySecret is the shortest CACHE_KEY_SECRET accepted: the digests it
// keys are only as hard to check against a guessed token as it is to guess.
const minCacheKeySecret = 16

// splitList reads a comma-separated list, ignoring blanks around items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}

func run(cfg config, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	tokenFromEnv := cfg.waldurToken != ""
	if cfg.waldurURL == "" {
		demoURL, stopDemo, err := startDemoWaldur(cfg.demoCustomers)
		if err != nil {
			return err
		}
		defer stopDemo()
		cfg.waldurURL = demoURL
		if cfg.waldurToken == "" {
			cfg.waldurToken = fakewaldur.DemoStaffToken
		}
		logger.Warn("DEMO MODE: WALDUR_API_URL is not set; serving a fake Waldur with synthetic organisations",
			slog.Int("customers", cfg.demoCustomers), slog.String("upstream", demoURL))
	}

	shared, err := openShared(cfg, logger)
	if err != nil {
		return err
	}
	// An interface holding no store when there is none, not a nil *Store.
	var sharedStore upstream.SharedStore
	redisAddr := ""
	if shared != nil {
		defer shared.Close()
		sharedStore, redisAddr = shared, shared.Addr()
	}

	traces, err := tracing.Start(ctx, cfg.tracing, version, logger)
	if err != nil {
		return err
	}
	// Last, once the requests are drained: their spans are sent before exit.
	defer shutdownTracing(traces, logger)

	obs := observability{metrics: newMetrics(cfg.metricsListen)}
	waldur, err := upstream.New(cfg.waldurURL, slices.Concat(tracing.UpstreamOptions(traces.TracerProvider(), traces.Exporting()), []upstream.Option{
		upstream.WithSharedCache(sharedStore),
		upstream.WithTimeout(cfg.upstreamTimeout),
		upstream.WithRetries(cfg.upstreamRetries),
		upstream.WithDefaultToken(cfg.waldurToken),
		upstream.WithCacheKeySecret([]byte(cfg.cacheKeySecret)),
		upstream.WithUserAgent("waldur-quotas-gateway/" + version),
		upstream.WithObserver(httpapi.UpstreamObserver(logger)),
		upstream.WithCircuitBreaker(cfg.breaker.failures, cfg.breaker.cooldown),
		upstream.WithCircuitObserver(httpapi.CircuitLogger(logger)),
		upstream.WithCache(cfg.cacheTTL, int(cfg.cacheMaxBytes)),
		upstream.WithMaxConcurrency(cfg.maxConcurrency),
		upstream.WithMaxConcurrencyPerRequest(cfg.maxConcurrencyPerRequest),
	}, obs.clientOptions())...)
	if err != nil {
		return err
	}
	obs.readiness = httpapi.NewReadiness(waldur, httpapi.ReadinessInterval, logger)
	go obs.readiness.Run(ctx)
	obs.watch(waldur)

	timeouts := serverTimeouts{upstreamTimeout: cfg.upstreamTimeout, upstreamRetries: cfg.upstreamRetries}
	srv := &http.Server{
		Handler: httpapi.New(httpapi.Config{
			Waldur:     waldur,
			Logger:     logger,
			Version:    version,
			Playground: playgroundHandler(cfg.playground),

			Introspection:      cfg.introspection,
			Limits:             cfg.limits,
			CORSAllowedOrigins: splitList(cfg.corsOrigins),
			APQCacheSize:       cfg.apqCacheSize,
			SharedStore:        sharedStore,

			PersistedDocuments:     cfg.persistedDocuments,
			PersistedDocumentsOnly: cfg.persistedDocumentsOnly,
			TracerProvider:         traces.TracerProvider(),
			ExportTraces:           traces.Exporting(),
			Metrics:                obs.requestObserver(),
			Readiness:              obs.readiness,
		}),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      timeouts.write(),
		IdleTimeout:       idleTimeout,
		// The request line carries a GET's query, which the gateway bounds
		// like a body (and answers 414 past it); credentials and cookies fit
		// in a few KiB beside it. Go's default of 1 MiB per connection, times
		// MAX_CONNECTIONS, is memory for the asking.
		MaxHeaderBytes: int(cfg.limits.MaxBodyBytes) + 16<<10,
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.listen, err)
	}
	ln = httpapi.LimitConnections(srv, ln, cfg.maxConnections, logger)
	if list := cfg.persistedDocuments; list != nil {
		logger.Info("persisted documents loaded", slog.String("file", cfg.persistedDocumentsFile), slog.String("format", list.Format()),
			slog.Int("operations", list.Len()), slog.Bool("only", cfg.persistedDocumentsOnly),
			slog.Bool("introspection_passes", cfg.persistedDocumentsOnly && cfg.introspection))
	}
	logger.Info("gateway listening", slog.String("addr", ln.Addr().String()), slog.String("url", browseURL(ln.Addr())), slog.String("version", version),
		slog.String("waldur", waldur.Endpoint()), slog.Bool("default_token", cfg.waldurToken != ""), slog.Bool("cache_key_secret", cfg.cacheKeySecret != ""),
		slog.Bool("introspection", cfg.introspection), slog.Any("cors_allowed_origins", splitList(cfg.corsOrigins)),
		slog.Int("max_connections", cfg.maxConnections), slog.String("shutdown_grace", timeouts.shutdownGrace().String()),
		slog.String("upstream_cache_ttl", cfg.cacheTTL.String()), slog.String("redis", redisAddr),
		slog.Int("upstream_retries", cfg.upstreamRetries),
		slog.Int("upstream_breaker_failures", cfg.breaker.failures), slog.String("upstream_breaker_cooldown", cfg.breaker.cooldown.String()),
		slog.Int("upstream_max_concurrency", cfg.maxConcurrency), slog.Int("upstream_max_concurrency_per_request", cfg.maxConcurrencyPerRequest),
		slog.String("traces_exporter", traces.Exporter()),
		slog.Bool("playground", cfg.playground))
	warnIfTokenExposed(logger, ln.Addr(), tokenFromEnv)
	notePlaygroundMissing(logger, cfg.playground, playground.Built())

	errc := make(chan error, 2) // the gateway's Serve and the ops listener's
	stopOps, err := startOpsServer(cfg.metricsListen, obs, errc, logger)
	if err != nil {
		return err
	}
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// A second signal stops the process at once, as if none were caught.
	stop()
	// The ops listener outlives the drain: a scrape still sees it to the end.
	defer stopOps(opsWriteTimeout)
	return drain(srv, errc, timeouts.shutdownGrace(), logger)
}

// openShared opens the Redis that replicas share their persisted queries
// and cached pages through, when REDIS_URL is set (nil otherwise). Redis
// being down is no reason not to start: the store reports it and finds Redis
// when it comes.
func openShared(cfg config, logger *slog.Logger) (*redisstore.Store, error) {
	if cfg.redisURL == "" {
		return nil, nil
	}
	shared, err := redisstore.Open(cfg.redisURL, redisstore.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	if cfg.cacheKeySecret == "" && cfg.cacheTTL > 0 {
		logger.Warn("REDIS_URL is set without CACHE_KEY_SECRET: each replica draws its own secret, so cached pages are not shared between replicas (persisted queries are); give them all the same secret")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = shared.Ping(ctx) // logged by the store when it fails
	return shared, nil
}

// playgroundHandler is GraphiQL, or nil (404 at "/") when GRAPHQL_PLAYGROUND
// is false, as in production.
func playgroundHandler(enabled bool) http.Handler {
	if !enabled {
		return nil
	}
	return playground.Handler("Waldur customer quotas", "/query")
}

// drain stops accepting connections and waits up to grace for the requests in
// flight to be answered: a SIGTERM must not cut off an answer.
func drain(srv *http.Server, served <-chan error, grace time.Duration, logger *slog.Logger) error {
	logger.Info("shutting down", slog.String("grace", grace.String()))
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests still running after %s: %w", grace, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// tracingFlushTimeout bounds sending the last spans at exit: a collector that
// is down must not hold the process up.
const tracingFlushTimeout = 5 * time.Second

func shutdownTracing(traces *tracing.Provider, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), tracingFlushTimeout)
	defer cancel()
	if err := traces.Shutdown(ctx); err != nil {
		logger.Warn("spans not sent at exit", slog.String("error", err.Error()))
	}
}

// startDemoWaldur serves the fake Waldur on a loopback port of its own, so the
// demo exercises the same HTTP client path as a real deployment.
func startDemoWaldur(customers int) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("start the demo Waldur: %w", err)
	}
	srv := &http.Server{Handler: fakewaldur.New(fakewaldur.Demo(customers, 1)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}
