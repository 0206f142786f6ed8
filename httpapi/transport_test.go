package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/waldur-quotas/gateway/httpapi"
)

// okQuery needs one upstream request and answers data.
const okQuery = `{ customerQuotas(quotaName: "os_storage_size", first: 2) { totalCount nodes { customerName value } } }`

func TestResponseMediaTypeFollowsAccept(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	okBody, _ := json.Marshal(map[string]any{"query": okQuery})
	for _, c := range []struct {
		accept string
		want   string
	}{
		{mediaGQL, mediaGQL},
		{mediaJSON, mediaJSON},
		{"*/*", mediaJSON},
		{"", mediaJSON},
		{"application/graphql-response+json, application/json;q=0.9", mediaGQL}, // Apollo Client
		{"application/json, application/graphql-response+json;q=0.5", mediaJSON},
		{"application/json;q=0.5, application/graphql-response+json", mediaGQL},
		{"text/html, application/xhtml+xml, */*;q=0.8", mediaJSON}, // a browser
		{"application/graphql-response+json;q=0", mediaJSON},       // refused: fall back
		{"application/json;q=0, application/graphql-response+json;q=0.1", mediaGQL},
	} {
		t.Run(c.accept, func(t *testing.T) {
			wantStatusOnError := http.StatusOK
			if c.want == mediaGQL {
				wantStatusOnError = http.StatusBadRequest
			}
			for _, r := range []struct {
				body   string
				status int
			}{{string(okBody), http.StatusOK}, {`{"query": "{"}`, wantStatusOnError}} {
				got := h.postRaw(c.accept, r.body)
				if ct := got.Header.Get("Content-Type"); ct != c.want+"; charset=utf-8" {
					t.Errorf("%s: Content-Type %q, want %q", r.body, ct, c.want+"; charset=utf-8")
				}
				if got.Status != r.status {
					t.Errorf("%s: status %d, want %d: %s", r.body, got.Status, r.status, got.Body)
				}
				if !strings.Contains(got.Header.Get("Vary"), "Accept") {
					t.Errorf("Vary %q lacks Accept", got.Header.Get("Vary"))
				}
			}
		})
	}
}

// requestErrorCase is a POST body that must be refused before execution.
// notGraphQL cases (the body is not a GraphQL request at all) answer 400 for
// every media type; documents that fail to parse or validate answer 400 with
// graphql-response+json and 200 with application/json.
type requestErrorCase struct {
	name, body, code, message string
	notGraphQL                bool
}

