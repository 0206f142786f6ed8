package upstream

import "context"

type authorizationKey struct{}

// WithAuthorization returns a context carrying the caller's Authorization header
// value ("Token …" or "Bearer …"), forwarded verbatim to Waldur. Keeping it in
// the context keeps it out of every signature that might log or print it.
func WithAuthorization(ctx context.Context, header string) context.Context {
	if header == "" {
		return ctx
	}
	return context.WithValue(ctx, authorizationKey{}, header)
}

// authorization picks the caller's header, else the configured default.
func (c *Client) authorization(ctx context.Context) string {
	if h, ok := ctx.Value(authorizationKey{}).(string); ok && h != "" {
		return h
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
