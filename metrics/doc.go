// Package metrics is the gateway's Prometheus metrics: GraphQL requests,
// calls to Waldur and the layers between (retries, coalescing, the cache, the
// circuit breaker), readiness, and the Go runtime and process, in a registry
// of its own (not the library's global one, which any imported package could
// fill), served on the operations listener.
//
// Every label has a bounded set of values, whatever callers send: operation
// names past the first maxOperations distinct ones, and unnamed operations,
// fold into one value; a quota name Waldur is not known to keep folds into
// "other". No label is built from a header, so no credential can reach one.
package metrics
