package trusted_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/waldur-quotas/gateway/graph"
	"github.com/waldur-quotas/gateway/trusted"
)

func schema() *ast.Schema { return graph.NewExecutableSchema(graph.Config{}).Schema() }

const total = `query Total { customerQuotas(quotaName: "os_ram_size") { totalCount } }`

func TestLoadBothFormats(t *testing.T) {
	apollo := `{"format":"apollo-persisted-query-manifest","version":1,"operations":[
		{"id":"a1","name":"Total","type":"query","body":` + quote(total) + `}]}`
	relay := `{"r1":` + quote(total) + `}`
	for format, text := range map[string]string{trusted.FormatApollo: apollo, trusted.FormatRelay: relay} {
		path := filepath.Join(t.TempDir(), "m.json")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := trusted.Load(path, schema())
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if l.Format() != format || l.Len() != 1 {
			t.Errorf("%s: format %q, %d operations", format, l.Format(), l.Len())
		}
		id := map[string]string{trusted.FormatApollo: "a1", trusted.FormatRelay: "r1"}[format]
		if d, ok := l.ByID(id); !ok || d.Body != total || d.Name != "Total" {
			t.Errorf("%s: ByID(%q) = %+v, %v", format, id, d, ok)
		}
		if _, ok := l.ByID("other"); ok {
			t.Errorf("%s: an unknown id was found", format)
		}
	}
}

func TestContainsIgnoresWhatTheGrammarIgnores(t *testing.T) {
	l, err := trusted.Parse([]byte(`{"r1":`+quote(total)+`}`), schema())
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]bool{
		total: true,
		"# a comment\nquery Total {\n  customerQuotas(quotaName: \"os_ram_size\",) {\n    totalCount\n  }\n}\n": true,
		`query Total { customerQuotas(quotaName: "os_ram_sizE") { totalCount } }`:                               false,
		`query Total { customerQuotas(quotaName: """os_ram_size""") { totalCount } }`:                           false,
		`query Total { customerQuotas(quotaName: "os_ram_size") { totalCount __typename } }`:                    false,
		`{{{`: false,
		"":    false,
	} {
		if got := l.Contains(text); got != want {
			t.Errorf("Contains(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestParseRefusesBadManifests(t *testing.T) {
	op := func(fields string) string {
		return `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{` + fields + `}]}`
	}
	for _, c := range []struct{ name, text, want string }{
		{"not JSON", `not json`, "not a JSON object"},
		{"an array", `[]`, "not a JSON object"},
		{"another format", `{"format":"other","version":1,"operations":[]}`, `format "other"`},
		{"version 2", `{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}`, "version 2"},
		{"empty", `{}`, "no operations"},
		{"relay value not text", `{"r1": 3}`, `id "r1"`},
		{"invalid against the schema", `{"r1":"{ nosuchfield }"}`, "does not validate"},
		{"not GraphQL", `{"r1":"{{{"}`, "does not validate"},
		{"two operations", `{"r1":"query A { __typename } query B { __typename }"}`, "exactly one operation"},
		{"name differs", op(`"id":"a","name":"Other","type":"query","body":` + quote(total)), `named "Total"`},
		{"type differs", op(`"id":"a","name":"Total","type":"mutation","body":` + quote(total)), "listed as a mutation"},
		{"no type", op(`"id":"a","name":"Total","body":` + quote(total)), "no type"},
		{"empty id", op(`"id":"","name":"Total","type":"query","body":` + quote(total)), "empty id"},
		{"id twice", `{"format":"apollo-persisted-query-manifest","version":1,"operations":[
			{"id":"a","name":"Total","type":"query","body":` + quote(total) + `},
			{"id":"a","name":"B","type":"query","body":"query B { __typename }"}]}`, "listed twice"},
	} {
		_, err := trusted.Parse([]byte(c.text), schema())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if _, err := trusted.Load(filepath.Join(t.TempDir(), "missing.json"), schema()); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("a missing file: %v", err)
	}
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
