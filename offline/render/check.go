package render

import (
	"io"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/books-platform/books/policy/rules"
)

// PolicyResources turns the planned resources into the policy rules'
// input: unknown values become computed values ("cannot tell yet"), and
// "[secret]" a secret whose value cannot be seen (present, so a rule that
// only needs it set is satisfied).
func PolicyResources(p *Preview) []rules.Resource {
	var out []rules.Resource
	for _, r := range p.Resources() {
		out = append(out, rules.Resource{
			URN:                  r.URN,
			Type:                 r.Type,
			Name:                 r.Name,
			Props:                PropertyMap(r.Inputs),
			ID:                   r.ID,
			Parent:               r.Parent,
			PropertyDependencies: r.PropertyDependencies,
		})
	}
	return out
}

// PropertyMap converts JSON inputs to a resource.PropertyMap.
func PropertyMap(m map[string]any) resource.PropertyMap {
	out := make(resource.PropertyMap, len(m))
	for k, v := range m {
		out[resource.PropertyKey(k)] = propertyValue(v)
	}
	return out
}

func propertyValue(v any) resource.PropertyValue {
	switch t := v.(type) {
	case nil:
		return resource.NewNullProperty()
	case bool:
		return resource.NewProperty(t)
	case float64:
		return resource.NewProperty(t)
	case string:
		switch t {
		case Unknown:
			return resource.MakeComputed(resource.NewProperty(""))
		case Secret:
			return resource.MakeSecret(resource.MakeComputed(resource.NewProperty("")))
		}
		return resource.NewProperty(t)
	case []any:
		arr := make([]resource.PropertyValue, len(t))
		for i, e := range t {
			arr[i] = propertyValue(e)
		}
		return resource.NewProperty(arr)
	case map[string]any:
		return resource.NewProperty(PropertyMap(t))
	}
	return resource.NewNullProperty()
}

// Check runs the policy rules over the preview and writes every finding,
// mandatory first; it returns the mandatory violations.
func Check(w io.Writer, p *Preview, cfg rules.Config) ([]rules.Violation, error) {
	stack, _ := p.Stack()
	vs := rules.Evaluate(stack, PolicyResources(p), cfg)
	sort.SliceStable(vs, func(i, j int) bool {
		return rank(vs[i]) < rank(vs[j])
	})
	bw := &errWriter{w: w}
	mandatory := rules.MandatoryOnly(vs)
	for _, v := range vs {
		bw.printf("%s\n", v)
	}
	bw.printf("policy check of stack %s: %d resources, %d mandatory violations, %d advisory findings\n",
		stack, len(p.Resources()), len(mandatory), len(vs)-len(mandatory))
	return mandatory, bw.err
}

func rank(v rules.Violation) int {
	switch {
	case v.Note:
		return 2
	case v.Level == rules.Mandatory:
		return 0
	}
	return 1
}
