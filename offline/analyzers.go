package offline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// How the engine starts a policy pack (pkg/v3 v3.276.0): a pack given as a
// directory is started only through its language host,
// pulumi-language-<runtime> (resource/plugin/plugin.go ExecPlugin, then the
// host's RunPlugin), which the offline preview does not have; a pack given as
// an executable file is launched directly, in the project directory, with
// the engine's address as its last argument, and the engine reads the
// pack's description and version from a PulumiPolicy.yaml beside it
// (resource/plugin/analyzer_plugin.go NewPolicyAnalyzer). So every pack gets
// a launcher (InstallAnalyzers), and the launcher is what the preview hands
// the engine as --policy-pack.
//
// The nodejs and python launchers run these shims, which start the pack the
// way Pulumi's pulumi-analyzer-policy-<runtime> scripts did:
// `<engine address> . [-option=value ...]` in the pack's directory, the
// options being PulumiPolicy.yaml's runtime options.
//
//go:embed shims/pulumi-analyzer-policy-*
var shims embed.FS

// PolicyPack is a policy pack directory and what its PulumiPolicy.yaml says.
type PolicyPack struct {
	// Dir is the pack's directory, absolute and with symlinks resolved (the
	// engine starts the analyzer there).
	Dir string
	// Runtime is the pack's runtime name: go, nodejs, python, or any other
	// the engine has an analyzer for.
	Runtime string
	// Options are the runtime's options (e.g. python's virtualenv).
	Options map[string]any
}

// LoadPolicyPack reads dir/PulumiPolicy.yaml with the SDK's own loader, the
// one the engine uses.
func LoadPolicyPack(dir string) (PolicyPack, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return PolicyPack{}, fmt.Errorf("policy pack %s: %w", dir, err)
	}
	proj, err := workspace.LoadPolicyPack(filepath.Join(abs, "PulumiPolicy.yaml"))
	if err != nil {
		return PolicyPack{}, fmt.Errorf("policy pack %s: %w", dir, err)
	}
	return PolicyPack{Dir: abs, Runtime: proj.Runtime.Name(), Options: proj.Runtime.Options()}, nil
}

// InstallAnalyzers prepares dir so that the engine can run every pack
// without a language host, and returns, for each pack in order, the path to
// give the engine as the policy pack:
//
//   - for each pack, dir/packs/<hash of its directory>/launcher/ holds a
//     copy of its PulumiPolicy.yaml and a launcher named like the pack's
//     directory (the name the engine shows as the local pack) that changes
//     to the pack's directory and starts the pack with the engine's address and
//     ".": for `runtime: go` the pack built there once with `go build` (a
//     policyx pack binary is an analyzer; one already built is reused, so
//     one dir can serve many previews), for nodejs and python the shims
//     above, after a check that they can start (Node.js and the pack's
//     installed @pulumi/pulumi; Python and its pulumi_policy), failing with
//     what to install instead of an engine error later;
//   - a pack of any other runtime is returned as its directory, left to the
//     engine, which needs pulumi-language-<runtime> on PATH for it.
func InstallAnalyzers(ctx context.Context, dir string, packs ...PolicyPack) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeShims(dir); err != nil {
		return nil, err
	}
	paths := make([]string, len(packs))
	for i, p := range packs {
		home := packHome(dir, p.Dir)
		var target string
		switch p.Runtime {
		case "go":
			target = filepath.Join(home, "pack")
			if !fileExists(target) {
				if err := buildGoPack(ctx, p.Dir, target); err != nil {
					return nil, err
				}
			}
		case "nodejs":
			if err := checkNodePack(ctx, p); err != nil {
				return nil, err
			}
			target = filepath.Join(dir, "pulumi-analyzer-policy-nodejs")
		case "python":
			if err := checkPythonPack(ctx, p); err != nil {
				return nil, err
			}
			target = filepath.Join(dir, "pulumi-analyzer-policy-python")
		default:
			paths[i] = p.Dir
			continue
		}
		launcher, err := writeLauncher(home, p, target)
		if err != nil {
			return nil, err
		}
		paths[i] = launcher
	}
	return paths, nil
}

// packHome is the directory InstallAnalyzers keeps a pack's launcher (and a
// Go pack's binary) in, named by a hash of the pack's directory so packs
// never overwrite each other.
func packHome(dir, packDir string) string {
	sum := sha256.Sum256([]byte(packDir))
	return filepath.Join(dir, "packs", hex.EncodeToString(sum[:6]))
}

