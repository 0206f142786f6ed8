package graph_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every coded error is built with graph.Coded: a hand-built
// {"code": …} map elsewhere is a code the table in codes.go does not vouch
// for, and the next refactor of codes misses it. This reads the module's
// sources (tests and generated code aside) for the key itself.
func TestOnlyCodesGoSpellsTheCodeKey(t *testing.T) {
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		name := d.Name()
		if d.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") ||
			name == "generated.go" || filepath.ToSlash(path) == "../graph/codes.go" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), `"code"`) {
			t.Errorf("%s spells the \"code\" key: build the error with graph.Coded", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