func requestErrorCases() []requestErrorCase {
	bad := func(name, body, message string) requestErrorCase {
		return requestErrorCase{name, body, "BAD_REQUEST", message, true}
	}
	doc := func(name, body, code, message string) requestErrorCase {
		return requestErrorCase{name, body, code, message, false}
	}
	cases := []requestErrorCase{
		bad("JSON parse failure", `{ "not a JSON`, "not a JSON object"),
		bad("body is an array", `[{"query": "{ __typename }"}]`, "not a JSON object"),
		bad("body is a string", `"{ __typename }"`, "not a JSON object"),
		bad("empty body", ``, "empty"),
		bad("blank body", " \n\t ", "empty"),
		bad("two JSON values", `{"query": "{ __typename }"} {"query": "{ __typename }"}`, "more than one JSON value"),
		bad("trailing garbage", `{"query": "{ __typename }"} x`, "more than one JSON value"),
		bad("missing query", `{}`, "no query"),
		bad("null query", `{"query": null}`, "no query"),
		bad("empty query", `{"query": ""}`, "no query"),
		bad("null body", `null`, "no query"),
		doc("blank query", `{"query": "  "}`, "GRAPHQL_VALIDATION_FAILED", "no operation"),
		doc("document parse failure", `{"query": "{"}`, "GRAPHQL_PARSE_FAILED", "Expected Name"),
		doc("validation failure", `{"query": "{ nope }"}`, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "nope"`),
		doc("unknown operationName", `{"query": "query A { __typename }", "operationName": "B"}`, "GRAPHQL_VALIDATION_FAILED", "operation B not found"),
		doc("variable of the wrong type", `{"query": "query($n: Int) { customerQuotas(quotaName: \"x\", first: $n) { totalCount } }", "variables": {"n": "ten"}}`, "GRAPHQL_VALIDATION_FAILED", "Int"),
		doc("missing required variable", `{"query": "query($q: String!) { customerQuotas(quotaName: $q) { totalCount } }"}`, "GRAPHQL_VALIDATION_FAILED", "must be defined"),
	}
	for _, v := range []string{`{"a": 1}`, `0`, `false`, `["{ __typename }"]`} {
		cases = append(cases, bad("query "+v, `{"query": `+v+`}`, "query must be a string"))
	}
	for _, v := range []string{`1`, `{}`, `true`, `["A"]`} {
		cases = append(cases, bad("operationName "+v, `{"query": "query A { __typename }", "operationName": `+v+`}`,
			"operationName must be a string"))
	}
	for _, p := range []string{"variables", "extensions"} {
		for _, v := range []string{`"{}"`, `0`, `false`, `[]`, `[{}]`} {
			cases = append(cases, bad(p+" "+v, `{"query": "{ __typename }", "`+p+`": `+v+`}`, p+" must be a JSON object"))
		}
	}
	return cases
}

func TestRequestErrorsHaveNoData(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	for _, media := range []struct {
		accept    string
		docStatus int
	}{{mediaGQL, http.StatusBadRequest}, {mediaJSON, http.StatusOK}, {"", http.StatusOK}} {
		for _, c := range requestErrorCases() {
			t.Run(media.accept+"/"+c.name, func(t *testing.T) {
				status := media.docStatus
				if c.notGraphQL {
					status = http.StatusBadRequest
				}
				r := h.postRaw(media.accept, c.body)
				wantRefused(t, r, status, c.code, c.message)
				if got := r.Header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control %q", got)
				}
				want := mediaJSON
				if media.accept == mediaGQL {
					want = mediaGQL
				}
				if got := r.Header.Get("Content-Type"); got != want+"; charset=utf-8" {
					t.Errorf("Content-Type %q", got)
				}
			})
		}
	}
	h.wantNoUpstreamCalls(t, "refused requests")
}

// Strings in the body mean what JSON says, whether they hold escapes or not:
// plain ones are read without the decoder's second pass, and that shortcut
// must not change what an escape, or a byte that is not UTF-8, comes to.
func TestBodyStringsWithAndWithoutEscapes(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	const doc = `query A { a: __typename } query B { b: __typename }`
	for _, c := range []struct{ name, query, operation, want string }{
		{"plain", `"` + doc + `"`, `"B"`, `{"b":"Query"}`},
		{"escaped name", `"` + doc + `"`, `"\u0042"`, `{"b":"Query"}`},
		{"escaped query", `"query A { a: __typename }\nquery B { b: __typename \u007d"`, `"A"`, `{"a":"Query"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.postRaw(mediaJSON, `{"query": `+c.query+`, "operationName": `+c.operation+`}`)
			if r.Status != http.StatusOK || len(r.Errors) > 0 || string(r.Data) != c.want {
				t.Errorf("status %d, body %s; want data %s", r.Status, r.Body, c.want)
			}
		})
	}
	// A string with a byte that is not UTF-8 takes the decoder's path, and
	// the byte becomes U+FFFD, as encoding/json has it.
	r := h.postRaw(mediaJSON, `{"query": "`+doc+`", "operationName": "B`+"\xff"+`"}`)
	wantRefused(t, r, http.StatusOK, "GRAPHQL_VALIDATION_FAILED", "operation B\ufffd not found")
}

