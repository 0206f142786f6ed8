package graph

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/waldur-quotas/gateway/upstream"
)

// inputError reports bad arguments at the field that received them.
func inputError(ctx context.Context, message string) error {
	e := Coded(CodeBadUserInput, message)
	e.Path = graphql.GetPath(ctx)
	return e
}

// upstreamError turns a Waldur failure into a GraphQL error with a code. Its
// message is the upstream.Error's, which is written for people and carries no
// credential, URL or upstream body.
func upstreamError(ctx context.Context, err error) error {
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			e := Coded(CodeRequestCancelled, "the request was cancelled before Waldur answered")
			e.Path = graphql.GetPath(ctx)
			// Unwrap-able for the log, never shown: the presenter prints Message only.
			e.Err = err
			return e
		}
		return err
	}
	e := Coded(codeOf(ue.Kind), ue.Error())
	if ue.RetryAfter > 0 {
		e.Extensions["retryAfter"] = ue.RetryAfterSeconds()
	}
	if ue.Status != 0 {
		e.Extensions["upstreamStatus"] = ue.Status
	}
	e.Path = graphql.GetPath(ctx)
	e.Err = err
	return e
}

func codeOf(k upstream.Kind) string {
	switch k {
	case upstream.Unauthenticated:
		return CodeUnauthenticated
	case upstream.Forbidden:
		return CodeForbidden
	case upstream.BadRequest:
		return CodeBadUserInput
	case upstream.RateLimited:
		return CodeRateLimited
	case upstream.Unavailable:
		return CodeUpstreamUnavailable
	case upstream.Overloaded:
		return CodeUpstreamOverloaded
	}
	// PageNotFound only escapes when the list keeps shrinking under re-planning.
	return CodeUpstreamBadResponse
}

// ErrorPresenter returns the server's error presenter. Errors made on purpose
// (ours, gqlgen's parse and validation errors) carry an extensions.code and pass
// as they are. gqlgen's other messages pass with BAD_REQUEST before execution
// and INTERNAL_SERVER_ERROR during it (a null where the schema forbids one). Anything else is a bug or a panic: it is
// logged and shown only as "internal server error", so no unexpected detail
// reaches the client.
func ErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var outer *gqlerror.Error
		for e := err; e != nil; e = errors.Unwrap(e) {
			g, ok := e.(*gqlerror.Error)
			if !ok {
				continue
			}
			if outer == nil {
				outer = g
			}
			if CodeOf(g) != "" {
				if g.Path == nil {
					g.Path = graphql.GetPath(ctx)
				}
				return g
			}
		}
		path := graphql.GetPath(ctx)
		if outer != nil && isGQLError(rootCause(err)) {
			// gqlgen's own message. Without a path it refused the request before
			// execution (an APQ hash that does not match, say): the client's
			// mistake. With one, execution went wrong: ours.
			code := CodeInternal
			if outer.Path == nil && len(path) == 0 {
				code = CodeBadRequest
			}
			e := Coded(code, outer.Message)
			e.Locations, e.Path = outer.Locations, outer.Path
			if e.Path == nil {
				e.Path = path
			}
			return e
		}
		logger.ErrorContext(ctx, "unexpected error while resolving", slog.String("path", path.String()), slog.String("error", err.Error()))
		e := Coded(CodeInternal, "internal server error")
		e.Path = path
		return e
	}
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

func isGQLError(err error) bool {
	_, ok := err.(*gqlerror.Error)
	return ok
}
