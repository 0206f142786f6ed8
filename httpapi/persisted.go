package httpapi

import (
	"fmt"
	"maps"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/waldur-quotas/gateway/graph"
	"github.com/waldur-quotas/gateway/trusted"
)

// persistedDocuments turns an operation sent by id into its trusted text, and
// with only set refuses every document that is not trusted. It runs in the
// transport, before gqlgen's extensions: Relay's doc_id is a request
// parameter gqlgen does not know, and an id must be settled before the
// automatic persisted queries look at the same extension.
//
// Ids and codes follow Apollo Router's safelisting: an unknown id is
// PERSISTED_QUERY_NOT_IN_LIST (404), a document sent as text that is not in
// the list QUERY_NOT_IN_SAFELIST (403), both whatever the media type.
type persistedDocuments struct {
	list *trusted.List // nil: no PERSISTED_DOCUMENTS_FILE
	only bool
	// introspection lets a document that asks only __schema, __type and
	// __typename through the safelist, as Apollo Router does while its
	// introspection is on: the schema is no secret (it is the committed
	// contract), introspection never reaches Waldur, and GraphiQL and code
	// generators need it. GRAPHQL_INTROSPECTION=false refuses it too.
	introspection bool
	maxTokens     int
}

// resolve fills params.Query from the id the request names, if any (docID:
// Relay's doc_id; else Apollo's extensions.persistedQuery.sha256Hash), and
// refuses what the safelist does not hold. On error it returns the HTTP status.
func (p persistedDocuments) resolve(params *graphql.RawParams, docID string) (int, *gqlerror.Error) {
	if p.list == nil {
		if docID != "" {
			return http.StatusNotFound, graph.Coded(graph.CodePersistedQueryNotInList,
				"this server has no persisted documents (PERSISTED_DOCUMENTS_FILE is not set); send the query text")
		}
		return 0, nil
	}
	id, apq := docID, false
	if id == "" {
		id = apqHash(params.Extensions)
		apq = id != ""
	}
	if id != "" {
		if doc, ok := p.list.ByID(id); ok {
			if params.Query != "" && params.Query != doc.Body {
				return http.StatusBadRequest, graph.Coded(graph.CodeBadRequest,
					fmt.Sprintf("the query differs from the persisted document %q: send the id or the text, not both", id))
			}
			params.Query = doc.Body
			if apq {
				// Settled here: the automatic persisted queries must neither
				// check this id as a hash of the text (an id need not be one)
				// nor cache the text under it.
				params.Extensions = maps.Clone(params.Extensions)
				delete(params.Extensions, "persistedQuery")
			}
			return 0, nil
		}
		// doc_id names only trusted documents; a hash that is none may
		// still be an automatic persisted query, unless only trusted
		// documents run.
		if docID != "" || (p.only && params.Query == "") {
			return http.StatusNotFound, graph.Coded(graph.CodePersistedQueryNotInList,
				fmt.Sprintf("persisted document %q is not in this server's list", id))
		}
	}
	// A document sent as text, with or without a hash to register it as an
	// automatic persisted query: under only, registering must not let
	// anything past the list either.
	if p.only && params.Query != "" && !p.list.Contains(params.Query) && !p.introspectionOnly(params) {
		return http.StatusForbidden, graph.Coded(graph.CodeQueryNotInSafelist,
			"only the persisted documents of this server's list run here; this document is not one of them")
	}
	return 0, nil
}

// apqHash is extensions.persistedQuery.sha256Hash, "" when absent or not a
// string (the automatic persisted queries then say what is wrong with it).
func apqHash(extensions map[string]any) string {
	pq, _ := extensions["persistedQuery"].(map[string]any)
	hash, _ := pq["sha256Hash"].(string)
	return hash
}

// introspectionOnly reports whether introspection is on and the operation
// the request runs asks for nothing but __schema, __type and __typename. It
// parses the document (within the token limit), which the safelist would
// otherwise refuse unparsed; gqlgen validates it afterwards as usual.
func (p persistedDocuments) introspectionOnly(params *graphql.RawParams) bool {
	if !p.introspection {
		return false
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, p.maxTokens)
	if err != nil {
		return false
	}
	var op *ast.OperationDefinition
	switch {
	case params.OperationName != "":
		op = doc.Operations.ForName(params.OperationName)
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	}
	return op != nil && op.Operation == ast.Query && onlyIntrospection(op.SelectionSet, doc.Fragments, map[string]bool{})
}

// onlyIntrospection reports whether every root field of set, through
// fragments, is an introspection field. An unknown fragment answers false:
// validation would refuse the document anyway.
func onlyIntrospection(set ast.SelectionSet, fragments ast.FragmentDefinitionList, seen map[string]bool) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Name != "__schema" && sel.Name != "__type" && sel.Name != "__typename" {
				return false
			}
		case *ast.InlineFragment:
			if !onlyIntrospection(sel.SelectionSet, fragments, seen) {
				return false
			}
		case *ast.FragmentSpread:
			def := fragments.ForName(sel.Name)
			if def == nil {
				return false
			}
			if seen[sel.Name] {
				continue
			}
			seen[sel.Name] = true
			if !onlyIntrospection(def.SelectionSet, fragments, seen) {
				return false
			}
		}
	}
	return true
}

// LoadPersistedDocuments reads PERSISTED_DOCUMENTS_FILE, validating every
// document against the schema this gateway serves.
func LoadPersistedDocuments(path string) (*trusted.List, error) {
	return trusted.Load(path, graph.NewExecutableSchema(graph.Config{}).Schema())
}
