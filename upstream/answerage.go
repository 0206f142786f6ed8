package upstream

import (
	"context"
	"sync"
	"time"
)

// A cache above this client (whole GraphQL answers, see httpapi) must not
// keep an answer longer than the pages it was built from may be kept: built
// from a page the cache had held for most of its TTL, it may live only the
// rest of that TTL. AnswerAge tells it when the oldest page or total an
// answer used was fetched from Waldur.

// AnswerAge collects, for one request, when the oldest answer it used was
// fetched. It is safe for concurrent use.
type AnswerAge struct {
	mu      sync.Mutex
	oldest  time.Time
	unknown bool // an answer came from a store that does not say its age
}

type answerAgeKey struct{}

// WithAnswerAge returns a context whose requests report their answers' age
// to the AnswerAge returned.
func WithAnswerAge(ctx context.Context) (context.Context, *AnswerAge) {
	a := &AnswerAge{}
	return context.WithValue(ctx, answerAgeKey{}, a), a
}

// noteCachedAnswer records that ctx's request used an answer fetched at
// fetched; a zero time says the store does not know.
func noteCachedAnswer(ctx context.Context, fetched time.Time) {
	a, _ := ctx.Value(answerAgeKey{}).(*AnswerAge)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case fetched.IsZero():
		a.unknown = true
	case a.oldest.IsZero() || fetched.Before(a.oldest):
		a.oldest = fetched
	}
}

// Oldest is when the oldest cached answer the request used was fetched
// (zero when it used none: all came from Waldur just now), and false when
// that cannot be known.
func (a *AnswerAge) Oldest() (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.oldest, !a.unknown
}
