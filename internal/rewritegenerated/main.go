// Command rewritegenerated runs after gqlgen (make generate) over the
// generated executor and makes two rewrites gqlgen has no setting for. Each
// fails the run when the code it rewrites is not found as expected, so that
// a gqlgen upgrade that changes it is noticed rather than silently undone.
//
// Lists in order. gqlgen hands every element of a list of objects to
// graphql.MarshalSliceConcurrently, which starts a goroutine for each. That
// pays when an element's fields have resolvers that wait on I/O; this
// schema's list elements (edges, nodes, introspection's types) are plain
// structs whose fields are read, not resolved, so the goroutines were pure
// cost: under load about a fifth of the gateway's CPU went to starting them
// and growing their stacks (exec.worker_limit still starts a goroutine per
// element). graph.marshalSliceInOrder answers with the same semantics: each
// element in its own field context, a panic in one becoming that element's
// null and a located error. Should an element type ever get a resolver that
// does I/O, its lists would resolve one element after the other: drop this
// rewrite for it then.
//
// The connection written directly. The customerQuotas field's marshalling
// goes to graph's hand-written marshalConnection, which writes the
// connection straight to JSON and hands back to the generated marshaller
// whatever it does not know (see graph/fastconnection.go).
package main

import (
	"bytes"
	"fmt"
	"os"
)

var rewrites = []struct {
	name, generated, written string
	once                     bool // the call must be found exactly once, not at least once
}{
	{name: "lists in order", generated: "graphql.MarshalSliceConcurrently(", written: "marshalSliceInOrder("},
	{
		name:      "the connection written directly",
		generated: "return ec.marshalNCustomerQuotaConnection2ᚖgithubᚗcomᚋwaldurᚑquotasᚋgatewayᚋgraphᚋmodelᚐCustomerQuotaConnection(ctx, selections, v)",
		written:   "return ec.marshalConnection(ctx, selections, v)",
		once:      true,
	},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: rewritegenerated graph/generated.go")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rewritegenerated:", err)
		os.Exit(1)
	}
	for _, r := range rewrites {
		n := bytes.Count(src, []byte(r.generated))
		if n == 0 || r.once && n != 1 {
			fmt.Fprintf(os.Stderr, "rewritegenerated: %s: %q found %d times: gqlgen's code changed, see %s\n", path, r.generated, n, r.name)
			os.Exit(1)
		}
		src = bytes.ReplaceAll(src, []byte(r.generated), []byte(r.written))
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "rewritegenerated:", err)
		os.Exit(1)
	}
}
