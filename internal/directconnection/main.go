// Command directconnection runs after gqlgen (make generate) over the
// generated executor: it points the customerQuotas field's marshalling at
// graph's hand-written marshalConnection, which writes the connection straight
// to JSON and hands back to the generated marshaller whatever it does not
// know (see graph/fastconnection.go). gqlgen has no setting for a field's
// marshaller, hence this rewrite. It fails when the call it rewrites is not
// found exactly once, so that a gqlgen upgrade that changes it is noticed.
package main

import (
	"bytes"
	"fmt"
	"os"
)

const (
	generated = "return ec.marshalNCustomerQuotaConnection2ᚖgithubᚗcomᚋwaldurᚑquotasᚋgatewayᚋgraphᚋmodelᚐCustomerQuotaConnection(ctx, selections, v)"
	direct    = "return ec.marshalConnection(ctx, selections, v)"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: directconnection graph/generated.go")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "directconnection:", err)
		os.Exit(1)
	}
	if n := bytes.Count(src, []byte(generated)); n != 1 {
		fmt.Fprintf(os.Stderr, "directconnection: %s: the connection's marshaller is called %d times, want once\n", path, n)
		os.Exit(1)
	}
	out := bytes.Replace(src, []byte(generated), []byte(direct), 1)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "directconnection:", err)
		os.Exit(1)
	}
}
