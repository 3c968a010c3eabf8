package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/books-platform/books/policy/rules"
)

var update = flag.Bool("update", false, "rewrite CONTROLS.md from the rule metadata")

// TestControlsCatalogue keeps CONTROLS.md generated from the rules and the
// catalogue: it fails when the file drifts (run with -update to rewrite it).
// rules.TestEveryApplicableControlHasARule fails on applicable controls
// without a rule.
func TestControlsCatalogue(t *testing.T) {
	want := rules.CatalogueMarkdown()
	if *update {
		if err := os.WriteFile("CONTROLS.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("CONTROLS.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatal("CONTROLS.md is out of date with the rules: run `go test ./policy -run TestControlsCatalogue -update`")
	}
	for _, r := range rules.All() {
		if !strings.Contains(want, "| `"+r.Name+"` |") {
			t.Errorf("CONTROLS.md has no row for %s", r.Name)
		}
	}
}

// TestReadmePointsToTheCatalogue: the README documents the pack's use and
// sends readers to CONTROLS.md for the rule list.
func TestReadmePointsToTheCatalogue(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CONTROLS.md", "| `" + NotesPolicy + "` |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("README lacks %q", want)
		}
	}
}
