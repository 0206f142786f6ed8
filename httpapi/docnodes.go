package httpapi

import "github.com/vektah/gqlparser/v2/ast"

// documentNodes counts the heap objects of a parsed and validated document
// that the document cache keeps alive: each definition, selection, argument,
// value, directive, type reference and comment. Each __typename counts twice:
// validation gives every one a field definition of its own.
func documentNodes(doc *ast.QueryDocument) int {
	n := commentNodes(doc.Comment)
	for _, op := range doc.Operations {
		n += 1 + commentNodes(op.Comment) + directiveNodes(op.Directives) + selectionNodes(op.SelectionSet)
		for _, v := range op.VariableDefinitions {
			n += 1 + commentNodes(v.Comment) + typeNodes(v.Type) + valueNodes(v.DefaultValue) + directiveNodes(v.Directives)
		}
	}
	for _, f := range doc.Fragments {
		n += 1 + commentNodes(f.Comment) + directiveNodes(f.Directives) + selectionNodes(f.SelectionSet)
	}
	return n
}

func selectionNodes(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			n += 1 + commentNodes(sel.Comment) + directiveNodes(sel.Directives) + selectionNodes(sel.SelectionSet)
			if sel.Name == "__typename" {
				n++
			}
			for _, a := range sel.Arguments {
				n += 1 + commentNodes(a.Comment) + valueNodes(a.Value)
			}
		case *ast.InlineFragment:
			n += 1 + commentNodes(sel.Comment) + directiveNodes(sel.Directives) + selectionNodes(sel.SelectionSet)
		case *ast.FragmentSpread:
			n += 1 + commentNodes(sel.Comment) + directiveNodes(sel.Directives)
		}
	}
	return n
}

func directiveNodes(list ast.DirectiveList) int {
	n := 0
	for _, d := range list {
		n++
		for _, a := range d.Arguments {
			n += 1 + commentNodes(a.Comment) + valueNodes(a.Value)
		}
	}
	return n
}

func valueNodes(v *ast.Value) int {
	if v == nil {
		return 0
	}
	n := 1 + commentNodes(v.Comment)
	for _, c := range v.Children {
		n += 1 + commentNodes(c.Comment) + valueNodes(c.Value)
	}
	return n
}

func typeNodes(t *ast.Type) int {
	n := 0
	for ; t != nil; t = t.Elem {
		n++
	}
	return n
}

func commentNodes(c *ast.CommentGroup) int {
	if c == nil {
		return 0
	}
	return len(c.List)
}
