package trusted

import (
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// tokenKey is a document's tokens without what the grammar ignores (white
// space, commas, comments), each written as its kind and its length-prefixed
// value, so that two texts have the same key exactly when a parser reads the
// same tokens from them. A string token keys by its value, so "a" and """a"""
// differ only by kind.
func tokenKey(text string) (string, error) {
	lex := lexer.New(&ast.Source{Input: text})
	var b strings.Builder
	b.Grow(len(text))
	for {
		tok, err := lex.ReadToken()
		if err != nil {
			return "", err
		}
		switch tok.Kind {
		case lexer.EOF:
			return b.String(), nil
		case lexer.Comment:
			continue
		}
		b.WriteString(strconv.Itoa(int(tok.Kind)))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(len(tok.Value)))
		b.WriteByte(':')
		b.WriteString(tok.Value)
	}
}
