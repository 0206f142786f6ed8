package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/waldur-quotas/gateway/httpapi"
)

func withLimits(l httpapi.Limits) harnessOption {
	return withConfig(func(c *httpapi.Config) { c.Limits = l })
}

const (
	depth3Query = `{ customerQuotas(quotaName: "os_storage_size", first: 2) { edges { cursor } } }`
	depth4Query = `{ customerQuotas(quotaName: "os_storage_size", first: 2) { edges { node { value } } } }`
)

func TestMaxDepth(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff), withLimits(httpapi.Limits{MaxDepth: 3}))
	inside := map[string]string{
		"plain": depth3Query,
		"fragments": `{ customerQuotas(quotaName: "os_storage_size", first: 2) {
			... on CustomerQuotaConnection { pageInfo { ...P } } totalCount } }
			fragment P on PageInfo { hasNextPage endCursor }`,
		"typename at 3": `{ customerQuotas(quotaName: "os_storage_size", first: 2) { edges { __typename } } }`,
	}
	for name, q := range inside {
		t.Run("inside/"+name, func(t *testing.T) { wantData(t, h.post("", q, nil)) })
	}
	outside := map[string]string{
		"plain": depth4Query,
		"named fragment": `query { customerQuotas(quotaName: "os_storage_size", first: 2) { ...C } }
			fragment C on CustomerQuotaConnection { edges { node { value } } }`,
		"nested fragments": `query { customerQuotas(quotaName: "os_storage_size", first: 2) { ...C } }
			fragment C on CustomerQuotaConnection { edges { ...E } }
			fragment E on CustomerQuotaEdge { node { value } }`,
		"inline fragments": `{ customerQuotas(quotaName: "os_storage_size", first: 2) {
			... on CustomerQuotaConnection { edges { ... { node { ... on CustomerQuota { value } } } } } } }`,
		"typename at 4": `{ customerQuotas(quotaName: "os_storage_size", first: 2) { edges { node { __typename } } } }`,
	}
	for name, q := range outside {
		t.Run("outside/"+name, func(t *testing.T) {
			h.takeCalls()
			wantRefused(t, h.post("", q, nil), http.StatusOK, "DEPTH_LIMIT_EXCEEDED",
				"4 levels deep", "limit is 3")
			h.wantNoUpstreamCalls(t, "a refused query")
		})
	}
	t.Run("graphql-response+json answers 400", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"query": depth4Query})
		wantRefused(t, h.postRaw(mediaGQL, string(body)),
			http.StatusBadRequest, "DEPTH_LIMIT_EXCEEDED")
	})
	t.Run("the schema's deepest query passes at 4", func(t *testing.T) {
		h4 := newHarness(t, withDefaultToken(demoStaff), withLimits(httpapi.Limits{MaxDepth: 4}))
		wantData(t, h4.post("", depth4Query, nil))
	})
	t.Run("introspection is not counted", func(t *testing.T) {
		h1 := newHarness(t, withDefaultToken(demoStaff), withConfig(func(c *httpapi.Config) {
			c.Introspection = true
			c.Limits = httpapi.Limits{MaxDepth: 1}
		}))
		r := h1.post("", `{ __type(name: "CustomerQuotaConnection") { fields { name type { ofType { ofType { ofType { name } } } } } } }`, nil)
		wantData(t, r)
		if !strings.Contains(string(r.Data), `"CustomerQuotaEdge"`) {
			t.Errorf("introspection answer lacks CustomerQuotaEdge: %s", r.Data)
		}
	})
}

// graphiqlIntrospectionQuery is getIntrospectionQuery() of graphql 16.15.0 with
// its default options, as the playground's GraphiQL sends it.
const graphiqlIntrospectionQuery = `
    query IntrospectionQuery {
      __schema {
        queryType { name kind }
        mutationType { name kind }
        subscriptionType { name kind }
        types {
          ...FullType
        }
        directives {
          name
          description
          locations
          args {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      description
      fields(includeDeprecated: true) {
        name
        description
        args {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        name
        kind
        ofType {
          name
          kind
          ofType {
            name
            kind
            ofType {
              name
              kind
              ofType {
                name
                kind
                ofType {
                  name
                  kind
                  ofType {
                    name
                    kind
                    ofType {
                      name
                      kind
                      ofType {
                        name
                        kind
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  `

