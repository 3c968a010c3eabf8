package offline_test

// Offline previews of the real program (infra.Deploy) through the real
// Pulumi engine: `make pulumi-cli` provides the CLI (make test does so
// first). Without it the tests fail under CI=true and are skipped
// otherwise, like the app's tests without PostgreSQL.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/offline"
	"github.com/books-platform/books/offline/render"
	"github.com/books-platform/books/offline/standin"
	"github.com/books-platform/books/policy/rules"
	"github.com/books-platform/books/tests/harness"
)

// Known secret values: the tests search every output for them.
var knownSecrets = map[string]string{
	infra.KeyBasicAuthPassword: "offline-test-basic-auth-5f2a9c0e7d1b4a63",
	infra.KeyCacheAuthToken:    "offline-test-cache-token-8e3b1f6a2c9d0e47",
}

var (
	repoRoot    string
	cliPath     string
	analyzerDir string
	setupErr    error
)

func TestMain(m *testing.M) {
	code := func() int {
		var err error
		if repoRoot, err = offline.RepoRoot("."); err != nil {
			setupErr = err
			return m.Run()
		}
		// The program runs in-process: give it the project directory as its
		// working directory, as `pulumi preview` does.
		if err := os.Chdir(repoRoot); err != nil {
			setupErr = err
			return m.Run()
		}
		if cliPath, err = offline.FindCLI(repoRoot); err != nil {
			setupErr = err
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "offline-test-analyzer-")
		if err != nil {
			setupErr = err
			return m.Run()
		}
		defer os.RemoveAll(dir)
		// Every preview shares one analyzer directory: the books pack is
		// built once, here; other packs' analyzers are added by the preview.
		pack, err := offline.LoadPolicyPack(filepath.Join(repoRoot, "policy"))
		if err == nil {
			_, err = offline.InstallAnalyzers(context.Background(), dir, pack)
		}
		if err != nil {
			setupErr = err
			return m.Run()
		}
		analyzerDir = dir
		return m.Run()
	}()
	os.Exit(code)
}

func needCLI(t *testing.T) {
	t.Helper()
	if setupErr == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("offline preview setup: %v", setupErr)
	}
	t.Skipf("offline preview setup: %v (run `make pulumi-cli`; CI=true makes this a failure)", setupErr)
}

type previewRun struct {
	res *offline.Result
	err error
}

var (
	runsMu sync.Mutex
	runs   = map[string]*previewRun{}
)

// preview runs (once per name) an offline preview with the known secrets.
func preview(t *testing.T, name string, opts offline.Options) (*offline.Result, error) {
	t.Helper()
	needCLI(t)
	runsMu.Lock()
	defer runsMu.Unlock()
	if r, ok := runs[name]; ok {
		return r.res, r.err
	}
	opts.RepoDir = repoRoot
	opts.CLI = cliPath
	opts.AnalyzerDir = analyzerDir
	if opts.Program == nil {
		opts.Program = infra.Deploy
	}
	opts.Secrets = knownSecrets
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := offline.Preview(ctx, opts)
	t.Logf("preview %s: %s", name, time.Since(start).Round(time.Millisecond))
	runs[name] = &previewRun{res, err}
	return res, err
}

// okPreview is a preview that must succeed; it returns the parsed document.
func okPreview(t *testing.T, stack string) (*offline.Result, *render.Preview) {
	t.Helper()
	res, err := preview(t, stack, offline.Options{Stack: stack})
	if err != nil {
		var display string
		if res != nil {
			display = res.Display
		}
		t.Fatalf("offline preview of %s: %v\n%s", stack, err, display)
	}
	doc, err := render.Parse(res.JSON)
	if err != nil {
		t.Fatal(err)
	}
	return res, doc
}

