package offline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// The analyzers the engine falls back to when a pack's language host
// (pulumi-language-<runtime>) is not installed: with none found, the engine
// (pkg/v3 resource/plugin/analyzer_plugin.go, NewPolicyAnalyzer) runs the
// executable pulumi-analyzer-policy-<runtime> from PATH in the pack's
// directory with `<engine address> . [-option=value ...]`, the options being
// PulumiPolicy.yaml's runtime options, and reads the analyzer's gRPC port
// from its stdout.
//
//go:embed shims/pulumi-analyzer-policy-*
var shims embed.FS

// goPacksFile lists "PACK_DIR<TAB>BINARY" for the pulumi-analyzer-policy-go
// shim (shims/pulumi-analyzer-policy-go).
const goPacksFile = "go-packs"

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

// InstallAnalyzers prepares dir so that the engine, with dir first on its
// PATH, can run every pack without a language host:
//
//   - the shims pulumi-analyzer-policy-go, -nodejs and -python;
//   - each `runtime: go` pack built with `go build` (a policyx pack binary is
//     an analyzer) and listed for the go shim, which picks the binary built
//     from the directory the engine starts it in. A pack already built into
//     dir is reused, so one dir can serve many previews;
//   - for nodejs and python packs, a check that they can start (Node.js and
//     the pack's installed @pulumi/pulumi; Python and its pulumi_policy),
//     failing with what to install instead of an engine error later.
//
// Packs of any other runtime are left to the engine, which needs its own
// pulumi-analyzer-policy-<runtime> or pulumi-language-<runtime> on PATH.
func InstallAnalyzers(ctx context.Context, dir string, packs ...PolicyPack) error {
	if err := os.MkdirAll(filepath.Join(dir, "go"), 0o755); err != nil {
		return err
	}
	if err := writeShims(dir); err != nil {
		return err
	}
	built, err := readGoPacks(dir)
	if err != nil {
		return err
	}
	for _, p := range packs {
		switch p.Runtime {
		case "go":
			if bin, ok := built[p.Dir]; ok && fileExists(bin) {
				continue
			}
			bin, err := buildGoPack(ctx, p.Dir, filepath.Join(dir, "go"))
			if err != nil {
				return err
			}
			if err := appendGoPack(dir, p.Dir, bin); err != nil {
				return err
			}
			built[p.Dir] = bin
		case "nodejs":
			if err := checkNodePack(ctx, p); err != nil {
				return err
			}
		case "python":
			if err := checkPythonPack(ctx, p); err != nil {
				return err
			}
		}
	}
	return nil
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
		dst := filepath.Join(dir, d.Name())
		// Write then rename: a shim may be running from a shared dir.
		tmp := dst + ".tmp"
		if err := os.WriteFile(tmp, b, 0o755); err != nil {
			return err
		}
		return os.Rename(tmp, dst)
	})
}

func readGoPacks(dir string) (map[string]string, error) {
	built := map[string]string{}
	b, err := os.ReadFile(filepath.Join(dir, goPacksFile))
	if errors.Is(err, os.ErrNotExist) {
		return built, nil
	}
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if packDir, bin, ok := strings.Cut(line, "\t"); ok {
			built[packDir] = bin
		}
	}
	return built, nil
}

func appendGoPack(dir, packDir, bin string) error {
	if strings.ContainsAny(packDir+bin, "\t\n") {
		return fmt.Errorf("policy pack %s: a path with a tab or newline cannot be listed for the go shim", packDir)
	}
	f, err := os.OpenFile(filepath.Join(dir, goPacksFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%s\t%s\n", packDir, bin); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// buildGoPack builds the Go pack in packDir into binDir, named after the
// pack directory so packs never overwrite each other.
func buildGoPack(ctx context.Context, packDir, binDir string) (string, error) {
	sum := sha256.Sum256([]byte(packDir))
	bin := filepath.Join(binDir, filepath.Base(packDir)+"-"+hex.EncodeToString(sum[:6]))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = packDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the Go policy pack in %s: %w\n%s", packDir, err, out)
	}
	return bin, nil
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
