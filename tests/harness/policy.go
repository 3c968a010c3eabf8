package harness

import (
	"sort"

	"github.com/books-platform/books/policy/rules"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// PolicyResources converts the recorded graph into what the policy rules
// (github.com/books-platform/books/policy/rules) evaluate, as the engine
// would hand resources to the pack after an update: Props are the outputs
// (inputs plus the mock's computed values), ID is the mock's provider id,
// and Parent and PropertyDependencies are the recorded ones, so the stack
// rules that pair a resource with its companion (bucket ↔ public access
// block / encryption / policy, VPC ↔ flow log, stage ↔ WAF association,
// cluster ↔ instances) match exactly, the way they do in a preview.
//
// Components are included (awsx:ec2:Vpc is one, and the flow-log rule looks
// for it). Every call returns fresh deep copies, so a test may mutate the
// result (break one property) without touching the graph other tests share.
func (g *Graph) PolicyResources() []rules.Resource {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]rules.Resource, 0, len(g.Resources))
	for _, r := range g.Resources {
		props := r.Outputs
		if props == nil {
			props = r.Inputs
		}
		var deps map[string][]string
		if len(r.PropertyDependencies) > 0 {
			deps = make(map[string][]string, len(r.PropertyDependencies))
			for k, urns := range r.PropertyDependencies {
				deps[k] = append([]string(nil), urns...)
			}
		}
		out = append(out, rules.Resource{
			URN:                  r.URN,
			Type:                 r.Type,
			Name:                 r.Name,
			Props:                CopyProps(props),
			ID:                   r.ID,
			Parent:               r.Parent,
			PropertyDependencies: deps,
		})
	}
	return out
}

// PolicyTypes lists the distinct type tokens of the graph, sorted.
func (g *Graph) PolicyTypes() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	seen := map[string]bool{}
	var types []string
	for _, r := range g.Resources {
		if !seen[r.Type] {
			seen[r.Type] = true
			types = append(types, r.Type)
		}
	}
	sort.Strings(types)
	return types
}

// CopyProps deep-copies a property map (objects, arrays, secrets and output
// values; scalars, assets, archives and resource references are values).
func CopyProps(pm resource.PropertyMap) resource.PropertyMap {
	if pm == nil {
		return nil
	}
	out := make(resource.PropertyMap, len(pm))
	for k, v := range pm {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsObject():
		return resource.NewObjectProperty(CopyProps(v.ObjectValue()))
	case v.IsArray():
		arr := v.ArrayValue()
		c := make([]resource.PropertyValue, len(arr))
		for i, e := range arr {
			c[i] = copyValue(e)
		}
		return resource.NewArrayProperty(c)
	case v.IsSecret():
		return resource.MakeSecret(copyValue(v.SecretValue().Element))
	case v.IsComputed():
		return resource.MakeComputed(copyValue(v.Input().Element))
	case v.IsOutput():
		o := v.OutputValue()
		o.Element = copyValue(o.Element)
		o.Dependencies = append([]resource.URN(nil), o.Dependencies...)
		return resource.NewOutputProperty(o)
	}
	return v
}
