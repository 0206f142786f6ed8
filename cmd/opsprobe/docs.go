package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/waldur-quotas/gateway/cmd/internal/gatewayproc"
)

// measureDocs reports what hostile documents cost the gateway process: the
// CPU and time to answer a fragment fan-out of the given levels, then, for
// each dense shape, its resident memory after that many distinct documents
// have gone through its caches. Each measurement starts a fresh gateway in
// demo mode so that none inherits another's caches or heap.
func measureDocs(bin string, levels, docs int, timeout time.Duration) error {
	client := &http.Client{Timeout: timeout}
	if err := measureFanOut(client, bin, levels); err != nil {
		return err
	}
	for _, shape := range denseShapes {
		if err := measureDense(client, bin, shape.name, shape.query, docs); err != nil {
			return err
		}
	}
	return nil
}

func measureFanOut(client *http.Client, bin string, levels int) error {
	g, err := gatewayproc.Start(bin)
	if err != nil {
		return err
	}
	defer stop(g)
	q := fanOut(levels)
	cpu0, err := g.CPU()
	if err != nil {
		return err
	}
	t0 := time.Now()
	status, body, err := post(client, g.URL(), q)
	answer := fmt.Sprintf("HTTP %d %s", status, code(body))
	if err != nil {
		// The server's write timeout may have run out before the answer was ready.
		answer = "no answer: " + err.Error()
	}
	elapsed := time.Since(t0)
	cpu1, err := g.CPU()
	if err != nil {
		return err
	}
	fmt.Printf("fragment fan-out, %d levels, %d bytes: %s, %.1f s of CPU; %s\n",
		levels, len(q), elapsed.Round(time.Millisecond), (cpu1 - cpu0).Seconds(), answer)
	return nil
}

func measureDense(client *http.Client, bin, name, query string, docs int) error {
	g, err := gatewayproc.Start(bin)
	if err != nil {
		return err
	}
	defer stop(g)
	before, err := g.RSS()
	if err != nil {
		return err
	}
	codes := map[string]int{}
	for i := range docs {
		_, body, err := post(client, g.URL(), query+strings.Repeat(" ", i))
		if err != nil {
			return err
		}
		codes[code(body)]++
	}
	time.Sleep(2 * time.Second) // let the collector run once more
	after, err := g.RSS()
	if err != nil {
		return err
	}
	fmt.Printf("%d distinct documents of %s (%d bytes each): RSS %d MB before, %d MB after; answers %v\n",
		docs, name, len(query), before>>20, after>>20, codes)
	return nil
}

// fanOut is a document of fragments that each spread the next twice.
func fanOut(levels int) string {
	var b strings.Builder
	b.WriteString("{...a0}")
	for i := range levels {
		fmt.Fprintf(&b, "fragment a%d on Query{...a%d ...a%d}", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment a%d on Query{__typename}", levels)
	return b.String()
}

// denseShapes are documents within the token limit that each hold as many
// syntax-tree nodes as their shape allows; trailing spaces make them distinct.
var denseShapes = []struct{ name, query string }{
	{"aliased __typename", func() string {
		var b strings.Builder
		b.WriteString("{")
		for i := range 660 {
			fmt.Fprintf(&b, " a%d: __typename", i)
		}
		return b.String() + " }"
	}()},
	{"comments", "{\n" + strings.Repeat("#\n", 1985) + "__typename }"},
	{"fields", `{ customerQuotas(quotaName: "os_cpu_count") { nodes { ` +
		strings.TrimSpace(strings.Repeat("value customerName customerAbbreviation ", 96)) + " } } }"},
}

func post(client *http.Client, url, query string) (int, []byte, error) {
	body, _ := json.Marshal(map[string]string{"query": query})
	resp, err := client.Post(url+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// code is the first error's code of an answer, "data" without errors.
func code(body []byte) string {
	var r struct {
		Errors []struct {
			Extensions struct{ Code string } `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &r) != nil || len(r.Errors) == 0 {
		return "data"
	}
	return r.Errors[0].Extensions.Code
}
