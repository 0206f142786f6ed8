package upstream

import (
	"context"
	"strconv"
	"time"

	"github.com/waldur-quotas/gateway/internal/bytelru"
)

// Recent totals: the last rows of a list hang from its end, so a query for
// them (last without before) cannot plan its GET without the list's total,
// and asking Waldur for it first (a HEAD) doubles the query's latency. A
// total this caller was told a moment ago for the same list is a good plan;
// it is never an answer: the GET's X-Result-Count checks it, and a plan that
// proves wrong is made again (see graph/connection.go). The memory is per
// caller (by digest, never the credential), small and short-lived.

const (
	// recentTotalTTL: how long a total stays a plan. Lists change rarely
	// within seconds, and a stale one costs a re-plan, never a wrong answer.
	recentTotalTTL = 10 * time.Second
	// recentTotalsBytes bounds the memory: a total costs its key and
	// about a hundred bytes, so this holds tens of thousands of lists.
	recentTotalsBytes = 4 << 20
	recentTotalCost   = 128
)

type recentTotals struct {
	lru *bytelru.Cache[recentTotal]
	now func() time.Time
}

type recentTotal struct {
	total   int
	learned time.Time
}

func newRecentTotals(now func() time.Time) *recentTotals {
	cost := func(key string, _ recentTotal) int { return len(key) + recentTotalCost }
	return &recentTotals{lru: bytelru.New(recentTotalsBytes/recentTotalCost, recentTotalsBytes, cost), now: now}
}

// recentTotalKey names one caller's list; the quota name is quoted so that
// no name can pass for another field.
func recentTotalKey(callerDigest, quotaName string, ordering Ordering) string {
	return callerDigest + " " + strconv.Quote(quotaName) + " " + string(ordering)
}

// RecentTotal returns the total Waldur reported to this caller for this list
// less than a moment ago, if it did: a plan for a query that needs the total,
// to be checked against what Waldur reports with the rows.
func (c *Client) RecentTotal(ctx context.Context, quotaName string, ordering Ordering) (int, bool) {
	t, ok := c.totals.lru.Get(ctx, recentTotalKey(c.callerDigest(ctx), quotaName, ordering))
	if !ok || c.totals.now().Sub(t.learned) >= recentTotalTTL {
		return 0, false
	}
	return t.total, true
}

// learnTotal remembers a total the caller of ctx was just told.
func (c *Client) learnTotal(ctx context.Context, quotaName string, ordering Ordering, total int) {
	c.totals.lru.Add(ctx, recentTotalKey(c.callerDigest(ctx), quotaName, ordering), recentTotal{total: total, learned: c.totals.now()})
}
