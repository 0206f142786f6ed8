// Package trusted holds the trusted documents: the operations a gateway's own
// frontends were built with, read from the persisted-query manifest their
// build tool wrote (Apollo's generate-persisted-query-manifest, or Relay's
// relay-compiler with persistConfig). Clients then send an operation's id
// instead of its text, and a gateway may refuse every other document.
//
// Every document is parsed and validated against the schema when the list is
// loaded, so that a manifest built against another schema fails at start, not
// on the first request that names it.
package trusted

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Formats of the files Load reads.
const (
	// FormatApollo is Apollo's persisted-query manifest: {"format":
	// "apollo-persisted-query-manifest", "version": 1, "operations": [{"id",
	// "name", "type", "body"}]}.
	FormatApollo = "apollo-persisted-query-manifest"
	// FormatRelay is relay-compiler's persisted_queries.json: {"<id>": "<text>"}.
	FormatRelay = "relay-persisted-queries"
)

// Document is one trusted operation.
type Document struct {
	ID   string
	Name string // the operation's name, "" when anonymous
	Body string // the text run for the id
}

// List is a loaded, validated set of trusted documents. It is read-only and
// safe for concurrent use.
type List struct {
	format string
	byID   map[string]*Document
	// byText finds a document sent as text: by its exact text first, then by
	// its tokens, so that whitespace, commas and comments do not matter.
	byText   map[string]*Document
	byTokens map[string]*Document
}

// Load reads and validates the file at path, in either format.
func Load(path string, schema *ast.Schema) (*List, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	l, err := Parse(data, schema)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Parse reads a manifest in either format and validates every document in it.
func Parse(data []byte, schema *ast.Schema) (*List, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return nil, errors.New("not a JSON object: expected an Apollo persisted-query manifest or Relay's persisted_queries.json")
	}
	var docs []manifestOperation
	format := FormatRelay
	var err error
	if _, ok := top["format"]; ok {
		format = FormatApollo
		docs, err = parseApollo(data)
	} else {
		docs, err = parseRelay(top)
	}
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, errors.New("the manifest holds no operations")
	}
	l := &List{format: format, byID: map[string]*Document{}, byText: map[string]*Document{}, byTokens: map[string]*Document{}}
	for _, op := range docs {
		if err := l.add(op, schema); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// manifestOperation is an entry of either format; Relay's carry no name or type.
type manifestOperation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Body string `json:"body"`
}

func parseApollo(data []byte) ([]manifestOperation, error) {
	var m struct {
		Format     string              `json:"format"`
		Version    int                 `json:"version"`
		Operations []manifestOperation `json:"operations"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not an Apollo persisted-query manifest: %w", err)
	}
	if m.Format != FormatApollo {
		return nil, fmt.Errorf("format %q: expected %q (or Relay's persisted_queries.json, an object of id to text)", m.Format, FormatApollo)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("manifest version %d: only version 1 is understood", m.Version)
	}
	for i, op := range m.Operations {
		if op.Type == "" {
			return nil, fmt.Errorf("operation %d (id %q): no type", i, op.ID)
		}
	}
	return m.Operations, nil
}

func parseRelay(top map[string]json.RawMessage) ([]manifestOperation, error) {
	ops := make([]manifestOperation, 0, len(top))
	for id, raw := range top {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, fmt.Errorf("id %q: the value is not a string: expected Relay's persisted_queries.json, an object of id to text", id)
		}
		ops = append(ops, manifestOperation{ID: id, Body: text})
	}
	return ops, nil
}

// add validates one operation and indexes it.
func (l *List) add(op manifestOperation, schema *ast.Schema) error {
	what := fmt.Sprintf("operation id %q", op.ID)
	if op.Name != "" {
		what = fmt.Sprintf("operation %s (id %q)", op.Name, op.ID)
	}
	if op.ID == "" {
		return fmt.Errorf("%s: empty id", what)
	}
	if strings.TrimSpace(op.Body) == "" {
		return fmt.Errorf("%s: empty body", what)
	}
	if prev, dup := l.byID[op.ID]; dup {
		if prev.Body == op.Body {
			return nil // the same document listed twice
		}
		return fmt.Errorf("%s: the id is listed twice with different bodies", what)
	}
	// The rules gqlgen validates every request with.
	doc, errs := gqlparser.LoadQueryWithRules(schema, op.Body, rules.NewDefaultRules())
	if len(errs) > 0 {
		return fmt.Errorf("%s does not validate against the gateway's schema: %s", what, errs[0].Error())
	}
	if len(doc.Operations) != 1 {
		return fmt.Errorf("%s: a document must hold exactly one operation, it holds %d", what, len(doc.Operations))
	}
	operation := doc.Operations[0]
	if op.Name != "" && operation.Name != op.Name {
		return fmt.Errorf("%s: the body's operation is named %q", what, operation.Name)
	}
	if op.Type != "" && string(operation.Operation) != op.Type {
		return fmt.Errorf("%s: listed as a %s, the body holds a %s", what, op.Type, operation.Operation)
	}
	tokens, err := tokenKey(op.Body)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	d := &Document{ID: op.ID, Name: operation.Name, Body: op.Body}
	l.byID[op.ID] = d
	l.byText[op.Body] = d
	l.byTokens[tokens] = d
	return nil
}

// Format is FormatApollo or FormatRelay.
func (l *List) Format() string { return l.format }

// Len is the number of distinct ids.
func (l *List) Len() int { return len(l.byID) }

// ByID returns the document listed under id.
func (l *List) ByID(id string) (Document, bool) {
	d, ok := l.byID[id]
	if !ok {
		return Document{}, false
	}
	return *d, true
}

// Contains reports whether text is one of the documents, ignoring what the
// GraphQL grammar ignores (whitespace, commas, comments): a client may send a
// listed document as text, as Apollo Router's safelist allows.
func (l *List) Contains(text string) bool {
	if _, ok := l.byText[text]; ok {
		return true
	}
	key, err := tokenKey(text)
	if err != nil {
		return false
	}
	_, ok := l.byTokens[key]
	return ok
}
