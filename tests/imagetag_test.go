package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/tests/harness"
)

// TestImageTagIsAContentHash: the same sources give the same tag wherever
// they are; a change the build sees gives a new one; files the build
// ignores (.dockerignore, bin/, bench/results/) do not.
func TestImageTagIsAContentHash(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "app")
	dir := filepath.Join(t.TempDir(), "app")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	tag := func(d, platform string) string {
		t.Helper()
		s, err := infra.ImageTag(d, platform)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := tag(dir, "linux/arm64")
	if !regexp.MustCompile(`^src-[0-9a-f]{24}$`).MatchString(base) {
		t.Fatalf("tag %q is not src-<24 hex>", base)
	}
	if again := tag(dir, "linux/arm64"); again != base {
		t.Fatalf("tag not stable: %s then %s", base, again)
	}
	if orig := tag(src, "linux/arm64"); orig != base {
		t.Fatalf("tag depends on the directory: %s (app/) vs %s (copy)", orig, base)
	}
	if other := tag(dir, "linux/amd64"); other == base {
		t.Error("tag does not change with the platform")
	}

	ignored := []string{"bin/books", "bench/results/run.txt", "books_extra_test.go", "README.md", "http/testdata/x.json"}
	for _, p := range ignored {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, p), "ignored "+p)
		if got := tag(dir, "linux/arm64"); got != base {
			t.Errorf("writing %s (not in the build context) changed the tag", p)
		}
	}

	seen := map[string]string{base: "base"}
	for _, change := range []struct{ name, path, content string }{
		{"source file", "books.go", "\n// changed\n"},
		{"Dockerfile (listed in .dockerignore, but the build reads it)", "Dockerfile", "\n# changed\n"},
		{"new file", "http/new.go", "package http\n"},
		{"migration", "postgres/migrations/00001_create_books.sql", "\n-- changed\n"},
	} {
		f, err := os.OpenFile(filepath.Join(dir, change.path), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.WriteString(change.content)
		f.Close()
		got := tag(dir, "linux/arm64")
		if prev, ok := seen[got]; ok {
			t.Errorf("changing the %s left the tag as after %s", change.name, prev)
		}
		seen[got] = change.name
	}
}

// copyTree copies src into a new directory with every regular file's
// permission bits set by mode(old) — a checkout made under another umask.
func copyTree(t *testing.T, src string, mode func(os.FileMode) os.FileMode) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(p, mode(info.Mode().Perm()))
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestImageTagFollowsTheBuildContextHash: pulumi-docker v4 rebuilds and
// pushes whenever its context digest changes, and that digest covers each
// file's path, full mode (FileMode.String()) and content, and a symlink's
// target (pulumi-docker provider hashContext). Whatever changes the digest
// must change the tag, or the push of a rebuilt image reuses a tag the
// IMMUTABLE repository already holds and fails. Two checkouts that differ
// only in mode: one with umask 022 (rw-r--r--), one with 002 (rw-rw-r--).
func TestImageTagFollowsTheBuildContextHash(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "app")
	tag := func(d string) string {
		t.Helper()
		s, err := infra.ImageTag(d, "linux/arm64")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	umask022 := copyTree(t, src, func(m os.FileMode) os.FileMode { return m &^ 0o022 })
	umask002 := copyTree(t, src, func(m os.FileMode) os.FileMode { return m&^0o002 | 0o020 })
	base := tag(umask022)
	if tag(umask002) == base {
		t.Error("two checkouts differing only in group-write bits get the same tag, but pulumi-docker's context digest differs: the rebuild pushes an existing tag")
	}
	if again := tag(copyTree(t, src, func(m os.FileMode) os.FileMode { return m &^ 0o022 })); again != base {
		t.Errorf("the same modes and contents give another tag: %s vs %s", again, base)
	}

	// pulumi-docker hashes a symlink by its resolved absolute path, which
	// differs between checkouts of the same sources: no content hash can
	// follow it, so a symlink in the build context is refused by name.
	link := filepath.Join(umask022, "http", "link.go")
	if err := os.Symlink("../books.go", link); err != nil {
		t.Fatal(err)
	}
	if _, err := infra.ImageTag(umask022, "linux/arm64"); err == nil || !strings.Contains(err.Error(), "http/link.go") {
		t.Errorf("a symlink in the build context: error %v, want one naming http/link.go", err)
	}
}

// TestImageTagReadsDockerignoreLikeDocker: the tag leaves out exactly what
// docker build leaves out of the context, by Docker's own pattern rules —
// character classes, ** at any depth, a leading slash, comments, and "!"
// exceptions under an excluded directory.
func TestImageTagReadsDockerignoreLikeDocker(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	writeFile(t, filepath.Join(dir, ".dockerignore"), "# notes are not built\ndocs/[ab].md\n**/*.tmp\n/cache\nkeep/*\n!keep/this.txt\n")
	for _, p := range []string{"main.go", "docs/a.md", "docs/c.md", "x/y/z.tmp", "cache/blob", "keep/other.txt", "keep/this.txt"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, p), "v1 "+p)
	}
	tag := func() string {
		t.Helper()
		s, err := infra.ImageTag(dir, "linux/arm64")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, c := range []struct {
		path string
		sent bool
	}{
		{"docs/a.md", false}, {"docs/c.md", true}, {"x/y/z.tmp", false}, {"cache/blob", false},
		{"keep/other.txt", false}, {"keep/this.txt", true}, {"main.go", true},
	} {
		before := tag()
		writeFile(t, filepath.Join(dir, c.path), "v2 "+c.path)
		if changed := tag() != before; changed != c.sent {
			t.Errorf("changing %s: tag changed %v, want %v (docker build %s it)", c.path, changed, c.sent, map[bool]string{true: "sends", false: "does not send"}[c.sent])
		}
	}
	writeFile(t, filepath.Join(dir, ".dockerignore"), "docs/[a\n")
	if _, err := infra.ImageTag(dir, "linux/arm64"); err == nil || !strings.Contains(err.Error(), ".dockerignore") {
		t.Errorf("a malformed pattern: err = %v, want an error naming .dockerignore", err)
	}
}
