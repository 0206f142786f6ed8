// Package upstream is the gateway's client for Waldur's customer-quotas endpoint,
// GET /api/customer-quotas/.
//
// It speaks the endpoint as it really behaves (see the reference sheet
// waldur-upstream.md): quota_name is required, page sizes stop at 300, the total
// comes in X-Result-Count, a page past the last answers 404, values may exceed 2^31
// or be null, and every caller sees a different list. The caller's credentials
// travel in the request context (WithAuthorization) and are never logged, never put
// in an error and never shared with another caller.
package upstream
