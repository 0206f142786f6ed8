package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConfigPersistedDocuments(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(`{"id1": "query Q { customerQuotas(quotaName: \"x\") { totalCount } }"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"id1": "query Q { nosuchfield }"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg, err := parseConfig(nil, envOf(map[string]string{"PERSISTED_DOCUMENTS_FILE": good, "PERSISTED_DOCUMENTS_ONLY": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.persistedDocumentsOnly || cfg.persistedDocuments == nil || cfg.persistedDocuments.Len() != 1 {
		t.Errorf("config %+v", cfg)
	}
	cfg, err = parseConfig([]string{"-persisted-documents-file", good, "-persisted-documents-only=false"}, envOf(map[string]string{"PERSISTED_DOCUMENTS_ONLY": "true"}))
	if err != nil || cfg.persistedDocumentsOnly || cfg.persistedDocuments == nil {
		t.Errorf("flags: %v %+v", err, cfg)
	}

	// Each is a configuration error (main exits 2) naming the setting.
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PERSISTED_DOCUMENTS_FILE": bad}, "PERSISTED_DOCUMENTS_FILE"},
		{map[string]string{"PERSISTED_DOCUMENTS_FILE": filepath.Join(dir, "missing.json")}, "missing.json"},
		{map[string]string{"PERSISTED_DOCUMENTS_ONLY": "true"}, "needs PERSISTED_DOCUMENTS_FILE"},
		{map[string]string{"PERSISTED_DOCUMENTS_FILE": good, "PERSISTED_DOCUMENTS_ONLY": "yes please"}, "PERSISTED_DOCUMENTS_ONLY must be true or false"},
	} {
		if _, err := parseConfig(nil, envOf(c.env)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.env, err, c.want)
		}
	}
}
