package render

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
)

// Change is one differing value; Old or New is absent for an added or
// removed value.
type Change struct {
	Path     string
	Old, New any
	// HasOld and HasNew tell an absent value from null.
	HasOld, HasNew bool
}

// ResourceChange is a resource present in both previews whose inputs differ.
type ResourceChange struct {
	Key, Type, Name string
	Inputs          []Change
}

// Differences between two previews of one program: a pull request against
// its base branch, or one stack against another. Resources are matched by
// Key (qualified type and name), so the stack name does not matter.
type Differences struct {
	Config  []Change
	Added   []string
	Removed []string
	Changed []ResourceChange
}

// Empty reports whether nothing differs.
func (d Differences) Empty() bool {
	return len(d.Config) == 0 && len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0
}

// Diff compares base with head. Unknown values compare equal to unknown
// values and secrets to secrets (neither can be seen); a string holding
// JSON (policies, container definitions, structured config) is compared
// inside, so a change shows its precise path.
func Diff(base, head *Preview) Differences {
	var d Differences
	d.Config = diffMaps("", stringMap(base.Config), stringMap(head.Config))

	baseRs, headRs := map[string]Resource{}, map[string]Resource{}
	for _, r := range base.Resources() {
		baseRs[Key(r.URN)] = r
	}
	for _, r := range head.Resources() {
		headRs[Key(r.URN)] = r
	}
	for _, k := range sortedKeys(headRs) {
		if _, ok := baseRs[k]; !ok {
			d.Added = append(d.Added, k)
		}
	}
	for _, k := range sortedKeys(baseRs) {
		h, ok := headRs[k]
		if !ok {
			d.Removed = append(d.Removed, k)
			continue
		}
		if changes := diffMaps("", baseRs[k].Inputs, h.Inputs); len(changes) > 0 {
			d.Changed = append(d.Changed, ResourceChange{Key: k, Type: h.Type, Name: h.Name, Inputs: changes})
		}
	}
	return d
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func diffMaps(prefix string, a, b map[string]any) []Change {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []Change
	for _, k := range sortedKeys(keys) {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		av, aok := a[k]
		bv, bok := b[k]
		switch {
		case !aok:
			out = append(out, Change{Path: path, New: bv, HasNew: true})
		case !bok:
			out = append(out, Change{Path: path, Old: av, HasOld: true})
		default:
			out = append(out, diffValues(path, av, bv)...)
		}
	}
	return out
}

func diffValues(path string, a, b any) []Change {
	a, b = decodeJSONString(a), decodeJSONString(b)
	switch at := a.(type) {
	case map[string]any:
		if bt, ok := b.(map[string]any); ok {
			return diffMaps(path, at, bt)
		}
	case []any:
		if bt, ok := b.([]any); ok && len(at) == len(bt) {
			var out []Change
			for i := range at {
				out = append(out, diffValues(fmt.Sprintf("%s[%d]", path, i), at[i], bt[i])...)
			}
			return out
		}
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return []Change{{Path: path, Old: a, New: b, HasOld: true, HasNew: true}}
}

// decodeJSONString returns the object or array a string holds, else v.
func decodeJSONString(v any) any {
	s, ok := v.(string)
	if !ok || len(s) < 2 || (s[0] != '{' && s[0] != '[') {
		return v
	}
	var out any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return v
	}
	return out
}

// WriteDiff prints d for a reviewer.
func WriteDiff(w io.Writer, d Differences) error {
	bw := &errWriter{w: w}
	if d.Empty() {
		bw.printf("no differences\n")
		return bw.err
	}
	bw.printf("config: %d changed\n", len(d.Config))
	for _, c := range d.Config {
		bw.printf("  %s\n", formatChange(c))
	}
	bw.printf("resources: %d added, %d removed, %d changed\n", len(d.Added), len(d.Removed), len(d.Changed))
	for _, k := range d.Added {
		bw.printf("  + %s\n", k)
	}
	for _, k := range d.Removed {
		bw.printf("  - %s\n", k)
	}
	for _, rc := range d.Changed {
		bw.printf("  ~ %s\n", rc.Key)
		for _, c := range rc.Inputs {
			bw.printf("      %s\n", formatChange(c))
		}
	}
	return bw.err
}

func formatChange(c Change) string {
	switch {
	case !c.HasOld:
		return fmt.Sprintf("+ %s: %s", c.Path, show(c.New))
	case !c.HasNew:
		return fmt.Sprintf("- %s: %s", c.Path, show(c.Old))
	}
	return fmt.Sprintf("~ %s: %s → %s", c.Path, show(c.Old), show(c.New))
}

// Paths lists the changed paths, for tests and scripts.
func (d Differences) Paths() []string {
	var out []string
	for _, c := range d.Config {
		out = append(out, "config:"+c.Path)
	}
	for _, rc := range d.Changed {
		for _, c := range rc.Inputs {
			out = append(out, rc.Key+":"+c.Path)
		}
	}
	sort.Strings(out)
	return out
}

// String is WriteDiff into a string.
func (d Differences) String() string {
	var b strings.Builder
	_ = WriteDiff(&b, d)
	return b.String()
}
