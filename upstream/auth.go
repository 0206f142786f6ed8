package upstream

import (
	"context"
	"sync"
)

type authorizationKey struct{}

// credential is the caller's Authorization header, with its digest (see
// callerdigest.go) once a layer has asked for it: every layer that keys on
// the caller asks, several times per request, and an HMAC each time was a
// visible share of a cached answer's cost.
type credential struct {
	header string

	mu     sync.Mutex
	client *Client // whose secret digest was made with
	digest string
}

// WithAuthorization returns a context carrying the caller's Authorization header
// value ("Token …" or "Bearer …"), forwarded verbatim to Waldur. Keeping it in
// the context keeps it out of every signature that might log or print it.
func WithAuthorization(ctx context.Context, header string) context.Context {
	if header == "" {
		return ctx
	}
	return context.WithValue(ctx, authorizationKey{}, &credential{header: header})
}

func credentialOf(ctx context.Context) *credential {
	c, _ := ctx.Value(authorizationKey{}).(*credential)
	return c
}

// authorization picks the caller's header, else the configured default.
func (c *Client) authorization(ctx context.Context) string {
	if cred := credentialOf(ctx); cred != nil {
		return cred.header
	}
	return c.defaultAuthorization
}

// validHeaderValue reports whether v can travel as an HTTP header value:
// visible ASCII and spaces only. Anything else would make the transport fail
// with an error that reads like an outage.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b > 0x7e {
			return false
		}
	}
	return true
}
