package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// driftEnv is one drift check's world: the stand-in pulumi answering the
// preview with a fixture, and the stand-in gh keeping issues in a directory.
type driftEnv struct {
	t                      *testing.T
	ghState, ghLog, pulLog string
}

func newDriftEnv(t *testing.T) *driftEnv {
	t.Helper()
	requireProgram(t, "jq", "apt-get install jq")
	dir := t.TempDir()
	return &driftEnv{t: t, ghState: filepath.Join(dir, "gh"), ghLog: filepath.Join(dir, "gh.log"), pulLog: filepath.Join(dir, "pulumi.log")}
}

// check runs drift.sh --stack dev --issue with the preview answered by
// fixture (a file in testdata/drift, or "" for no output) and exit code.
func (e *driftEnv) check(fixture string, exit string, extra ...string) result {
	e.t.Helper()
	preview := filepath.Join("testdata", "drift", fixture)
	if fixture == "" {
		preview = writeFile(e.t, e.t.TempDir(), "empty", "")
	}
	env := []string{
		fakeBinPath(e.t),
		"FAKE_PULUMI_LOG=" + e.pulLog,
		"FAKE_PULUMI_PREVIEW=" + preview,
		"FAKE_PULUMI_PREVIEW_EXIT=" + exit,
		"FAKE_PULUMI_PREVIEW_STDERR=error: no changes were expected but changes were proposed",
		"FAKE_GH_STATE=" + e.ghState,
		"FAKE_GH_LOG=" + e.ghLog,
		"GITHUB_RUN_ID=4242",
		"GITHUB_REPOSITORY=example/books",
		"GITHUB_SERVER_URL=https://github.com",
	}
	env = append(env, extra...)
	return run(e.t, 30*time.Second, env, "drift.sh", "--stack", "dev", "--issue")
}

// issue returns the stand-in's issue n: title, state, body, comments.
func (e *driftEnv) issue(n string) (title, state, body, comments string) {
	d := filepath.Join(e.ghState, "issues", n)
	return readFile(e.t, filepath.Join(d, "title")), readFile(e.t, filepath.Join(d, "state")),
		readFile(e.t, filepath.Join(d, "body")), readFile(e.t, filepath.Join(d, "comments"))
}

func (e *driftEnv) issueCount() int {
	entries, err := os.ReadDir(filepath.Join(e.ghState, "issues"))
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	return len(entries)
}

