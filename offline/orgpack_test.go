package offline_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/books-platform/books/offline"
)

// orgPackFixture is an organization's own policy pack, JavaScript on
// @pulumi/policy from npm (versions pinned in its package-lock.json).
const orgPackFixture = "offline/testdata/org-policy-nodejs"

// orgPack returns the organization pack with its npm dependencies
// installed, or "" and why not when Node.js or npm is missing outside CI
// (under CI, set by .ci/run and GitHub Actions, that fails the test).
//
// The install is cached by the fixture's content in the user's cache
// directory (BOOKS_TEST_CACHE overrides it; ci.yml caches it), so only a
// changed fixture runs `npm ci` again; installs of concurrent test runs
// race safely (each installs aside, then renames into place).
func orgPack(t *testing.T) (string, string) {
	t.Helper()
	for _, prog := range []string{"node", "npm"} {
		if _, err := exec.LookPath(prog); err != nil {
			msg := "REQUIRED PROGRAM MISSING: " + prog + " is not on PATH (apt-get install nodejs npm); the organization's nodejs policy pack is not exercised"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Log(msg)
			return "", msg
		}
	}
	src := filepath.Join(repoRoot, orgPackFixture)
	sum, err := hashTree(src)
	if err != nil {
		t.Fatal(err)
	}
	cache := os.Getenv("BOOKS_TEST_CACHE")
	if cache == "" {
		if cache, err = os.UserCacheDir(); err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(cache, "books-platform")
	}
	dir := filepath.Join(cache, "org-policy-nodejs-"+sum[:16])
	if fileExists(filepath.Join(dir, "node_modules", "@pulumi", "pulumi", "package.json")) {
		return dir, ""
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(cache, ".org-policy-nodejs-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.CopyFS(tmp, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// --ignore-scripts: no install script is needed (protobufjs's only
	// checks its version).
	cmd := exec.Command("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in a copy of %s (the npm registry must be reachable once; the install is cached): %v\n%s", orgPackFixture, err, out)
	}
	t.Logf("npm ci for the organization pack: %s (cached in %s)", time.Since(start).Round(time.Second), dir)
	if err := os.Rename(tmp, dir); err != nil && !fileExists(filepath.Join(dir, "node_modules")) {
		t.Fatal(err)
	}
	return dir, ""
}

// hashTree hashes the names and contents of the files under dir.
func hashTree(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel + "\x00"))
		h.Write(b)
		h.Write([]byte{0})
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// policyEvent is the engine's record of one policy violation.
type policyEvent struct {
	ResourceURN      string `json:"resourceUrn"`
	Message          string `json:"message"`
	PolicyName       string `json:"policyName"`
	PolicyPackName   string `json:"policyPackName"`
	EnforcementLevel string `json:"enforcementLevel"`
}

// policyEvents returns the policy violations in an engine event log.
func policyEvents(t *testing.T, events []byte) []policyEvent {
	t.Helper()
	var out []policyEvent
	for _, line := range strings.Split(string(events), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var ev struct {
			PolicyEvent *policyEvent `json:"policyEvent"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("event %q: %v", line, err)
		}
		if ev.PolicyEvent != nil {
			out = append(out, *ev.PolicyEvent)
		}
	}
	return out
}

// A nodejs pack whose dependencies are not installed fails before the
// engine starts, naming the pack and what to run.
func TestNodePackWithoutDependenciesSaysWhatToInstall(t *testing.T) {
	needCLI(t)
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("REQUIRED PROGRAM MISSING: node")
		}
		t.Skip("REQUIRED PROGRAM MISSING: node (apt-get install nodejs); skipped because CI is not set")
	}
	pack := t.TempDir()
	if err := os.CopyFS(pack, os.DirFS(filepath.Join(repoRoot, orgPackFixture))); err != nil {
		t.Fatal(err)
	}
	_, err := preview(t, "org-pack-not-installed", offline.Options{Stack: "dev", PolicyPacks: []string{pack}})
	if err == nil || !strings.Contains(err.Error(), "dependencies are not installed") || !strings.Contains(err.Error(), "npm ci") {
		t.Fatalf("err = %v, want the pack's missing dependencies named", err)
	}
	if real, _ := filepath.EvalSymlinks(pack); !strings.Contains(err.Error(), real) {
		t.Errorf("the error does not name the pack %s: %v", real, err)
	}
	var perr *offline.PreviewError
	if errors.As(err, &perr) {
		t.Errorf("the check must come before the engine runs: %v", err)
	}
}