func stacks(t *testing.T) []string {
	t.Helper()
	needCLI(t)
	s, err := harness.Stacks(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(s, "dev") || !slices.Contains(s, "prod") {
		t.Fatalf("expected stack files for dev and prod, found %v", s)
	}
	return s
}

// Every stack previews offline with the policy pack loaded and no
// mandatory violation (a mandatory one fails the preview), and the rules
// over the saved JSON agree.
func TestStacksPreviewWithoutMandatoryViolations(t *testing.T) {
	for _, stack := range stacks(t) {
		t.Run(stack, func(t *testing.T) {
			res, doc := okPreview(t, stack)
			if !strings.Contains(res.Display, "books-policy@") {
				t.Errorf("the display does not show the books-policy pack, so it did not run:\n%s", res.Display)
			}
			if res.Changes["create"] == 0 {
				t.Errorf("nothing to create: %v", res.Changes)
			}
			var out bytes.Buffer
			mandatory, err := render.Check(&out, doc, rules.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if len(mandatory) > 0 {
				t.Errorf("-check finds mandatory violations the engine's run did not:\n%s", out.String())
			}
		})
	}
}

// The preview plans exactly the resources the mocked run registers, type by
// type (components and the awsx VPC included).
func TestPreviewCountsEqualMockedRun(t *testing.T) {
	for _, stack := range stacks(t) {
		t.Run(stack, func(t *testing.T) {
			_, doc := okPreview(t, stack)
			graph, err := harness.Run(stack)
			if err != nil {
				t.Fatalf("mocked run: %v", err)
			}
			got, want := render.CountByType(doc.Resources()), graph.CountByType()
			for _, typ := range unionKeys(got, want) {
				if got[typ] != want[typ] {
					t.Errorf("%s: preview plans %d, mocked run registers %d", typ, got[typ], want[typ])
				}
			}
			t.Logf("%s: %d resources in %d types", stack, len(doc.Resources()), len(got))
		})
	}
}

func unionKeys(a, b map[string]int) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// Preview semantics are real: what AWS computes is unknown, what the
// program knows is known, and every output says it is offline.
func TestPreviewIsLabelledAndKeepsUnknowns(t *testing.T) {
	res, doc := okPreview(t, "dev")
	if !doc.Offline() {
		t.Errorf("the JSON's diagnostics do not carry %q", standin.Banner)
	}
	if !strings.Contains(res.Display, standin.Banner) {
		t.Errorf("the display does not carry %q", standin.Banner)
	}
	var tree bytes.Buffer
	if err := render.Tree(&tree, doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tree.String(), standin.Banner) {
		t.Errorf("the tree does not start with the banner:\n%.300s", tree.String())
	}
	if !strings.Contains(render.Mermaid(doc), "offline preview (stand-in providers, not AWS)") {
		t.Error("the diagram does not say it comes from the offline preview")
	}

	doc.Outputs = render.EventStackOutputs(res.Events)
	outs := doc.StackOutputs()
	if got := outs["region"]; got != "eu-west-1" {
		t.Errorf("region output = %v, want the configured eu-west-1 (known at preview)", got)
	}
	for _, k := range []string{"vpcId", "dbClusterEndpoint"} {
		v, ok := outs[k]
		if !ok {
			t.Errorf("stack output %s missing", k)
		} else if !render.IsUnknown(v) {
			t.Errorf("stack output %s = %v: a value AWS computes must be unknown in preview", k, v)
		}
	}
	// Data sources were answered by the stand-in, not skipped.
	if !slices.Contains(res.ProviderCalls["aws"], "invoke aws:index/getCallerIdentity:getCallerIdentity") {
		t.Errorf("aws stand-in calls: %v", res.ProviderCalls["aws"])
	}
	if !slices.ContainsFunc(res.ProviderCalls["awsx"], func(c string) bool { return strings.HasPrefix(c, "construct awsx:ec2:Vpc ") }) {
		t.Errorf("awsx stand-in calls: %v", res.ProviderCalls["awsx"])
	}
}

// No secret value appears in any output: display, --diff display, JSON,
// events, tree, diagram, diff. The secrets did reach the program (the
// cache's AUTH token is an input, shown as [secret]).
func TestSecretsNeverInOutputs(t *testing.T) {
	res, doc := okPreview(t, "dev")
	var tree, diff bytes.Buffer
	if err := render.Tree(&tree, doc); err != nil {
		t.Fatal(err)
	}
	other, err := render.Parse(res.JSON)
	if err != nil {
		t.Fatal(err)
	}
	other.Config["books:cacheAuthToken"] = "changed"
	if err := render.WriteDiff(&diff, render.Diff(other, doc)); err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"display":      res.Display,
		"diff display": res.DiffDisplay,
		"JSON":         string(res.JSON),
		"events":       string(res.Events),
		"tree":         tree.String(),
		"diagram":      render.Mermaid(doc),
		"diff":         diff.String(),
	}
	for name, text := range outputs {
		if text == "" {
			t.Errorf("%s is empty", name)
		}
		for key, secret := range knownSecrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s contains the value of %s", name, key)
			}
		}
	}
	for key := range knownSecrets {
		if got := doc.Config[key]; got != render.Secret {
			t.Errorf("config %s in the JSON = %q, want %q", key, got, render.Secret)
		}
	}
	var sawToken bool
	for _, r := range doc.Resources() {
		if r.Type == "aws:elasticache/replicationGroup:ReplicationGroup" {
			sawToken = r.Inputs["authToken"] == render.Secret
		}
	}
	if !sawToken {
		t.Error("the replication group's authToken is not a [secret] input: the secret did not reach the program")
	}
}

