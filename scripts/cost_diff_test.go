package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCostDiff runs the cost part of preview.yml: a copy of this work tree
// committed as the base, the dev stack's API cache then resized, estimated
// against that base, must report exactly that line.
func TestCostDiff(t *testing.T) {
	t.Parallel()
	requireProgram(t, "git", "apt-get install git")
	requireProgram(t, "go", "https://go.dev/dl/")
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	clone := commitWorkTree(t, repo)
	stackFile := filepath.Join(clone, "Pulumi.dev.yaml")
	src := readFile(t, stackFile)
	if strings.Contains(src, "cacheSize:") {
		t.Fatal("Pulumi.dev.yaml sets books:api cacheSize already; change this test to flip it")
	}
	changed := strings.Replace(src, "  books:api:\n", "  books:api:\n    cacheSize: \"1.6\"\n", 1)
	if changed == src {
		t.Fatal("Pulumi.dev.yaml has no books:api section")
	}
	writeFile(t, clone, "Pulumi.dev.yaml", changed)

	out := filepath.Join(t.TempDir(), "out")
	r := run(t, 10*time.Minute, nil, filepath.Join(clone, "scripts", "cost-diff.sh"), "--stack", "dev", "--base", "HEAD", "--out-dir", out)
	if r.code != 0 {
		t.Fatalf("cost-diff.sh: %s", r)
	}
	for _, want := range []string{
		"#### Cost of `dev`: $",
		"| removed | Api | `api` | API Gateway cache cluster 0.5 GB |",
		"| added | Api | `api` | API Gateway cache cluster 1.6 GB |",
		"<summary>Cost estimate of this pull request</summary>",
		"#### Cost estimate of `dev` (eu-west-1)",
		"not a bill",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("missing %q in the summary:\n%s", want, r.stdout)
		}
	}
	// Only that line changed.
	if n := strings.Count(r.stdout, "| added |") + strings.Count(r.stdout, "| removed |") + strings.Count(r.stdout, "| changed |"); n != 2 {
		t.Errorf("%d changed lines, want 2 (the cache size):\n%s", n, r.stdout)
	}
	for _, f := range []string{"head-cost.json", "base-cost.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not kept: %v", f, err)
		}
	}

	t.Run("Usage", func(t *testing.T) {
		for _, args := range [][]string{{}, {"--stack", "dev", "--base", "HEAD", "--base-dir", "."}, {"--stack", "a b"}, {"--bogus"}} {
			if r := run(t, 30*time.Second, nil, "cost-diff.sh", args...); r.code != 2 {
				t.Errorf("cost-diff.sh %v: exit %d, want 2\n%s", args, r.code, r)
			}
		}
	})
}
