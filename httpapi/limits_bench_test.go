package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/httpapi"
)

// costlyDoc is a request built to make the gateway work as hard as a shape
// of document allows: within the default limits (worstWithinLimits) to show
// what the limits let through, just beyond them (refusedBeyondLimits) to show
// they refuse it. want is the code of the answer's first error, "" for data.
type costlyDoc struct {
	name          string
	query         string
	operationName string
	vars          map[string]any
	want          string
}

// sel repeats a selection n times, separated by spaces.
func sel(s string, n int) string { return strings.TrimSpace(strings.Repeat(s+" ", n)) }

// fanOut is a fragment chain of the given depth on Query whose fragments
// each spread the next one twice: it expands to 2^levels copies of leaf.
func fanOut(levels int, leaf string) string {
	var b strings.Builder
	b.WriteString("{ ...F0 }")
	for i := range levels {
		fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Query { %s }", levels, leaf)
	return b.String()
}

// chain is n fragments on Query, each spreading the next once.
func chain(n int) string {
	var b strings.Builder
	b.WriteString("{ ...F0 }")
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on Query { ...F%d }", i, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Query { __typename }", n)
	return b.String()
}

// operations is n operations that each spread fragment F, then F.
func operations(n int, fragment string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "query O%d { ...F } ", i)
	}
	return b.String() + "fragment F on Query { " + fragment + " }"
}

// distinctArgs is n customerQuotas fields without aliases, each with its
// own quotaName: every pair of them conflicts.
func distinctArgs(n int) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&b, `customerQuotas(quotaName: "q%d") { __typename } `, i)
	}
	return b.String() + "}"
}

// variables is an operation with n Boolean variables, each used once.
func variables(n int) (string, map[string]any) {
	var defs, uses strings.Builder
	vars := map[string]any{}
	for i := range n {
		fmt.Fprintf(&defs, "$v%d: Boolean! ", i)
		fmt.Fprintf(&uses, "__typename @include(if: $v%d) ", i)
		vars[fmt.Sprintf("v%d", i)] = true
	}
	return "query V(" + defs.String() + ") { " + uses.String() + "}", vars
}

const typeRef = `fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`

// worstWithinLimits are the most expensive documents found that the default
// limits let through, one per shape of attack.
func worstWithinLimits() []costlyDoc {
	vq, vv := variables(95)
	long := strings.Repeat("x", 60<<10)
	return []costlyDoc{
		{name: "siblings: 299 __typename", query: "{ " + sel("__typename", 299) + " }"},
		{name: "siblings: 296 totalCount in a connection", query: `{ customerQuotas(quotaName: "os_cpu_count") { ` + sel("totalCount", 296) + ` } }`},
		{name: "same-named nests: 20 x pageInfo x 12", query: "{ " + sel(`customerQuotas(quotaName: "os_cpu_count") { pageInfo { `+sel("hasNextPage", 12)+` } }`, 20) + " }"},
		{name: "conflicting arguments: 99 fields", query: distinctArgs(99), want: "GRAPHQL_VALIDATION_FAILED"},
		{name: "conflicting aliases: 276 x 20", query: `{ customerQuotas(quotaName: "os_cpu_count") { ` + sel("totalCount", 276) + " " + sel("totalCount: __typename", 20) + ` } }`, want: "GRAPHQL_VALIDATION_FAILED"},
		{name: "fragment fan-out: 15 levels", query: fanOut(15, "__typename"), want: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "fragment chain: 22 fragments", query: chain(22)},
		{name: "spreads: 290 of two fragments", query: "{ " + sel("...A ...B", 145) + " } fragment A on Query { __typename } fragment B on Query { __typename }"},
		{name: "operations: 97 spreading one fragment, by operationName", query: operations(97, "__typename"), operationName: "O96"},
		{name: "operations: 1 of 12 spreading 20 same-named fields", query: operations(12, sel("__typename", 20)), operationName: "O0"},
		{name: "variables: 95 used in directives", query: vq, vars: vv},
		{name: "long string: 60 KiB quotaName", query: `{ customerQuotas(quotaName: "` + long + `") { totalCount } }`, want: "BAD_USER_INPUT"},
		{name: "long strings: 2 x 30 KiB conflicting", query: `{ customerQuotas(quotaName: "` + long[:30<<10] + `a") { totalCount } customerQuotas(quotaName: "` + long[:30<<10] + `b") { totalCount } }`, want: "GRAPHQL_VALIDATION_FAILED"},
		{name: "block string: 48 KiB of lines", query: `{ customerQuotas(quotaName: """` + strings.Repeat("  x\n", 12<<10) + `""") { totalCount } }`, want: "BAD_USER_INPUT"},
		{name: "directives: 59 fields with two each", query: "{ " + sel("__typename @include(if: true) @skip(if: false)", 59) + " }"},
		{name: "deep introspection: 290 ofType", query: `{ __type(name: "Query") { ` + strings.Repeat("ofType { ", 290) + "name" + strings.Repeat(" }", 290) + " } }"},
		{name: "introspection fan-out: 3 type lists", query: "{ __schema { " + typeDumps(3) + " } } " + typeRef},
		{name: "introspection fan-out: 3 directive lists", query: "{ __schema { " + directiveDumps(3) + " } } " + typeRef},
		{name: "introspection: everything, once", query: "{ __schema { " + everything + " } } " + typeRef},
		{name: "introspection: fields of fields, 3 times by a fragment", query: "{ __schema { " + aliased(3, "types { ...N }") + " } } " + fieldsOfFields + typeRef},
		{name: "introspection: fields of fields of every type, 3 times", query: "{ __schema { " + nestedDumps(3) + " } } " + typeRef},
		{name: "GraphiQL introspection", query: graphiqlIntrospectionQuery},
		{name: "comments: 1990", query: "{\n" + strings.Repeat("#\n", 1990) + "__typename }"},
	}
}

