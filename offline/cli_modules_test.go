package offline_test

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/modfile"
)

// The pinned CLI (tools/pulumi) and the program share ~100 modules — the
// Pulumi SDK, gRPC, protobuf, OpenTelemetry. At the same versions, `make
// pulumi-cli` reuses what the program's build compiled; one differing
// module low in the graph (protobuf, say) gives every package above it a
// new build key, and a fresh machine compiled the SDK and gRPC twice.
func TestCLIModuleSharesTheProgramsVersions(t *testing.T) {
	if repoRoot == "" {
		t.Fatalf("no repository root: %v", setupErr)
	}
	program := requires(t, filepath.Join(repoRoot, "go.mod"))
	cli := requires(t, filepath.Join(repoRoot, "tools", "pulumi", "go.mod"))
	shared := 0
	for path, version := range cli {
		other, ok := program[path]
		if !ok {
			continue
		}
		shared++
		if other != version {
			t.Errorf("%s is %s in go.mod and %s in tools/pulumi/go.mod: raise the lower one (go get %s@<higher>, go mod tidy) so both builds share its packages",
				path, other, version, path)
		}
	}
	if shared < 50 {
		t.Errorf("go.mod and tools/pulumi/go.mod share %d modules; expected the Pulumi SDK's graph (~100): is tools/pulumi/go.mod tidy?", shared)
	}
}

// requires reads the module versions a go.mod requires.
func requires(t *testing.T, file string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.ParseLax(file, raw, nil)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := make(map[string]string, len(f.Require))
	for _, r := range f.Require {
		out[r.Mod.Path] = r.Mod.Version
	}
	return out
}
