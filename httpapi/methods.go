package httpapi

import (
	"net/http"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/waldur-quotas/gateway/graph"
)

// allowedMethods are the methods /query serves: GraphQL over HTTP defines GET
// and POST, nothing else.
const allowedMethods = "GET, POST"

// withGraphQLMethods lets GET and POST through to next and answers every other
// method itself, before gqlgen, whose answer to them is a 400 in text/plain
// without a code. It sits behind withCORS, which answers browsers' preflights.
func withGraphQLMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodPost:
			next.ServeHTTP(w, r)
		case http.MethodOptions:
			// Not a preflight (or CORS is off): the client asks what the
			// resource supports.
			w.Header().Set("Allow", allowedMethods)
			w.WriteHeader(http.StatusOK)
		default:
			setAnswerHeaders(w, r)
			refuseMethod(w, r, allowedMethods, r.Method+" is not allowed on /query; send GET or POST")
		}
	})
}

// refuseMethod answers 405 with the methods that would work, in JSON with a
// code like every other request error (HEAD gets the headers only, as HEAD
// must). The caller has set the answer's headers.
func refuseMethod(w http.ResponseWriter, r *http.Request, allow, message string) {
	w.Header().Set("Allow", allow)
	list := gqlerror.List{graph.Coded(graph.CodeMethodNotAllowed, message)}
	noteErrorCodes(r.Context(), list)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	writeRequestError(w, http.StatusMethodNotAllowed, list)
}
