// Package promtest checks a /metrics scrape with Prometheus's own promtool,
// for the tests of the metrics in-process and of the real binary alike.
package promtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Check fails t unless `promtool check metrics` has nothing to say about
// scrape. Without promtool on the machine the test is skipped — except
// under CI, which installs it (Debian's prometheus package), where that is
// a failure.
func Check(t testing.TB, scrape []byte) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed; CI must check the metrics with it (apt-get install prometheus)")
		}
		t.Skip("promtool is not installed (apt-get install prometheus)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(scrape)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
