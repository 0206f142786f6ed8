package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// DefaultRetryIn is how long a failed Redis is left alone before one command
// tries it again. Meanwhile commands miss at once, so that an outage costs
// requests nothing — not even a connect timeout each.
const DefaultRetryIn = time.Second

// errDown is what a command meets while Redis is left alone.
var errDown = errors.New("redis is unavailable")

// outage watches Redis with a circuit breaker (sony/gobreaker, as the
// upstream's is): one failed command opens it, a command after retryIn
// probes, and a probe that succeeds closes it. It logs an outage once, when
// it begins, and once more when it ends — not every probe in between.
type outage struct {
	cb       *gobreaker.CircuitBreaker[struct{}]
	logger   *slog.Logger
	reported atomic.Bool // this outage's start is logged
}

func newOutage(logger *slog.Logger, retryIn time.Duration) *outage {
	o := &outage{logger: logger}
	o.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1,
		Timeout:     retryIn,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 },
		IsSuccessful: func(err error) bool {
			// A miss is an answer, and a caller that gave up says nothing of Redis.
			return err == nil || errors.Is(err, context.Canceled)
		},
		OnStateChange: o.changed,
	})
	return o
}

// guard runs a command unless Redis is left alone now. A caller whose own
// context ended does not count against Redis.
func (o *outage) guard(ctx context.Context, command string, run func() error) error {
	_, err := o.cb.Execute(func() (struct{}, error) {
		err := run()
		if err != nil && ctx.Err() != nil {
			err = context.Canceled
		}
		if err != nil {
			o.lastFailure(command, err)
		}
		return struct{}{}, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return errDown
	}
	return err
}

// lastFailure reports the outage with what the first command to fail met;
// commands failing with it at the same moment, and the failed probes after
// it, are the same outage.
func (o *outage) lastFailure(command string, err error) {
	if o.reported.CompareAndSwap(false, true) {
		o.logger.Warn("redis unavailable: shared persisted queries and cached pages are off until it is back; answering from Waldur",
			slog.String("command", command), slog.String("error", err.Error()))
	}
}

// changed logs the end of an outage. Its start is logged by lastFailure,
// which knows the cause; a failed probe (half-open to open) is not news.
func (o *outage) changed(_ string, from, to gobreaker.State) {
	if from == gobreaker.StateHalfOpen && to == gobreaker.StateClosed && o.reported.CompareAndSwap(true, false) {
		o.logger.Info("redis available again")
	}
}
