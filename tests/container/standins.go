package container

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// The stand-in base images. No image registry is reachable, so the
// Dockerfile's bases are built locally from Debian's packages and the
// machine's Go toolchain, tagged with the exact names the Dockerfile uses,
// and cached in the engine: each carries a recipe label, and an image whose
// label matches is reused instead of rebuilt.
const (
	// LabelRecipe is the hash of what an image was built from.
	LabelRecipe = "books.rehearsal.recipe"
	// LabelStandIn names the image a stand-in replaces.
	LabelStandIn = "books.rehearsal.stand-in-for"

	minbaseRepo   = "books-rehearsal/debian"
	toolchainRepo = "books-rehearsal/go-toolchain"
	staticRepo    = "books-rehearsal/distroless-static"
)

// Bases are the Dockerfile's base images by role.
type Bases struct {
	// Build is the builder stage's image (golang:X.Y), which must be
	// pinned to the build platform.
	Build string
	// BuildOnBuildPlatform is true when that stage has
	// --platform=$BUILDPLATFORM (cross-compiling, no emulation).
	BuildOnBuildPlatform bool
	// Final is the last stage's image (gcr.io/distroless/static-debianN:tag).
	Final string
}

var fromLine = regexp.MustCompile(`(?i)^FROM\s+(--platform=(\S+)\s+)?(\S+)(\s+AS\s+(\S+))?\s*$`)

// ParseBases reads the FROM lines of a Dockerfile. Every base must be one
// the rehearsal can stand in for: golang:* and gcr.io/distroless/static-*.
func ParseBases(dockerfile string) (Bases, error) {
	f, err := os.Open(dockerfile)
	if err != nil {
		return Bases{}, err
	}
	defer f.Close()
	var b Bases
	stages := map[string]bool{}
	last := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := fromLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		platform, image, alias := m[2], m[3], m[5]
		last = image
		switch {
		case stages[image] || image == "scratch":
		case strings.HasPrefix(image, "golang:"):
			b.Build, b.BuildOnBuildPlatform = image, platform == "$BUILDPLATFORM"
		case strings.HasPrefix(image, "gcr.io/distroless/static-"):
		default:
			return b, fmt.Errorf("%s: no stand-in for base image %s (the rehearsal builds golang:* and gcr.io/distroless/static-*)", dockerfile, image)
		}
		if alias != "" {
			stages[alias] = true
		}
	}
	if err := sc.Err(); err != nil {
		return b, err
	}
	if strings.HasPrefix(last, "gcr.io/distroless/static-") {
		b.Final = last
	}
	if b.Build == "" || b.Final == "" {
		return b, fmt.Errorf("%s: want a golang:* build stage and a gcr.io/distroless/static-* final stage, got build %q, last stage from %q", dockerfile, b.Build, last)
	}
	return b, nil
}

// debianSuites maps the distroless name's Debian release to its suite.
var debianSuites = map[string]string{"11": "bullseye", "12": "bookworm", "13": "trixie"}

// DebianSuite is the Debian suite of a distroless static image name
// (static-debian12 → bookworm).
func DebianSuite(distroless string) (string, error) {
	m := regexp.MustCompile(`static-debian(\d+)`).FindStringSubmatch(distroless)
	if m == nil || debianSuites[m[1]] == "" {
		return "", fmt.Errorf("%s: unknown Debian release (known: 11, 12, 13)", distroless)
	}
	return debianSuites[m[1]], nil
}

// StandIns builds and caches the stand-in bases.
type StandIns struct {
	Engine  *Engine
	Builder *Builder
	// Mirror is the Debian mirror debootstrap uses.
	Mirror string
	// GoRoot is the machine's Go toolchain (/usr/local/go).
	GoRoot string
	// WorkDir holds temporary build contexts.
	WorkDir string
	// Log receives progress lines.
	Log func(format string, args ...any)
	// Built records the one-time builds done in this run and how long each took.
	Built map[string]time.Duration
}

func (s *StandIns) cached(ctx context.Context, ref, recipe string) (*ImageInfo, bool) {
	img, err := s.Engine.Image(ctx, ref)
	if err != nil || img.Config.Labels[LabelRecipe] != recipe {
		return img, false
	}
	return img, true
}