// typeDumps asks n times, aliased, for every type with its fields.
func typeDumps(n int) string {
	return aliased(n, "types { name description fields { name description args { name type { ...T } } type { ...T } } }")
}

// directiveDumps asks n times, aliased, for every directive.
func directiveDumps(n int) string {
	return aliased(n, "directives { name description locations args { name description type { ...T } } }")
}

// nestedDumps asks n times, aliased, for every type's fields, and the
// fields of their types: as deep as gqlparser's MaxIntrospectionDepth allows.
func nestedDumps(n int) string {
	return aliased(n, "types { name fields { name type { ...T fields { name args { name } type { ...T } } } } }")
}

// everything is as much of the schema as one introspection selection can
// ask without aliases.
const everything = `types { kind name description specifiedByURL isOneOf
	fields(includeDeprecated: true) { name description isDeprecated deprecationReason
		args(includeDeprecated: true) { name description defaultValue isDeprecated deprecationReason type { ...T } }
		type { ...T fields(includeDeprecated: true) { name description isDeprecated deprecationReason
			args(includeDeprecated: true) { name description defaultValue type { ...T } } type { ...T } }
			inputFields { name type { ...T } } enumValues(includeDeprecated: true) { name description } } }
	inputFields(includeDeprecated: true) { name description defaultValue type { ...T } }
	enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
	interfaces { ...T } possibleTypes { ...T } }
	directives { name description isRepeatable locations args(includeDeprecated: true) { name description defaultValue type { ...T } } }
	queryType { name } mutationType { name } subscriptionType { name } description`

const fieldsOfFields = "fragment N on __Type { name fields { name description type { ...T fields { name description args { name description type { ...T } } type { ...T } } } } } "

func aliased(n int, selection string) string {
	var b strings.Builder
	b.WriteString(selection)
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, " a%d: %s", i, selection)
	}
	return b.String()
}

