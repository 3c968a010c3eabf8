package tests

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/books-platform/books/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// prop reads a (possibly nested, possibly secret) property of a resource's
// inputs by path: prop(r, "serverlessv2ScalingConfiguration", "minCapacity").
func prop(r *harness.Resource, path ...string) resource.PropertyValue {
	v := resource.NewObjectProperty(r.Inputs)
	for _, p := range path {
		for v.IsSecret() {
			v = v.SecretValue().Element
		}
		if !v.IsObject() {
			return resource.NewNullProperty()
		}
		v = v.ObjectValue()[resource.PropertyKey(p)]
	}
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

func propString(r *harness.Resource, path ...string) string {
	v := prop(r, path...)
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func propBool(r *harness.Resource, path ...string) bool {
	v := prop(r, path...)
	return v.IsBool() && v.BoolValue()
}

func propNumber(r *harness.Resource, path ...string) (float64, bool) {
	v := prop(r, path...)
	if v.IsNumber() {
		return v.NumberValue(), true
	}
	return 0, false
}

func propStrings(r *harness.Resource, path ...string) []string {
	v := prop(r, path...)
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		for e.IsSecret() {
			e = e.SecretValue().Element
		}
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

// only returns the single resource of a type, failing otherwise.
func only(t *testing.T, g *harness.Graph, typ string) *harness.Resource {
	t.Helper()
	rs := g.ByType(typ)
	if len(rs) != 1 {
		t.Fatalf("want exactly one %s, got %d", typ, len(rs))
	}
	return rs[0]
}

// awsxVpc returns the VPC component's mocked outputs: subnet ids per tier.
func subnetIDs(t *testing.T, g *harness.Graph, tier string) []string {
	t.Helper()
	vpc := only(t, g, "awsx:ec2:Vpc")
	v := vpc.Outputs[resource.PropertyKey(tier+"SubnetIds")]
	var ids []string
	for _, e := range v.ArrayValue() {
		ids = append(ids, e.StringValue())
	}
	if len(ids) == 0 {
		t.Fatalf("VPC has no %s subnets", tier)
	}
	return ids
}

// findPlain returns the path of a non-secret value that contains needle.
func findPlain(m resource.PropertyMap, needle string) string {
	var walk func(v resource.PropertyValue, path string) string
	walk = func(v resource.PropertyValue, path string) string {
		switch {
		case v.IsSecret():
			return ""
		case v.IsString():
			if strings.Contains(v.StringValue(), needle) {
				return path
			}
		case v.IsArray():
			for i, e := range v.ArrayValue() {
				if p := walk(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
					return p
				}
			}
		case v.IsObject():
			for k, e := range v.ObjectValue() {
				if p := walk(e, path+"."+string(k)); p != "" {
					return p
				}
			}
		}
		return ""
	}
	return walk(resource.NewObjectProperty(m), "")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(b))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
