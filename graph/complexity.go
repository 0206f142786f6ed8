package graph

import (
	"math"

	"github.com/waldur-quotas/gateway/graph/model"
	"github.com/waldur-quotas/gateway/paging"
)

// NewConfig returns the executable schema's configuration: the resolvers and
// the complexity model used by the complexity limit.
func NewConfig(r *Resolver) Config {
	cfg := Config{Resolvers: r}
	// A connection costs one plus its selection once per row it may return:
	// first/last (or the default page) multiply what is asked of each row.
	cfg.Complexity.Query.CustomerQuotas = func(childComplexity int, _ string, _ *model.CustomerQuotaOrderField, first *int, _ *string, last *int, _ *string) int {
		rows := paging.DefaultFirst
		switch {
		case first != nil && last != nil:
			rows = min(*first, *last)
		case first != nil:
			rows = *first
		case last != nil:
			rows = *last
		}
		// Counts outside 0..MaxCount are the resolver's to refuse, with
		// BAD_USER_INPUT; here they cost what the largest legal page costs.
		rows = min(max(rows, 1), paging.MaxCount)
		// Fragments can make childComplexity as large as an int holds:
		// saturate, or the product would wrap round to a small number.
		if childComplexity > (math.MaxInt-1)/rows {
			return math.MaxInt
		}
		return 1 + rows*childComplexity
	}
	return cfg
}