// writeLauncher writes home/launcher/<pack directory's name> (the name the
// engine's display shows as the local pack), which runs target in the pack's
// directory as `target <engine address> . [-option=value ...]` (the
// engine's address is its last argument; logging flags before it are
// dropped), and copies the pack's PulumiPolicy.yaml beside it.
func writeLauncher(home string, p PolicyPack, target string) (string, error) {
	// A directory of its own: the pack's name never collides with a Go
	// pack's binary (home/pack).
	dir := filepath.Join(home, "launcher")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	yaml, err := os.ReadFile(filepath.Join(p.Dir, "PulumiPolicy.yaml"))
	if err != nil {
		return "", fmt.Errorf("policy pack %s: %w", p.Dir, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "PulumiPolicy.yaml"), yaml, 0o644); err != nil {
		return "", err
	}
	args := []string{shellQuote(target), `"$engine"`, "."}
	keys := make([]string, 0, len(p.Options))
	for k := range p.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, shellQuote(fmt.Sprintf("-%s=%v", k, p.Options[k])))
	}
	script := "#!/bin/sh\n" +
		"# Written by offline.InstallAnalyzers: the Pulumi engine runs this file as\n" +
		"# the policy pack's analyzer, with its address as the last argument.\n" +
		"for engine; do :; done\n" +
		"cd " + shellQuote(p.Dir) + " || exit 1\n" +
		"exec " + strings.Join(args, " ") + "\n"
	launcher := filepath.Join(dir, filepath.Base(p.Dir))
	if err := writeFileAtomic(launcher, []byte(script), 0o755); err != nil {
		return "", err
	}
	return launcher, nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeFileAtomic writes a temporary file of its own beside dst, then
// renames it: a launcher or shim may be running from a shared dir, and
// previews sharing the dir may write the same file at once.
func writeFileAtomic(dst string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

func writeShims(dir string) error {
	return fs.WalkDir(shims, "shims", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := shims.ReadFile(path)
		if err != nil {
			return err
		}
		return writeFileAtomic(filepath.Join(dir, d.Name()), b, 0o755)
	})
}

// buildGoPack builds the Go pack in packDir into bin (built beside it, then
// renamed: a preview sharing the dir never starts a half-written binary).
func buildGoPack(ctx context.Context, packDir, bin string) error {
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(bin), filepath.Base(bin)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_ = f.Close()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, ".")
	cmd.Dir = packDir
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("building the Go policy pack in %s: %w\n%s", packDir, err, out)
	}
	return os.Rename(tmp, bin)
}

// checkNodePack fails unless the nodejs shim can start the pack: node on
// PATH and @pulumi/pulumi's run-policy-pack resolvable from the pack.
func checkNodePack(ctx context.Context, p PolicyPack) error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("policy pack %s has runtime nodejs, but node is not on PATH: install Node.js", p.Dir)
	}
	cmd := exec.CommandContext(ctx, "node", "-e", `require.resolve("@pulumi/pulumi/cmd/run-policy-pack")`)
	cmd.Dir = p.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("policy pack %s: its dependencies are not installed (@pulumi/pulumi/cmd/run-policy-pack not found): run `npm ci` or `npm install` there\n%s",
			p.Dir, firstLines(strings.TrimSpace(string(out)), 2))
	}
	return nil
}

// checkPythonPack fails unless the python shim can start the pack: the
// interpreter it would use (the pack's virtualenv, else python3) imports
// the Python SDK's policy host and pulumi_policy.
func checkPythonPack(ctx context.Context, p PolicyPack) error {
	python := "python3"
	if v, ok := p.Options["virtualenv"].(string); ok && v != "" {
		if !filepath.IsAbs(v) {
			v = filepath.Join(p.Dir, v)
		}
		python = filepath.Join(v, "bin", "python")
	}
	if _, err := exec.LookPath(python); err != nil {
		return fmt.Errorf("policy pack %s has runtime python, but %s is not there: install Python 3 (and the pack's virtualenv)", p.Dir, python)
	}
	cmd := exec.CommandContext(ctx, python, "-c", "import pulumi.policy, pulumi_policy")
	cmd.Dir = p.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("policy pack %s: %s cannot import pulumi_policy (%s): install the pack's requirements (pip install -r requirements.txt) into it",
			p.Dir, python, lastLine(stderr.String()))
	}
	return nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
