package httpapi

import (
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// maxValidationErrors is how many validation errors one document may get,
// as graphql-js caps them too. Within the field limit a document can still
// make gqlparser report tens of thousands (every pair of fields of the same
// name with different arguments conflicts), and writing them out would cost
// more than finding them.
const maxValidationErrors = 100

// cappedValidationRules returns gqlparser's default rules reporting through
// one shared count: errors beyond maxValidationErrors are dropped before
// their messages are formatted, and one last error says so. gqlgen calls it
// once per document it validates.
func cappedValidationRules() *rules.Rules {
	reported := 0
	capped := rules.NewRules()
	for name, rule := range rules.NewDefaultRules().GetInner() {
		capped.AddRule(name, func(observers *core.Events, addError core.AddErrFunc) {
			rule(observers, func(options ...core.ErrorOption) {
				reported++
				switch {
				case reported <= maxValidationErrors:
					addError(options...)
				case reported == maxValidationErrors+1:
					addError(core.Message("the document has more than %d errors; only the first %d are shown",
						maxValidationErrors, maxValidationErrors))
				}
			})
		})
	}
	return capped
}