// readmeQueries are the README's queries (the curl example, paging on and
// back as it describes) and queries asking for every field of the README's
// schema at the largest page size.
func readmeQueries() map[string]string {
	return map[string]string{
		"curl":              `{ customerQuotas(quotaName: "os_storage_size", first: 3) { totalCount pageInfo { hasNextPage endCursor } nodes { customerName customerAbbreviation value } } }`,
		"page on":           `query($after: String) { customerQuotas(quotaName: "os_storage_size", first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { customerName customerAbbreviation value } } }`,
		"back from the end": `{ customerQuotas(quotaName: "os_storage_size", last: 3) { totalCount pageInfo { hasPreviousPage startCursor } nodes { customerName customerAbbreviation value } } }`,
		"whole schema, first 100": `query All($q: String! = "os_storage_size", $o: CustomerQuotaOrderField = NAME) {
			customerQuotas(quotaName: $q, orderBy: $o, first: 100) {
				edges { cursor node { customerName customerAbbreviation value } }
				nodes { customerName customerAbbreviation value }
				pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
				totalCount } }`,
		"whole schema, last 100": `{ customerQuotas(quotaName: "estimated_price", orderBy: VALUE, last: 100) {
				edges { cursor node { customerName customerAbbreviation value } }
				nodes { customerName customerAbbreviation value }
				pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
				totalCount } }`,
		"harness connection query": strings.ReplaceAll(connectionQuery, "$q: String!", `$q: String! = "vpc_ram_size"`),
		"graphiql introspection":   graphiqlIntrospectionQuery,
		"federation sdl":           `{ _service { sdl } }`,
	}
}

func TestDefaultLimitsLetReadmeQueriesAndIntrospectionThrough(t *testing.T) {
	if got := httpapi.DefaultLimits(); got.MaxDepth < 4 || got.MaxComplexity <= 0 || got.MaxAliases <= 0 ||
		got.MaxTokens <= 0 || got.MaxBodyBytes <= 0 {
		t.Fatalf("DefaultLimits %+v", got)
	}
	// Limits left zero take the defaults; setting them explicitly must be the same.
	for _, cfg := range []struct {
		name   string
		limits httpapi.Limits
	}{{"zero limits", httpapi.Limits{}}, {"DefaultLimits", httpapi.DefaultLimits()}} {
		h := newHarness(t, withDefaultToken(demoStaff), withConfig(func(c *httpapi.Config) {
			c.Limits = cfg.limits
			c.Introspection = true
		}))
		for name, q := range readmeQueries() {
			t.Run(cfg.name+"/"+name, func(t *testing.T) {
				vars := map[string]any{}
				if name == "page on" {
					vars["after"] = nil
				}
				r := h.post("", q, vars)
				wantData(t, r)
				if name == "graphiql introspection" {
					var data struct {
						Schema struct {
							QueryType struct{ Name string } `json:"queryType"`
							Types     []struct{ Name string }
						} `json:"__schema"`
					}
					if err := json.Unmarshal(r.Data, &data); err != nil || data.Schema.QueryType.Name != "Query" || len(data.Schema.Types) < 10 {
						t.Errorf("introspection answer: %v %s", err, r.Data)
					}
				}
			})
		}
	}
}

// The complexity model (graph/complexity.go): customerQuotas costs
// 1 + rows × children; any other field 1 + its children.
func TestMaxComplexity(t *testing.T) {
	// children: totalCount 1 + pageInfo (1 + 2) + nodes (1 + 3) = 8; rows 3.
	const curl = `{ customerQuotas(quotaName: "os_storage_size", first: 3) { totalCount pageInfo { hasNextPage endCursor } nodes { customerName customerAbbreviation value } } }`
	const curlCost = 1 + 3*8
	// children: edges (1 + cursor 1 + node (1 + 1)) = 4; rows from $n = 7.
	const edges = `query($n: Int) { customerQuotas(quotaName: "os_storage_size", last: $n) { edges { cursor node { value } } } }`
	const edgesCost = 1 + 7*4
	// No first/last: the default page, 10 rows; two aliased fields add up, and
	// a fragment counts where it is spread: children totalCount 1 + nodes (1+2) = 4.
	const twoDefault = `{ a: customerQuotas(quotaName: "os_ram_size") { ...F } b: customerQuotas(quotaName: "os_ram_size", first: 0) { ...F } }
		fragment F on CustomerQuotaConnection { totalCount nodes { customerName value } }`
	const twoDefaultCost = (1 + 10*4) + (1 + 1*4) // first: 0 still costs one row

	for _, c := range []struct {
		name  string
		query string
		vars  map[string]any
		cost  int
	}{
		{"curl", curl, nil, curlCost},
		{"variables", edges, map[string]any{"n": 7}, edgesCost},
		{"default page and fragments", twoDefault, nil, twoDefaultCost},
	} {
		t.Run(c.name, func(t *testing.T) {
			at := newHarness(t, withDefaultToken(demoStaff), withLimits(httpapi.Limits{MaxComplexity: c.cost}))
			wantData(t, at.post("", c.query, c.vars))

			below := newHarness(t, withDefaultToken(demoStaff), withLimits(httpapi.Limits{MaxComplexity: c.cost - 1}))
			wantRefused(t, below.post("", c.query, c.vars), http.StatusOK, "COMPLEXITY_LIMIT_EXCEEDED",
				fmt.Sprintf("complexity %d", c.cost), fmt.Sprintf("limit of %d", c.cost-1))
			below.wantNoUpstreamCalls(t, "a refused query")
		})
	}
}

