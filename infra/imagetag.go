package infra

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// ImageTag is the image tag of the build context dir for a platform
// (linux/arm64, linux/amd64): "src-" and 24 hex digits of a SHA-256 over
// the platform, the Dockerfile and every file Docker would send (paths,
// modes and contents, in lexical order, honouring dir/.dockerignore). The same sources
// give the same tag on every machine, so an IMMUTABLE ECR repository never
// sees one tag pushed twice with different content, and a change to any
// file the build sees gives a new tag.
func ImageTag(dir, platform string) (string, error) {
	ignore, err := readDockerignore(filepath.Join(dir, ".dockerignore"))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "platform\x00%s\x00", platform)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		// Docker always reads the Dockerfile, even when .dockerignore lists it.
		// Nothing else is skipped: whatever pulumi-docker hashes (every
		// file .dockerignore keeps) must be in the tag.
		keep := rel == "Dockerfile" || !ignore.excludes(rel)
		if d.IsDir() {
			if !keep && !ignore.hasExceptions() {
				return filepath.SkipDir
			}
			return nil
		}
		if !keep {
			return nil
		}
		if !d.Type().IsRegular() {
			// pulumi-docker hashes a symlink by its resolved absolute
			// path, which differs between checkouts of the same sources,
			// so no content hash can agree with it.
			return fmt.Errorf("%s is a %s, not a regular file: pulumi-docker's build-context hash depends on where it is checked out; replace it with a copy or list it in .dockerignore", rel, fileKind(d.Type()))
		}
		return hashFile(h, p, rel)
	})
	if err != nil {
		return "", fmt.Errorf("hash the image sources in %s: %w", dir, err)
	}
	return "src-" + hex.EncodeToString(h.Sum(nil))[:24], nil
}

func hashFile(h io.Writer, p, rel string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	// Path, full mode and size delimit each file's content. pulumi-docker
	// v4 rebuilds and pushes when its build-context digest changes, and
	// that digest covers each file's path, FileMode.String() and content
	// (pulumi-docker provider hashContext): a checkout under another umask
	// (rw-rw-r-- instead of rw-r--r--) must give another tag, or the push
	// reuses a tag the IMMUTABLE repository already holds and fails.
	fmt.Fprintf(h, "file\x00%s\x00%s\x00%d\x00", rel, info.Mode().String(), info.Size())
	_, err = io.Copy(h, f)
	return err
}

// dockerignore is a parsed .dockerignore: the last matching pattern wins,
// "!" patterns re-include, a pattern matching a directory excludes what is
// under it (Docker's rules).
type dockerignore []ignorePattern

type ignorePattern struct {
	re     *regexp.Regexp
	negate bool
}

func readDockerignore(file string) (dockerignore, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out dockerignore
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := ignorePattern{}
		if strings.HasPrefix(line, "!") {
			p.negate, line = true, strings.TrimSpace(line[1:])
		}
		line = strings.Trim(path.Clean(strings.TrimPrefix(line, "/")), "/")
		re, err := globRegexp(line)
		if err != nil {
			return nil, fmt.Errorf("%s: pattern %q: %w", file, line, err)
		}
		p.re = re
		out = append(out, p)
	}
	return out, sc.Err()
}

// globRegexp translates a .dockerignore glob: ** any number of path
// segments, * and ? within one segment.
func globRegexp(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// excludes reports whether rel (slash-separated, relative to the context)
// is left out of the build context.
func (d dockerignore) excludes(rel string) bool {
	excluded := false
	for _, p := range d {
		if p.matches(rel) {
			excluded = !p.negate
		}
	}
	return excluded
}

// matches reports whether the pattern matches rel or one of its parent directories.
func (p ignorePattern) matches(rel string) bool {
	for q := rel; q != "." && q != "/" && q != ""; q = path.Dir(q) {
		if p.re.MatchString(q) {
			return true
		}
	}
	return false
}

func (d dockerignore) hasExceptions() bool {
	for _, p := range d {
		if p.negate {
			return true
		}
	}
	return false
}

// FindProjectRoot is the Pulumi project directory (where Pulumi.yaml is):
// root when set (pulumi.Context.RootDirectory), else the nearest directory
// at or above the working directory holding Pulumi.yaml.
func FindProjectRoot(root string) (string, error) {
	if root != "" {
		return root, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no Pulumi.yaml at or above the working directory")
		}
		dir = parent
	}
}

// AppDir is the books API's source directory (the image's build context),
// relative to the project directory.
const AppDir = "app"

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}
