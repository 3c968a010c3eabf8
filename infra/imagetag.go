package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
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
		excluded, err := ignore.excludes(rel)
		if err != nil {
			return err
		}
		keep := rel == "Dockerfile" || !excluded
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

// dockerignore is dir/.dockerignore read and matched by Docker's own
// code (github.com/moby/patternmatcher and its ignorefile reader, what
// docker build and BuildKit use): comments, "!" exceptions, ** and
// filepath.Match patterns ([a-z], \\ escapes), the last matching pattern
// wins, and a pattern matching a directory excludes what is under it.
type dockerignore struct {
	pm *patternmatcher.PatternMatcher
}

func readDockerignore(file string) (dockerignore, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return dockerignore{}, nil
	}
	if err != nil {
		return dockerignore{}, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return dockerignore{}, fmt.Errorf("%s: %w", file, err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return dockerignore{}, fmt.Errorf("%s: %w", file, err)
	}
	return dockerignore{pm}, nil
}

// excludes reports whether rel (slash-separated, relative to the context)
// is left out of the build context.
func (d dockerignore) excludes(rel string) (bool, error) {
	if d.pm == nil {
		return false, nil
	}
	return d.pm.MatchesOrParentMatches(filepath.FromSlash(rel))
}

// hasExceptions: with a "!" pattern, an excluded directory may still hold
// files that are sent, so it cannot be skipped whole.
func (d dockerignore) hasExceptions() bool { return d.pm != nil && d.pm.Exclusions() }

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
