package graph

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/waldur-quotas/gateway/upstream"
)

// The extensions.code values this API answers with. Clients switch on them.
const (
	CodeBadUserInput        = "BAD_USER_INPUT"
	CodeBadRequest          = "BAD_REQUEST"
	CodeUnauthenticated     = "UNAUTHENTICATED"
	CodeForbidden           = "FORBIDDEN"
	CodeRateLimited         = "RATE_LIMITED"
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	CodeUpstreamBadResponse = "UPSTREAM_BAD_RESPONSE"
	CodeRequestCancelled    = "REQUEST_CANCELLED"
	CodeInternal            = "INTERNAL_SERVER_ERROR"
)

// inputError reports bad arguments at the field that received them.
func inputError(ctx context.Context, message string) error {
	return &gqlerror.Error{
		Message:    message,
		Path:       graphql.GetPath(ctx),
		Extensions: map[string]any{"code": CodeBadUserInput},
	}
}

// upstreamError turns a Waldur failure into a GraphQL error with a code. Its
// message is the upstream.Error's, which is written for people and carries no
// credential, URL or upstream body.
func upstreamError(ctx context.Context, err error) error {
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return &gqlerror.Error{
				Message:    "the request was cancelled before Waldur answered",
				Path:       graphql.GetPath(ctx),
				Extensions: map[string]any{"code": CodeRequestCancelled},
				// Unwrap-able for the log, never shown: the presenter prints Message only.
				Err: err,
			}
		}
		return err
	}
	ext := map[string]any{"code": codeOf(ue.Kind)}
	if ue.Kind == upstream.RateLimited && ue.RetryAfter > 0 {
		ext["retryAfter"] = int(ue.RetryAfter.Round(time.Second) / time.Second)
	}
	if ue.Status != 0 {
		ext["upstreamStatus"] = ue.Status
	}
	return &gqlerror.Error{Message: ue.Error(), Path: graphql.GetPath(ctx), Extensions: ext, Err: err}
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
			if _, coded := g.Extensions["code"]; coded {
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
			if outer.Path == nil {
				outer.Path = path
			}
			outer.Extensions = map[string]any{"code": code}
			return outer
		}
		logger.ErrorContext(ctx, "unexpected error while resolving", slog.String("path", path.String()), slog.String("error", err.Error()))
		return &gqlerror.Error{
			Message:    "internal server error",
			Path:       path,
			Extensions: map[string]any{"code": CodeInternal},
		}
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
