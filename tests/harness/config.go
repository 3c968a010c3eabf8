package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/books-platform/books/infra"
	"gopkg.in/yaml.v3"
)

// TestSecrets are the values the harness gives the required secret keys
// (distinctive, so a test can search outputs for a leak).
var TestSecrets = map[string]string{
	"books:basicAuthPassword": "test-basic-auth-0123456789abcdef",
	"books:cacheAuthToken":    "test-cache-token-0123456789abcdef",
}

// StackConfig is a stack's configuration as the engine hands it to a
// program: every value a string (objects and lists as JSON), plus which keys
// are secret.
type StackConfig struct {
	Values     map[string]string
	SecretKeys []string
}

// RepoRoot finds the directory holding Pulumi.yaml, from the working
// directory upwards.
func RepoRoot() (string, error) { return infra.FindProjectRoot("") }

// Stacks lists the stacks that have a Pulumi.<stack>.yaml in root.
func Stacks(root string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(root, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var stacks []string
	for _, f := range files {
		stacks = append(stacks, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	sort.Strings(stacks)
	return stacks, nil
}

type projectFile struct {
	Name   string `yaml:"name"`
	Config map[string]struct {
		Type    string `yaml:"type"`
		Default any    `yaml:"default"`
		Secret  bool   `yaml:"secret"`
	} `yaml:"config"`
}

type stackFile struct {
	Config map[string]any `yaml:"config"`
}

// ProjectName reads the project name from root/Pulumi.yaml.
func ProjectName(root string) (string, error) {
	var p projectFile
	if err := readYAML(filepath.Join(root, "Pulumi.yaml"), &p); err != nil {
		return "", err
	}
	return p.Name, nil
}

// LoadStackConfig reads Pulumi.yaml's declared defaults and overlays
// Pulumi.<stack>.yaml, as the engine does: a stack value replaces the
// default of its key wholesale. Encrypted values in the stack file
// ("secure:") and missing required secrets get TestSecrets.
func LoadStackConfig(root, stack string) (*StackConfig, error) {
	var p projectFile
	if err := readYAML(filepath.Join(root, "Pulumi.yaml"), &p); err != nil {
		return nil, err
	}
	var s stackFile
	if err := readYAML(filepath.Join(root, "Pulumi."+stack+".yaml"), &s); err != nil {
		return nil, err
	}
	cfg := &StackConfig{Values: map[string]string{}}
	for key, decl := range p.Config {
		full := qualify(p.Name, key)
		if decl.Default != nil {
			v, err := configString(decl.Default)
			if err != nil {
				return nil, fmt.Errorf("Pulumi.yaml %s default: %w", key, err)
			}
			cfg.Values[full] = v
		}
	}
	for key, raw := range s.Config {
		full := qualify(p.Name, key)
		if m, ok := raw.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			test, known := TestSecrets[full]
			if !known {
				test = "test-secret-value-for-" + full
			}
			cfg.Values[full] = test
			cfg.SecretKeys = append(cfg.SecretKeys, full)
			continue
		}
		v, err := configString(raw)
		if err != nil {
			return nil, fmt.Errorf("Pulumi.%s.yaml %s: %w", stack, key, err)
		}
		cfg.Values[full] = v
	}
	for key, value := range TestSecrets {
		if _, set := cfg.Values[key]; !set {
			cfg.Values[key] = value
			cfg.SecretKeys = append(cfg.SecretKeys, key)
		}
	}
	sort.Strings(cfg.SecretKeys)
	return cfg, nil
}

func qualify(project, key string) string {
	if strings.Contains(key, ":") {
		return key
	}
	return project + ":" + key
}

// configString renders a YAML value the way the engine passes config to a
// program: scalars as text, objects and lists as JSON.
func configString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, int, int64, float64:
		return fmt.Sprint(x), nil
	default:
		b, err := json.Marshal(x)
		return string(b), err
	}
}

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
