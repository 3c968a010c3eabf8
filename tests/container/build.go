package container

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Builder runs BuildKit builds through a docker client: `docker buildx
// build --load` when the buildx plugin is there, else the BuildKit client
// built into docker clients before 23.0 (DOCKER_BUILDKIT=1 docker build;
// Debian 12's docker.io 20.10 has no buildx package). Both honour
// `FROM --platform=$BUILDPLATFORM` and set TARGETOS/TARGETARCH.
type Builder struct {
	Client string // path of the docker client
	Buildx bool
	Socket string
}

// FindBuilder picks the first docker client that can run a BuildKit build:
// $DOCKER, `docker` on PATH, then Debian's /usr/bin/docker.
func FindBuilder(socket string) (*Builder, error) {
	var candidates []string
	if c := os.Getenv("DOCKER"); c != "" {
		candidates = append(candidates, c)
	}
	if p, err := exec.LookPath("docker"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/docker")
	var tried []string
	for _, c := range candidates {
		if _, err := os.Stat(c); err != nil {
			continue
		}
		b := &Builder{Client: c, Socket: socket}
		if _, err := b.output(context.Background(), nil, "buildx", "version"); err == nil {
			b.Buildx = true
			return b, nil
		}
		v, err := b.output(context.Background(), nil, "version", "--format", "{{.Client.Version}}")
		major, _, _ := strings.Cut(strings.TrimSpace(v), ".")
		if n, perr := strconv.Atoi(major); err == nil && perr == nil && n < 23 {
			return b, nil
		}
		tried = append(tried, fmt.Sprintf("%s (client %s, no buildx plugin)", c, strings.TrimSpace(v)))
	}
	return nil, fmt.Errorf("no docker client can run a BuildKit build: tried %v; install Debian's docker.io (its 20.10 client has BuildKit built in) or the buildx plugin", tried)
}

func (b *Builder) env(extra []string) []string {
	env := append(os.Environ(), "DOCKER_HOST=unix://"+b.Socket, "DOCKER_BUILDKIT=1")
	return append(env, extra...)
}

func (b *Builder) output(ctx context.Context, extraEnv []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, b.Client, args...)
	cmd.Env = b.env(extraEnv)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// BuildRequest is one `docker build`.
type BuildRequest struct {
	Context    string
	Dockerfile string // "" = Context/Dockerfile
	Platform   string // e.g. linux/arm64; "" = the engine's
	Tag        string
	Labels     map[string]string
}

// BuildResult is the build's plain progress output and how long it took.
type BuildResult struct {
	Output   string
	Duration time.Duration
	// Steps and Cached count the build's steps and those BuildKit reused.
	Steps, Cached int
}

// Build runs a BuildKit build and loads the image into the engine.
func (b *Builder) Build(ctx context.Context, r BuildRequest) (*BuildResult, error) {
	args := []string{"build"}
	if b.Buildx {
		args = []string{"buildx", "build", "--load"}
	}
	args = append(args, "--progress=plain", "--tag", r.Tag)
	if r.Platform != "" {
		args = append(args, "--platform", r.Platform)
	}
	if r.Dockerfile != "" {
		args = append(args, "--file", r.Dockerfile)
	}
	for k, v := range r.Labels {
		args = append(args, "--label", k+"="+v)
	}
	args = append(args, r.Context)
	start := time.Now()
	out, err := b.output(ctx, nil, args...)
	res := &BuildResult{Output: out, Duration: time.Since(start)}
	res.Steps, res.Cached = countSteps(out)
	if err != nil {
		return res, fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, tail(out, 40))
	}
	return res, nil
}

// countSteps counts the Dockerfile steps of a plain BuildKit log
// ("#N [stage k/n] INSTR") and those marked CACHED.
func countSteps(log string) (steps, cached int) {
	seen := map[string]bool{}
	stepOf := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		id, rest, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(id, "#") {
			continue
		}
		if strings.HasPrefix(rest, "[") && strings.Contains(rest, "/") && !stepOf[id] {
			stepOf[id] = true
			steps++
		}
		if rest == "CACHED" && stepOf[id] && !seen[id] {
			seen[id] = true
			cached++
		}
	}
	return steps, cached
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// errMissing marks a required program that is not installed.
var errMissing = errors.New("REQUIRED PROGRAM MISSING")
