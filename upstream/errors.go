package upstream

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an upstream failure by what the gateway's caller can do about it.
type Kind int

const (
	// Unauthenticated: Waldur answered 401 (no credentials, or bad ones).
	Unauthenticated Kind = iota + 1
	// Forbidden: Waldur answered 403.
	Forbidden
	// BadRequest: Waldur answered 400 to the query parameters.
	BadRequest
	// PageNotFound: Waldur answered 404, which it does for a page past the last.
	// The list shrank under a plan; callers re-plan with a fresh total.
	PageNotFound
	// RateLimited: a proxy in front of Waldur answered 429.
	RateLimited
	// Unavailable: 5xx, a network failure or a timeout.
	Unavailable
	// BadResponse: an answer the gateway cannot use (malformed JSON, wrong shape,
	// missing or bad X-Result-Count, an unexpected status or a redirect).
	BadResponse
	// Overloaded: the call never left the gateway: every slot to Waldur
	// (UPSTREAM_MAX_CONCURRENCY, or the operation's share of them) stayed
	// busy for as long as it could wait. See limit.go.
	Overloaded
)

func (k Kind) String() string {
	switch k {
	case Unauthenticated:
		return "unauthenticated"
	case Forbidden:
		return "forbidden"
	case BadRequest:
		return "bad request"
	case PageNotFound:
		return "page not found"
	case RateLimited:
		return "rate limited"
	case Unavailable:
		return "unavailable"
	case BadResponse:
		return "bad response"
	case Overloaded:
		return "overloaded"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is an upstream failure. Its message is written for people and never
// carries a credential, the upstream URL or an upstream body; Unwrap gives the
// underlying cause for logs.
type Error struct {
	Kind Kind
	// Status is the upstream HTTP status, 0 when no answer arrived.
	Status int
	// RetryAfter is the wait a 429 asked for, the time until an open circuit
	// lets calls through again, or what the gateway suggests when Overloaded;
	// 0 when there is none to tell.
	RetryAfter time.Duration

	message string
	cause   error
}

func (e *Error) Error() string { return e.message }

func (e *Error) Unwrap() error { return e.cause }

// RetryAfterSeconds is RetryAfter in whole seconds, as the message and the
// GraphQL error's extensions both state it.
func (e *Error) RetryAfterSeconds() int { return int(e.RetryAfter.Round(time.Second) / time.Second) }

// KindOf returns the Kind of an upstream error anywhere in err's chain, 0 if none.
func KindOf(err error) Kind {
	var ue *Error
	if errors.As(err, &ue) {
		return ue.Kind
	}
	return 0
}

func newError(kind Kind, status int, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Status: status, message: fmt.Sprintf(format, args...), cause: cause}
}
