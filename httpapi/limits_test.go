package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/upstream"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// newCountingGateway serves the real handler built from a Config that mutate
// may customise (limits, CORS, introspection, APQ), in front of the shared demo
// dataset, with the staff token as default. It also returns the number of
// requests that reached the fake Waldur.
func newCountingGateway(t *testing.T, mutate func(*httpapi.Config)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	calls := &atomic.Int64{}
	fake := fakewaldur.New(demo())
	waldur := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(waldur.Close)
	client, err := upstream.New(waldur.URL,
		upstream.WithDefaultToken(fakewaldur.DemoStaffToken),
		upstream.WithObserver(httpapi.ObserveUpstream))
	if err != nil {
		t.Fatalf("upstream.New: %v", err)
	}
	cfg := httpapi.Config{Waldur: client, Version: "test"}
	if mutate != nil {
		mutate(&cfg)
	}
	gw := httptest.NewServer(httpapi.New(cfg))
	t.Cleanup(gw.Close)
	return gw, calls
}

// newConfiguredGateway is newCountingGateway without the count.
func newConfiguredGateway(t *testing.T, mutate func(*httpapi.Config)) *httptest.Server {
	t.Helper()
	gw, _ := newCountingGateway(t, mutate)
	return gw
}

func withLimits(l httpapi.Limits) func(*httpapi.Config) {
	return func(c *httpapi.Config) { c.Limits = l }
}

// gwReply is one HTTP answer of the gateway, with its top-level JSON keys kept
// so that the absence of "data" can be told from "data": null.
type gwReply struct {
	Status int
	Header http.Header
	Body   []byte
	Keys   map[string]json.RawMessage
	Data   json.RawMessage
	Errors []gqlError
}

func (r gwReply) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func (r gwReply) hasData() bool {
	_, ok := r.Keys["data"]
	return ok
}

func (r gwReply) String() string { return fmt.Sprintf("status %d: %s", r.Status, r.Body) }

// gwSend sends req and decodes the answer, which must be a JSON object.
func gwSend(t *testing.T, req *http.Request) gwReply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("gateway request: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read gateway answer: %v", err)
	}
	out := gwReply{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if err := json.Unmarshal(raw, &out.Keys); err != nil {
		t.Fatalf("gateway answer is not a JSON object (status %d): %q", resp.StatusCode, raw)
	}
	out.Data = out.Keys["data"]
	if e, ok := out.Keys["errors"]; ok {
		if err := json.Unmarshal(e, &out.Errors); err != nil {
			t.Fatalf("errors is not a list of errors: %s", e)
		}
	}
	return out
}

// gwPost POSTs a raw body as application/json with the given Accept ("" for none).
func gwPost(t *testing.T, base, accept, body string) gwReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return gwSend(t, req)
}

// gwQuery POSTs a query with variables, without Accept (application/json answers).
func gwQuery(t *testing.T, base, query string, vars map[string]any) gwReply {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return gwPost(t, base, "", string(body))
}

// wantData fails unless r is a 200 with data and no errors.
func wantData(t *testing.T, r gwReply) {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 || !r.hasData() || string(r.Data) == "null" {
		t.Fatalf("want data without errors, got %s", r)
	}
}

// wantRefused fails unless r is a request error (no data entry) with one error
// of the code whose message contains every part.
func wantRefused(t *testing.T, r gwReply, status int, code string, parts ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if r.hasData() {
		t.Errorf("a refused request must have no data entry: %s", r.Body)
	}
	if len(r.Errors) != 1 {
		t.Fatalf("want exactly one error, got %s", r.Body)
	}
	if r.code() != code {
		t.Errorf("code %q, want %q: %s", r.code(), code, r.Body)
	}
	for _, p := range parts {
		if !strings.Contains(r.Errors[0].Message, p) {
			t.Errorf("message %q does not contain %q", r.Errors[0].Message, p)
		}
	}
}

const (
	depth3Query = `{ customerQuotas(quotaName: "os_storage_size", first: 2) { edges { cursor } } }`
	depth4Query = `{ customerQuotas(quotaName: "os_storage_size", first: 2) { edges { node { value } } } }`
)

