package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func writeDoc(t *testing.T, rotation bool) string {
	t.Helper()
	urn := "urn:pulumi:dev::books::aws:kms/key:Key::k"
	doc := map[string]any{
		"steps": []any{map[string]any{"op": "create", "urn": urn, "newState": map[string]any{
			"urn": urn, "type": "aws:kms/key:Key", "custom": true, "inputs": map[string]any{"enableKeyRotation": rotation},
		}}},
		"changeSummary": map[string]int{"create": 1},
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "preview.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// -check exits 1 on a mandatory violation and 0 without one; a file that
// is not a preview is a usage error (2).
func TestCheckExitCodes(t *testing.T) {
	stdout := os.Stdout
	os.Stdout, _ = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer func() { os.Stdout = stdout }()

	if code, err := run([]string{"-check", writeDoc(t, true)}); code != 0 || err != nil {
		t.Errorf("compliant: code %d, err %v", code, err)
	}
	if code, err := run([]string{"-check", writeDoc(t, false)}); code != 1 || err == nil {
		t.Errorf("rotation off: code %d, err %v; want 1", code, err)
	}
	notPreview := filepath.Join(t.TempDir(), "x.json")
	_ = os.WriteFile(notPreview, []byte(`{"a":1}`), 0o600)
	if code, _ := run([]string{"-check", notPreview}); code != 2 {
		t.Errorf("not a preview: code %d, want 2", code)
	}
	if code, err := run([]string{"-diff", writeDoc(t, true), writeDoc(t, false)}); code != 0 || err != nil {
		t.Errorf("-diff: code %d, err %v", code, err)
	}
}