func TestMaxAliases(t *testing.T) {
	// x is one alias; F's t is aliased and F is spread twice: 3 in all. Fields
	// named as themselves ("totalCount: totalCount") are not aliases.
	const query = `{ customerQuotas(quotaName: "os_storage_size", first: 1) { ...F totalCount: totalCount }
		x: customerQuotas(quotaName: "os_cpu_count", first: 1) { ...F } }
		fragment F on CustomerQuotaConnection { t: totalCount }`
	at := newHarness(t, withDefaultToken(demoStaff), withLimits(httpapi.Limits{MaxAliases: 3}))
	r := at.post("", query, nil)
	wantData(t, r)
	if !strings.Contains(string(r.Data), `"x":{"t":`) {
		t.Errorf("aliases not answered: %s", r.Data)
	}

	below := newHarness(t, withDefaultToken(demoStaff), withLimits(httpapi.Limits{MaxAliases: 2}))
	wantRefused(t, below.post("", query, nil), http.StatusOK, "ALIAS_LIMIT_EXCEEDED",
		"3 aliased fields", "limit is 2")
	below.wantNoUpstreamCalls(t, "a refused query")

	// Aliases inside introspection count too: depth is not counted there, so
	// aliases are what stops one request from asking for the schema many times.
	introspect := func(n int) string {
		var b strings.Builder
		b.WriteString("{ __schema { ")
		for i := range n {
			fmt.Fprintf(&b, "t%d: types { name fields { name } } ", i)
		}
		b.WriteString("} }")
		return b.String()
	}
	open := newHarness(t, withDefaultToken(demoStaff), withConfig(func(c *httpapi.Config) {
		c.Limits, c.Introspection = httpapi.Limits{MaxAliases: 2}, true
	}))
	wantData(t, open.post("", introspect(2), nil))
	wantRefused(t, open.post("", introspect(3), nil), http.StatusOK, "ALIAS_LIMIT_EXCEEDED",
		"3 aliased fields", "limit is 2")
}

func TestMaxTokens(t *testing.T) {
	// { customerQuotas ( quotaName : "os_storage_size" first : 1 ) { totalCount } }
	// is 14 tokens (commas are insignificant, like whitespace).
	const query = `{ customerQuotas(quotaName: "os_storage_size", first: 1) { totalCount } }`
	at := newHarness(t, withDefaultToken(demoStaff), withLimits(httpapi.Limits{MaxTokens: 14}))
	wantData(t, at.post("", query, nil))

	below := newHarness(t, withDefaultToken(demoStaff), withLimits(httpapi.Limits{MaxTokens: 13}))
	wantRefused(t, below.post("", query, nil), http.StatusOK, "TOKEN_LIMIT_EXCEEDED", "token limit of 13")
	below.wantNoUpstreamCalls(t, "a refused query")
	// Commas and whitespace cost nothing.
	wantData(t, at.post("", `{,,, customerQuotas(quotaName: "os_storage_size",,,, first: 1) {   totalCount ,} }`, nil))
}

