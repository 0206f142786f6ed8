package httpapi

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/waldur-quotas/gateway/graph"
)

// validationLimits refuses a document before gqlgen validates it when
// validation would visit more than maxFields nodes (fields, fragment spreads,
// inline fragments, directives and argument values), or when an operation or
// fragment has more than maxAliases aliased fields. Validation is where a
// document within the token limit can still cost the most: the rule that
// fields of the same name can be merged compares every pair of them, so 2,000
// sibling fields take about 0.3 s, and formats a message for each pair that
// conflicts, which aliases make easy (150 x 150 conflicts cost 45 ms); every
// operation re-walks the fragments it spreads, so 250 operations spreading
// one large fragment take longer still. The alias limit proper is measured
// after validation (shapeLimits), counting a fragment each time it is spread;
// here a fragment counts once per operation, which can only count fewer.
//
// gqlgen parses and validates in one step, with no hook in between, so this
// runs before both and parses the document itself: parsing is linear and the
// token limit bounds it. A document in the parsed-document cache has passed
// already and is not parsed twice.
type validationLimits struct {
	maxFields, maxAliases, maxTokens int
	validated                        *boundedCache[*ast.QueryDocument]
}

var (
	_ graphql.HandlerExtension          = validationLimits{}
	_ graphql.OperationParameterMutator = validationLimits{}
)

func (validationLimits) ExtensionName() string                   { return "ValidationLimits" }
func (validationLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l validationLimits) MutateOperationParameters(_ context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" || l.validated.Contains(params.Query) {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, l.maxTokens)
	if err != nil {
		return nil // gqlgen parses it again and reports the error with its code
	}
	v := validationVisits(doc, l.maxFields)
	if v.nodes > l.maxFields {
		return graph.Coded(graph.CodeFieldLimit, fmt.Sprintf("the document has more fields than the limit of %d "+
			"(arguments, directives and fragment spreads count too, and a fragment counts in every operation that spreads it)", l.maxFields))
	}
	if v.aliases > l.maxAliases {
		return graph.Coded(graph.CodeAliasLimit, fmt.Sprintf("%s has %d aliased fields; the limit is %d", v.mostAliased, v.aliases, l.maxAliases))
	}
	return nil
}

// visits is what validation would visit of a document.
type visits struct {
	nodes       int    // up to one beyond the limit it was counted against
	aliases     int    // the most aliased fields of one walk
	mostAliased string // the operation or fragment of that walk
}

// validationVisits counts the nodes gqlparser's validator visits in doc, and
// stops counting beyond limit so that its own cost stays within the limit.
// The validator walks each operation, entering each fragment it spreads once,
// then each fragment definition on its own the same way; fragments are looked
// up by name, the first definition of a name winning.
func validationVisits(doc *ast.QueryDocument, limit int) visits {
	c := visitCounter{limit: limit, fragments: map[string]*ast.FragmentDefinition{}, entered: map[string]int{}}
	for _, f := range doc.Fragments {
		if _, dup := c.fragments[f.Name]; !dup {
			c.fragments[f.Name] = f
		}
	}
	for _, op := range doc.Operations {
		root := "the operation"
		if op.Name != "" {
			root = "operation " + op.Name
		}
		c.start(root)
		for _, v := range op.VariableDefinitions {
			c.value(v.DefaultValue)
			c.directives(v.Directives)
		}
		c.directives(op.Directives)
		c.selectionSet(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		c.start("fragment " + f.Name)
		c.directives(f.Directives)
		c.selectionSet(f.SelectionSet)
	}
	c.start("")
	return c.visits
}

type visitCounter struct {
	visits
	limit     int
	fragments map[string]*ast.FragmentDefinition
	entered   map[string]int // fragment name → the last walk that entered it
	walk      int
	root      string // what the walk under way starts from
	aliases   int    // aliased fields of the walk under way
}

// start ends the walk under way and begins one from root.
func (c *visitCounter) start(root string) {
	if c.aliases > c.visits.aliases {
		c.visits.aliases, c.mostAliased = c.aliases, c.root
	}
	c.walk++
	c.root, c.aliases = root, 0
}

func (c *visitCounter) selectionSet(set ast.SelectionSet) {
	for _, sel := range set {
		if c.nodes > c.limit {
			return
		}
		c.nodes++
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Alias != "" && sel.Alias != sel.Name {
				c.aliases++
			}
			for _, a := range sel.Arguments {
				c.value(a.Value)
			}
			c.directives(sel.Directives)
			c.selectionSet(sel.SelectionSet)
		case *ast.InlineFragment:
			c.directives(sel.Directives)
			c.selectionSet(sel.SelectionSet)
		case *ast.FragmentSpread:
			c.directives(sel.Directives)
			if def := c.fragments[sel.Name]; def != nil && c.entered[sel.Name] != c.walk {
				c.entered[sel.Name] = c.walk
				c.directives(def.Directives)
				c.selectionSet(def.SelectionSet)
			}
		}
	}
}

func (c *visitCounter) directives(list ast.DirectiveList) {
	for _, d := range list {
		c.nodes++
		for _, a := range d.Arguments {
			c.value(a.Value)
		}
	}
}

func (c *visitCounter) value(v *ast.Value) {
	if v == nil || c.nodes > c.limit {
		return
	}
	c.nodes++
	for _, child := range v.Children {
		c.value(child.Value)
	}
}