func (s *StandIns) built(ref string, d time.Duration) {
	if s.Built == nil {
		s.Built = map[string]time.Duration{}
	}
	s.Built[ref] = d
	s.Log("stand-in %s built in %s (one-time; cached in the engine by its recipe label)", ref, d.Round(time.Second))
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Minbase is a minimal Debian root filesystem (debootstrap --variant=minbase)
// with ca-certificates and tzdata, imported as an image.
func (s *StandIns) Minbase(ctx context.Context, suite string) (string, error) {
	ref := minbaseRepo + ":" + suite + "-minbase"
	include := "ca-certificates,tzdata"
	recipe := hashOf("debootstrap", "--variant=minbase", "--include="+include, suite, s.Mirror, "v1")
	if _, ok := s.cached(ctx, ref, recipe); ok {
		return ref, nil
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return "", fmt.Errorf("%w: debootstrap (apt-get install debootstrap) builds the stand-in bases' Debian root filesystem", errMissing)
	}
	start := time.Now()
	root, err := os.MkdirTemp(s.WorkDir, "rootfs-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(root)
	s.Log("debootstrap --variant=minbase --include=%s %s from %s (one-time, minutes)", include, suite, s.Mirror)
	cmd := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "--include="+include, suite, root, s.Mirror)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("debootstrap: %w\n%s", err, tail(string(out), 30))
	}
	tarCmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "-C", root, "-c", ".")
	stdout, err := tarCmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := tarCmd.Start(); err != nil {
		return "", err
	}
	importErr := s.Engine.Import(ctx, ref, stdout, []string{
		"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"CMD [\"/bin/bash\"]",
		fmt.Sprintf("LABEL %s=%s", LabelRecipe, recipe),
	})
	if err := tarCmd.Wait(); err != nil && importErr == nil {
		importErr = fmt.Errorf("tar of the root filesystem: %w", err)
	}
	if importErr != nil {
		return "", importErr
	}
	s.built(ref, time.Since(start))
	return ref, nil
}

// goVersion is the toolchain's version file's first line (go1.26.8).
func goVersion(goroot string) (string, error) {
	data, err := os.ReadFile(filepath.Join(goroot, "VERSION"))
	if err != nil {
		return "", fmt.Errorf("the machine's Go toolchain: %w", err)
	}
	v, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(v), nil
}

