// Package fakewaldur is an in-process fake of Waldur's GET /api/customer-quotas/
// endpoint, served by an http.Handler.
//
// It exists for two reasons: the gateway's tests talk to it over loopback HTTP, and
// the gateway embeds it as a demo upstream when no real Waldur is configured. Both
// uses only pay off if the fake is faithful, so it reproduces what the endpoint
// really does (shared/reference/waldur-upstream.md), including the parts its public
// docs leave out: quota_name is required, page_size stops at 300, the total comes in
// X-Result-Count, pages past the end answer 404, values exceed 2^31 or are null or
// floats, each caller sees a different list, and the order among ties is not stable
// (opt-in, see WithShuffledTies).
//
// A Dataset describes the upstream's state; New serves a snapshot of it; Demo builds
// a realistic one; Dataset.Rows is the reference answer tests compare against.
package fakewaldur
