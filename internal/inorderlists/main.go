// Command inorderlists runs after gqlgen (make generate) over the generated
// executor: it has every list of objects marshalled in order, in the
// goroutine that asked, instead of one goroutine per element.
//
// gqlgen's generated code hands every element of a list of objects to
// graphql.MarshalSliceConcurrently, which starts a goroutine for each. That
// pays when an element's fields have resolvers that wait on I/O; this schema's
// list elements (edges, nodes, introspection's types) are plain structs whose
// fields are read, not resolved, so the goroutines were pure cost: under load
// about a fifth of the gateway's CPU went to starting them and growing their
// stacks. gqlgen v0.17 has no setting for it (exec.worker_limit still starts a
// goroutine per element), hence this rewrite, which graph.marshalSliceInOrder
// answers with the same semantics: each element in its own field context,
// a panic in one becoming that element's null and a located error.
//
// Should an element type ever get a resolver that does I/O, its lists would
// resolve one element after the other: drop this step for it then.
package main

import (
	"bytes"
	"fmt"
	"os"
)

const (
	concurrent = "graphql.MarshalSliceConcurrently("
	inOrder    = "marshalSliceInOrder("
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: inorderlists graph/generated.go")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "inorderlists:", err)
		os.Exit(1)
	}
	out := bytes.ReplaceAll(src, []byte(concurrent), []byte(inOrder))
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "inorderlists:", err)
		os.Exit(1)
	}
}
