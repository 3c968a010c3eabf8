package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var allScripts = []string{"secrets.sh", "cognito-token.sh", "smoke-test.sh", "verify-rollout.sh", "preview-diff.sh", "drift.sh"}

func TestScriptsAreExecutableStrictBash(t *testing.T) {
	for _, name := range allScripts {
		t.Run(name, func(t *testing.T) {
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode()&0o111 == 0 {
				t.Fatalf("%s is not executable", name)
			}
			src := readFile(t, name)
			if !strings.HasPrefix(src, "#!/usr/bin/env bash\n") || !strings.Contains(src, "\nset -euo pipefail\n") {
				t.Fatalf("%s must start with #!/usr/bin/env bash and set -euo pipefail", name)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	for _, name := range allScripts {
		t.Run(name+"/Help", func(t *testing.T) {
			r := run(t, 10*time.Second, nil, name, "--help")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: scripts/"+name) {
				t.Fatalf("--help: %s", r)
			}
		})
		t.Run(name+"/NoArguments", func(t *testing.T) {
			r := run(t, 10*time.Second, []string{"STACK="}, name)
			if r.code != 2 || !strings.HasPrefix(r.stderr, name+": ") || !strings.Contains(r.stderr, "Usage: scripts/"+name) || r.stdout != "" {
				t.Fatalf("no arguments: want exit 2, what is missing and the usage on stderr, got %s", r)
			}
		})
		t.Run(name+"/UnknownArgument", func(t *testing.T) {
			r := run(t, 10*time.Second, nil, name, "--stack", "dev", "--frobnicate")
			if r.code != 2 || !strings.Contains(r.stderr, "unknown argument '--frobnicate'") {
				t.Fatalf("want exit 2 naming the argument, got %s", r)
			}
		})
		t.Run(name+"/MissingValue", func(t *testing.T) {
			r := run(t, 10*time.Second, nil, name, "--stack")
			if r.code != 2 || !strings.Contains(r.stderr, "option --stack needs a value") {
				t.Fatalf("want exit 2 naming the option, got %s", r)
			}
		})
	}

	bad := []struct {
		name, script string
		args         []string
		want         string
	}{
		{"SmokeBothTargets", "smoke-test.sh", []string{"--stack", "dev", "--url", "http://x"}, "either --stack or --url"},
		{"SmokeNoCredentials", "smoke-test.sh", []string{"--url", "http://127.0.0.1:1"}, "give --token"},
		{"SmokeTokenAndSkip", "smoke-test.sh", []string{"--url", "http://x", "--token", "t", "--skip-token"}, "exclude each other"},
		{"SmokeBadWait", "smoke-test.sh", []string{"--url", "http://x", "--wait", "soon"}, "--wait needs a number"},
		{"RolloutPartial", "verify-rollout.sh", []string{"--cluster", "c", "--service", "s"}, "all of --cluster, --service, --task-definition and --region"},
		{"RolloutBoth", "verify-rollout.sh", []string{"--stack", "dev", "--cluster", "c"}, "not both"},
		{"RolloutBadTimeout", "verify-rollout.sh", []string{"--stack", "dev", "--timeout", "-1"}, "--timeout needs a number"},
		{"CognitoPartial", "cognito-token.sh", []string{"--user-pool-id", "p"}, "all of --user-pool-id, --client-id and --region"},
		{"SecretsUnknownKey", "secrets.sh", []string{"--stack", "dev", "--rotate", "dbPassword"}, "unknown key 'dbPassword'"},
		{"PreviewDiffPackWithoutPolicyYAML", "preview-diff.sh", []string{"--stack", "dev", "--policy-pack", "testdata"}, "--policy-pack testdata: no PulumiPolicy.yaml there"},
		{"DriftBadStack", "drift.sh", []string{"--stack", "dev;rm"}, "--stack must be a stack name"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, 10*time.Second, nil, c.script, c.args...)
			if r.code != 2 || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("want exit 2 and %q, got %s", c.want, r)
			}
		})
	}

	t.Run("SmokeBadURL", func(t *testing.T) {
		r := run(t, 10*time.Second, nil, "smoke-test.sh", "--url", "ftp://example.com", "--skip-token")
		if r.code != 1 || !strings.Contains(r.stderr, "must be http(s)://") {
			t.Fatalf("got %s", r)
		}
	})
	t.Run("SmokeSkipTokenWithoutPassword", func(t *testing.T) {
		r := run(t, 10*time.Second, []string{"BASIC_AUTH_PASSWORD="}, "smoke-test.sh", "--url", "http://127.0.0.1:1", "--skip-token")
		if r.code != 1 || !strings.Contains(r.stderr, "needs the service's password in BASIC_AUTH_PASSWORD") {
			t.Fatalf("got %s", r)
		}
	})
	t.Run("RolloutShortTaskDefinition", func(t *testing.T) {
		r := run(t, 10*time.Second, []string{fakeBinPath(t)}, "verify-rollout.sh", "--cluster", "c", "--service", "s", "--task-definition", "books:7", "--region", "eu-west-1")
		if r.code != 1 || !strings.Contains(r.stderr, "must be a full ARN with a revision") {
			t.Fatalf("got %s", r)
		}
	})
}

