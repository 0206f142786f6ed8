package httpapi

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/waldur-quotas/gateway/graph"
)

// Variables are coerced by the GraphQL spec's Input Coercion rules here, once
// the document has validated and before anything runs. gqlgen leaves that to
// gqlparser's validator.VariableValues, which is both too strict and too lax
// for JSON: it refuses 5.0 for an Int (JSON has no separate integers; 5.0 is
// 5) and misreports 5.5 as "cannot use value 0", yet it accepts "5" for an
// Int, a number for a String, an Int beyond 32 bits and an enum value in the
// wrong case (which then fails inside execution as an internal error).

// maxShownValue bounds how much of a refused value a message repeats.
const maxShownValue = 40

// checkVariables refuses the first variable of op whose value in vars does not
// coerce to its type, with a message that names the variable and the value.
// Input objects are left to gqlparser: checking their fields needs the
// schema's definitions of their types, and this schema has none.
func checkVariables(op *ast.OperationDefinition, vars map[string]any) *gqlerror.Error {
	for _, def := range op.VariableDefinitions {
		name := "$" + def.Variable
		v, given := vars[def.Variable]
		if !given {
			if def.Type.NonNull && def.DefaultValue == nil {
				return variableError(fmt.Sprintf("variable %s of type %s must be defined: it has no default and may not be null", name, def.Type))
			}
			continue
		}
		if err := checkValue(name, def.Type, def.Definition, v); err != nil {
			return err
		}
	}
	return nil
}

// checkValue checks v against typ, whose innermost named type is named; at
// names where v sits ("$f", "$ids[2]").
func checkValue(at string, typ *ast.Type, named *ast.Definition, v any) *gqlerror.Error {
	if v == nil {
		if typ.NonNull {
			return refused(at, v, typ, "it may not be null")
		}
		return nil
	}
	if typ.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			// A single value stands for a list of one.
			return checkValue(at, typ.Elem, named, v)
		}
		for i, item := range list {
			if err := checkValue(fmt.Sprintf("%s[%d]", at, i), typ.Elem, named, item); err != nil {
				return err
			}
		}
		return nil
	}
	if named == nil {
		return nil // not a type of this schema: validation has said so already
	}
	if reason := coercionFailure(named, v); reason != "" {
		return refused(at, v, typ, reason)
	}
	return nil
}

// coercionFailure says why v is not a value of the named type, "" when it is.
func coercionFailure(named *ast.Definition, v any) string {
	switch named.Kind {
	case ast.Enum:
		s, ok := v.(string)
		if !ok || named.EnumValues.ForName(s) == nil {
			names := make([]string, len(named.EnumValues))
			for i, e := range named.EnumValues {
				names[i] = e.Name
			}
			return "send one of " + strings.Join(names, ", ") + " as a string"
		}
	case ast.Scalar:
		switch named.Name {
		case "Int":
			return intFailure(v)
		case "Float":
			if f, ok := number(v); !ok || math.IsInf(f, 0) {
				return "send a JSON number"
			}
		case "String":
			if _, ok := v.(string); !ok {
				return "send a JSON string"
			}
		case "Boolean":
			if _, ok := v.(bool); !ok {
				return "send true or false"
			}
		case "ID":
			if _, ok := v.(string); ok {
				return ""
			}
			if f, ok := number(v); !ok || f != math.Trunc(f) {
				return "send a string or a whole number"
			}
		}
		// Other scalars (federation's _Any) take any JSON value.
	}
	return ""
}

func intFailure(v any) string {
	f, ok := number(v)
	switch {
	case !ok:
		return "send a JSON number"
	case f != math.Trunc(f):
		return "an Int is a whole number"
	case f < math.MinInt32 || f > math.MaxInt32: // ±Inf too: a number beyond float64
		return "an Int is from -2147483648 to 2147483647"
	}
	return ""
}

// number reads a JSON number (a json.Number from the request, or an int64 or
// float64 where gqlparser has already converted one in place).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		// Out of range parses as ±Inf with an error: still a number, too large.
		return f, err == nil || math.IsInf(f, 0)
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func refused(at string, v any, typ *ast.Type, reason string) *gqlerror.Error {
	return variableError(fmt.Sprintf("variable %s: %s is not a valid %s (%s)", at, shown(v), typ, reason))
}

// variableError is a request error, coded like gqlparser's own refusals of
// variables.
func variableError(message string) *gqlerror.Error {
	return graph.Coded(graph.CodeValidationFailed, message)
}

// shown is v as the client wrote it in JSON, cut short: a message repeats
// enough of it to recognise, not all of it.
func shown(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "the value"
	}
	s := strings.TrimSuffix(b.String(), "\n")
	if len(s) <= maxShownValue {
		return s
	}
	cut := maxShownValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// wholeNumbersAsIntegers rewrites, in variables decoded with UseNumber, every
// number that is whole but not written as an integer (5.0, 5e0) as the integer
// it is, as a JavaScript client would see it: gqlparser reads an Int only from
// integer text. Only exact values (up to 2^53) are rewritten, so that no ID or
// Float changes.
func wholeNumbersAsIntegers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, item := range x {
			x[k] = wholeNumbersAsIntegers(item)
		}
	case []any:
		for i, item := range x {
			x[i] = wholeNumbersAsIntegers(item)
		}
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return x
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err == nil && f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
			return json.Number(strconv.FormatInt(int64(f), 10))
		}
	}
	return v
}
