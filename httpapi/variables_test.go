package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const variablesQuery = `query V($q: String!, $o: CustomerQuotaOrderField, $f: Int) {
  customerQuotas(quotaName: $q, orderBy: $o, first: $f) { totalCount nodes { customerName } }
}`

const booleanQuery = `query B($b: Boolean!) { __typename @include(if: $b) }`

// Variables are coerced as the GraphQL spec's Input Coercion says: an Int is a
// JSON number that is whole (5.0 and 5e0 are 5) and fits in 32 bits, a String
// is a JSON string, an enum is one of its values spelled exactly.
func TestVariablesCoercedBySpec(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	for _, c := range []struct {
		name  string
		vars  map[string]any
		nodes int
	}{
		{"Int 5", map[string]any{"f": 5}, 5},
		{"Int 5.0", map[string]any{"f": json.Number("5.0")}, 5},
		{"Int 5e0", map[string]any{"f": json.Number("5e0")}, 5},
		{"Int 0.5e1", map[string]any{"f": json.Number("0.5e1")}, 5},
		{"Int -0", map[string]any{"f": json.Number("-0")}, 0},
		{"Int null", map[string]any{"f": nil}, 10},
		{"Int left out", map[string]any{}, 10},
		{"enum", map[string]any{"o": "NAME", "f": 3}, 3},
		{"enum null", map[string]any{"o": nil, "f": 3}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.vars["q"] = "os_storage_size"
			r := h.post("", variablesQuery, c.vars)
			if r.Status != http.StatusOK || len(r.Errors) != 0 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			var data struct {
				CustomerQuotas connection `json:"customerQuotas"`
			}
			if err := json.Unmarshal(r.Data, &data); err != nil || len(data.CustomerQuotas.Nodes) != c.nodes {
				t.Errorf("want %d nodes: %s (%v)", c.nodes, r.Data, err)
			}
		})
	}
	// Within 32 bits but beyond what the field accepts: coerced, then refused
	// by the resolver as a field error.
	r := h.post("", variablesQuery, map[string]any{"q": "os_storage_size", "f": 2147483647})
	if !r.hasData() || r.code() != "BAD_USER_INPUT" {
		t.Errorf("2147483647: want BAD_USER_INPUT from the resolver, got %s", r.Body)
	}
}

