package main

import (
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/upstream"
)

func TestUpstreamRetriesSetting(t *testing.T) {
	for _, c := range []struct {
		env  string
		args []string
		want int
	}{
		{"", nil, upstream.DefaultRetries},
		{"0", nil, 0},
		{"5", nil, 5},
		{"5", []string{"-upstream-retries", "1"}, 1},
		{"", []string{"-upstream-retries=0"}, 0},
	} {
		cfg, err := parseConfig(c.args, envOf(map[string]string{"UPSTREAM_RETRIES": c.env}))
		if err != nil || cfg.upstreamRetries != c.want {
			t.Errorf("UPSTREAM_RETRIES=%q %v: %d, %v; want %d", c.env, c.args, cfg.upstreamRetries, err, c.want)
		}
	}
	for _, bad := range []string{"-1", "two", "2.5", "11"} {
		if _, err := parseConfig(nil, envOf(map[string]string{"UPSTREAM_RETRIES": bad})); err == nil {
			t.Errorf("UPSTREAM_RETRIES=%s accepted", bad)
		}
	}
	if _, err := parseConfig([]string{"-upstream-retries", "-1"}, envOf(nil)); err == nil {
		t.Error("-upstream-retries -1 accepted")
	}
}

// Every round of upstream calls may retry: the write timeout must outlast
// all of a request's rounds at their longest, every attempt timing out, and
// the shutdown grace the write timeout.
func TestServerTimeoutsCoverRetries(t *testing.T) {
	for _, c := range []struct {
		timeout time.Duration
		retries int
	}{{10 * time.Second, 0}, {10 * time.Second, 2}, {3 * time.Second, 5}} {
		st := serverTimeouts{upstreamTimeout: c.timeout, upstreamRetries: c.retries}
		attempts := time.Duration(c.retries+1) * c.timeout
		if st.write() <= upstreamRounds*attempts {
			t.Errorf("%+v: write timeout %s does not cover %d rounds of %s of attempts", c, st.write(), upstreamRounds, attempts)
		}
		if st.shutdownGrace() <= st.write() {
			t.Errorf("%+v: shutdown grace %s within the write timeout %s", c, st.shutdownGrace(), st.write())
		}
	}
}
