package container

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// NonrootUID is distroless's nonroot user and group.
const NonrootUID = 65532

// What distroless static ships besides its generated files: the CA bundle,
// the time zone database, the release file and the packages' licences
// (github.com/GoogleContainerTools/distroless, base/README.md: "ca-certificates,
// A /etc/passwd entry for a root, nonroot and nobody user, A /tmp directory,
// tzdata").
var staticFromDebian = []string{
	"etc/ssl/certs/ca-certificates.crt",
	"usr/share/zoneinfo/",
	"usr/lib/os-release",
	"etc/os-release",
	"usr/share/doc/ca-certificates/copyright",
	"usr/share/doc/tzdata/copyright",
}

// staticPackages get a dpkg status file each (status.d), as distroless
// has, so scanners see what the image holds.
var staticPackages = []string{"ca-certificates", "tzdata"}

// StaticRootfs reads a Debian root filesystem (tar) and writes the root
// filesystem of a distroless-static equivalent: only data files (no shell,
// no package manager, no binary at all), users root, nobody and nonroot
// (65532) with /home/nonroot, and /tmp. The output is deterministic (sorted,
// fixed times), so its hash identifies it.
func StaticRootfs(debian io.Reader, out io.Writer) error {
	type entry struct {
		hdr  tar.Header
		data []byte
	}
	entries := map[string]*entry{}
	var dpkgStatus []byte
	tr := tar.NewReader(debian)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the Debian root filesystem: %w", err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")
		if name == "var/lib/dpkg/status" {
			if dpkgStatus, err = io.ReadAll(tr); err != nil {
				return err
			}
			continue
		}
		if !wanted(name) {
			continue
		}
		e := &entry{hdr: tar.Header{Name: strings.TrimSuffix(name, "/"), Typeflag: h.Typeflag, Mode: h.Mode & 0o7777, Linkname: h.Linkname}}
		switch h.Typeflag {
		case tar.TypeReg:
			if e.data, err = io.ReadAll(tr); err != nil {
				return err
			}
		case tar.TypeDir, tar.TypeSymlink:
		case tar.TypeLink:
			e.hdr.Linkname = strings.TrimPrefix(strings.TrimPrefix(h.Linkname, "./"), "/")
		default:
			continue
		}
		entries[e.hdr.Name] = e
	}
	// Hard links become copies: sorted output could put a link before
	// its target, which extraction refuses.
	for _, e := range entries {
		if e.hdr.Typeflag == tar.TypeLink {
			target := entries[e.hdr.Linkname]
			if target == nil || target.hdr.Typeflag != tar.TypeReg {
				return fmt.Errorf("hard link %s → %s: the target is not a selected file", e.hdr.Name, e.hdr.Linkname)
			}
			e.hdr.Typeflag, e.hdr.Linkname, e.hdr.Mode, e.data = tar.TypeReg, "", target.hdr.Mode, target.data
		}
	}
	for _, must := range []string{"etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo/UTC"} {
		if entries[must] == nil {
			return fmt.Errorf("the Debian root filesystem has no %s (is ca-certificates/tzdata installed?)", must)
		}
	}
	file := func(name string, mode int64, uid int, data string) {
		entries[name] = &entry{hdr: tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Uid: uid, Gid: uid}, data: []byte(data)}
	}
	dir := func(name string, mode int64, uid int) {
		entries[name] = &entry{hdr: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: mode, Uid: uid, Gid: uid}}
	}
	// distroless's users and groups (base/base.bzl).
	file("etc/passwd", 0o644, 0, "root:x:0:0:root:/root:/sbin/nologin\n"+
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"+
		fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", NonrootUID, NonrootUID))
	file("etc/group", 0o644, 0, "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\n"+fmt.Sprintf("nonroot:x:%d:\n", NonrootUID))
	file("etc/nsswitch.conf", 0o644, 0, "hosts: files dns\n")
	dir("tmp", 0o1777, 0)
	dir("root", 0o700, 0)
	dir("home/nonroot", 0o700, NonrootUID)
	for _, pkg := range staticPackages {
		para := dpkgParagraph(dpkgStatus, pkg)
		if para == "" {
			return fmt.Errorf("the Debian root filesystem's dpkg status has no %s", pkg)
		}
		file("var/lib/dpkg/status.d/"+pkg, 0o644, 0, para)
	}
	// Every parent directory exists, owned by root.
	for name := range entries {
		for p := path.Dir(name); p != "." && p != "/"; p = path.Dir(p) {
			if entries[p] == nil {
				dir(p, 0o755, 0)
			}
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tar.NewWriter(out)
	epoch := time.Unix(0, 0).UTC()
	for _, n := range names {
		e := entries[n]
		h := e.hdr
		h.ModTime, h.Format = epoch, tar.FormatPAX
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		h.Size = int64(len(e.data))
		if err := tw.WriteHeader(&h); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

func wanted(name string) bool {
	for _, w := range staticFromDebian {
		if name == strings.TrimSuffix(w, "/") || strings.HasSuffix(w, "/") && strings.HasPrefix(name, w) {
			return true
		}
	}
	return false
}

// dpkgParagraph returns one package's paragraph of a dpkg status file.
func dpkgParagraph(status []byte, pkg string) string {
	sc := bufio.NewScanner(bytes.NewReader(status))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur strings.Builder
	match := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if match {
				return cur.String()
			}
			cur.Reset()
			continue
		}
		if line == "Package: "+pkg {
			match = true
		}
		cur.WriteString(line + "\n")
	}
	if match {
		return cur.String()
	}
	return ""
}