// The shortcut for body strings reads exactly what encoding/json reads, or
// leaves the string to it.
func FuzzPlainString(f *testing.F) {
	for _, s := range []string{``, `plain`, `{ a(q: \"x\") }`, `tab\there`, `back\\slash`, `\/`, `line\nbreak`,
		`\b\f\r`, `é ü 😀`, `\u00e9`, `\ud83d\ude00`, `\ud800`, `\u0000`, `\"\\\/`, `a\"`} {
		f.Add(`"` + s + `"`)
	}
	f.Add("\"\xff\"")
	f.Add(`"a\"`)
	f.Add(`12`)
	f.Fuzz(func(t *testing.T, raw string) {
		var want string
		if json.Unmarshal([]byte(raw), &want) != nil {
			return // not a JSON string: the body's decoder refuses it first
		}
		got, ok := httpapi.PlainString(json.RawMessage(raw))
		if ok && got != want {
			t.Errorf("%q: %q, encoding/json says %q", raw, got, want)
		}
		if !ok && !strings.Contains(raw, `\u`) && utf8.ValidString(raw) && raw[0] == '"' && raw[len(raw)-1] == '"' {
			t.Errorf("%q left to the decoder", raw)
		}
	})
}

// A body followed by a closing bracket is not one JSON value either.
func TestTrailingBracketAfterBodyRefused(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	for _, body := range []string{`{"query": "{ __typename }"}}`, `{"query": "{ __typename }"}]`} {
		r := h.postRaw(mediaGQL, body)
		if r.Status == http.StatusOK && len(r.Errors) == 0 {
			t.Fatalf("httpapi/transport.go readParams accepts the malformed body %q (json.Decoder.More is false "+
				"before a '}' or ']', so trailing data is not seen); want 400 BAD_REQUEST, got %s", body, r)
		}
		wantRefused(t, r, http.StatusBadRequest, "BAD_REQUEST")
	}
}

func TestNullParametersAreAllowed(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	for _, body := range []string{
		`{"query": "{ __typename }", "variables": null, "operationName": null, "extensions": null}`,
		`{"query": "{ __typename }", "variables": {}, "extensions": {}}`,
		`{"query": "query A { __typename } query B { customerQuotas(quotaName: \"x\") { totalCount } }", "operationName": "A", "variables": null}`,
	} {
		for _, accept := range []string{mediaGQL, mediaJSON} {
			r := h.postRaw(accept, body)
			wantData(t, r)
			if string(r.Data) != `{"__typename":"Query"}` {
				t.Errorf("%s: data %s", body, r.Data)
			}
		}
	}
}

func TestContentTypeOfPost(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	body := `{"query": "{ __typename }"}`
	for _, ct := range []string{"", "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/graphql", "nonsense/"} {
		for _, accept := range []string{mediaGQL, mediaJSON} {
			req := h.request(http.MethodPost, "/query", body)
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			req.Header.Set("Accept", accept)
			r := h.do(req)
			wantRefused(t, r, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "application/json")
			if got := r.Header.Get("Content-Type"); got != accept+"; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			if got := r.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
		}
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
		req := h.request(http.MethodPost, "/query", body)
		req.Header.Set("Content-Type", ct)
		wantData(t, h.do(req))
	}
	h.wantNoUpstreamCalls(t, "requests of any Content-Type")
}

func TestGet(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	r := h.get(mediaGQL, url.Values{
		"query":         {`query Other { __typename } query Page($q: String!, $n: Int) { customerQuotas(quotaName: $q, first: $n) { totalCount nodes { customerName } } }`},
		"variables":     {`{"q": "os_storage_size", "n": 3}`},
		"operationName": {"Page"},
	})
	wantData(t, r)
	if c := r.customerQuotas(t); len(c.Nodes) != 3 || c.TotalCount != 300 {
		t.Errorf("GET data %s", r.Data)
	}
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != mediaGQL+"; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if n := len(h.takeCalls()); n != 1 {
		t.Errorf("%d upstream requests, want 1", n)
	}

	t.Run("bad variables", func(t *testing.T) {
		for _, v := range []string{`{bad`, `[]`, `0`, `"x"`} {
			for _, accept := range []string{mediaGQL, mediaJSON} {
				r := h.get(accept, url.Values{"query": {"{ __typename }"}, "variables": {v}})
				wantRefused(t, r, http.StatusBadRequest, "BAD_REQUEST", "variables must be a JSON object")
			}
		}
	})
	t.Run("no query", func(t *testing.T) {
		for _, accept := range []string{mediaGQL, mediaJSON} {
			wantRefused(t, h.get(accept, url.Values{}), http.StatusBadRequest, "BAD_REQUEST", "no query")
		}
	})
	t.Run("document errors follow the media type", func(t *testing.T) {
		wantRefused(t, h.get(mediaGQL, url.Values{"query": {"{ nope }"}}), http.StatusBadRequest, "GRAPHQL_VALIDATION_FAILED")
		wantRefused(t, h.get(mediaJSON, url.Values{"query": {"{ nope }"}}), http.StatusOK, "GRAPHQL_VALIDATION_FAILED")
	})
}

