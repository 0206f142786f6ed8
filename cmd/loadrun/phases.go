package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/waldur-quotas/gateway/cmd/internal/gatewayproc"
	"github.com/waldur-quotas/gateway/upstream/waldurapi"
)

// The queries measured. Each asks for what a client paging a table would.
const (
	queryFirst10    = `{ customerQuotas(quotaName: "os_storage_size", first: 10) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { customerName customerAbbreviation value } } } }`
	queryLast10     = `{ customerQuotas(quotaName: "os_storage_size", last: 10) { totalCount pageInfo { hasPreviousPage startCursor } edges { cursor node { customerName customerAbbreviation value } } } }`
	queryFirst100   = `{ customerQuotas(quotaName: "os_storage_size", first: 100) { totalCount nodes { customerName customerAbbreviation value } } }`
	queryTotalCount = `{ customerQuotas(quotaName: "os_storage_size") { totalCount } }`
)

// phase is one measured load: requests built by req, against a gateway
// started with env (none for a direct phase), compared with the direct
// phase named by baseline.
type phase struct {
	name     string
	baseline string // "" for a baseline itself
	gateway  []string
	upstream *fakeUpstream
	req      func(base string, client int) *http.Request
}

func gql(query string) func(string, int) *http.Request {
	body, _ := json.Marshal(map[string]string{"query": query})
	return func(base string, client int) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Token "+clientToken(client))
		return r
	}
}

func direct(pageSize int) func(string, int) *http.Request {
	query := "?quota_name=os_storage_size&o=value&page=1&page_size=" + strconv.Itoa(pageSize)
	return func(base string, client int) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, base+waldurapi.Path+query, nil)
		r.Header.Set("Authorization", "Token "+clientToken(client))
		return r
	}
}

func phases(fast, slow *fakeUpstream, slowDelay time.Duration) []phase {
	// As deployed: metrics on (their listener on loopback), trace export
	// off (the default without OTEL_* settings).
	deployed := func(env ...string) []string {
		return append([]string{"METRICS_LISTEN_ADDR=127.0.0.1:0", "OTEL_TRACES_EXPORTER=none"}, env...)
	}
	uncached := deployed("WALDUR_API_URL=" + fast.url)
	cached := deployed("WALDUR_API_URL="+fast.url, "UPSTREAM_CACHE_TTL=60s")
	slowGateway := deployed("WALDUR_API_URL=" + slow.url)
	d := slowDelay.String()
	return []phase{
		{name: "direct: page of 10", upstream: fast, req: direct(10)},
		{name: "gateway: first 10", baseline: "direct: page of 10", gateway: uncached, upstream: fast, req: gql(queryFirst10)},
		{name: "gateway: last 10", baseline: "direct: page of 10", gateway: uncached, upstream: fast, req: gql(queryLast10)},
		{name: "gateway: totalCount only", baseline: "direct: page of 10", gateway: uncached, upstream: fast, req: gql(queryTotalCount)},
		{name: "gateway cached: first 10, repeated", baseline: "direct: page of 10", gateway: cached, upstream: fast, req: gql(queryFirst10)},
		{name: "direct: page of 100", upstream: fast, req: direct(100)},
		{name: "gateway: first 100", baseline: "direct: page of 100", gateway: uncached, upstream: fast, req: gql(queryFirst100)},
		{name: "direct: page of 10, again (noise)", baseline: "direct: page of 10", upstream: fast, req: direct(10)},
		{name: "direct " + d + ": page of 10", upstream: slow, req: direct(10)},
		{name: "gateway " + d + ": first 10", baseline: "direct " + d + ": page of 10", gateway: slowGateway, upstream: slow, req: gql(queryFirst10)},
		{name: "gateway " + d + ": last 10", baseline: "direct " + d + ": page of 10", gateway: slowGateway, upstream: slow, req: gql(queryLast10)},
		{name: "gateway " + d + ": totalCount only", baseline: "direct " + d + ": page of 10", gateway: slowGateway, upstream: slow, req: gql(queryTotalCount)},
	}
}

// runPhase measures p, against a fresh gateway process when p has one.
func runPhase(o options, client *http.Client, p phase) (result, error) {
	if p.gateway == nil {
		if o.warmup > 0 {
			load(client, p.upstream.url, p.req, o.warmup, o.concurrency)
		}
		before := p.upstream.requests.Load()
		r := load(client, p.upstream.url, p.req, o.duration, o.concurrency)
		r.upstreamCalls = p.upstream.requests.Load() - before
		return r, nil
	}
	gw, err := gatewayproc.Start(o.bin, append(append([]string(nil), p.gateway...), o.env...)...)
	if err != nil {
		return result{}, err
	}
	defer func() {
		if err := gw.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "loadrun:", err)
		}
	}()
	if o.warmup > 0 {
		load(client, gw.URL(), p.req, o.warmup, o.concurrency)
	}
	cpu0, err := gw.CPU()
	if err != nil {
		return result{}, err
	}
	before := p.upstream.requests.Load()
	r := load(client, gw.URL(), p.req, o.duration, o.concurrency)
	r.upstreamCalls = p.upstream.requests.Load() - before
	cpu1, err := gw.CPU()
	if err != nil {
		return result{}, err
	}
	r.cpu = cpu1 - cpu0
	if r.peakRSS, err = gw.Peak(); err != nil {
		return result{}, err
	}
	r.gateway = true
	return r, nil
}

// settle gives the machine a moment between phases: the previous gateway's
// exit and its connections' teardown are not the next phase's cost.
func settle() { time.Sleep(200 * time.Millisecond) }
