package main

import (
	"os"
	"strings"
	"testing"

	"github.com/books-platform/books/policy/rules"
)

// TestReadmeListsEveryRule keeps the README's rule table in sync with the code.
func TestReadmeListsEveryRule(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, r := range rules.All() {
		row := ""
		for _, line := range strings.Split(readme, "\n") {
			if strings.HasPrefix(line, "| `"+r.Name+"` |") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("README has no table row for %s", r.Name)
			continue
		}
		for _, want := range []string{r.Control, string(r.DefaultLevel)} {
			if !strings.Contains(row, want) {
				t.Errorf("README row for %s lacks %q", r.Name, want)
			}
		}
	}
	if !strings.Contains(readme, "| `"+NotesPolicy+"` |") {
		t.Errorf("README lacks %s", NotesPolicy)
	}
}
