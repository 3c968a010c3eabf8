// Package offline runs a real `pulumi preview` of a Pulumi Go program with no
// cloud account: the program runs inline through the Automation API, the
// Pulumi CLI (the real engine) previews it against a throwaway local file
// backend, the stand-in providers of package standin answer for aws, awsx
// and docker, and the policy packs (the repository's Go pack by default, or
// packs of any runtime: see InstallAnalyzers) analyze every resource.
//
// Preview semantics are real — unknown outputs, config and secret handling,
// policy analysis, the `pulumi preview --json` document — only the cloud is
// absent, and every output says so (standin.Banner).
package offline

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/books-platform/books/offline/standin"
)

// MinCLIVersion is the oldest Pulumi CLI the offline preview is known to work
// with: the one `make pulumi-cli` builds (tools/pulumi/go.mod).
var MinCLIVersion = semver.MustParse("3.276.0")

// Options configure one offline preview.
type Options struct {
	// Stack is the stack name; Pulumi.<Stack>.yaml is read from RepoDir
	// unless StackFile is set.
	Stack string
	// RepoDir holds Pulumi.yaml, Pulumi.<stack>.yaml and the policy pack. It
	// is only read: everything is copied into a temporary work directory.
	RepoDir string
	// StackFile replaces Pulumi.<Stack>.yaml (tests use broken copies).
	StackFile string
	// Program is the Pulumi program, run inline (the same entry point as
	// main.go's pulumi.Run). It runs in this process, so in the caller's
	// working directory: callers chdir to the project directory first, as
	// `pulumi preview` runs a program there.
	Program pulumi.RunFunc
	// CLI is the pulumi binary; empty means FindCLI(RepoDir).
	CLI string
	// Secrets are secret config values (full keys, "books:x"). Keys listed in
	// RequiredSecrets and absent here get a throwaway random value.
	Secrets         map[string]string
	RequiredSecrets []string
	// ConfigPaths sets plain config values by path ("books:service.logLevel"),
	// applied over the stack file like `pulumi config set --path`.
	ConfigPaths map[string]string
	// PolicyPacks are the policy pack directories, each with a
	// PulumiPolicy.yaml of any runtime (go, nodejs, python, … — see
	// InstallAnalyzers); all of them analyze the one preview. nil means
	// RepoDir/policy; an empty, non-nil slice runs no policy pack.
	PolicyPacks []string
	// AnalyzerDir is where InstallAnalyzers puts the analyzers the packs
	// need (Go packs built once, shims); empty means a directory in the work
	// directory. Previews can share one: a Go pack built there is reused.
	AnalyzerDir string
	// Display receives the engine's preview display as it runs (nil: none).
	Display io.Writer
	// Color is the display's colorization: always, never, raw or auto
	// (default never).
	Color string
	// OutDir, when set, receives preview.json (`pulumi preview --json`),
	// preview.txt (the display), preview-diff.txt (the display with every
	// input) and events.jsonl (the engine's event log).
	OutDir string
	// KeepWorkDir leaves the temporary work directory in place.
	KeepWorkDir bool
}

// Result is what a preview produced. It is returned, filled as far as it
// got, together with the error of a failed preview.
type Result struct {
	// JSON is the `pulumi preview --json` document.
	JSON []byte
	// Display is the engine's human-readable preview; DiffDisplay the same
	// with every input (`pulumi preview --diff`).
	Display     string
	DiffDisplay string
	// Events are the engine's events, one JSON object a line.
	Events []byte
	// Changes counts the planned operations ("create": 150).
	Changes map[string]int
	// ProviderCalls lists what each stand-in provider was asked.
	ProviderCalls map[string][]string
	// WorkDir is the temporary work directory (removed unless KeepWorkDir).
	WorkDir string
	// Duration is the wall time of the whole preview.
	Duration time.Duration
}

