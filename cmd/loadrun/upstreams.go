package main

import (
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// fakeUpstream is a fake Waldur served from this process on loopback, which
// counts the requests it answers (the gateway's round trips).
type fakeUpstream struct {
	url      string
	requests atomic.Int64
	srv      *http.Server
}

// serveFake serves the demo dataset of n organisations, each answer delayed
// by delay (0: none) unless the request is abandoned first.
func serveFake(customers int, delay time.Duration) (*fakeUpstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeUpstream{url: "http://" + ln.Addr().String()}
	data := fakewaldur.Demo(customers, 1)
	for i := range maxClients {
		data.Users[clientToken(i)] = fakewaldur.User{Staff: true}
	}
	fake := fakewaldur.New(data)
	f.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			// The gateway's readiness probe asks anonymously, and is no
			// query's round trip.
			f.requests.Add(1)
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		fake.ServeHTTP(w, r)
	})}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// Every client load runs is a caller of its own, with a staff token of its
// own: identical requests of one caller in flight at once share one upstream
// call (coalescing), and cached answers are per caller, so a single token
// would measure the gateway sharing work between the clients rather than
// doing it. maxClients bounds -concurrency.
const maxClients = 1024

func clientToken(i int) string { return fmt.Sprintf("load-client-%d", i) }

func (f *fakeUpstream) Close() { _ = f.srv.Close() }
