// Package httpapi is the gateway's HTTP surface: GraphQL at /query over the
// gqlgen server, the playground at /, /healthz, and the middleware that binds a
// request to its caller's credentials, its per-operation upstream deduplication
// and its one log line.
package httpapi
