// Package redisstore keeps the state that replicas share — persisted queries
// and cached pages — in Redis. It is a cache, never a dependency: a Redis that
// is down, slow or gone costs the calls it would have saved and nothing more.
// Every Get then misses and every Set is dropped, the outage is logged once,
// and the store finds Redis again by itself when it is back.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// KeyPrefix starts every key the gateway writes, so that its keys can be told
// apart (and flushed) in a Redis it shares with others.
const KeyPrefix = "waldur-quotas-gateway:"

// DefaultOpTimeout bounds one Redis command unless the URL sets its own
// timeouts: Redis answers in well under a millisecond on a healthy network,
// and a request must not wait on a cache much longer than that.
const DefaultOpTimeout = 250 * time.Millisecond

// Store is a Redis-backed key-value store of bytes with a time to live. It is
// safe for concurrent use.
type Store struct {
	client    *redis.Client
	opTimeout time.Duration
	outage    *outage
}

// Option configures a Store.
type Option func(*settings)

type settings struct {
	logger    *slog.Logger
	opTimeout time.Duration
	retryIn   time.Duration
}

// WithLogger sets where the store reports an outage and its end.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// WithOpTimeout bounds one command (DefaultOpTimeout unless set).
func WithOpTimeout(d time.Duration) Option { return func(s *settings) { s.opTimeout = d } }

// WithRetryIn sets how long the store leaves a failed Redis alone before one
// command tries it again (DefaultRetryIn unless set).
func WithRetryIn(d time.Duration) Option { return func(s *settings) { s.retryIn = d } }

// Open returns a store for the Redis at url (redis://[user:password@]host:port/db,
// rediss:// for TLS; go-redis's URL options such as dial_timeout apply). It
// does not connect: Redis may come up after the gateway, and the first
// commands find it. The error never quotes the URL, which may hold a password.
func Open(url string, opts ...Option) (*Store, error) {
	s := settings{logger: slog.New(slog.DiscardHandler), opTimeout: DefaultOpTimeout, retryIn: DefaultRetryIn}
	for _, o := range opts {
		o(&s)
	}
	ro, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	// A command that fails is not tried again here: the outage guard decides
	// when Redis is worth another try, and the caller goes on to Waldur.
	ro.MaxRetries = -1
	ro.DialerRetries = 1
	// Deadlines come from the context: the caller's, shortened to opTimeout.
	ro.ContextTimeoutEnabled = true
	if ro.DialTimeout <= 0 || ro.DialTimeout > s.opTimeout {
		ro.DialTimeout = s.opTimeout
	}
	quietLibrary.Do(func() { redis.SetLogger(quiet{}) })
	return &Store{
		client:    redis.NewClient(ro),
		opTimeout: s.opTimeout,
		outage:    newOutage(s.logger, s.retryIn),
	}, nil
}

// CheckURL tells whether Open would take url, for the configuration to be
// refused before anything starts. Its error never quotes the URL.
func CheckURL(url string) error {
	_, err := parseURL(url)
	return err
}

func parseURL(url string) (*redis.Options, error) {
	ro, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("REDIS_URL must be a redis:// or rediss:// URL such as redis://redis:6379/0")
	}
	return ro, nil
}

// Addr is the Redis address and database the store uses, for the start-up
// log: no user, no password.
func (s *Store) Addr() string {
	o := s.client.Options()
	return fmt.Sprintf("%s/%d", o.Addr, o.DB)
}

// Get returns the value under key, or false on a miss — which includes Redis
// being unreachable.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool) {
	var value []byte
	err := s.do(ctx, "GET", func(ctx context.Context) error {
		v, err := s.client.Get(ctx, KeyPrefix+key).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		value = v
		return err
	})
	return value, err == nil && value != nil
}

// Set keeps value under key for ttl. It is dropped when Redis cannot take it.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) {
	_ = s.do(ctx, "SET", func(ctx context.Context) error {
		return s.client.Set(ctx, KeyPrefix+key, value, ttl).Err()
	})
}

// Ping tells whether Redis answers now, through the same guard as any
// command: at start, so that an unreachable Redis is reported at once.
func (s *Store) Ping(ctx context.Context) error {
	return s.do(ctx, "PING", func(ctx context.Context) error { return s.client.Ping(ctx).Err() })
}

// Close releases the connections.
func (s *Store) Close() error { return s.client.Close() }

// do runs one command within the op timeout, unless Redis is known to be down
// and not yet due another try.
func (s *Store) do(ctx context.Context, command string, run func(context.Context) error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return s.outage.guard(ctx, command, func() error {
		opCtx, cancel := context.WithTimeout(ctx, s.opTimeout)
		defer cancel()
		return run(opCtx)
	})
}

// go-redis logs each failed dial of its pool, again every second while Redis
// is down; the outage guard already tells it once. Its logger is global to
// the process, and this is the process's only Redis client.
var quietLibrary sync.Once

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