// Preview runs one offline preview.
func Preview(ctx context.Context, opts Options) (res *Result, err error) {
	start := time.Now()
	res = &Result{ProviderCalls: map[string][]string{}}
	defer func() { res.Duration = time.Since(start) }()
	if opts.Stack == "" || opts.Program == nil || opts.RepoDir == "" {
		return res, errors.New("offline.Preview needs Stack, Program and RepoDir")
	}

	work, err := os.MkdirTemp("", "preview-offline-"+opts.Stack+"-")
	if err != nil {
		return res, err
	}
	res.WorkDir = work
	if !opts.KeepWorkDir {
		defer os.RemoveAll(work)
	}

	cliPath := opts.CLI
	if cliPath == "" {
		if cliPath, err = FindCLI(opts.RepoDir); err != nil {
			return res, err
		}
	}
	cli, err := newCLI(cliPath, filepath.Join(work, "cli"))
	if err != nil {
		return res, err
	}
	jsonCLI := &jsonPreview{PulumiCommand: cli}

	for _, d := range []string{"state", "home"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o700); err != nil {
			return res, err
		}
	}
	projectDir := filepath.Join(work, "project")
	if err := prepareProject(opts, projectDir); err != nil {
		return res, err
	}

	// The stand-in providers, attached by port.
	providers := []*standin.Provider{standin.NewAWS(), standin.NewAWSX(), standin.NewDocker()}
	var attach []string
	for _, p := range providers {
		port, stop, err := standin.Serve(p)
		if err != nil {
			return res, err
		}
		defer stop()
		attach = append(attach, fmt.Sprintf("%s:%d", p.Name, port))
	}
	defer func() {
		for _, p := range providers {
			res.ProviderCalls[p.Name] = p.Calls()
		}
	}()

	env := map[string]string{
		"PULUMI_BACKEND_URL":       "file://" + filepath.Join(work, "state"),
		"PULUMI_CONFIG_PASSPHRASE": "offline-preview-throwaway-passphrase",
		"PULUMI_DEBUG_PROVIDERS":   strings.Join(attach, ","),
		"PULUMI_SKIP_UPDATE_CHECK": "true",
		// Never download a plugin: everything the preview needs is attached
		// or on PATH.
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_SKIP_CONFIRMATIONS":                   "true",
	}

	packDirs := opts.PolicyPacks
	if packDirs == nil {
		packDirs = []string{filepath.Join(opts.RepoDir, "policy")}
	}
	var previewOpts []optpreview.Option
	if len(packDirs) > 0 {
		packs := make([]PolicyPack, len(packDirs))
		for i, d := range packDirs {
			if packs[i], err = LoadPolicyPack(d); err != nil {
				return res, err
			}
		}
		analyzerDir := opts.AnalyzerDir
		if analyzerDir == "" {
			analyzerDir = filepath.Join(work, "analyzer")
		}
		launchers, err := InstallAnalyzers(ctx, analyzerDir, packs...)
		if err != nil {
			return res, err
		}
		previewOpts = append(previewOpts, optpreview.PolicyPacks(launchers...))
	}

	ws, err := auto.NewLocalWorkspace(ctx,
		auto.WorkDir(projectDir),
		auto.Program(opts.Program),
		auto.PulumiHome(filepath.Join(work, "home")),
		auto.Pulumi(jsonCLI),
		auto.SecretsProvider("passphrase"),
		auto.EnvVars(env),
	)
	if err != nil {
		return res, fmt.Errorf("workspace: %w", err)
	}
	stack, err := auto.UpsertStack(ctx, opts.Stack, ws)
	if err != nil {
		return res, fmt.Errorf("stack %s: %w", opts.Stack, err)
	}
	if err := setConfig(ctx, ws, opts); err != nil {
		return res, err
	}

	// The CLI runs `pulumi preview --json` (see jsonPreview); its events are
	// collected, and the engine's human display is rendered from them by the
	// CLI afterwards, so both come from one run of the program.
	color := opts.Color
	if color == "" {
		color = "never"
	}
	eventCh := make(chan events.EngineEvent)
	eventsDone := make(chan []byte)
	go collectEvents(eventCh, eventsDone)

	previewOpts = append(previewOpts, optpreview.EventStreams(eventCh), optpreview.SuppressProgress())
	summary, previewErr := stack.Preview(ctx, previewOpts...)
	res.JSON = json.RawMessage(jsonCLI.lastStdout())
	select {
	case res.Events = <-eventsDone:
	case <-time.After(10 * time.Second):
		if previewErr == nil {
			previewErr = errors.New("the engine's event stream did not end")
		}
	}
	if summary.ChangeSummary != nil {
		res.Changes = map[string]int{}
		for op, n := range summary.ChangeSummary {
			res.Changes[string(op)] = n
		}
	}
	if len(res.JSON) == 0 || !json.Valid(res.JSON) {
		res.JSON = nil
		if previewErr == nil {
			previewErr = errors.New("pulumi preview --json printed no JSON document")
		}
	}

	if len(res.Events) > 0 {
		eventsFile := filepath.Join(work, "events.jsonl")
		if err := os.WriteFile(eventsFile, res.Events, 0o600); err != nil {
			return res, err
		}
		display, err := replay(ctx, cliPath, eventsFile, env, color)
		if err != nil && previewErr == nil {
			return res, err
		}
		res.Display = display
		if opts.Display != nil {
			_, _ = io.WriteString(opts.Display, display)
		}
		if res.DiffDisplay, err = replay(ctx, cliPath, eventsFile, env, "never", "--diff"); err != nil && previewErr == nil {
			return res, err
		}
	}
	if opts.OutDir != "" {
		if err := writeOutputs(opts.OutDir, res); err != nil {
			return res, err
		}
	}
	if previewErr != nil {
		return res, &PreviewError{Stack: opts.Stack, Display: res.Display, Err: previewErr}
	}
	return res, nil
}

