package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/waldur-quotas/gateway/graph"
	"github.com/waldur-quotas/gateway/trusted"
	"github.com/waldur-quotas/gateway/upstream"
)

const (
	queryPath   = "/query"
	healthzPath = "/healthz"
)

// Byte budgets of the caches filled by query text: generous for real queries
// (a few hundred bytes to a few KiB each), and the most memory a stream of
// distinct padded queries can pin.
const (
	apqCacheBytes      = 8 << 20
	documentCacheBytes = 16 << 20
	// documentCacheEntries bounds the parsed documents kept by count as well.
	documentCacheEntries = 1000
)

// DefaultAPQCacheSize is APQ_CACHE_SIZE unless set: persisted queries are a
// frontend's few dozen operations, so a thousand leaves room for many
// frontends and versions.
const DefaultAPQCacheSize = 1000

// Config is what the HTTP surface is built from.
type Config struct {
	Waldur  *upstream.Client
	Logger  *slog.Logger
	Version string
	// Playground serves GraphiQL at "/"; nil leaves "/" a 404.
	Playground http.Handler
	// Introspection allows __schema and __type queries. _service { sdl } stays
	// available either way, for federation.
	Introspection bool
	// Limits bound what one request may ask; zero fields take DefaultLimits.
	Limits Limits
	// CORSAllowedOrigins are the browser origins allowed to call /query; none
	// means no cross-origin access.
	CORSAllowedOrigins []string
	// APQCacheSize bounds the automatic persisted queries kept (default
	// DefaultAPQCacheSize).
	APQCacheSize int
	// SharedStore, when set, also keeps the persisted queries for the other
	// replicas (see apqshared.go).
	SharedStore upstream.SharedStore
	// PersistedDocuments are the trusted documents clients may name by id
	// (doc_id, or extensions.persistedQuery.sha256Hash); nil: none.
	PersistedDocuments *trusted.List
	// PersistedDocumentsOnly refuses every document not in
	// PersistedDocuments (introspection aside while Introspection is on).
	PersistedDocumentsOnly bool
	// TracerProvider makes the spans of requests and GraphQL operations (see
	// tracing.go); nil makes none, but the caller's trace context is still
	// honoured and passed on.
	TracerProvider trace.TracerProvider
	// ExportTraces says the spans are exported: requests are then described
	// in full; otherwise only their trace context is kept and passed on.
	ExportTraces bool
	// Metrics is told of every GraphQL request; nil: none is.
	Metrics RequestObserver
	// Readiness answers /readyz; nil leaves /readyz a 404.
	Readiness *Readiness
}

// New returns the gateway's whole HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = WithRequestContext(cfg.Logger)
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = noop.NewTracerProvider()
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.APQCacheSize <= 0 {
		cfg.APQCacheSize = DefaultAPQCacheSize
	}
	if cfg.PersistedDocumentsOnly && cfg.PersistedDocuments == nil {
		cfg.PersistedDocuments = &trusted.List{} // fail closed: nothing is trusted
	}
	mux := http.NewServeMux()
	mux.Handle(queryPath, observeGraphQL(cfg.Metrics, withCORS(cfg.CORSAllowedOrigins, withGraphQLMethods(withCaller(
		withResponseCache(cfg.Waldur, cfg.Limits.MaxBodyBytes, newGraphQLServer(cfg)))))))
	handleHealth(mux, cfg.Version, cfg.Readiness)
	if cfg.Playground != nil {
		mux.Handle("/{$}", cfg.Playground)
		mux.Handle("/playground/", cfg.Playground)
	}
	// The request's span first, then its ID, so that the request's log line
	// (and every other) carries both.
	return withTracing(cfg.TracerProvider, cfg.ExportTraces, withRequestID(logRequests(cfg.Logger, mux)))
}

func newGraphQLServer(cfg Config) *handler.Server {
	srv := handler.New(graph.NewExecutableSchema(graph.NewConfig(&graph.Resolver{Waldur: cfg.Waldur})))
	srv.AddTransport(graphQLOverHTTP{maxBodyBytes: cfg.Limits.MaxBodyBytes, documents: persistedDocuments{
		list: cfg.PersistedDocuments, only: cfg.PersistedDocumentsOnly,
		introspection: cfg.Introspection, maxTokens: cfg.Limits.MaxTokens,
	}})
	documents := newBoundedCache(documentCacheEntries, documentCacheBytes, documentCost)
	srv.SetQueryCache(documents)
	srv.SetParserTokenLimit(cfg.Limits.MaxTokens)
	srv.SetValidationRulesFn(cappedValidationRules)
	// Always on for gqlgen, which otherwise also refuses _service { sdl };
	// the gate refuses __schema and __type when introspection is off.
	srv.Use(extension.Introspection{})
	if !cfg.Introspection {
		srv.Use(introspectionGate{})
	}
	// Persisted queries hold query text only, keyed by its hash: no caller's
	// data or credentials, so one bounded cache serves everyone.
	srv.Use(extension.AutomaticPersistedQuery{Cache: persistedQueries(cfg)})
	// In this order, each with what the one before has settled: the text of a
	// persisted query, a document cheap enough to validate, a client still
	// there to answer (checked again once validation is done), then the
	// limits measured on the validated operation.
	srv.Use(validationLimits{maxFields: cfg.Limits.MaxFields, maxAliases: cfg.Limits.MaxAliases, maxTokens: cfg.Limits.MaxTokens, validated: documents})
	srv.Use(clientGone{})
	srv.Use(shapeLimits{maxDepth: cfg.Limits.MaxDepth, maxAliases: cfg.Limits.MaxAliases, maxFields: cfg.Limits.MaxFields})
	srv.Use(&complexityLimit{max: cfg.Limits.MaxComplexity})

	// Not the request's own line: rate-limited, so that a bug hit by every
	// request does not flood the log.
	srv.SetErrorPresenter(graph.ErrorPresenter(rateLimited(cfg.Logger)))
	srv.SetRecoverFunc(func(ctx context.Context, err any) error {
		// A plain error: the presenter logs it and shows "internal server error".
		return fmt.Errorf("panic: %v", err)
	})
	// Before the operation's memo and share of upstream calls: the calls made
	// for the operation are children of its span. Apollo's federated trace
	// (ftv1) is added to the answer only when a router asks for it with
	// apollo-federation-include-trace: ftv1; error messages in it are masked.
	srv.Use(newOperationTracing(cfg.TracerProvider))
	srv.Use(newFederatedTracing())
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if s := statsFrom(ctx); s != nil {
			// The operation's own name when the request did not repeat it.
			opCtx := graphql.GetOperationContext(ctx)
			name := opCtx.OperationName
			if name == "" && opCtx.Operation != nil {
				name = opCtx.Operation.Name
			}
			s.setOperation(name)
			s.setAPQ(apqUse(ctx))
		}
		// One memo per operation: aliases asking for the same page share a
		// call; and one share of the calls to Waldur, so that one operation
		// cannot take them all.
		return next(cfg.Waldur.WithOperationLimit(upstream.WithDedup(ctx)))
	})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp != nil {
			noteErrorCodes(ctx, resp.Errors)
		}
		return resp
	})
	return srv
}
