// Command introspect prints the answer of the gateway's HTTP handler to the
// full introspection query, as JSON: the schema exactly as clients see it,
// without a server or a Waldur. `make schema-contract` turns it into the
// committed SDL (schema/contract.graphql) with graphql-inspector, and CI
// compares the two.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/99designs/gqlgen/graphql/introspection"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/upstream"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "introspect:", err)
		os.Exit(1)
	}
}

func run() error {
	// Introspection never calls Waldur; the client only has to exist.
	waldur, err := upstream.New("http://127.0.0.1:1")
	if err != nil {
		return err
	}
	handler := httpapi.New(httpapi.Config{Waldur: waldur, Introspection: true})
	body, err := json.Marshal(map[string]string{"query": introspection.Query})
	if err != nil {
		return err
	}
	req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	var answer struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || rec.Code != http.StatusOK || len(answer.Errors) > 0 {
		return fmt.Errorf("the introspection query was answered %d: %s", rec.Code, rec.Body.Bytes())
	}
	var out bytes.Buffer
	if err := json.Indent(&out, answer.Data, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = os.Stdout.Write(out.Bytes())
	return err
}
