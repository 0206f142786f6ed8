package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/waldur-quotas/gateway/upstream"
)

// circuitCollector reports the circuit breaker's state when scraped, one
// series per state with 1 for the current one: read from the breaker
// itself, once per scrape, it is never stale and its series never disagree.
type circuitCollector struct {
	desc  *prometheus.Desc
	state func() string
}

var circuitStates = []string{upstream.CircuitClosed, upstream.CircuitOpen, upstream.CircuitHalfOpen}

func (c circuitCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c circuitCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.state()
	for _, state := range circuitStates {
		v := 0.0
		if state == now {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, state)
	}
}
