package harness

import (
	"fmt"
	"slices"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Diff lists what differs between two runs' graphs: resources registered by
// only one, and per resource the inputs, dependencies, parent and protect
// flag (by URN, so registration order does not matter).
func Diff(a, b *Graph) []string {
	index := func(g *Graph) map[string]*Resource {
		m := map[string]*Resource{}
		for _, r := range g.Resources {
			m[r.URN] = r
		}
		return m
	}
	ia, ib := index(a), index(b)
	var out []string
	urns := make([]string, 0, len(ia))
	for u := range ia {
		urns = append(urns, u)
	}
	sort.Strings(urns)
	for _, u := range urns {
		ra, rb := ia[u], ib[u]
		if rb == nil {
			out = append(out, fmt.Sprintf("%s: registered by the first run only", u))
			continue
		}
		keys := map[string]bool{}
		for k := range ra.Inputs {
			keys[string(k)] = true
		}
		for k := range rb.Inputs {
			keys[string(k)] = true
		}
		var changed []string
		for k := range keys {
			if !ra.Inputs[resource.PropertyKey(k)].DeepEquals(rb.Inputs[resource.PropertyKey(k)]) {
				changed = append(changed, k)
			}
		}
		sort.Strings(changed)
		for _, k := range changed {
			out = append(out, fmt.Sprintf("%s: input %s differs", u, k))
		}
		if !sameSet(ra.Dependencies, rb.Dependencies) {
			out = append(out, fmt.Sprintf("%s: dependencies differ", u))
		}
		for k, da := range ra.PropertyDependencies {
			if !sameSet(da, rb.PropertyDependencies[k]) {
				out = append(out, fmt.Sprintf("%s: dependencies of %s differ", u, k))
			}
		}
		if ra.Parent != rb.Parent || ra.Protect != rb.Protect {
			out = append(out, fmt.Sprintf("%s: parent or protect differs", u))
		}
	}
	for u := range ib {
		if ia[u] == nil {
			out = append(out, fmt.Sprintf("%s: registered by the second run only", u))
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
