package httpapi_test

import (
	"net/http"
	"testing"
)

// A number too large for a float64 (1e400) is whole, only out of range: the
// refusal must say so, not that an Int is a whole number.
func TestHugeIntVariableIsReportedOutOfRange(t *testing.T) {
	h := newHarness(t)
	for _, v := range []string{"1e400", "-1e400"} {
		resp := h.postRaw(mediaJSON, `{"query": "query($f: Int) { customerQuotas(quotaName: \"x\", first: $f) { totalCount } }", "variables": {"f": `+v+`}}`)
		wantRefused(t, resp, http.StatusOK, "GRAPHQL_VALIDATION_FAILED", "$f", v, "from -2147483648 to 2147483647")
	}
	h.wantNoUpstreamCalls(t, "a refused variable")
}