// PreviewError is a preview the engine failed: a program error, a config
// error, or a mandatory policy violation. Display holds the engine's own
// account of it.
type PreviewError struct {
	Stack   string
	Display string
	Err     error
}

func (e *PreviewError) Error() string {
	msg := e.Err.Error()
	first := firstLines(msg, 1)
	// The Automation API's error carries the CLI's stdout (here the JSON
	// document) and stderr; stderr is the part worth showing.
	if i := strings.Index(msg, "\nstderr: "); i >= 0 {
		if stderr := strings.TrimSpace(msg[i+len("\nstderr: "):]); stderr != "" {
			return fmt.Sprintf("offline preview of stack %s failed: %s\n%s", e.Stack, first, stderr)
		}
	}
	return fmt.Sprintf("offline preview of stack %s failed: %s", e.Stack, first)
}

func (e *PreviewError) Unwrap() error { return e.Err }

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}

func collectEvents(ch <-chan events.EngineEvent, done chan<- []byte) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for ev := range ch {
		if ev.Error != nil {
			continue
		}
		_ = enc.Encode(ev.EngineEvent)
	}
	done <- buf.Bytes()
}

// replay renders an event log with the CLI's own display
// (`pulumi replay-events update EVENTS --preview`).
func replay(ctx context.Context, cli, eventsFile string, env map[string]string, color string, flags ...string) (string, error) {
	args := append([]string{"replay-events", "update", eventsFile, "--preview", "--color", color}, flags...)
	cmd := exec.CommandContext(ctx, cli, args...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("pulumi replay-events: %w: %s", err, stderr.String())
	}
	return string(out), nil
}

// jsonPreview runs the CLI as given, except that `pulumi preview` gets
// --json, so the Automation API's preview prints the real `pulumi preview
// --json` document, kept for lastStdout.
type jsonPreview struct {
	auto.PulumiCommand

	mu     sync.Mutex
	stdout string
}

func (c *jsonPreview) Run(ctx context.Context, workdir string, stdin io.Reader,
	additionalOutput, additionalErrorOutput []io.Writer, additionalEnv []string, args ...string,
) (string, string, int, error) {
	isPreview := len(args) > 0 && args[0] == "preview"
	if isPreview {
		args = append(slices.Clone(args), "--json")
	}
	stdout, stderr, code, err := c.PulumiCommand.Run(ctx, workdir, stdin, additionalOutput, additionalErrorOutput, additionalEnv, args...)
	if isPreview {
		c.mu.Lock()
		c.stdout = stdout
		c.mu.Unlock()
	}
	return stdout, stderr, code, err
}

func (c *jsonPreview) lastStdout() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdout
}

