package httpapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/waldur-quotas/gateway/graph"
)

// Media types of GraphQL over HTTP.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// graphQLOverHTTP is the gqlgen transport for GET and POST, written to the
// GraphQL-over-HTTP spec rather than gqlgen's defaults: a request that is not
// GraphQL (bad JSON, wrong parameter types, no query) answers 400; a document
// that fails to parse or validate answers 400 with
// application/graphql-response+json and 200 with application/json, as legacy
// clients expect; neither has a data entry.
// Bodies are capped; nothing is cached by intermediaries, since every answer
// depends on the caller's credentials.
type graphQLOverHTTP struct {
	maxBodyBytes int64
	documents    persistedDocuments
}

var _ graphql.Transport = graphQLOverHTTP{}

// Supports takes every request withGraphQLMethods lets through. An Upgrade
// header is ignored, as a server may: there is no other transport to take it.
func (graphQLOverHTTP) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodPost
}

// setAnswerHeaders sets the headers every answer of /query carries and returns
// the media type negotiated for it.
func setAnswerHeaders(w http.ResponseWriter, r *http.Request) string {
	media := negotiate(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Accept, Authorization")
	return media
}

func (t graphQLOverHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media := setAnswerHeaders(w, r)

	start := graphql.Now()
	params, status, err := t.readParams(r)
	if err != nil {
		// Not a GraphQL request at all: 400 whatever the media type, as the spec
		// advises; 413 and 415 say more where they apply.
		if status == 0 {
			status = http.StatusBadRequest
		}
		noteErrorCodes(r.Context(), gqlerror.List{err})
		writeRequestError(w, status, gqlerror.List{err})
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if opCtx.Operation != nil {
		// The document validated, so its variables are coerced next, as the
		// spec orders it: a refusal here replaces whatever gqlparser's laxer
		// coercion or the limits (which look at the operation later) said.
		if err := checkVariables(opCtx.Operation, params.Variables); err != nil {
			errs = gqlerror.List{err}
		}
	}
	if errs != nil && r.Method == http.MethodGet && isMutation(params.Query) {
		// The spec answers 405 to a mutation over GET whatever else is wrong
		// with it (here, that the schema has no mutations at all).
		refuseGETMutation(w, r)
		return
	}
	if errs != nil {
		relabelTokenLimit(errs)
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeRequestError(w, requestErrorStatus(media, resp.Errors), resp.Errors)
		return
	}
	if r.Method == http.MethodGet {
		if op := opCtx.Doc.Operations.ForName(opCtx.OperationName); op != nil && op.Operation != ast.Query {
			refuseGETMutation(w, r)
			return
		}
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeAnswer(w, responses(ctx))
}

// writeAnswer writes an operation's answer. One with data alone, nearly every
// answer, is written as it stands: encoding/json would scan the data gqlgen
// has just written to check, compact and HTML-escape it again, 5% of the CPU
// of a page of 10 rows for nothing a JSON client needs.
func writeAnswer(w http.ResponseWriter, resp *graphql.Response) {
	if resp == nil || len(resp.Errors) > 0 || len(resp.Extensions) > 0 || resp.Label != "" || resp.Path != nil || resp.HasNext != nil || len(resp.Data) == 0 {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	b := make([]byte, 0, len(`{"data":}`)+len(resp.Data))
	b = append(append(append(b, `{"data":`...), resp.Data...), '}')
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// negotiate picks the response media type from an Accept header. Without one,
// with only wildcards, or with nothing acceptable, it is application/json,
// which every client reads (the spec allows that rather than a 406).
func negotiate(accept string) string {
	if accept == "" {
		return mediaJSON
	}
	best, bestQ := mediaJSON, -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q <= 0 {
			continue // q=0: the client refuses this type
		}
		var candidate string
		switch mt {
		case mediaGraphQLResponse:
			candidate = mediaGraphQLResponse
		case mediaJSON, "application/*", "*/*":
			candidate = mediaJSON
		default:
			continue
		}
		if q > bestQ || (q == bestQ && candidate == mediaGraphQLResponse) {
			best, bestQ = candidate, q
		}
	}
	return best
}

// requestErrorStatus is the status of errors raised before execution. One that
// says the request is malformed (BAD_REQUEST: a persisted-query extension
// whose hash does not match its query, say) is a 400 whatever the media type,
// like the transport's own; a document that fails to parse, validate or stay
// within the limits, or an unknown persisted-query hash, is a 400 only under
// graphql-response+json and a 200 under application/json, as legacy clients
// (and Apollo's persisted-query link) expect.
func requestErrorStatus(media string, errs gqlerror.List) int {
	for _, e := range errs {
		if graph.CodeOf(e) == graph.CodeBadRequest {
			return http.StatusBadRequest
		}
	}
	if media == mediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// wireParams are the request parameters as JSON carries them; RawMessage lets a
// wrong type be reported as such rather than as a generic decoding failure.
type wireParams struct {
	Query         json.RawMessage `json:"query"`
	OperationName json.RawMessage `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
	// DocID is Relay's persisted-document id, a parameter of its own.
	DocID json.RawMessage `json:"doc_id"`
}

// readParams reads GET query parameters or a POST JSON body, puts in the text
// of a persisted document it names, and checks there is a query to run (or
// an automatic persisted query's hash). A non-zero status is more precise
// than 400 (413, 415, and the trusted documents' 403 and 404).
func (t graphQLOverHTTP) readParams(r *http.Request) (*graphql.RawParams, int, *gqlerror.Error) {
	params, docID, status, err := t.readRawParams(r)
	if err != nil {
		return nil, status, err
	}
	if status, err := t.documents.resolve(params, docID); err != nil {
		return nil, status, err
	}
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		return nil, 0, graph.Coded(graph.CodeBadRequest, "the request has no query; send {\"query\": \"...\"}")
	}
	return params, 0, nil
}

// readRawParams returns the parameters and Relay's doc_id ("" when absent).
func (t graphQLOverHTTP) readRawParams(r *http.Request) (*graphql.RawParams, string, int, *gqlerror.Error) {
	var wire wireParams
	if r.Method == http.MethodGet {
		// The body limit holds for a query string too: otherwise only the
		// server's header limit (1 MiB) would bound what GET hands the parser
		// and the caches.
		if int64(len(r.URL.RawQuery)) > t.maxBodyBytes {
			return nil, "", http.StatusRequestURITooLong, graph.Coded(graph.CodeRequestTooLarge,
				fmt.Sprintf("the query string is longer than %d bytes; send a large request with POST", t.maxBodyBytes))
		}
		q := r.URL.Query()
		for name, dst := range map[string]*json.RawMessage{"variables": &wire.Variables, "extensions": &wire.Extensions} {
			if v := q.Get(name); v != "" {
				*dst = json.RawMessage(v)
			}
		}
		// A parameter with nothing to unescape is a slice of the whole query
		// string; the caches keep the query text (and the document cache a
		// syntax tree pointing into it), so it gets memory of its own rather
		// than pinning the variables and any padding with it.
		params := &graphql.RawParams{Query: strings.Clone(q.Get("query")), OperationName: q.Get("operationName")}
		if err := decodeObjects(&wire, params); err != nil {
			return nil, "", 0, err
		}
		return params, q.Get("doc_id"), 0, nil
	}

	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != mediaJSON && mt != mediaGraphQLResponse) {
		return nil, "", http.StatusUnsupportedMediaType,
			graph.Coded(graph.CodeUnsupportedMediaType, "send the request as Content-Type: application/json")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, t.maxBodyBytes+1))
	if err != nil {
		return nil, "", 0, graph.Coded(graph.CodeBadRequest, "the request body could not be read")
	}
	if int64(len(body)) > t.maxBodyBytes {
		return nil, "", http.StatusRequestEntityTooLarge,
			graph.Coded(graph.CodeRequestTooLarge, fmt.Sprintf("the request body is larger than %d bytes", t.maxBodyBytes))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, "", 0, graph.Coded(graph.CodeBadRequest, "the request body is empty; send {\"query\": \"...\"}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&wire); err != nil {
		return nil, "", 0, graph.Coded(graph.CodeBadRequest, "the request body is not a JSON object with a query")
	}
	// Decode stops after the first value; anything but whitespace after it
	// (another value, a stray bracket) makes the body malformed.
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return nil, "", 0, graph.Coded(graph.CodeBadRequest, "the request body holds more than one JSON value")
	}
	params := &graphql.RawParams{}
	var docID string
	if err := decodeString(wire.Query, "query", &params.Query); err != nil {
		return nil, "", 0, err
	}
	if err := decodeString(wire.OperationName, "operationName", &params.OperationName); err != nil {
		return nil, "", 0, err
	}
	if err := decodeString(wire.DocID, "doc_id", &docID); err != nil {
		return nil, "", 0, err
	}
	if err := decodeObjects(&wire, params); err != nil {
		return nil, "", 0, err
	}
	return params, docID, 0, nil
}

func decodeString(raw json.RawMessage, name string, dst *string) *gqlerror.Error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if s, ok := plainString(raw); ok {
		*dst = s
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return graph.Coded(graph.CodeBadRequest, name+" must be a string")
	}
	return nil
}

// plainString reads a JSON string without a second pass of the decoder,
// which was 1% of the CPU of a query, when it holds only the short escapes (a
// query's quotes are \" in JSON). The body's decoder has checked its syntax
// already, control characters included. \u escapes and invalid UTF-8 are
// left to the decoder, which pairs surrogates and replaces bad bytes as it
// would anywhere else.
func plainString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if !utf8.Valid(inner) {
		return "", false
	}
	first := bytes.IndexByte(inner, '\\')
	if first < 0 {
		return string(inner), true
	}
	out := make([]byte, first, len(inner))
	copy(out, inner[:first])
	for i := first; i < len(inner); i++ {
		c := inner[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(inner) {
			return "", false // not from a decoded body
		}
		switch inner[i] {
		case '"', '\\', '/':
			out = append(out, inner[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default: // 'u'
			return "", false
		}
	}
	return string(out), true
}

// decodeObjects reads variables and extensions, each a JSON object or null.
func decodeObjects(wire *wireParams, params *graphql.RawParams) *gqlerror.Error {
	for _, p := range []struct {
		name string
		raw  json.RawMessage
		dst  *map[string]any
	}{{"variables", wire.Variables, &params.Variables}, {"extensions", wire.Extensions, &params.Extensions}} {
		if len(p.raw) == 0 || string(p.raw) == "null" {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(p.raw))
		dec.UseNumber() // keeps large integers exact until gqlgen coerces them
		if err := dec.Decode(p.dst); err != nil || *p.dst == nil {
			return graph.Coded(graph.CodeBadRequest, p.name+" must be a JSON object")
		}
	}
	wholeNumbersAsIntegers(params.Variables)
	return nil
}

// isMutation reports whether a query document that failed to validate holds a
// mutation or subscription operation. It parses again, but only on that error
// path of GET requests.
func isMutation(query string) bool {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return false
	}
	for _, op := range doc.Operations {
		if op.Operation != ast.Query {
			return true
		}
	}
	return false
}

// relabelTokenLimit gives the parser's token-limit failure a code of its own:
// the query is not malformed, only too long for this server.
func relabelTokenLimit(errs gqlerror.List) {
	for i, e := range errs {
		if strings.Contains(e.Message, "token limit") {
			relabelled := graph.Coded(graph.CodeTokenLimit, e.Message)
			relabelled.Locations = e.Locations
			errs[i] = relabelled
		}
	}
}

// writeRequestError answers a request that never reached execution: as the
// GraphQL spec says of errors raised before execution, there is no data entry.
func writeRequestError(w http.ResponseWriter, status int, list gqlerror.List) {
	writeJSON(w, status, struct {
		Errors gqlerror.List `json:"errors"`
	}{list})
}

// refuseGETMutation answers 405 to an operation other than a query sent with
// GET: only POST may carry it.
func refuseGETMutation(w http.ResponseWriter, r *http.Request) {
	refuseMethod(w, r, http.MethodPost, "only queries may be sent with GET; use POST")
}

// noteErrorCodes puts the codes of errors in the request's log line: this
// transport's own, and gqlgen's (parse, validation, execution) through
// AroundResponses.
func noteErrorCodes(ctx context.Context, list gqlerror.List) {
	if s := statsFrom(ctx); s != nil {
		for _, e := range list {
			s.addErrorCode(cmp.Or(graph.CodeOf(e), "UNKNOWN"))
		}
	}
}

// internalErrorAnswer is what writeJSON sends when an answer cannot be encoded.
var internalErrorAnswer, _ = json.Marshal(struct {
	Errors gqlerror.List `json:"errors"`
}{gqlerror.List{graph.Coded(graph.CodeInternal, "internal server error")}})

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = internalErrorAnswer
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