// TestDrift runs scripts/drift.sh against a stand-in pulumi and gh through
// an issue's life: drift opens it, more drift updates the same issue, no
// drift closes it, new drift opens a new one; a failed check touches
// nothing.
func TestDrift(t *testing.T) {
	e := newDriftEnv(t)

	// Drift: exit 1, every changed resource and property in the report,
	// secrets stay [secret], one issue opened with the report.
	r := e.check("drift.json", "7")
	if r.code != 1 {
		t.Fatalf("drift: want exit 1, got %s", r)
	}
	for _, want := range []string{
		"### Drift in stack `dev`: 4 resource(s) differ",
		"- **update** `books-service-from-alb` (`aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule`)",
		"  - `cidrIpv4` (delete): `\"0.0.0.0/0\"` → `(none)`",
		"  - `referencedSecurityGroupId` (add): `(none)` → `\"sg-0123456789abcdef0\"`",
		"- **update** `books-service-logs` (`aws:cloudwatch/logGroup:LogGroup`)",
		"  - `tags.owner` (delete): `\"console-user\"` → `(none)`",
		"- **create** `books-api-5xx` (`aws:cloudwatch/metricAlarm:MetricAlarm`) — missing: deleted outside Pulumi",
		"  - `secretString` (update): `\"[secret]\"` → `\"[secret]\"`",
		"([run](https://github.com/example/books/actions/runs/4242))",
		"Opened the drift issue https://github.com/example/books/issues/1.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("drift report lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, unwanted := range []string{"books-service-sg", "pulumi:pulumi:Stack"} {
		if strings.Contains(r.stdout, unwanted) {
			t.Errorf("drift report lists %s, which did not change:\n%s", unwanted, r.stdout)
		}
	}
	if log := readFile(t, e.pulLog); !strings.Contains(log, "preview --stack dev --cwd ") || !strings.Contains(log, " --refresh --expect-no-changes --json") || strings.Contains(log, "--show-secrets") {
		t.Errorf("pulumi called as %q, want preview --refresh --expect-no-changes --json without --show-secrets", log)
	}
	title, state, body, _ := e.issue("1")
	if title != "Infrastructure drift in stack dev" || state != "open" || !strings.Contains(body, "`cidrIpv4` (delete)") || !strings.Contains(body, "kept by `scripts/drift.sh`") {
		t.Fatalf("issue 1: title %q, state %q, body:\n%s", title, state, body)
	}
	if labels := readFile(t, filepath.Join(e.ghState, "issues", "1", "labels")); strings.TrimSpace(labels) != "drift" {
		t.Errorf("issue labels %q, want drift", labels)
	}

	// Still drifting: the same issue is updated and commented, no second one.
	r = e.check("drift.json", "7")
	if r.code != 1 || !strings.Contains(r.stdout, "Updated the drift issue #1.") {
		t.Fatalf("second drift: %s", r)
	}
	if n := e.issueCount(); n != 1 {
		t.Fatalf("%d issues after two drift checks, want 1", n)
	}
	if _, state, _, comments := e.issue("1"); state != "open" || !strings.Contains(comments, "Still drifting: 4 resource(s)") {
		t.Errorf("issue 1 after the second drift: state %q, comments %q", state, comments)
	}

	// The check fails (credentials, backend): exit 3, the issue untouched.
	ghCalls := readFile(t, e.ghLog)
	r = e.check("", "1", "FAKE_PULUMI_PREVIEW_STDERR=error: failed to get credentials: no EC2 IMDS role found")
	if r.code != 3 || !strings.Contains(r.stdout, "### Drift check of `dev`: failed") || !strings.Contains(r.stdout, "no EC2 IMDS role found") {
		t.Fatalf("failed check: want exit 3 and the error in the report, got %s", r)
	}
	if readFile(t, e.ghLog) != ghCalls {
		t.Errorf("a failed check called gh:\n%s", strings.TrimPrefix(readFile(t, e.ghLog), ghCalls))
	}
	// A non-zero exit with a JSON document that shows no change is a failure too
	// (e.g. the program failed after part of the preview).
	if r := e.check("clean.json", "255"); r.code != 3 {
		t.Fatalf("failed preview with a clean document: want exit 3, got %s", r)
	}

	// No drift: exit 0, the issue closed with a comment.
	r = e.check("clean.json", "0")
	if r.code != 0 || !strings.Contains(r.stdout, "### Drift check of `dev`: no drift") || !strings.Contains(r.stdout, "Closed the drift issue #1.") {
		t.Fatalf("clean: %s", r)
	}
	if _, state, _, comments := e.issue("1"); state != "closed" || !strings.Contains(comments, "No drift any more") {
		t.Errorf("issue 1 after a clean check: state %q, comments %q", state, comments)
	}
	// Clean again: nothing to close, nothing opened.
	if r := e.check("clean.json", "0"); r.code != 0 || strings.Contains(r.stdout, "Closed") || e.issueCount() != 1 {
		t.Fatalf("second clean check: %s", r)
	}

	// Drift again: a new issue (the closed one stays closed).
	if r := e.check("drift.json", "7"); r.code != 1 || !strings.Contains(r.stdout, "Opened the drift issue https://github.com/example/books/issues/2.") {
		t.Fatalf("new drift: %s", r)
	}
	if _, state, _, _ := e.issue("1"); state != "closed" {
		t.Errorf("issue 1 reopened: %s", state)
	}

	// Drift reported by an older CLI (exit 255, not 7) is still drift.
	if r := e.check("drift.json", "255"); r.code != 1 {
		t.Fatalf("drift with exit 255: want exit 1, got %s", r)
	}
}

// Without --issue, nothing calls gh (a local run needs no GitHub token),
// and gh need not even be installed.
func TestDriftWithoutIssue(t *testing.T) {
	requireProgram(t, "jq", "apt-get install jq")
	dir := t.TempDir()
	env := []string{
		pathWith(t, "bash", "dirname", "jq", "cat", "mktemp", "rm", "date", "tee", "tail"),
		"FAKE_PULUMI_LOG=" + filepath.Join(dir, "pulumi.log"),
		"FAKE_PULUMI_PREVIEW=" + filepath.Join("testdata", "drift", "drift.json"),
		"FAKE_PULUMI_PREVIEW_EXIT=7",
	}
	// pathWith gives only the named programs; add the stand-in pulumi.
	fake, err := filepath.Abs(filepath.Join("testdata", "bin", "pulumi"))
	if err != nil {
		t.Fatal(err)
	}
	bin := strings.TrimPrefix(env[0], "PATH=")
	if err := os.Symlink(fake, filepath.Join(bin, "pulumi")); err != nil {
		t.Fatal(err)
	}
	r := run(t, 30*time.Second, env, "drift.sh", "--stack", "dev")
	if r.code != 1 || !strings.Contains(r.stdout, "4 resource(s) differ") || strings.Contains(r.stdout, "issue") {
		t.Fatalf("want exit 1 and the report without issue handling, got %s", r)
	}
	r = run(t, 30*time.Second, env, "drift.sh", "--stack", "dev", "--issue")
	if r.code != 1 || !strings.Contains(r.stderr, "required tool(s) not found on PATH: gh") {
		t.Fatalf("--issue without gh: %s", r)
	}
}
