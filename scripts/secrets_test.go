package scripts

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pulumiStack is a stack of the repository's Pulumi.yaml in a temporary
// project directory, on a local file backend with the passphrase provider,
// driven by the real Pulumi CLI (the one `make pulumi-cli` pins).
type pulumiStack struct {
	t    *testing.T
	cli  string
	dir  string
	env  []string
	name string
}

func newPulumiStack(t *testing.T) *pulumiStack {
	t.Helper()
	requireProgram(t, "jq", "apt-get install jq")
	tools, err := filepath.Abs(filepath.Join("..", ".tools", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(tools, "pulumi")
	if _, err := os.Stat(cli); err != nil {
		cli = requireProgram(t, "pulumi", "run `make pulumi-cli`, which `make test` does first")
		tools = filepath.Dir(cli)
	}
	root := t.TempDir()
	s := &pulumiStack{t: t, cli: cli, dir: filepath.Join(root, "project"), name: "dev"}
	for _, d := range []string{s.dir, filepath.Join(root, "state"), filepath.Join(root, "home")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	project := readFile(t, filepath.Join("..", "Pulumi.yaml"))
	if project == "" {
		project = "name: books\nruntime: go\n"
	}
	writeFile(t, s.dir, "Pulumi.yaml", project)
	s.env = []string{
		"PATH=" + tools + string(os.PathListSeparator) + os.Getenv("PATH"),
		"PULUMI_HOME=" + filepath.Join(root, "home"),
		"PULUMI_BACKEND_URL=file://" + filepath.Join(root, "state"),
		"PULUMI_CONFIG_PASSPHRASE=scripts-test-passphrase",
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_ACCESS_TOKEN=",
	}
	s.pulumi("stack", "init", s.name, "--secrets-provider", "passphrase", "--non-interactive")
	return s
}

func (s *pulumiStack) pulumi(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(s.cli, append(args, "--cwd", s.dir)...)
	cmd.Env = append(os.Environ(), s.env...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		s.t.Fatalf("pulumi %v: %v\n%s%s", args, err, out, stderr)
	}
	return string(out)
}

func (s *pulumiStack) get(key string) string {
	return s.pulumi("config", "get", key, "--stack", s.name)
}

// isSecret reports whether key is set and stored as a secret.
func (s *pulumiStack) isSecret(key string) (set, secret bool) {
	var cfg map[string]struct {
		Secret bool `json:"secret"`
	}
	if err := json.Unmarshal([]byte(s.pulumi("config", "--json", "--stack", s.name)), &cfg); err != nil {
		s.t.Fatal(err)
	}
	v, ok := cfg[key]
	return ok, v.Secret
}

func (s *pulumiStack) secrets(args ...string) result {
	s.t.Helper()
	return run(s.t, 60*time.Second, s.env, "secrets.sh", append([]string{"--stack", s.name, "--cwd", s.dir}, args...)...)
}

const (
	keyPassword = "books:basicAuthPassword"
	keyToken    = "books:cacheAuthToken"
)

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestSecrets(t *testing.T) {
	t.Parallel()
	t.Run("GeneratesThenKeeps", func(t *testing.T) {
		s := newPulumiStack(t)
		r := s.secrets()
		if r.code != 0 || strings.Count(r.stderr, ": generated") != 2 {
			t.Fatalf("want both generated, got %s", r)
		}
		pw, tok := s.get(keyPassword), s.get(keyToken)
		for key, v := range map[string]string{keyPassword: pw, keyToken: tok} {
			if set, secret := s.isSecret(key); !set || !secret {
				t.Fatalf("%s: set=%v secret=%v", key, set, secret)
			}
			if !hex64.MatchString(strings.TrimSpace(v)) {
				t.Fatalf("%s is not 64 hex characters (length %d)", key, len(strings.TrimSpace(v)))
			}
			if strings.Contains(r.stdout+r.stderr, strings.TrimSpace(v)) {
				t.Fatalf("%s was printed", key)
			}
			if strings.Contains(readFile(t, filepath.Join(s.dir, "Pulumi.dev.yaml")), strings.TrimSpace(v)) {
				t.Fatalf("%s is in Pulumi.dev.yaml in plain text", key)
			}
		}
		if pw == tok {
			t.Fatal("both secrets got the same value")
		}

		r = s.secrets()
		if r.code != 0 || strings.Count(r.stderr, ": kept") != 2 {
			t.Fatalf("second run: want both kept, got %s", r)
		}
		if s.get(keyPassword) != pw || s.get(keyToken) != tok {
			t.Fatal("the second run changed a value")
		}

		r = s.secrets("--rotate", "cacheAuthToken")
		if r.code != 0 || !strings.Contains(r.stderr, keyToken+": rotated") || !strings.Contains(r.stderr, keyPassword+": kept") {
			t.Fatalf("--rotate: %s", r)
		}
		if s.get(keyPassword) != pw || s.get(keyToken) == tok {
			t.Fatal("--rotate cacheAuthToken must change exactly the token")
		}

		r = s.secrets("--rotate-all")
		if r.code != 0 || strings.Count(r.stderr, ": rotated") != 2 || s.get(keyPassword) == pw {
			t.Fatalf("--rotate-all: %s", r)
		}
	})

	t.Run("KeepsAnExistingStrongSecret", func(t *testing.T) {
		s := newPulumiStack(t)
		own := "My-Own-Strong-Password-0123456789"
		cmd := exec.Command(s.cli, "config", "set", "--secret", keyPassword, "--stack", s.name, "--cwd", s.dir)
		cmd.Env = append(os.Environ(), s.env...)
		cmd.Stdin = strings.NewReader(own)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		r := s.secrets()
		if r.code != 0 || !strings.Contains(r.stderr, keyPassword+": kept") || !strings.Contains(r.stderr, keyToken+": generated") {
			t.Fatalf("got %s", r)
		}
		if got := strings.TrimSpace(s.get(keyPassword)); got != own {
			t.Fatal("an existing valid secret was overwritten")
		}
	})

	bad := []struct {
		name, key, value string
		secret           bool
		want             string
	}{
		{"PlainText", keyToken, "0123456789abcdef0123456789abcdef", false, "stored in plain text; run again with --rotate cacheAuthToken"},
		{"TooShort", keyPassword, "short-secret", true, "is shorter than 16 characters"},
		{"AtSignInToken", keyToken, "long-enough-but-has-an-@-sign", true, "contains a character ElastiCache rejects"},
		{"SlashInToken", keyToken, "long-enough-but-has-a-/-slash", true, "contains a character ElastiCache rejects"},
		{"SpaceInToken", keyToken, "long enough but has spaces", true, "contains a character ElastiCache rejects"},
		{"TokenTooLong", keyToken, strings.Repeat("a", 129), true, "longer than ElastiCache's 128-character limit"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newPulumiStack(t)
			args := []string{"config", "set", c.key, "--stack", s.name}
			if c.secret {
				args = append(args, "--secret")
			}
			cmd := exec.Command(s.cli, append(args, "--cwd", s.dir)...)
			cmd.Env = append(os.Environ(), s.env...)
			cmd.Stdin = strings.NewReader(c.value)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			r := s.secrets()
			if r.code != 1 || !strings.Contains(r.stderr, c.key+": ") || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("want exit 1 and %q, got %s", c.want, r)
			}
			if strings.TrimSpace(s.get(c.key)) != c.value {
				t.Fatal("an existing value was replaced without --rotate")
			}
			if strings.Contains(r.stdout+r.stderr, c.value) {
				t.Fatal("the existing value was printed")
			}
			// The other key is still generated, and --rotate fixes this one.
			r = s.secrets("--rotate", strings.TrimPrefix(c.key, "books:"))
			if r.code != 0 {
				t.Fatalf("--rotate: %s", r)
			}
			if set, secret := s.isSecret(c.key); !set || !secret || !hex64.MatchString(strings.TrimSpace(s.get(c.key))) {
				t.Fatal("--rotate did not replace the bad value with a generated secret")
			}
		})
	}

	t.Run("StackMissing", func(t *testing.T) {
		s := newPulumiStack(t)
		s.name = "nosuchstack"
		r := s.secrets()
		if r.code != 1 || !strings.Contains(r.stderr, "could not read the config of stack 'nosuchstack'") {
			t.Fatalf("got %s", r)
		}
	})
}
