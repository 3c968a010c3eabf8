package offline

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
)

// packDir makes a policy pack directory with PulumiPolicy.yaml and files.
func packDir(t *testing.T, policyYAML string, files map[string]string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files["PulumiPolicy.yaml"] = policyYAML
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// shim runs an installed shim the way the engine does: in the pack's
// directory with the engine's address and ".", plus env on top.
func shim(t *testing.T, analyzers, runtime, pack string, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(analyzers, "pulumi-analyzer-policy-"+runtime), append([]string{"127.0.0.1:1", "."}, args...)...)
	cmd.Dir = pack
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// fakeGoPack makes a Go pack directory whose "build" InstallAnalyzers will
// find done: a script in its place that prints its directory and arguments.
func fakeGoPack(t *testing.T, analyzers, name string) PolicyPack {
	t.Helper()
	p, err := LoadPolicyPack(packDir(t, "runtime: go\nversion: 1.2.3\n", map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(packHome(analyzers, p.Dir), "pack")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho \"pack "+name+" in $(pwd -P): $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// The engine (v3.276.0) runs an executable policy pack in the project's
// directory with its logging flags and its address last: each launcher
// starts its own pack in the pack's directory with "<engine> ." and has the
// pack's PulumiPolicy.yaml beside it. Several Go packs in one preview each
// get their own launcher.
func TestLaunchersStartEachPackInItsDirectory(t *testing.T) {
	analyzers := t.TempDir()
	a, b := fakeGoPack(t, analyzers, "a"), fakeGoPack(t, analyzers, "b")
	launchers, err := InstallAnalyzers(context.Background(), analyzers, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(launchers) != 2 || launchers[0] == launchers[1] {
		t.Fatalf("launchers %v: want one per pack", launchers)
	}
	for i, p := range []PolicyPack{a, b} {
		cmd := exec.Command(launchers[i], "--logtostderr", "-v=9", "127.0.0.1:1")
		cmd.Dir = t.TempDir() // the engine's working directory, not the pack's
		out, err := cmd.CombinedOutput()
		want := "pack " + string(rune('a'+i)) + " in " + p.Dir + ": 127.0.0.1:1 .\n"
		if err != nil || string(out) != want {
			t.Errorf("launcher %s: %v, output %q, want %q", launchers[i], err, out, want)
		}
		yaml, err := os.ReadFile(filepath.Join(filepath.Dir(launchers[i]), "PulumiPolicy.yaml"))
		if err != nil || !strings.Contains(string(yaml), "version: 1.2.3") {
			t.Errorf("PulumiPolicy.yaml beside %s: %v, %q", launchers[i], err, yaml)
		}
	}
	// A pack of a runtime the preview has no shim for is left to the engine.
	opa, err := LoadPolicyPack(packDir(t, "runtime: opa\n", map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := InstallAnalyzers(context.Background(), analyzers, opa); err != nil || len(got) != 1 || got[0] != opa.Dir {
		t.Errorf("opa pack: %v, %v; want its directory", got, err)
	}
}

// A launcher passes the pack's runtime options after ".", as the shims
// expect, and quotes paths and values for the shell.
func TestLauncherPassesRuntimeOptions(t *testing.T) {
	analyzers := t.TempDir()
	fake := "#!/bin/sh\necho \"$0 $*\"\n"
	pack := packDir(t, "runtime:\n  name: python\n  options:\n    virtualenv: \"my venv's\"\n", map[string]string{"my venv's/bin/python": fake})
	p, err := LoadPolicyPack(pack)
	if err != nil {
		t.Fatal(err)
	}
	launcher, err := writeLauncher(packHome(analyzers, p.Dir), p, filepath.Join(pack, "my venv's", "bin", "python"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(launcher, "127.0.0.1:1").CombinedOutput()
	want := filepath.Join(pack, "my venv's", "bin", "python") + " 127.0.0.1:1 . -virtualenv=my venv's\n"
	if err != nil || string(out) != want {
		t.Errorf("launcher: %v, output %q, want %q", err, out, want)
	}
}

// Previews sharing one analyzer directory install into it at once: every
// call succeeds and leaves whole launchers and shims. (Before, every writer
// used the same "<file>.tmp" name, so concurrent writers renamed each
// other's file away and failed.)
func TestInstallAnalyzersConcurrently(t *testing.T) {
	analyzers := t.TempDir()
	p := fakeGoPack(t, analyzers, "shared")
	const callers = 16
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := InstallAnalyzers(context.Background(), analyzers, p); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		failed++
		t.Log(err)
	}
	if failed > 0 {
		t.Errorf("%d of %d concurrent installers failed", failed, callers)
	}
	launchers, err := InstallAnalyzers(context.Background(), analyzers, p)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(launchers[0], "127.0.0.1:1").CombinedOutput(); err != nil || !strings.Contains(string(out), "pack shared in ") {
		t.Errorf("launcher after concurrent installs: %v, %q", err, out)
	}
}

// A Go pack already built into the analyzer directory is not built again
// (previews share one directory); one that is not gets `go build`, whose
// failure names the pack.
func TestInstallAnalyzersBuildsAGoPackOnce(t *testing.T) {
	analyzers := t.TempDir()
	built := fakeGoPack(t, analyzers, "built") // no Go files: a build would fail
	if _, err := InstallAnalyzers(context.Background(), analyzers, built); err != nil {
		t.Fatalf("a pack already built was built again: %v", err)
	}
	fresh, err := LoadPolicyPack(packDir(t, "runtime: go\n", map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = InstallAnalyzers(context.Background(), analyzers, fresh)
	if err == nil || !strings.Contains(err.Error(), "building the Go policy pack in "+fresh.Dir) {
		t.Fatalf("err = %v, want the failed build of %s", err, fresh.Dir)
	}
}

func TestLoadPolicyPackRuntimes(t *testing.T) {
	for yaml, want := range map[string]string{
		"runtime: nodejs\n": "nodejs",
		"runtime:\n  name: python\n  options:\n    virtualenv: venv\n": "python",
		"runtime: opa\n": "opa", // left to the engine (pulumi-language-opa)
	} {
		p, err := LoadPolicyPack(packDir(t, yaml, map[string]string{}))
		if err != nil || p.Runtime != want {
			t.Errorf("%q: runtime %q, err %v; want %s", yaml, p.Runtime, err, want)
		}
	}
	if _, err := LoadPolicyPack(t.TempDir()); err == nil || !strings.Contains(err.Error(), "PulumiPolicy.yaml") {
		t.Errorf("a directory without PulumiPolicy.yaml: err = %v", err)
	}
}

// The nodejs shim, in a pack whose dependencies are not installed, prints
// the message the engine recognises (pkg/v3 resource/plugin/plugin.go
// matches "Cannot find module '@pulumi/pulumi/cmd/run-policy-pack'" and says
// to run npm install).
func TestNodeShimWithoutDependencies(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("REQUIRED PROGRAM MISSING: node")
		}
		t.Skip("REQUIRED PROGRAM MISSING: node (apt-get install nodejs); skipped because CI is not set")
	}
	analyzers := t.TempDir()
	if _, err := InstallAnalyzers(context.Background(), analyzers); err != nil {
		t.Fatal(err)
	}
	pack := packDir(t, "runtime: nodejs\n", map[string]string{"index.js": "\n"})
	out, stderr, err := shim(t, analyzers, "nodejs", pack, nil)
	if err == nil || out != "" || !strings.Contains(stderr, "Cannot find module '@pulumi/pulumi/cmd/run-policy-pack'") {
		t.Errorf("err %v, stdout %q, stderr %q", err, out, stderr)
	}
	p, err := LoadPolicyPack(pack)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := InstallAnalyzers(context.Background(), analyzers, p); err == nil || !strings.Contains(err.Error(), "run `npm ci` or `npm install` there") {
		t.Errorf("InstallAnalyzers: %v", err)
	}
}

// The python shim starts the Python SDK's policy host (python -m
// pulumi.policy ENGINE DIR) with the pack's virtualenv, or python3; shown
// with stand-in interpreters, since pulumi_policy cannot be installed here.
func TestPythonShimPicksTheInterpreter(t *testing.T) {
	analyzers := t.TempDir()
	if _, err := InstallAnalyzers(context.Background(), analyzers); err != nil {
		t.Fatal(err)
	}
	fake := "#!/bin/sh\necho \"$0 $*\"\necho \"PATH=$PATH\"\n"
	pack := packDir(t, "runtime: python\n", map[string]string{"venv/bin/python": fake})

	out, stderr, err := shim(t, analyzers, "python", pack, nil, "-virtualenv=venv")
	want := filepath.Join(pack, "venv", "bin", "python") + " -u -m pulumi.policy 127.0.0.1:1 .\n"
	if err != nil || !strings.HasPrefix(out, want) || !strings.Contains(out, "PATH="+filepath.Join(pack, "venv", "bin")+":") {
		t.Errorf("-virtualenv=venv: %v, stdout %q, stderr %q; want %q and the venv first on PATH", err, out, stderr, want)
	}

	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "python3"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	out, stderr, err = shim(t, analyzers, "python", pack, []string{"PATH=" + bin + ":" + os.Getenv("PATH")})
	if err != nil || !strings.HasPrefix(out, filepath.Join(bin, "python3")+" -u -m pulumi.policy 127.0.0.1:1 .\n") {
		t.Errorf("no virtualenv: %v, stdout %q, stderr %q; want python3 from PATH", err, out, stderr)
	}

	for arg, msg := range map[string]string{
		"-virtualenv=missing": "is not a virtual environment",
		"-toolchain=uv":       "-toolchain=uv is not supported here",
	} {
		if _, stderr, err := shim(t, analyzers, "python", pack, nil, arg); err == nil || !strings.Contains(stderr, msg) {
			t.Errorf("%s: err %v, stderr %q; want %q", arg, err, stderr, msg)
		}
	}
}

// pulumiPolicyImport is whether python3 imports pulumi_policy (and the
// error when not): asked once, python3 starts slowly.
var pulumiPolicyImport = sync.OnceValues(func() (bool, string) {
	if _, err := exec.LookPath("python3"); err != nil {
		return false, "python3 is not on PATH"
	}
	out, err := exec.Command("python3", "-c", "import pulumi.policy, pulumi_policy").CombinedOutput()
	if err != nil {
		return false, lastLine(string(out))
	}
	return true, ""
})

// A python pack whose interpreter cannot import pulumi_policy fails before
// the engine starts, saying what to install.
func TestPythonPackWithoutPulumiPolicySaysWhatToInstall(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH: python packs are not exercised")
	}
	if ok, _ := pulumiPolicyImport(); ok {
		t.Skip("pulumi_policy is importable here; TestPythonPackServesItsPolicies covers the pack")
	}
	p, err := LoadPolicyPack(packDir(t, "runtime: python\n", map[string]string{"__main__.py": "\n"}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = InstallAnalyzers(context.Background(), t.TempDir(), p)
	if err == nil || !strings.Contains(err.Error(), "cannot import pulumi_policy") || !strings.Contains(err.Error(), "pip install -r requirements.txt") {
		t.Fatalf("err = %v", err)
	}
}

// A real python pack, started by the python shim, serves its policies to
// the engine's analyzer protocol. It needs pulumi and pulumi_policy
// importable by python3, which this project's machines cannot install (no
// PyPI): there the test is skipped, loudly.
func TestPythonPackServesItsPolicies(t *testing.T) {
	if ok, why := pulumiPolicyImport(); !ok {
		t.Skipf("PYTHON PACKAGE MISSING: pulumi_policy is not importable by python3 (pip install pulumi-policy; no PyPI on this project's machines), so the python shim is exercised with stand-in interpreters only (TestPythonShimPicksTheInterpreter): %s", why)
	}
	analyzers := t.TempDir()
	pack := packDir(t, "runtime: python\nversion: 0.1.0\n", map[string]string{"__main__.py": `from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def no_public_buckets(args, report_violation):
    if args.resource_type == "aws:s3/bucketV2:BucketV2" and args.props.get("acl") == "public-read":
        report_violation("public bucket")

PolicyPack(
    name="py-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[ResourceValidationPolicy(name="py-no-public-buckets", description="No public buckets.", validate=no_public_buckets)],
)
`})
	p, err := LoadPolicyPack(pack)
	if err != nil {
		t.Fatal(err)
	}
	launchers, err := InstallAnalyzers(context.Background(), analyzers, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, launchers[0], "127.0.0.1:1")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	port, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the pack printed no port: %v", err)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	info, err := pulumirpc.NewAnalyzerClient(conn).GetAnalyzerInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetName() != "py-policy" || len(info.GetPolicies()) != 1 || info.GetPolicies()[0].GetName() != "py-no-public-buckets" {
		t.Errorf("analyzer info = %v, want py-policy with py-no-public-buckets", info)
	}
}
