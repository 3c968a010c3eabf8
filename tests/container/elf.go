package container

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
)

// BinaryArch reads an executable out of a (created) container and returns
// its Go architecture name; it must be statically linked (no interpreter),
// as the static base has no C library.
func BinaryArch(ctx context.Context, eng *Engine, id, path string) (string, error) {
	rc, err := eng.Archive(ctx, id, path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	if _, err := tr.Next(); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return "", err
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%s is not an ELF executable: %w", path, err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("%s is dynamically linked (has an interpreter); the static base has no C library", path)
		}
	}
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	}
	return f.Machine.String(), nil
}
