package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPreviewDiff runs the fork path of preview.yml end to end: a clone of
// this repository's HEAD with one config value changed, previewed offline
// against HEAD itself, must report exactly that change.
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

	clone := filepath.Join(t.TempDir(), "repo")
	if out, err := exec.Command("git", "clone", "--quiet", repo, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	for _, need := range []string{"Pulumi.dev.yaml", "cmd/preview-offline", "scripts/preview-diff.sh"} {
		if _, err := os.Stat(filepath.Join(clone, need)); err != nil {
			msg := "HEAD has no " + need + " yet (committed by the offline-preview and infra work)"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg + "; skipped because CI is not set")
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
	if !strings.Contains(src, "    maxCapacity: 4\n") {
		t.Fatal("Pulumi.dev.yaml no longer sets books:database maxCapacity: 4; pick another value to change in this test")
	}
	writeFile(t, clone, "Pulumi.dev.yaml", strings.Replace(src, "    maxCapacity: 4\n", "    maxCapacity: 8\n", 1))

	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(filepath.Join(clone, "scripts", "preview-diff.sh"), "--stack", "dev", "--base", "HEAD", "--out-dir", out)
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
		"~ books:database.maxCapacity: 4 → 8",
		"~ serverlessv2ScalingConfiguration.maxCapacity: 4 → 8",
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
	list, err := exec.Command("git", "-C", clone, "worktree", "list").Output()
	if err != nil || strings.Count(strings.TrimSpace(string(list)), "\n") != 0 {
		t.Errorf("the base worktree was not removed: %v\n%s", err, list)
	}
}
