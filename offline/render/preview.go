// Package render reads a `pulumi preview --json` document — from the
// offline preview or from a real `pulumi preview --json` — and renders it:
// a reviewer's tree (Tree), a Mermaid architecture diagram (Mermaid), the
// differences from another preview (Diff) and the policy rules over it
// (Check).
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/books-platform/books/offline/standin"
)

// Unknown is how the engine serializes a value that is not known until
// apply (plugin.UnknownStringValue).
const Unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

// Secret is how `pulumi preview --json` shows every secret value.
const Secret = "[secret]"

// Preview is a `pulumi preview --json` document (display.PreviewDigest).
type Preview struct {
	Config        map[string]string `json:"config"`
	Steps         []Step            `json:"steps"`
	Diagnostics   []Diagnostic      `json:"diagnostics"`
	ChangeSummary map[string]int    `json:"changeSummary"`

	// Outputs are the stack outputs. `pulumi preview --json` does not carry
	// them; Load reads them from the engine's events.jsonl beside the
	// document when there is one (the offline preview writes it).
	Outputs map[string]any `json:"-"`
}

// Step is one planned operation.
type Step struct {
	Op       string `json:"op"`
	URN      string `json:"urn"`
	Provider string `json:"provider"`
	OldState *State `json:"oldState"`
	NewState *State `json:"newState"`
}

// State is a resource's state as the document serializes it.
type State struct {
	URN                  string              `json:"urn"`
	Custom               bool                `json:"custom"`
	Type                 string              `json:"type"`
	ID                   string              `json:"id"`
	Inputs               map[string]any      `json:"inputs"`
	Outputs              map[string]any      `json:"outputs"`
	Parent               string              `json:"parent"`
	Protect              bool                `json:"protect"`
	Provider             string              `json:"provider"`
	Dependencies         []string            `json:"dependencies"`
	PropertyDependencies map[string][]string `json:"propertyDependencies"`
}

// Diagnostic is a warning or error of the preview.
type Diagnostic struct {
	URN      string `json:"urn"`
	Message  string `json:"message"`
	Severity string `json:"severity"`
}

// Resource is one resource the preview plans, flattened for rendering.
type Resource struct {
	Op, URN, Type, Name, Parent, ID string
	Custom, Protect                 bool
	Inputs, Outputs                 map[string]any
	PropertyDependencies            map[string][]string
}

// Load reads a preview document from a file.
func Load(path string) (*Preview, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if events, err := os.ReadFile(filepath.Join(filepath.Dir(path), "events.jsonl")); err == nil {
		p.Outputs = EventStackOutputs(events)
	}
	return p, nil
}

// EventStackOutputs returns the root stack's outputs from an engine event
// log (one JSON event a line), or nil.
func EventStackOutputs(events []byte) map[string]any {
	var outputs map[string]any
	dec := json.NewDecoder(bytes.NewReader(events))
	for {
		var ev struct {
			ResOutputsEvent *struct {
				Metadata struct {
					Type string `json:"type"`
					New  *struct {
						Outputs map[string]any `json:"outputs"`
					} `json:"new"`
				} `json:"metadata"`
			} `json:"resOutputsEvent"`
		}
		if err := dec.Decode(&ev); err != nil {
			return outputs
		}
		if o := ev.ResOutputsEvent; o != nil && o.Metadata.Type == "pulumi:pulumi:Stack" && o.Metadata.New != nil {
			outputs = o.Metadata.New.Outputs
		}
	}
}

// Parse decodes a preview document.
func Parse(raw []byte) (*Preview, error) {
	var p Preview
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("not a `pulumi preview --json` document: %w", err)
	}
	if p.Steps == nil && p.ChangeSummary == nil {
		return nil, fmt.Errorf("not a `pulumi preview --json` document: no steps and no changeSummary")
	}
	return &p, nil
}

// Offline reports whether the document comes from the offline preview (its
// stand-in providers label the diagnostics).
func (p *Preview) Offline() bool {
	for _, d := range p.Diagnostics {
		if strings.Contains(d.Message, standin.Banner) {
			return true
		}
	}
	return false
}

// Resources are the planned resources in step order, deletes excluded,
// with the root stack and provider resources left out.
func (p *Preview) Resources() []Resource {
	var out []Resource
	for _, s := range p.Steps {
		st := s.NewState
		if st == nil || s.Op == "delete" || s.Op == "discard" {
			continue
		}
		if st.Type == "pulumi:pulumi:Stack" || strings.HasPrefix(st.Type, "pulumi:providers:") {
			continue
		}
		out = append(out, Resource{
			Op: s.Op, URN: st.URN, Type: st.Type, Name: nameOf(st.URN), Parent: st.Parent, ID: st.ID,
			Custom: st.Custom, Protect: st.Protect, Inputs: st.Inputs, Outputs: st.Outputs,
			PropertyDependencies: st.PropertyDependencies,
		})
	}
	return out
}

// Stack returns the stack name and project from the URNs.
func (p *Preview) Stack() (stack, project string) {
	for _, s := range p.Steps {
		parts := strings.SplitN(s.URN, "::", 3)
		if len(parts) == 3 && strings.HasPrefix(parts[0], "urn:pulumi:") {
			return strings.TrimPrefix(parts[0], "urn:pulumi:"), parts[1]
		}
	}
	return "", ""
}

// StackOutputs are the root stack's outputs (unknown ones as Unknown).
func (p *Preview) StackOutputs() map[string]any {
	if p.Outputs != nil {
		return p.Outputs
	}
	for _, s := range p.Steps {
		if s.NewState != nil && s.NewState.Type == "pulumi:pulumi:Stack" {
			return s.NewState.Outputs
		}
	}
	return nil
}

// CountByType counts resources per type token (components included).
func CountByType(rs []Resource) map[string]int {
	counts := map[string]int{}
	for _, r := range rs {
		counts[r.Type]++
	}
	return counts
}

// nameOf is the logical name: the URN's last "::" segment.
func nameOf(urn string) string {
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return urn[i+2:]
	}
	return urn
}

// Key identifies a resource independently of stack and project: its
// qualified type (parent types included) and name. Two previews of one
// program for different stacks share keys.
func Key(urn string) string {
	parts := strings.SplitN(urn, "::", 3)
	if len(parts) != 3 {
		return urn
	}
	return parts[2]
}

// UnknownPaths lists the property paths of v whose values are unknown
// ("subnetIds[0]", "serverlessv2ScalingConfiguration.maxCapacity"), sorted.
func UnknownPaths(props map[string]any) []string {
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch t := v.(type) {
		case string:
			if t == Unknown {
				out = append(out, path)
			}
		case []any:
			for i, e := range t {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case map[string]any:
			for k, e := range t {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, e)
			}
		}
	}
	walk("", props)
	sort.Strings(out)
	return out
}

// IsUnknown reports whether v is the unknown sentinel.
func IsUnknown(v any) bool {
	s, ok := v.(string)
	return ok && s == Unknown
}
