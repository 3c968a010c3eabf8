package tests

// The deliberately insecure program (policy/testdata/insecure), run under
// the harness's mocks as stack "prod": every mandatory rule fires at least
// once, and the findings equal golden.txt (-update-insecure rewrites it).

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/books-platform/books/policy/rules"
	"github.com/books-platform/books/policy/testdata/insecure"
	"github.com/books-platform/books/tests/harness"
)

var updateInsecure = flag.Bool("update-insecure", false, "rewrite policy/testdata/insecure/golden.txt")

func TestInsecureProgram(t *testing.T) {
	g, err := harness.RunProgram("insecure", "prod", insecure.Program)
	if err != nil {
		t.Fatal(err)
	}
	vs := rules.Evaluate("prod", g.PolicyResources(), rules.Config{})
	fired := map[string]bool{}
	var lines []string
	for _, v := range vs {
		if v.Note {
			continue
		}
		fired[v.Rule] = true
		name := v.URN[strings.LastIndex(v.URN, "::")+2:]
		lines = append(lines, string(v.Level)+"\t"+v.Rule+"\t"+name)
	}
	sort.Strings(lines)
	lines = slicesCompact(lines)
	for _, r := range rules.All() {
		if r.DefaultLevel == rules.Mandatory && !fired[r.Name] {
			t.Errorf("mandatory rule %s does not fire on the insecure program: break what it checks in policy/testdata/insecure", r.Name)
		}
	}
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join(root, "policy", "testdata", "insecure", "golden.txt")
	got := strings.Join(lines, "\n") + "\n"
	if *updateInsecure {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("findings differ from %s (run with -update-insecure after checking them):\n%s", golden, diffLines(string(want), got))
	}
}

func slicesCompact(ss []string) []string {
	var out []string
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range mb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	for l := range ma {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
