package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// maxCapacity matches the dev stack's Aurora Serverless maximum (ACUs).
var maxCapacity = regexp.MustCompile(`(?m)^(    maxCapacity: )(\d+)\n`)

// TestPreviewDiff runs the fork path of preview.yml end to end: a copy of
// this work tree committed as the base, with one config value then changed,
// previewed offline against that base, must report exactly that change.
func TestPreviewDiff(t *testing.T) {
	t.Parallel()
	requireProgram(t, "git", "apt-get install git")
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(repo, ".tools", "bin", "pulumi")
	if _, err := os.Stat(cli); err != nil {
		requireProgram(t, "pulumi", "run `make pulumi-cli`, which `make test` does first")
	}

	clone := commitWorkTree(t, repo)
	for _, need := range []string{"Pulumi.dev.yaml", "cmd/preview-offline", "scripts/preview-diff.sh"} {
		if _, err := os.Stat(filepath.Join(clone, need)); err != nil {
			t.Fatalf("the work tree has no %s", need)
		}
	}
	// The clone reuses this checkout's pinned Pulumi CLI.
	if err := os.MkdirAll(filepath.Join(clone, ".tools"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(repo, ".tools", "bin"), filepath.Join(clone, ".tools", "bin")); err != nil {
		t.Fatal(err)
	}
	stackFile := filepath.Join(clone, "Pulumi.dev.yaml")
	src := readFile(t, stackFile)
	m := maxCapacity.FindStringSubmatch(src)
	if m == nil {
		t.Fatal("Pulumi.dev.yaml sets no books:database maxCapacity; pick another value to change in this test")
	}
	before, _ := strconv.Atoi(m[2])
	after := strconv.Itoa(before * 2)
	writeFile(t, clone, "Pulumi.dev.yaml", strings.Replace(src, m[0], m[1]+after+"\n", 1))

	out := filepath.Join(t.TempDir(), "out")
	// The cost part is TestCostDiff's: both in one run took longer than go
	// test's 10-minute limit on a loaded machine.
	cmd := exec.Command(filepath.Join(clone, "scripts", "preview-diff.sh"), "--stack", "dev", "--base", "HEAD", "--out-dir", out, "--no-cost")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("preview-diff.sh: %v\n--- stdout\n%s--- stderr\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("two offline previews and the diff took %s", time.Since(start).Round(time.Second))
	md := stdout.String()
	for _, want := range []string{
		"### Offline preview of `dev`",
		"#### Changes against the base `",
		"~ books:database.maxCapacity: " + m[2] + " → " + after,
		"~ serverlessv2ScalingConfiguration.maxCapacity: " + m[2] + " → " + after,
		"resources: 0 added, 0 removed, 1 changed",
		"0 mandatory violations",
		"<details><summary>Resource tree</summary>",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q in the summary:\n%s", want, md)
		}
	}
	for _, f := range []string{"head.json", "base.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not kept: %v", f, err)
		}
	}
	worktrees, err := exec.Command("git", "-C", clone, "worktree", "list").Output()
	if err != nil || strings.Count(strings.TrimSpace(string(worktrees)), "\n") != 0 {
		t.Errorf("the base worktree was not removed: %v\n%s", err, worktrees)
	}
}