// pathWith returns a PATH holding only links to the named programs, so a
// script sees every other tool as missing.
func pathWith(t *testing.T, programs ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range programs {
		src, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("%s is needed by this test: %v", p, err)
		}
		if err := os.Symlink(src, filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	return "PATH=" + dir
}

func TestMissingTools(t *testing.T) {
	requireProgram(t, "jq", "apt-get install jq")
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, script string
		path         []string
		args         []string
		want         string
	}{
		{"SmokeWithoutCurl", "smoke-test.sh", []string{"bash", "dirname", "jq"}, []string{"--url", "http://127.0.0.1:1", "--skip-token"}, "required tool(s) not found on PATH: curl"},
		{"SmokeWithoutCurlAndJq", "smoke-test.sh", []string{"bash", "dirname"}, []string{"--url", "http://127.0.0.1:1", "--skip-token"}, "required tool(s) not found on PATH: curl jq"},
		{"SmokeStackWithoutPulumi", "smoke-test.sh", []string{"bash", "dirname", "jq", "curl"}, []string{"--stack", "dev"}, "required tool(s) not found on PATH: pulumi"},
		{"RolloutWithoutAws", "verify-rollout.sh", []string{"bash", "dirname", "jq"}, []string{"--cluster", "c", "--service", "s", "--task-definition", taskDefRev7, "--region", "eu-west-1"}, "required tool(s) not found on PATH: aws"},
		{"RolloutStackWithoutPulumi", "verify-rollout.sh", []string{"bash", "dirname", "jq"}, []string{"--stack", "dev"}, "required tool(s) not found on PATH: pulumi aws"},
		{"CognitoWithoutAws", "cognito-token.sh", []string{"bash", "dirname", "jq"}, poolArgs, "required tool(s) not found on PATH: aws"},
		{"SecretsWithoutPulumi", "secrets.sh", []string{"bash", "dirname", "jq", "head", "od", "tr"}, []string{"--stack", "dev", "--cwd", repo}, "required tool(s) not found on PATH: pulumi"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, 10*time.Second, []string{pathWith(t, c.path...)}, c.script, c.args...)
			if r.code != 1 || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("want exit 1 and %q, got %s", c.want, r)
			}
		})
	}
	t.Run("SecretsWithoutProject", func(t *testing.T) {
		r := run(t, 10*time.Second, nil, "secrets.sh", "--stack", "dev", "--cwd", t.TempDir())
		if r.code != 1 || !strings.Contains(r.stderr, "no Pulumi.yaml in") {
			t.Fatalf("got %s", r)
		}
	})
}