// Golang stands in for golang:X.Y: the minimal Debian plus the machine's
// Go toolchain, set up like the official image (GOPATH=/go, GOTOOLCHAIN=local,
// /usr/local/go/bin on PATH). The module proxy is not reachable from a
// build either, so a last layer carries the module cache that
// `go mod download` and `go list -deps ./cmd/books` fill for appDir's
// go.mod/go.sum, with GOPROXY=off so a module it lacks fails loudly.
func (s *StandIns) Golang(ctx context.Context, ref, minbase, appDir string) error {
	ver, err := goVersion(s.GoRoot)
	if err != nil {
		return err
	}
	_, want, _ := strings.Cut(ref, ":")
	if !strings.HasPrefix(ver, "go"+want+".") && ver != "go"+want {
		return fmt.Errorf("the Dockerfile builds with %s but the machine's Go is %s: the stand-in must be that release", ref, ver)
	}
	mb, err := s.Engine.Image(ctx, minbase)
	if err != nil {
		return err
	}
	toolchain := toolchainRepo + ":" + strings.TrimPrefix(ver, "go")
	tcRecipe := hashOf(mb.ID, ver, runtime.GOARCH, "v1")
	if _, ok := s.cached(ctx, toolchain, tcRecipe); !ok {
		start := time.Now()
		dir, err := os.MkdirTemp(s.WorkDir, "go-toolchain-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		df := filepath.Join(dir, "Dockerfile")
		if err := os.WriteFile(df, []byte(fmt.Sprintf(`FROM %s
COPY . /usr/local/go
ENV GOLANG_VERSION=%s GOTOOLCHAIN=local GOPATH=/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /go
`, minbase, strings.TrimPrefix(ver, "go"))), 0o644); err != nil {
			return err
		}
		if _, err := s.Builder.Build(ctx, BuildRequest{Context: s.GoRoot, Dockerfile: df, Tag: toolchain,
			Labels: map[string]string{LabelRecipe: tcRecipe}}); err != nil {
			return err
		}
		s.built(toolchain, time.Since(start))
	}
	tc, err := s.Engine.Image(ctx, toolchain)
	if err != nil {
		return err
	}
	goMod, err := os.ReadFile(filepath.Join(appDir, "go.mod"))
	if err != nil {
		return err
	}
	goSum, err := os.ReadFile(filepath.Join(appDir, "go.sum"))
	if err != nil {
		return err
	}
	recipe := hashOf(tc.ID, string(goMod), string(goSum), "v1")
	if _, ok := s.cached(ctx, ref, recipe); ok {
		return nil
	}
	start := time.Now()
	dir, err := os.MkdirTemp(s.WorkDir, "golang-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := s.seedModules(ctx, appDir, filepath.Join(dir, "modcache")); err != nil {
		return err
	}
	df := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(df, []byte(fmt.Sprintf(`FROM %s
COPY modcache/cache/download /go/pkg/mod/cache/download
ENV GOPROXY=off
`, toolchain)), 0o644); err != nil {
		return err
	}
	if _, err := s.Builder.Build(ctx, BuildRequest{Context: dir, Dockerfile: df, Tag: ref,
		Labels: map[string]string{LabelRecipe: recipe, LabelStandIn: ref}}); err != nil {
		return err
	}
	s.built(ref+" (module cache layer)", time.Since(start))
	return nil
}

// seedModules fills an empty module cache with what appDir's build needs,
// taken from the machine's module cache first and the module proxy second.
func (s *StandIns) seedModules(ctx context.Context, appDir, modcache string) error {
	goBin := filepath.Join(s.GoRoot, "bin", "go")
	hostCache, err := exec.CommandContext(ctx, goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		return fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	proxy, _ := exec.CommandContext(ctx, goBin, "env", "GOPROXY").Output()
	env := append(os.Environ(),
		"GOMODCACHE="+modcache, "GOFLAGS=-modcacherw -mod=readonly",
		"GOPROXY=file://"+filepath.Join(strings.TrimSpace(string(hostCache)), "cache", "download")+","+strings.TrimSpace(string(proxy)),
		"GOOS=linux", "CGO_ENABLED=0")
	for _, args := range [][]string{{"mod", "download"}, {"list", "-deps", "./cmd/books"}} {
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir, cmd.Env = appDir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s (seeding the stand-in's module cache): %w\n%s", strings.Join(args, " "), err, tail(string(out), 20))
		}
	}
	return nil
}

// Static stands in for gcr.io/distroless/static-debianN:nonroot for one
// platform (linux/amd64, linux/arm64): FROM scratch plus a root filesystem
// of data files only (StaticRootfs), so building it for another
// architecture needs no emulation. It is kept under a private tag per
// architecture; Activate gives it the Dockerfile's name before a build.
func (s *StandIns) Static(ctx context.Context, ref, minbase, platform string) (string, error) {
	arch := strings.TrimPrefix(platform, "linux/")
	private := staticRepo + ":" + strings.NewReplacer(":", "-", "/", "-").Replace(ref[strings.LastIndex(ref, "/")+1:]) + "-" + arch
	dir, err := os.MkdirTemp(s.WorkDir, "static-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	tarPath := filepath.Join(dir, "rootfs.tar")
	sum, err := s.staticRootfs(ctx, minbase, tarPath)
	if err != nil {
		return "", err
	}
	recipe := hashOf(sum, platform, ref, "v1")
	if _, ok := s.cached(ctx, private, recipe); ok {
		return private, nil
	}
	start := time.Now()
	df := filepath.Join(dir, "Dockerfile")
	// The nonroot variant's configuration: user 65532, home as workdir,
	// the CA bundle for TLS clients.
	if err := os.WriteFile(df, []byte(`FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532
WORKDIR /home/nonroot
`), 0o644); err != nil {
		return "", err
	}
	if _, err := s.Builder.Build(ctx, BuildRequest{Context: dir, Dockerfile: df, Platform: platform, Tag: private,
		Labels: map[string]string{LabelRecipe: recipe, LabelStandIn: ref}}); err != nil {
		return "", err
	}
	s.built(private, time.Since(start))
	return private, nil
}

// staticRootfs writes the static root filesystem from the minimal Debian
// image to tarPath and returns its hash.
func (s *StandIns) staticRootfs(ctx context.Context, minbase, tarPath string) (string, error) {
	id, err := s.Engine.CreateContainer(ctx, "", map[string]any{"Image": minbase, "Cmd": []string{"/bin/true"}})
	if err != nil {
		return "", err
	}
	defer func() { _ = s.Engine.RemoveContainer(context.Background(), id) }()
	rc, err := s.Engine.Export(ctx, id)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	f, err := os.Create(tarPath)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if err := StaticRootfs(rc, io.MultiWriter(f, h)); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Activate tags the private stand-in for one platform with the
// Dockerfile's name. The classic image store holds one platform per tag,
// so each build activates the platform it needs (callers hold Lock).
func (s *StandIns) Activate(ctx context.Context, private, ref string) error {
	return s.Engine.Tag(ctx, private, ref)
}