func TestGetMutationRefused(t *testing.T) {
	h := newHarness(t, withDefaultToken(demoStaff))
	params := url.Values{"query": {`mutation { customerQuotas(quotaName: "x") { totalCount } }`}}
	r := h.get(mediaGQL, params)
	if r.Status < 400 || r.Status > 499 || r.hasData() || len(r.Errors) != 1 {
		t.Errorf("graphql-response+json: want a 4xx without data, got %s", r)
	}
	h.wantNoUpstreamCalls(t, "a GET mutation")
	t.Run("application/json", func(t *testing.T) {
		r := h.get(mediaJSON, params)
		if r.hasData() || len(r.Errors) != 1 {
			t.Fatalf("want one error without data, got %s", r)
		}
		if r.Status < 400 || r.Status > 499 {
			t.Fatalf("GET with a mutation answers %d with application/json (the validation error's legacy 200); "+
				"GraphQL over HTTP says a GET mutation MUST be 405 whatever the media type. httpapi/transport.go's "+
				"405 branch is unreachable: the schema has no Mutation type, so CreateOperationContext fails first: %s", r.Status, r)
		}
	})
}

func TestFieldErrorIsExecutedWithDataNull(t *testing.T) {
	h := newHarness(t) // no default token; the caller sends none: Waldur answers 401
	for _, accept := range []string{mediaGQL, mediaJSON, ""} {
		body, _ := json.Marshal(map[string]any{"query": okQuery})
		r := h.postRaw(accept, string(body))
		if r.Status != http.StatusOK {
			t.Errorf("%q: status %d, want 200: %s", accept, r.Status, r.Body)
		}
		if !r.hasData() || string(r.Data) != "null" {
			t.Errorf("%q: want data null (execution happened), got %s", accept, r.Body)
		}
		if r.code() != "UNAUTHENTICATED" || len(r.Errors) != 1 {
			t.Errorf("%q: want one UNAUTHENTICATED error, got %s", accept, r.Body)
		} else if p := r.Errors[0].Path; len(p) != 1 || p[0] != "customerQuotas" {
			t.Errorf("%q: error path %v", accept, p)
		}
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control %q", got)
		}
		if calls := h.takeCalls(); len(calls) == 0 || calls[0].Authorization != "" {
			t.Errorf("%q: upstream calls %+v, want some without Authorization", accept, calls)
		}
	}
}

func TestHealthz(t *testing.T) {
	// Built without a Logger, as a caller of httpapi.New may: New supplies one.
	h := newHarness(t, withDefaultToken(demoStaff), withConfig(func(c *httpapi.Config) { c.Logger = nil }))
	r := h.do(h.request(http.MethodGet, "/healthz", ""))
	if r.Status != http.StatusOK {
		t.Errorf("status %d", r.Status)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var body map[string]string
	if err := json.Unmarshal(r.Body, &body); err != nil || body["status"] != "ok" || body["version"] != "test" {
		t.Errorf("body %s (%v)", r.Body, err)
	}
	h.wantNoUpstreamCalls(t, "the health check")
	if post := h.raw(h.request(http.MethodPost, "/healthz", "")); post.Status != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: %d, want 405", post.Status)
	}
}