// refusedBeyondLimits are shapes that cost far more than 50 ms of CPU before
// the field limit, and how the default limits answer them.
func refusedBeyondLimits() []costlyDoc {
	return []costlyDoc{
		{name: "siblings: 1990 __typename", query: "{ " + sel("__typename", 1990) + " }", want: "FIELD_LIMIT_EXCEEDED"},
		{name: "fragment fan-out: 27 levels", query: fanOut(27, "__typename"), want: "FIELD_LIMIT_EXCEEDED"},
		{name: "fragment chain: 200 fragments", query: chain(200), want: "FIELD_LIMIT_EXCEEDED"},
		{name: "operations: 250 spreading 200 same-named fields", query: operations(250, `customerQuotas(quotaName: "a") { `+sel("totalCount", 200)+" }"), operationName: "O0", want: "FIELD_LIMIT_EXCEEDED"},
		{name: "operations: 150 spreading a list of 1000", query: operations(150, `customerQuotas(quotaName: "a", first: [`+sel("1", 1000)+`]) { totalCount }`), operationName: "O0", want: "FIELD_LIMIT_EXCEEDED"},
		{name: "conflicting aliases: 250 x 250", query: `{ customerQuotas(quotaName: "a") { ` + sel("totalCount", 250) + " " + sel("totalCount: __typename", 250) + ` } }`, want: "FIELD_LIMIT_EXCEEDED"},
		{name: "conflicting aliases: 149 x 149", query: `{ customerQuotas(quotaName: "a") { ` + sel("totalCount", 149) + " " + sel("totalCount: __typename", 149) + ` } }`, want: "ALIAS_LIMIT_EXCEEDED"},
		{name: "conflicting aliases: 149 x 149 in an unused fragment", query: `{ __typename } fragment U on Query { customerQuotas(quotaName: "a") { ` + sel("totalCount", 140) + " " + sel("totalCount: __typename", 140) + ` } }`, want: "ALIAS_LIMIT_EXCEEDED"},
		{name: "introspection fan-out: 20 type lists", query: "{ __schema { " + typeDumps(20) + " } } " + typeRef, want: "ALIAS_LIMIT_EXCEEDED"},
		{name: "introspection fan-out: 20 directive lists", query: "{ __schema { " + directiveDumps(20) + " } } " + typeRef, want: "ALIAS_LIMIT_EXCEEDED"},
		{name: "introspection fan-out: 4 type lists", query: "{ __schema { " + typeDumps(4) + " } } " + typeRef, want: "ALIAS_LIMIT_EXCEEDED"},
		{name: "introspection: everything, 5 times by a fragment", query: "{ ...E a1: __schema { ...S } a2: __schema { ...S } } fragment E on Query { __schema { ...S } } fragment S on __Schema { " + everything + " } " + typeRef, want: "FIELD_LIMIT_EXCEEDED"},
		{name: "introspection: fields of fields, 20 times by a fragment", query: "{ __schema { " + aliased(20, "types { ...N }") + " } } " + fieldsOfFields + typeRef, want: "ALIAS_LIMIT_EXCEEDED"},
		{name: "conflicting arguments: 222 fields", query: distinctArgs(222), want: "FIELD_LIMIT_EXCEEDED"},
	}
}

// body is the JSON request for d; pad makes the text distinct (spaces and
// commas, insignificant to GraphQL) so that no answer comes from the
// parsed-document cache.
func (d costlyDoc) body(pad int) []byte {
	q := d.query
	for bit := 0; bit < 16; bit++ {
		if pad&(1<<bit) != 0 {
			q += ","
		} else {
			q += " "
		}
	}
	b, _ := json.Marshal(map[string]any{"query": q, "operationName": d.operationName, "variables": d.vars})
	return b
}

// postDoc posts a costly document's body as the staff user.
func (h *harness) postDoc(body []byte) gqlResponse {
	h.t.Helper()
	req := h.request(http.MethodPost, "/query", string(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+demoStaff)
	return h.do(req)
}

// cpuTime is the CPU this process has used, gateway and fake Waldur included.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCostlyDocuments runs each worst shape through the whole gateway,
// a distinct document every time, and reports the CPU one request costs the
// process (gateway, fake Waldur and client together: an upper bound of the
// gateway's own). The goal is under 50 ms for every shape within the limits;
// the refused shapes show what answering "no" costs.
//
//	go test -run '^$' -bench CostlyDocuments -benchtime 20x ./httpapi/
func BenchmarkCostlyDocuments(b *testing.B) {
	h := newHarness(b, withConfig(func(c *httpapi.Config) { c.Introspection = true }))
	run := func(b *testing.B, d costlyDoc) {
		if r := h.postDoc(d.body(0)); r.code() != d.want {
			b.Fatalf("%s: code %q, want %q: %.300s", d.name, r.code(), d.want, r.Body)
		}
		cpu0 := cpuTime()
		i := 0
		for b.Loop() {
			i++
			h.postDoc(d.body(i))
		}
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(i), "cpu-ms/op")
	}
	for _, d := range worstWithinLimits() {
		b.Run("within/"+d.name, func(b *testing.B) { run(b, d) })
	}
	for _, d := range refusedBeyondLimits() {
		b.Run("refused/"+d.name, func(b *testing.B) { run(b, d) })
	}
}