// A broken stack file fails the preview with the program's config error.
func TestBrokenConfigFailsWithTheProgramsError(t *testing.T) {
	needCLI(t)
	raw, err := os.ReadFile(filepath.Join(repoRoot, "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(raw), "  books:service:\n", "  books:service:\n    cpu: 300\n", 1)
	if broken == string(raw) {
		t.Fatal("Pulumi.dev.yaml has no books:service section to break")
	}
	file := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
	if err := os.WriteFile(file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := preview(t, "broken", offline.Options{Stack: "dev", StackFile: file})
	var perr *offline.PreviewError
	if !errors.As(err, &perr) {
		t.Fatalf("preview with books:service.cpu=300: err = %v, want a failed preview", err)
	}
	const want = "books:service.cpu=300 is not a Fargate size"
	if !strings.Contains(res.Display, want) {
		t.Errorf("the engine's output does not show the program's error %q:\n%s", want, res.Display)
	}
	if res.Changes["create"] > 1 { // at most the stack itself
		t.Errorf("a config error must stop the program before any resource: %v", res.Changes)
	}
}

// Policy violations introduced on purpose fail the offline preview, each
// named by its rule and its pack, in one preview that runs two packs of two
// runtimes: a transform that turns off KMS key rotation breaks the books
// pack's (Go) mandatory kms-key-rotation, and a test-only config (the
// service's logs kept 3 days) breaks the mandatory org-log-retention-minimum
// of an organization's own pack (JavaScript on @pulumi/policy from npm,
// started by the nodejs shim). -check over the failed preview's JSON finds
// exactly the books rule.
func TestPolicyViolationFailsThePreview(t *testing.T) {
	program := func(ctx *pulumi.Context) error {
		// Turn off key rotation on every KMS key the program creates.
		err := ctx.RegisterResourceTransform(func(_ context.Context, a *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
			if a.Type != "aws:kms/key:Key" {
				return nil
			}
			a.Props["enableKeyRotation"] = pulumi.Bool(false)
			return &pulumi.ResourceTransformResult{Props: a.Props, Opts: a.Opts}
		})
		if err != nil {
			return err
		}
		return infra.Deploy(ctx)
	}
	needCLI(t)
	packs := []string{filepath.Join(repoRoot, "policy")}
	org, missing := orgPack(t)
	if org != "" {
		packs = append(packs, org)
	}
	res, err := preview(t, "violation", offline.Options{
		Stack: "dev", Program: program, PolicyPacks: packs,
		ConfigPaths: map[string]string{"books:service.logRetentionDays": "3"},
	})
	var perr *offline.PreviewError
	if !errors.As(err, &perr) {
		t.Fatalf("preview with KMS rotation off: err = %v, want a failed preview", err)
	}
	if !strings.Contains(res.Display, "kms-key-rotation") || !strings.Contains(res.Display, "[mandatory]") {
		t.Errorf("the engine's output does not name the mandatory rule kms-key-rotation:\n%s", res.Display)
	}
	if res.JSON == nil {
		t.Fatal("no JSON document from the failed preview")
	}
	doc, err := render.Parse(res.JSON)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	mandatory, err := render.Check(&out, doc, rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(mandatory) == 0 || !slices.ContainsFunc(mandatory, func(v rules.Violation) bool { return v.Rule == "kms-key-rotation" }) {
		t.Errorf("-check over the saved preview: %s", out.String())
	}
	for _, v := range mandatory {
		if v.Rule != "kms-key-rotation" {
			t.Errorf("unexpected mandatory violation %s", v)
		}
	}

	// Per pack, the engine's own records of the violations.
	byPack := map[string][]policyEvent{}
	for _, ev := range policyEvents(t, res.Events) {
		byPack[ev.PolicyPackName] = append(byPack[ev.PolicyPackName], ev)
	}
	var rotation int
	for _, ev := range byPack["books-policy"] {
		if ev.PolicyName == "kms-key-rotation" && ev.EnforcementLevel == "mandatory" {
			rotation++
		}
	}
	if keys := render.CountByType(doc.Resources())["aws:kms/key:Key"]; rotation != keys || keys == 0 {
		t.Errorf("books-policy reported kms-key-rotation %d times, want once per KMS key (%d)", rotation, keys)
	}

	t.Run("OrganizationPack", func(t *testing.T) {
		if org == "" {
			t.Skip(missing)
		}
		if !strings.Contains(res.Display, "org-policy@v0.1.0") {
			t.Errorf("the display does not show the organization pack org-policy@v0.1.0, so it did not run:\n%s", res.Display)
		}
		evs := byPack["org-policy"]
		if len(evs) != 1 {
			t.Fatalf("org-policy violations = %+v, want exactly one (the service's log group)", evs)
		}
		ev := evs[0]
		if ev.PolicyName != "org-log-retention-minimum" || ev.EnforcementLevel != "mandatory" ||
			!strings.Contains(ev.ResourceURN, "aws:cloudwatch/logGroup:LogGroup") || !strings.Contains(ev.Message, "retentionInDays is 3") {
			t.Errorf("org-policy violation = %+v, want the mandatory org-log-retention-minimum on a log group with retentionInDays 3", ev)
		}
		if !strings.Contains(res.Display, "org-log-retention-minimum") {
			t.Errorf("the display does not name the organization's rule:\n%s", res.Display)
		}
	})
}

// Two previews that differ in one config value differ in exactly that
// value and in the inputs it feeds, nothing else: the preview is
// deterministic, and -diff says precisely what a change does.
func TestDiffReportsExactlyOneConfigChange(t *testing.T) {
	_, base := okPreview(t, "dev")
	res, err := preview(t, "dev-loglevel", offline.Options{Stack: "dev", ConfigPaths: map[string]string{"books:service.logLevel": "info"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Display)
	}
	head, err := render.Parse(res.JSON)
	if err != nil {
		t.Fatal(err)
	}
	d := render.Diff(base, head)
	t.Logf("diff:\n%s", d)
	if len(d.Config) != 1 || d.Config[0].Path != "books:service.logLevel" || d.Config[0].Old != "debug" || d.Config[0].New != "info" {
		t.Errorf("config changes = %+v, want exactly books:service.logLevel debug → info", d.Config)
	}
	if len(d.Added) > 0 || len(d.Removed) > 0 {
		t.Errorf("added %v, removed %v: want none", d.Added, d.Removed)
	}
	for _, rc := range d.Changed {
		for _, c := range rc.Inputs {
			if !strings.Contains(fmt.Sprint(c.Old), "debug") || !strings.Contains(fmt.Sprint(c.New), "info") {
				t.Errorf("%s %s: %v → %v is not the log level", rc.Key, c.Path, c.Old, c.New)
			}
		}
	}
	if same := render.Diff(base, base); !same.Empty() {
		t.Errorf("a preview differs from itself: %s", same)
	}
}

// The README's diagram is the one generated from the dev preview.
func TestReadmeDiagramIsFresh(t *testing.T) {
	_, doc := okPreview(t, "dev")
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := render.ReadmeDiagram(readme, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if want := render.DiagramBlock(render.Mermaid(doc)); got != want {
		t.Errorf("README.md's dev diagram is stale: run `make diagram`.\nREADME:\n%s\ngenerated:\n%s", got, want)
	}
}
