package container

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
)

func debianTar(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	add := func(name string, typ byte, data, link string) {
		h := &tar.Header{Name: name, Typeflag: typ, Mode: 0o755, Size: int64(len(data)), Linkname: link}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, data); err != nil {
			t.Fatal(err)
		}
	}
	add("bin/", tar.TypeDir, "", "")
	add("bin/sh", tar.TypeReg, "\x7fELF shell", "")
	add("usr/bin/apt", tar.TypeReg, "\x7fELF apt", "")
	add("etc/ssl/certs/ca-certificates.crt", tar.TypeReg, "-----BEGIN CERTIFICATE-----\n", "")
	add("etc/ssl/certs/other.pem", tar.TypeSymlink, "", "/usr/share/ca-certificates/other.crt")
	add("usr/share/zoneinfo/UTC", tar.TypeReg, "TZif2", "")
	add("usr/share/zoneinfo/Etc/UTC", tar.TypeLink, "", "usr/share/zoneinfo/UTC")
	add("usr/lib/os-release", tar.TypeReg, "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n", "")
	add("etc/os-release", tar.TypeSymlink, "", "../usr/lib/os-release")
	add("var/lib/dpkg/status", tar.TypeReg, "Package: bash\nStatus: install ok installed\n\nPackage: tzdata\nVersion: 2025b\n\nPackage: ca-certificates\nVersion: 20230311\n", "")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestStaticRootfs: data files only (no shell, no binary), distroless's
// users with nonroot's home owned by 65532, deterministic output.
func TestStaticRootfs(t *testing.T) {
	src := debianTar(t)
	var out, again bytes.Buffer
	if err := StaticRootfs(bytes.NewReader(src), &out); err != nil {
		t.Fatal(err)
	}
	if err := StaticRootfs(bytes.NewReader(src), &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), again.Bytes()) {
		t.Error("two runs wrote different archives")
	}
	got := map[string]*tar.Header{}
	data := map[string]string{}
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		got[strings.TrimSuffix(h.Name, "/")] = h
		data[strings.TrimSuffix(h.Name, "/")] = string(b)
	}
	for _, want := range []string{"etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo/UTC", "usr/share/zoneinfo/Etc/UTC", "etc/os-release", "etc/passwd", "etc/group", "tmp", "home/nonroot", "var/lib/dpkg/status.d/tzdata"} {
		if got[want] == nil {
			t.Errorf("missing %s", want)
		}
	}
	for _, unwanted := range []string{"bin/sh", "bin", "usr/bin/apt", "usr/bin", "etc/ssl/certs/other.pem", "var/lib/dpkg/status"} {
		if got[unwanted] != nil {
			t.Errorf("has %s", unwanted)
		}
	}
	if h := got["home/nonroot"]; h == nil || h.Uid != NonrootUID || h.Gid != NonrootUID || h.Mode != 0o700 {
		t.Errorf("home/nonroot = %+v, want 0700 owned by 65532", h)
	}
	if h := got["tmp"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("tmp = %+v, want 1777", h)
	}
	if !strings.Contains(data["etc/passwd"], "nonroot:x:65532:65532:") {
		t.Errorf("etc/passwd = %q", data["etc/passwd"])
	}
	if strings.Contains(data["var/lib/dpkg/status.d/tzdata"], "bash") {
		t.Errorf("tzdata's status file holds another package: %q", data["var/lib/dpkg/status.d/tzdata"])
	}
}

func TestStaticRootfsNeedsCertificatesAndZones(t *testing.T) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	_ = tw.WriteHeader(&tar.Header{Name: "bin/sh", Typeflag: tar.TypeReg, Mode: 0o755})
	_ = tw.Close()
	err := StaticRootfs(&b, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ca-certificates.crt") {
		t.Fatalf("err = %v, want one naming the missing CA bundle", err)
	}
}
