package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/tests/harness"
)

// TestReadmeDocumentsEveryConfigField keeps the README's configuration
// reference in step with the config structs.
func TestReadmeDocumentsEveryConfigField(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "## Configuration")
	end := strings.Index(readme[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README has no Configuration section")
	}
	section := readme[start : start+1+end]
	def := infra.DefaultConfig()
	for name, v := range map[string]any{"network": def.Network, "database": def.Database, "cache": def.Cache, "service": def.Service, "api": def.Api, "alarms": def.Alarms} {
		row := ""
		for _, line := range strings.Split(section, "\n") {
			if strings.HasPrefix(line, "| `books:"+name+"`") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("README Configuration has no row for books:%s", name)
			continue
		}
		js, _ := json.Marshal(v)
		var fields map[string]any
		_ = json.Unmarshal(js, &fields)
		for f := range fields {
			if !strings.Contains(row, "`"+f+"`") {
				t.Errorf("README row books:%s does not document field %s", name, f)
			}
		}
	}
	for _, key := range []string{infra.KeyBasicAuthPassword, infra.KeyCacheAuthToken, "books:protect", "aws:region", "aws:defaultTags"} {
		if !strings.Contains(section, "`"+key+"`") {
			t.Errorf("README Configuration does not document %s", key)
		}
	}
}
