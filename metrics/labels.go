package metrics

import (
	"slices"
	"sync"

	"github.com/waldur-quotas/gateway/upstream/waldurapi"
)

// Label values that stand for many.
const (
	// foldedValue stands for every operation name (or error code) past the
	// bound, and for an unnamed operation. A GraphQL name cannot hold
	// parentheses, so no operation's own name can pass for it.
	foldedValue = "(other)"
	// otherQuota stands for every quota name Waldur is not known to keep.
	otherQuota = "other"
)

// Bounds on the values of labels callers choose.
const (
	// maxOperations is how many distinct operation names get a series of
	// their own: a deployment's frontends use a few dozen.
	maxOperations = 100
	// maxOutcomes bounds the outcome label. Error codes are the gateway's
	// own, a few dozen; the bound only guards against a code built from
	// input by mistake.
	maxOutcomes = 64
	// maxLabelBytes: a longer name folds; GraphQL names in real clients are
	// short identifiers, and a long one would be spelled in every series.
	maxLabelBytes = 100
)

// firstSeen keeps the first max distinct values it is given as they are, and
// folds the rest, and "", into foldedValue: the label's series stay bounded
// however many distinct values callers send, and the values a deployment
// really uses come first.
type firstSeen struct {
	max int

	mu   sync.Mutex
	seen map[string]struct{}
}

func newFirstSeen(max int) *firstSeen {
	return &firstSeen{max: max, seen: make(map[string]struct{}, max)}
}

func (f *firstSeen) value(v string) string {
	if v == "" || len(v) > maxLabelBytes {
		return foldedValue
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.seen[v]; ok {
		return v
	}
	if len(f.seen) >= f.max {
		return foldedValue
	}
	f.seen[v] = struct{}{}
	return v
}

// quotaLabel is name when Waldur is known to keep that quota, else
// otherQuota: quota_name is the caller's choice, and Waldur answers any.
func quotaLabel(name string) string {
	if slices.Contains(waldurapi.QuotaNames, name) {
		return name
	}
	return otherQuota
}

// statusClass is an HTTP status's class ("2xx"…"5xx"), "none" when no
// answer arrived.
func statusClass(status int) string {
	switch {
	case status == 0:
		return "none"
	case status >= 100 && status < 600:
		return string(rune('0'+status/100)) + "xx"
	}
	return "other"
}
