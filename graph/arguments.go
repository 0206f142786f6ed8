package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/waldur-quotas/gateway/graph/model"
	"github.com/waldur-quotas/gateway/paging"
	"github.com/waldur-quotas/gateway/upstream"
)

// maxQuotaNameLength bounds quotaName; Waldur's names are short identifiers.
const maxQuotaNameLength = 64

// quotaQuery is one customerQuotas field's arguments, validated and decoded.
type quotaQuery struct {
	cursorScope paging.Query
	quotaName   string
	ordering    upstream.Ordering
	// args holds the cursors as positions; the anchors, when the cursors are
	// version 2, say which rows they point at (see anchors.go).
	args                      paging.Args
	afterAnchor, beforeAnchor *paging.Anchor
}

func parseArguments(ctx context.Context, quotaName string, orderBy *model.CustomerQuotaOrderField, first *int, after *string, last *int, before *string) (quotaQuery, error) {
	if err := validateQuotaName(quotaName); err != nil {
		return quotaQuery{}, inputError(ctx, err.Error())
	}
	order := model.CustomerQuotaOrderFieldValue
	if orderBy != nil {
		order = *orderBy
	}
	q := quotaQuery{
		cursorScope: paging.Query{QuotaName: quotaName, OrderBy: string(order)},
		quotaName:   quotaName,
		ordering:    upstream.OrderByValue,
		args:        paging.Args{First: first, Last: last},
	}
	if order == model.CustomerQuotaOrderFieldName {
		q.ordering = upstream.OrderByName
	}
	if err := q.args.Validate(); err != nil {
		return quotaQuery{}, inputError(ctx, err.Error())
	}
	var err error
	if q.args.After, q.afterAnchor, err = decodeCursor(q.cursorScope, "after", after); err != nil {
		return quotaQuery{}, inputError(ctx, err.Error())
	}
	if q.args.Before, q.beforeAnchor, err = decodeCursor(q.cursorScope, "before", before); err != nil {
		return quotaQuery{}, inputError(ctx, err.Error())
	}
	return q, nil
}

func decodeCursor(scope paging.Query, name string, s *string) (*paging.Cursor, *paging.Anchor, error) {
	if s == nil {
		return nil, nil, nil
	}
	c, a, err := paging.DecodeAnchoredCursor(scope, *s)
	switch {
	case errors.Is(err, paging.ErrForeignCursor):
		return nil, nil, fmt.Errorf("%s: the cursor belongs to another quotaName or orderBy; start again without %s", name, name)
	case err != nil:
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return &c, a, nil
}

// validateQuotaName accepts the shape of Waldur's quota names. Waldur itself
// validates nothing (an unknown name lists zeros), so the gateway at least
// refuses what cannot be a name, with a message that says so.
func validateQuotaName(name string) error {
	if name == "" {
		return errors.New(`quotaName must not be empty; try "os_storage_size"`)
	}
	if len(name) > maxQuotaNameLength {
		return fmt.Errorf("quotaName is longer than %d characters", maxQuotaNameLength)
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return errors.New(`quotaName may hold only letters, digits, "_", "-" and "."; try "os_storage_size"`)
		}
	}
	return nil
}
