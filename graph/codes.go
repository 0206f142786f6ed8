package graph

import (
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The extensions.code values this API answers with, every one of them: clients
// switch on them and the README's error table lists them. Nothing else in the
// gateway spells a code.
const (
	// Arguments and requests.
	CodeBadUserInput         = "BAD_USER_INPUT"
	CodeBadRequest           = "BAD_REQUEST"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeRequestTooLarge      = "REQUEST_TOO_LARGE"
	CodeRequestCancelled     = "REQUEST_CANCELLED"
	// The gateway holds MAX_CONNECTIONS connections already, none of them
	// idle long enough to make room: it answers 503 with Retry-After and
	// closes the new one without serving its request.
	CodeTooManyConnections = "TOO_MANY_CONNECTIONS"

	// Documents: gqlgen's own codes for parse and validation failures and for
	// an unknown persisted-query hash, spelled here so that the table is whole.
	CodeParseFailed         = "GRAPHQL_PARSE_FAILED"
	CodeValidationFailed    = "GRAPHQL_VALIDATION_FAILED"
	CodePersistedQueryUnset = "PERSISTED_QUERY_NOT_FOUND"

	// Trusted documents (PERSISTED_DOCUMENTS_FILE), with Apollo Router's
	// codes and statuses: an id that is not in the list, sent as doc_id or
	// as extensions.persistedQuery.sha256Hash (HTTP 404; under
	// PERSISTED_DOCUMENTS_ONLY also a hash unknown to the list, which would
	// otherwise be an automatic persisted query), and, under
	// PERSISTED_DOCUMENTS_ONLY, a document sent as text that is not in the
	// list (HTTP 403), an automatic persisted query's registration too.
	CodePersistedQueryNotInList = "PERSISTED_QUERY_NOT_IN_LIST"
	CodeQueryNotInSafelist      = "QUERY_NOT_IN_SAFELIST"

	// Limits on what one document may ask.
	CodeDepthLimit       = "DEPTH_LIMIT_EXCEEDED"
	CodeComplexityLimit  = "COMPLEXITY_LIMIT_EXCEEDED"
	CodeAliasLimit       = "ALIAS_LIMIT_EXCEEDED"
	CodeFieldLimit       = "FIELD_LIMIT_EXCEEDED" // checked before validation, whose cost it bounds
	CodeTokenLimit       = "TOKEN_LIMIT_EXCEEDED"
	CodeIntrospectionOff = "INTROSPECTION_DISABLED"

	// Waldur's answers.
	CodeUnauthenticated     = "UNAUTHENTICATED"
	CodeForbidden           = "FORBIDDEN"
	CodeRateLimited         = "RATE_LIMITED"
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	CodeUpstreamBadResponse = "UPSTREAM_BAD_RESPONSE"
	// The call never reached Waldur: the gateway's concurrent calls to it
	// (UPSTREAM_MAX_CONCURRENCY, or the request's share,
	// UPSTREAM_MAX_CONCURRENCY_PER_REQUEST) stayed busy for as long as the
	// field could wait. With retryAfter.
	CodeUpstreamOverloaded = "UPSTREAM_OVERLOADED"

	// A bug: the detail goes to the log, never to the client.
	CodeInternal = "INTERNAL_SERVER_ERROR"
)

// Coded is the one way to build an error with a code. Callers add a path or
// more extensions where they have them.
func Coded(code, message string) *gqlerror.Error {
	return &gqlerror.Error{Message: message, Extensions: map[string]any{"code": code}}
}

// CodeOf returns an error's code, "" when it has none.
func CodeOf(e *gqlerror.Error) string {
	if e == nil {
		return ""
	}
	code, _ := e.Extensions["code"].(string)
	return code
}