func TestMaxBodyBytes(t *testing.T) {
	const limit = 300
	h := newHarness(t, withDefaultToken(demoStaff), withLimits(httpapi.Limits{MaxBodyBytes: limit}))
	body := func(size int) string {
		head := `{"query": "{ customerQuotas(quotaName: \"os_storage_size\", first: 1) { totalCount } }"`
		pad := size - len(head) - 1
		if pad < 0 {
			t.Fatalf("size %d too small", size)
		}
		b := head + strings.Repeat(" ", pad) + "}"
		if len(b) != size {
			t.Fatalf("body of %d bytes, want %d", len(b), size)
		}
		return b
	}
	wantData(t, h.postRaw("", body(limit)))
	h.takeCalls()
	for _, accept := range []string{"", mediaGQL} {
		r := h.postRaw(accept, body(limit+1))
		wantRefused(t, r, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", fmt.Sprint(limit))
	}
	// Far beyond: refused without reading it all.
	r := h.postRaw("", body(limit*1000))
	wantRefused(t, r, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE")
	h.wantNoUpstreamCalls(t, "refused bodies")
	// GET: the same limit holds for the query string, answered 414.
	get := func(size int) *http.Request {
		prefix := "query=" + url.PathEscape(`{ customerQuotas(quotaName: "os_storage_size", first: 1) { totalCount } }`)
		raw := prefix + strings.Repeat("%20", (size-len(prefix))/3) + strings.Repeat("+", (size-len(prefix))%3)
		if len(raw) != size {
			t.Fatalf("query string of %d bytes, want %d", len(raw), size)
		}
		return h.request(http.MethodGet, "/query?"+raw, "")
	}
	wantData(t, h.do(get(limit)))
	h.takeCalls()
	wantRefused(t, h.do(get(limit+1)), http.StatusRequestURITooLong, "REQUEST_TOO_LARGE", fmt.Sprint(limit), "POST")
	wantRefused(t, h.do(get(limit*100)), http.StatusRequestURITooLong, "REQUEST_TOO_LARGE")
	h.wantNoUpstreamCalls(t, "refused query strings")
}

func TestIntrospectionSwitch(t *testing.T) {
	const schemaQuery = `{ __schema { types { name } } }`
	const typeQuery = `{ __type(name: "PageInfo") { name } }`
	const sdlQuery = `{ _service { sdl } }`

	t.Run("on", func(t *testing.T) {
		h := newHarness(t, withDefaultToken(demoStaff), withConfig(func(c *httpapi.Config) { c.Introspection = true }))
		r := h.post("", schemaQuery, nil)
		wantData(t, r)
		if !strings.Contains(string(r.Data), `"CustomerQuotaConnection"`) {
			t.Errorf("__schema lacks the schema's types: %s", r.Data)
		}
		r = h.post("", sdlQuery, nil)
		wantData(t, r)
		for _, s := range []string{"@shareable", "customerQuotas"} {
			if !strings.Contains(string(r.Data), s) {
				t.Errorf("SDL lacks %q: %s", s, r.Data)
			}
		}
	})

	t.Run("off refuses __schema and __type", func(t *testing.T) {
		h := newHarness(t, withDefaultToken(demoStaff), withConfig(func(c *httpapi.Config) { c.Introspection = false }))
		for _, q := range []string{
			schemaQuery,
			typeQuery,
			`query { ...I } fragment I on Query { __schema { queryType { name } } }`,
			`{ ... on Query { __type(name: "Query") { name } } }`,
			`{ customerQuotas(quotaName: "os_storage_size", first: 1) { totalCount } __schema { types { name } } }`,
		} {
			for _, accept := range []string{"", mediaGQL} {
				status := http.StatusOK
				if accept == mediaGQL {
					status = http.StatusBadRequest
				}
				body, _ := json.Marshal(map[string]any{"query": q})
				r := h.postRaw(accept, string(body))
				wantRefused(t, r, status, "INTROSPECTION_DISABLED", "introspection is disabled")
			}
		}
		h.wantNoUpstreamCalls(t, "refused introspection")
		// __typename is not introspection of the schema.
		r := h.post("", `{ __typename customerQuotas(quotaName: "os_storage_size", first: 1) { __typename } }`, nil)
		wantData(t, r)
	})

	t.Run("off keeps _service sdl", func(t *testing.T) {
		h := newHarness(t, withDefaultToken(demoStaff), withConfig(func(c *httpapi.Config) { c.Introspection = false }))
		r := h.post("", sdlQuery, nil)
		wantData(t, r)
		for _, s := range []string{"@shareable", "customerQuotas"} {
			if !strings.Contains(string(r.Data), s) {
				t.Errorf("SDL lacks %q: %s", s, r.Data)
			}
		}
	})
}