func TestMaxDepth(t *testing.T) {
	gw, calls := newCountingGateway(t, withLimits(httpapi.Limits{MaxDepth: 3}))
	inside := map[string]string{
		"plain": depth3Query,
		"fragments": `{ customerQuotas(quotaName: "os_storage_size", first: 2) {
			... on CustomerQuotaConnection { pageInfo { ...P } } totalCount } }
			fragment P on PageInfo { hasNextPage endCursor }`,
		"typename at 3": `{ customerQuotas(quotaName: "os_storage_size", first: 2) { edges { __typename } } }`,
	}
	for name, q := range inside {
		t.Run("inside/"+name, func(t *testing.T) { wantData(t, gwQuery(t, gw.URL, q, nil)) })
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
			calls.Store(0)
			wantRefused(t, gwQuery(t, gw.URL, q, nil), http.StatusOK, "DEPTH_LIMIT_EXCEEDED",
				"4 levels deep", "limit is 3")
			if n := calls.Load(); n != 0 {
				t.Errorf("a refused query made %d upstream requests", n)
			}
		})
	}
	t.Run("graphql-response+json answers 400", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"query": depth4Query})
		wantRefused(t, gwPost(t, gw.URL, "application/graphql-response+json", string(body)),
			http.StatusBadRequest, "DEPTH_LIMIT_EXCEEDED")
	})
	t.Run("the schema's deepest query passes at 4", func(t *testing.T) {
		gw4 := newConfiguredGateway(t, withLimits(httpapi.Limits{MaxDepth: 4}))
		wantData(t, gwQuery(t, gw4.URL, depth4Query, nil))
	})
	t.Run("introspection is not counted", func(t *testing.T) {
		gw1 := newConfiguredGateway(t, func(c *httpapi.Config) {
			c.Introspection = true
			c.Limits = httpapi.Limits{MaxDepth: 1}
		})
		r := gwQuery(t, gw1.URL, `{ __type(name: "CustomerQuotaConnection") { fields { name type { ofType { ofType { ofType { name } } } } } } }`, nil)
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
		gw := newConfiguredGateway(t, func(c *httpapi.Config) {
			c.Limits = cfg.limits
			c.Introspection = true
		})
		for name, q := range readmeQueries() {
			t.Run(cfg.name+"/"+name, func(t *testing.T) {
				vars := map[string]any{}
				if name == "page on" {
					vars["after"] = nil
				}
				r := gwQuery(t, gw.URL, q, vars)
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
			at, _ := newCountingGateway(t, withLimits(httpapi.Limits{MaxComplexity: c.cost}))
			wantData(t, gwQuery(t, at.URL, c.query, c.vars))

			below, calls := newCountingGateway(t, withLimits(httpapi.Limits{MaxComplexity: c.cost - 1}))
			wantRefused(t, gwQuery(t, below.URL, c.query, c.vars), http.StatusOK, "COMPLEXITY_LIMIT_EXCEEDED",
				fmt.Sprintf("complexity %d", c.cost), fmt.Sprintf("limit of %d", c.cost-1))
			if n := calls.Load(); n != 0 {
				t.Errorf("a refused query made %d upstream requests", n)
			}
		})
	}
}

func TestMaxAliases(t *testing.T) {
	// x is one alias; F's t is aliased and F is spread twice: 3 in all. Fields
	// named as themselves ("totalCount: totalCount") are not aliases.
	const query = `{ customerQuotas(quotaName: "os_storage_size", first: 1) { ...F totalCount: totalCount }
		x: customerQuotas(quotaName: "os_cpu_count", first: 1) { ...F } }
		fragment F on CustomerQuotaConnection { t: totalCount }`
	at := newConfiguredGateway(t, withLimits(httpapi.Limits{MaxAliases: 3}))
	r := gwQuery(t, at.URL, query, nil)
	wantData(t, r)
	if !strings.Contains(string(r.Data), `"x":{"t":`) {
		t.Errorf("aliases not answered: %s", r.Data)
	}

	below, calls := newCountingGateway(t, withLimits(httpapi.Limits{MaxAliases: 2}))
	wantRefused(t, gwQuery(t, below.URL, query, nil), http.StatusOK, "ALIAS_LIMIT_EXCEEDED",
		"3 aliased fields", "limit is 2")
	if n := calls.Load(); n != 0 {
		t.Errorf("a refused query made %d upstream requests", n)
	}

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
	open := newConfiguredGateway(t, func(c *httpapi.Config) {
		c.Limits, c.Introspection = httpapi.Limits{MaxAliases: 2}, true
	})
	wantData(t, gwQuery(t, open.URL, introspect(2), nil))
	wantRefused(t, gwQuery(t, open.URL, introspect(3), nil), http.StatusOK, "ALIAS_LIMIT_EXCEEDED",
		"3 aliased fields", "limit is 2")
}

func TestMaxTokens(t *testing.T) {
	// { customerQuotas ( quotaName : "os_storage_size" first : 1 ) { totalCount } }
	// is 14 tokens (commas are insignificant, like whitespace).
	const query = `{ customerQuotas(quotaName: "os_storage_size", first: 1) { totalCount } }`
	at := newConfiguredGateway(t, withLimits(httpapi.Limits{MaxTokens: 14}))
	wantData(t, gwQuery(t, at.URL, query, nil))

	below, calls := newCountingGateway(t, withLimits(httpapi.Limits{MaxTokens: 13}))
	wantRefused(t, gwQuery(t, below.URL, query, nil), http.StatusOK, "TOKEN_LIMIT_EXCEEDED", "token limit of 13")
	if n := calls.Load(); n != 0 {
		t.Errorf("a refused query made %d upstream requests", n)
	}
	// Commas and whitespace cost nothing.
	wantData(t, gwQuery(t, at.URL, `{,,, customerQuotas(quotaName: "os_storage_size",,,, first: 1) {   totalCount ,} }`, nil))
}

func TestMaxBodyBytes(t *testing.T) {
	const limit = 300
	gw, calls := newCountingGateway(t, withLimits(httpapi.Limits{MaxBodyBytes: limit}))
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
	wantData(t, gwPost(t, gw.URL, "", body(limit)))
	calls.Store(0)
	for _, accept := range []string{"", "application/graphql-response+json"} {
		r := gwPost(t, gw.URL, accept, body(limit+1))
		wantRefused(t, r, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", fmt.Sprint(limit))
	}
	// Far beyond: refused without reading it all.
	r := gwPost(t, gw.URL, "", body(limit*1000))
	wantRefused(t, r, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE")
	if n := calls.Load(); n != 0 {
		t.Errorf("refused bodies made %d upstream requests", n)
	}
	// GET: the same limit holds for the query string, answered 414.
	get := func(size int) *http.Request {
		prefix := "query=" + url.PathEscape(`{ customerQuotas(quotaName: "os_storage_size", first: 1) { totalCount } }`)
		raw := prefix + strings.Repeat("%20", (size-len(prefix))/3) + strings.Repeat("+", (size-len(prefix))%3)
		if len(raw) != size {
			t.Fatalf("query string of %d bytes, want %d", len(raw), size)
		}
		req, _ := http.NewRequest(http.MethodGet, gw.URL+"/query?"+raw, nil)
		return req
	}
	wantData(t, gwSend(t, get(limit)))
	calls.Store(0)
	wantRefused(t, gwSend(t, get(limit+1)), http.StatusRequestURITooLong, "REQUEST_TOO_LARGE", fmt.Sprint(limit), "POST")
	wantRefused(t, gwSend(t, get(limit*100)), http.StatusRequestURITooLong, "REQUEST_TOO_LARGE")
	if n := calls.Load(); n != 0 {
		t.Errorf("refused query strings made %d upstream requests", n)
	}
}

func TestIntrospectionSwitch(t *testing.T) {
	const schemaQuery = `{ __schema { types { name } } }`
	const typeQuery = `{ __type(name: "PageInfo") { name } }`
	const sdlQuery = `{ _service { sdl } }`

	t.Run("on", func(t *testing.T) {
		gw := newConfiguredGateway(t, func(c *httpapi.Config) { c.Introspection = true })
		r := gwQuery(t, gw.URL, schemaQuery, nil)
		wantData(t, r)
		if !strings.Contains(string(r.Data), `"CustomerQuotaConnection"`) {
			t.Errorf("__schema lacks the schema's types: %s", r.Data)
		}
		r = gwQuery(t, gw.URL, sdlQuery, nil)
		wantData(t, r)
		for _, s := range []string{"@shareable", "customerQuotas"} {
			if !strings.Contains(string(r.Data), s) {
				t.Errorf("SDL lacks %q: %s", s, r.Data)
			}
		}
	})

	t.Run("off refuses __schema and __type", func(t *testing.T) {
		gw, calls := newCountingGateway(t, func(c *httpapi.Config) { c.Introspection = false })
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
				r := gwPost(t, gw.URL, accept, string(body))
				wantRefused(t, r, status, "INTROSPECTION_DISABLED", "introspection is disabled")
			}
		}
		if n := calls.Load(); n != 0 {
			t.Errorf("refused introspection made %d upstream requests", n)
		}
		// __typename is not introspection of the schema.
		r := gwQuery(t, gw.URL, `{ __typename customerQuotas(quotaName: "os_storage_size", first: 1) { __typename } }`, nil)
		wantData(t, r)
	})

	t.Run("off keeps _service sdl", func(t *testing.T) {
		gw := newConfiguredGateway(t, func(c *httpapi.Config) { c.Introspection = false })
		r := gwQuery(t, gw.URL, sdlQuery, nil)
		wantData(t, r)
		for _, s := range []string{"@shareable", "customerQuotas"} {
			if !strings.Contains(string(r.Data), s) {
				t.Errorf("SDL lacks %q: %s", s, r.Data)
			}
		}
	})
}