// A value that does not coerce is a request error, before anything runs: no
// data entry, GRAPHQL_VALIDATION_FAILED as for every other bad variable
// (gqlparser's own refusals carry it), the statuses of a document error, and a
// message that names the variable and the value given.
func TestVariablesThatDoNotCoerce(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	type refusal struct {
		name  string
		query string
		vars  map[string]any
		want  []string // in the message
	}
	base := func(extra map[string]any) map[string]any {
		v := map[string]any{"q": "os_storage_size"}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	cases := []refusal{
		{"Int 5.5", variablesQuery, base(map[string]any{"f": 5.5}), []string{"$f", "5.5", "Int"}},
		{"Int 0.15e1", variablesQuery, base(map[string]any{"f": json.Number("0.15e1")}), []string{"$f", "0.15e1"}},
		{"Int as a string", variablesQuery, base(map[string]any{"f": "5"}), []string{"$f", `"5"`, "Int"}},
		{"Int true", variablesQuery, base(map[string]any{"f": true}), []string{"$f", "true", "Int"}},
		{"Int 2^31", variablesQuery, base(map[string]any{"f": 2147483648}), []string{"$f", "2147483648", "Int"}},
		{"Int -2^31-1", variablesQuery, base(map[string]any{"f": -2147483649}), []string{"$f", "-2147483649"}},
		{"Int beyond int64", variablesQuery, base(map[string]any{"f": json.Number("99999999999999999999")}), []string{"$f", "99999999999999999999"}},
		{"Int 1e30", variablesQuery, base(map[string]any{"f": json.Number("1e30")}), []string{"$f", "1e30"}},
		{"Int as a list", variablesQuery, base(map[string]any{"f": []any{5}}), []string{"$f", "[5]"}},
		{"Int as an object", variablesQuery, base(map[string]any{"f": map[string]any{"n": 5}}), []string{"$f", `{"n":5}`}},
		{"String as a number", variablesQuery, map[string]any{"q": 5}, []string{"$q", "5", "String"}},
		{"String as a boolean", variablesQuery, map[string]any{"q": true}, []string{"$q", "true", "String"}},
		{"non-null String null", variablesQuery, map[string]any{"q": nil}, []string{"$q", "null"}},
		{"non-null String left out", variablesQuery, map[string]any{}, []string{"$q"}},
		{"enum unknown", variablesQuery, base(map[string]any{"o": "PRICE"}), []string{"$o", `"PRICE"`, "VALUE", "NAME"}},
		{"enum in lower case", variablesQuery, base(map[string]any{"o": "name"}), []string{"$o", `"name"`}},
		{"enum as a number", variablesQuery, base(map[string]any{"o": 1}), []string{"$o", "1"}},
		{"Boolean as a string", booleanQuery, map[string]any{"b": "true"}, []string{"$b", `"true"`, "Boolean"}},
		{"Boolean as a number", booleanQuery, map[string]any{"b": 1}, []string{"$b", "1", "Boolean"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for accept, status := range map[string]int{mediaGQL: http.StatusBadRequest, mediaJSON: http.StatusOK} {
				r := h.postJSON(accept, map[string]any{"query": c.query, "variables": c.vars})
				wantVariableRefused(t, accept, status, r, c.want)
			}
			if calls := h.takeCalls(); len(calls) != 0 {
				t.Errorf("a bad variable reached Waldur: %+v", calls)
			}
		})
	}
	t.Run("over GET", func(t *testing.T) {
		req := h.request(http.MethodGet, "/query?"+url.Values{
			"query": {variablesQuery}, "variables": {`{"q": "os_storage_size", "f": "5"}`},
		}.Encode(), "")
		wantVariableRefused(t, "", http.StatusOK, h.do(req), []string{"$f", `"5"`})
	})
	t.Run("a long value is shortened", func(t *testing.T) {
		r := h.post("", variablesQuery, map[string]any{"q": strings.Repeat("x", 10000), "f": strings.Repeat("7", 10000)})
		if len(r.Errors) != 1 || len(r.Errors[0].Message) > 300 {
			t.Errorf("message of %d bytes: %.400s", len(r.Body), r.Body)
		}
	})
}

func wantVariableRefused(t *testing.T, accept string, status int, r gqlResponse, want []string) {
	t.Helper()
	if r.Status != status || r.hasData() || len(r.Errors) != 1 || r.code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("Accept %s: want one GRAPHQL_VALIDATION_FAILED with status %d and no data, got %d: %s", accept, status, r.Status, r.Body)
		return
	}
	for _, w := range want {
		if !strings.Contains(r.Errors[0].Message, w) {
			t.Errorf("message %q lacks %s", r.Errors[0].Message, w)
		}
	}
}

// Literals in the document are checked by validation already (an Int literal
// is integer text), so the two ways of passing an Int agree on its type.
func TestIntLiteralsAgreeWithVariables(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	for _, lit := range []string{"5.0", "5e0", `"5"`, "99999999999999999999"} {
		r := h.post("", `{ customerQuotas(quotaName: "os_storage_size", first: `+lit+`) { totalCount } }`, nil)
		if r.hasData() || r.code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("first: %s: %s", lit, r.Body)
		}
	}
	if calls := h.takeCalls(); len(calls) != 0 {
		t.Errorf("a bad literal reached Waldur: %+v", calls)
	}
}

// A number too large for a float64 (1e400) is whole, only out of range: the
// refusal must say so, not that an Int is a whole number.
func TestHugeIntVariableIsReportedOutOfRange(t *testing.T) {
	h := newHarness(t)
	for _, v := range []string{"1e400", "-1e400"} {
		resp := h.postRaw(mediaJSON, `{"query": "query($f: Int) { customerQuotas(quotaName: \"x\", first: $f) { totalCount } }", "variables": {"f": `+v+`}}`)
		wantRefused(t, resp, http.StatusOK, "GRAPHQL_VALIDATION_FAILED", "$f", v, "from -2147483648 to 2147483647")
	}
	h.wantNoUpstreamCalls(t, "a refused variable")
}
