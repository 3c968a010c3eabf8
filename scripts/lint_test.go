package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// toolPath finds a linter in .tools/bin (where `make actionlint` installs
// it) or on PATH; missing, it fails under CI and skips loudly elsewhere.
func toolPath(t *testing.T, name, install string) string {
	t.Helper()
	local, err := filepath.Abs(filepath.Join("..", ".tools", "bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(local); err == nil {
		return local
	}
	return requireProgram(t, name, install)
}

func shellScripts(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.sh")
	if err != nil {
		t.Fatal(err)
	}
	fakes, err := filepath.Glob(filepath.Join("testdata", "bin", "*"))
	if err != nil {
		t.Fatal(err)
	}
	// The offline preview's analyzer shims (the engine runs them).
	analyzerShims, err := filepath.Glob(filepath.Join("..", "offline", "shims", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return append(append(append(files, "lib.sh"), fakes...), analyzerShims...)
}

func TestShellcheck(t *testing.T) {
	sc := toolPath(t, "shellcheck", "apt-get install shellcheck")
	files := shellScripts(t)
	if len(files) < 8 {
		t.Fatalf("expected the scripts and the stand-ins, found %v", files)
	}
	cmd := exec.Command(sc, append([]string{"-x"}, files...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}

	t.Run("CatchesAProblem", func(t *testing.T) {
		// The same invocation must fail on a script with a classic bug.
		bad := writeFile(t, t.TempDir(), "bad.sh", "#!/usr/bin/env bash\nrm -rf $1/*\n")
		if out, err := exec.Command(sc, "-x", bad).CombinedOutput(); err == nil || !strings.Contains(string(out), "SC2086") {
			t.Fatalf("shellcheck did not flag an unquoted variable: %v\n%s", err, out)
		}
	})
}

func TestActionlint(t *testing.T) {
	al := toolPath(t, "actionlint", "make actionlint")
	toolPath(t, "shellcheck", "apt-get install shellcheck") // actionlint checks run: blocks with it
	workflows, err := filepath.Glob(filepath.Join("..", ".github", "workflows", "*.yml"))
	if err != nil || len(workflows) != 4 {
		t.Fatalf("want ci.yml, preview.yml, deploy.yml and drift.yml, found %v (%v)", workflows, err)
	}
	cmd := exec.Command(al, "-shellcheck", toolPath(t, "shellcheck", "apt-get install shellcheck"))
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}

	t.Run("CatchesAProblem", func(t *testing.T) {
		// An unknown input of a known action and an untrusted expression in a
		// run: block must both be reported.
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, ".github", "workflows"), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, ".github", "workflows"), "bad.yml", `on: pull_request
jobs:
  x:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v6
        with:
          fetch-dept: 0
      - run: echo "${{ github.event.pull_request.title }}"
`)
		cmd := exec.Command(al, filepath.Join(".github", "workflows", "bad.yml"))
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), `input "fetch-dept" is not defined`) || !strings.Contains(string(out), "potentially untrusted") {
			t.Fatalf("actionlint missed a broken workflow: %v\n%s", err, out)
		}
	})
}

var (
	scriptRef = regexp.MustCompile(`scripts/([A-Za-z0-9_.-]+\.sh)`)
	// A command line that is a make invocation: `make a b` or `run: make a`.
	makeRef  = regexp.MustCompile(`(?m)^[ \t]*(?:run:[ \t]*)?make((?:[ \t]+[a-z][a-z0-9_-]*)+)[ \t]*$`)
	usesRef  = regexp.MustCompile(`(?m)^\s*-?\s*uses:\s*([^\s#]+)`)
	fullPin  = regexp.MustCompile(`@v\d+\.\d+\.\d+$`)
	majorPin = regexp.MustCompile(`@v\d+$`)
)

// makeTargets lists the targets the Makefile defines.
func makeTargets(t *testing.T) map[string]bool {
	t.Helper()
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-zA-Z][a-zA-Z0-9_-]*):`).FindAllStringSubmatch(readFile(t, filepath.Join("..", "Makefile")), -1) {
		targets[m[1]] = true
	}
	return targets
}

func TestWorkflowsReferenceOnlyWhatExists(t *testing.T) {
	targets := makeTargets(t)
	for _, want := range []string{"test", "lint", "secrets", "actionlint", "golangci-lint", "preview-offline", "pulumi-cli"} {
		if !targets[want] {
			t.Errorf("Makefile has no %q target", want)
		}
	}
	files, _ := filepath.Glob(filepath.Join("..", ".github", "workflows", "*.yml"))
	files = append(files, filepath.Join("..", ".ci", "run"))
	checked := 0
	for _, f := range files {
		src := readFile(t, f)
		for _, m := range scriptRef.FindAllStringSubmatch(src, -1) {
			fi, err := os.Stat(m[1])
			if err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("%s refers to scripts/%s, which is missing or not executable", f, m[1])
			}
			checked++
		}
		for _, m := range makeRef.FindAllStringSubmatch(src, -1) {
			for _, w := range strings.Fields(m[1]) {
				if !targets[w] {
					t.Errorf("%s runs `make %s`, but the Makefile has no target %q", f, strings.TrimSpace(m[1]), w)
				}
				checked++
			}
		}
	}
	if checked < 8 {
		t.Fatalf("only %d references found: the patterns no longer match the workflows", checked)
	}
}

func TestWorkflowActionsArePinned(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", ".github", "workflows", "*.yml"))
	n := 0
	for _, f := range files {
		for _, m := range usesRef.FindAllStringSubmatch(readFile(t, f), -1) {
			ref := m[1]
			n++
			switch {
			case strings.HasPrefix(ref, "./"):
			case strings.HasPrefix(ref, "actions/"):
				// GitHub's own actions: a major tag, maintained by GitHub.
				if !majorPin.MatchString(ref) && !fullPin.MatchString(ref) {
					t.Errorf("%s: %s is not pinned to a version", f, ref)
				}
			default:
				// Third-party actions (pulumi, aws-actions): an exact release.
				if !fullPin.MatchString(ref) {
					t.Errorf("%s: third-party action %s must be pinned to an exact release (vX.Y.Z)", f, ref)
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d uses: found", n)
	}
}