func writeOutputs(dir string, res *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{
		"preview.txt":      []byte(standin.Banner + "\n\n" + res.Display),
		"preview-diff.txt": []byte(standin.Banner + "\n\n" + res.DiffDisplay),
		"events.jsonl":     res.Events,
	}
	if res.JSON != nil {
		files["preview.json"] = res.JSON
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// prepareProject copies Pulumi.yaml and the stack file into dir, dropping
// the stack file's encryption settings and encrypted values: the offline
// stack has its own throwaway passphrase, and the secrets it needs are set
// afresh (Options.Secrets).
func prepareProject(opts Options, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	project, err := os.ReadFile(filepath.Join(opts.RepoDir, "Pulumi.yaml"))
	if err != nil {
		return fmt.Errorf("reading the project file: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644); err != nil {
		return err
	}
	stackFile := opts.StackFile
	if stackFile == "" {
		stackFile = filepath.Join(opts.RepoDir, "Pulumi."+opts.Stack+".yaml")
	}
	raw, err := os.ReadFile(stackFile)
	if err != nil {
		return fmt.Errorf("reading the stack file: %w", err)
	}
	cleaned, err := stripEncryption(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", stackFile, err)
	}
	return os.WriteFile(filepath.Join(dir, "Pulumi."+opts.Stack+".yaml"), cleaned, 0o600)
}

func stripEncryption(raw []byte) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if doc == nil {
		doc = map[string]any{}
	}
	for _, k := range []string{"encryptionsalt", "secretsprovider", "encryptedkey"} {
		delete(doc, k)
	}
	if cfg, ok := doc["config"].(map[string]any); ok {
		for k, v := range cfg {
			if m, ok := v.(map[string]any); ok {
				if _, secure := m["secure"]; secure && len(m) == 1 {
					delete(cfg, k)
				}
			}
		}
	}
	return yaml.Marshal(doc)
}

func setConfig(ctx context.Context, ws auto.Workspace, opts Options) error {
	secrets := auto.ConfigMap{}
	for _, k := range opts.RequiredSecrets {
		secrets[k] = auto.ConfigValue{Value: ThrowawaySecret(), Secret: true}
	}
	for k, v := range opts.Secrets {
		secrets[k] = auto.ConfigValue{Value: v, Secret: true}
	}
	if len(secrets) > 0 {
		if err := ws.SetAllConfig(ctx, opts.Stack, secrets); err != nil {
			return fmt.Errorf("setting secrets: %w", err)
		}
	}
	if len(opts.ConfigPaths) > 0 {
		paths := auto.ConfigMap{}
		for k, v := range opts.ConfigPaths {
			paths[k] = auto.ConfigValue{Value: v}
		}
		if err := ws.SetAllConfigWithOptions(ctx, opts.Stack, paths, &auto.ConfigOptions{Path: true}); err != nil {
			return fmt.Errorf("setting config: %w", err)
		}
	}
	return nil
}

// ThrowawaySecret is a fresh random value for a required secret: 64 hex
// characters, accepted as a password and as an ElastiCache AUTH token.
func ThrowawaySecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// FindCLI returns the Pulumi CLI to use: $PULUMI_OFFLINE_CLI when set,
// otherwise RepoDir/.tools/bin/pulumi, which `make pulumi-cli` provides
// (built from the module proxy, or linked to a compatible CLI on PATH).
func FindCLI(repoDir string) (string, error) {
	if p := os.Getenv("PULUMI_OFFLINE_CLI"); p != "" {
		return p, nil
	}
	p := filepath.Join(repoDir, ".tools", "bin", "pulumi")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no Pulumi CLI at %s: run `make pulumi-cli` (or set PULUMI_OFFLINE_CLI)", p)
	}
	return p, nil
}

// newCLI wraps the binary at path for the Automation API, checking its
// version against MinCLIVersion. The API wants ROOT/bin/pulumi, so the
// binary is linked into root.
func newCLI(path, root string) (auto.PulumiCommand, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(abs, filepath.Join(root, "bin", "pulumi")); err != nil {
		return nil, err
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root, Version: MinCLIVersion})
	if err != nil {
		return nil, fmt.Errorf("pulumi CLI %s: %w (run `make pulumi-cli`)", path, err)
	}
	return cmd, nil
}

// RepoRoot returns the nearest directory at or above dir that holds go.mod
// and policy/PulumiPolicy.yaml: the repository root.
func RepoRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(d, "go.mod")) && fileExists(filepath.Join(d, "policy", "PulumiPolicy.yaml")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no repository root (go.mod + policy/PulumiPolicy.yaml) above %s", dir)
		}
		d = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
