package rules

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Value is a property value after secrets and output wrappers were removed.
//
// It is tri-state: Missing (absent or null: the provider default applies),
// Unknown (computed during preview: cannot tell yet) or known (V is set).
// A known value may still have an unexpected type; the typed accessors then
// report ok=false and the rules treat it as "not the compliant value".
type Value struct {
	V       resource.PropertyValue
	Missing bool
	Unknown bool
	Secret  bool
}

// Known reports whether the value is present and not computed.
func (v Value) Known() bool { return !v.Missing && !v.Unknown }

// Resolve unwraps secrets and output values. Computed values and unknown
// outputs become Unknown; null becomes Missing. Resource references resolve
// to their ID when known (a reference is how a resource is passed as an
// input in some SDKs).
func Resolve(pv resource.PropertyValue) Value {
	secret := false
	for i := 0; i < 32; i++ {
		switch {
		case pv.V == nil:
			return Value{Missing: true, Secret: secret}
		case pv.IsComputed():
			return Value{Unknown: true, Secret: secret}
		case pv.IsSecret():
			s := pv.SecretValue()
			if s == nil {
				return Value{Missing: true, Secret: true}
			}
			secret = true
			pv = s.Element
		case pv.IsOutput():
			o := pv.OutputValue()
			if o.Secret {
				secret = true
			}
			if !o.Known {
				return Value{Unknown: true, Secret: secret}
			}
			pv = o.Element
		default:
			return Value{V: pv, Secret: secret}
		}
	}
	return Value{Unknown: true, Secret: secret}
}

// Get reads a nested property. Path elements are string keys (objects) or
// int indices (arrays). Any unknown on the way makes the result Unknown; any
// missing or wrongly typed step makes it Missing.
func Get(pm resource.PropertyMap, path ...any) Value {
	cur := Value{V: resource.NewObjectProperty(pm)}
	if pm == nil {
		cur = Value{Missing: true}
	}
	for _, p := range path {
		if !cur.Known() {
			return cur
		}
		secret := cur.Secret
		switch k := p.(type) {
		case string:
			if !cur.V.IsObject() {
				return Value{Missing: true, Secret: secret}
			}
			next, ok := cur.V.ObjectValue()[resource.PropertyKey(k)]
			if !ok {
				return Value{Missing: true, Secret: secret}
			}
			cur = Resolve(next)
		case int:
			if !cur.V.IsArray() {
				return Value{Missing: true, Secret: secret}
			}
			arr := cur.V.ArrayValue()
			if k < 0 || k >= len(arr) {
				return Value{Missing: true, Secret: secret}
			}
			cur = Resolve(arr[k])
		default:
			return Value{Missing: true, Secret: secret}
		}
		cur.Secret = cur.Secret || secret
	}
	return cur
}

// Bool returns the value as a bool. The strings "true"/"false" are accepted
// too (some code paths stringify scalars).
func (v Value) Bool() (bool, bool) {
	if !v.Known() {
		return false, false
	}
	switch {
	case v.V.IsBool():
		return v.V.BoolValue(), true
	case v.V.IsString():
		switch strings.ToLower(strings.TrimSpace(v.V.StringValue())) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// Str returns the value as a string.
func (v Value) Str() (string, bool) {
	if !v.Known() || !v.V.IsString() {
		return "", false
	}
	return v.V.StringValue(), true
}

// Num returns the value as a number (numeric strings are accepted).
func (v Value) Num() (float64, bool) {
	if !v.Known() {
		return 0, false
	}
	switch {
	case v.V.IsNumber():
		return v.V.NumberValue(), true
	case v.V.IsString():
		var f float64
		if _, err := fmt.Sscanf(strings.TrimSpace(v.V.StringValue()), "%g", &f); err == nil {
			return f, true
		}
	}
	return 0, false
}

// List returns the resolved elements of an array value.
func (v Value) List() ([]Value, bool) {
	if !v.Known() || !v.V.IsArray() {
		return nil, false
	}
	arr := v.V.ArrayValue()
	out := make([]Value, len(arr))
	for i, e := range arr {
		out[i] = Resolve(e)
		out[i].Secret = out[i].Secret || v.Secret
	}
	return out, true
}

// Map returns the value as a property map.
func (v Value) Map() (resource.PropertyMap, bool) {
	if !v.Known() || !v.V.IsObject() {
		return nil, false
	}
	return v.V.ObjectValue(), true
}

// NonEmpty reports whether the value is a known, non-blank string (or another
// known non-null scalar, e.g. a resource reference resolved to an object).
func (v Value) NonEmpty() bool {
	if !v.Known() {
		return false
	}
	if s, ok := v.Str(); ok {
		return strings.TrimSpace(s) != ""
	}
	return true
}

// ContainsUnknown reports whether the value or anything nested in it is
// computed/unknown.
func ContainsUnknown(pv resource.PropertyValue) bool {
	return containsUnknown(pv, 0)
}

func containsUnknown(pv resource.PropertyValue, depth int) bool {
	if depth > 64 {
		return false
	}
	r := Resolve(pv)
	if r.Unknown {
		return true
	}
	if r.Missing {
		return false
	}
	switch {
	case r.V.IsArray():
		for _, e := range r.V.ArrayValue() {
			if containsUnknown(e, depth+1) {
				return true
			}
		}
	case r.V.IsObject():
		for _, e := range r.V.ObjectValue() {
			if containsUnknown(e, depth+1) {
				return true
			}
		}
	}
	return false
}

// Plain converts a known value into plain Go data (map[string]any, []any,
// string, float64, bool, nil). ok is false if anything inside is unknown.
func Plain(pv resource.PropertyValue) (any, bool) {
	return plain(pv, 0)
}

func plain(pv resource.PropertyValue, depth int) (any, bool) {
	if depth > 64 {
		return nil, false
	}
	r := Resolve(pv)
	if r.Unknown {
		return nil, false
	}
	if r.Missing {
		return nil, true
	}
	v := r.V
	switch {
	case v.IsBool():
		return v.BoolValue(), true
	case v.IsNumber():
		return v.NumberValue(), true
	case v.IsString():
		return v.StringValue(), true
	case v.IsArray():
		out := make([]any, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			pe, ok := plain(e, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, pe)
		}
		return out, true
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			pe, ok := plain(e, depth+1)
			if !ok {
				return nil, false
			}
			out[string(k)] = pe
		}
		return out, true
	case v.IsResourceReference():
		ref := v.ResourceReferenceValue()
		if id, ok := ref.IDString(); ok && id != "" {
			return id, true
		}
		return string(ref.URN), true
	}
	return nil, true
}

// JSONDoc reads a property that holds a JSON document, either as a JSON
// string (the usual case: containerDefinitions, IAM policies) or as an
// object/array value. It returns the decoded document, or unknown=true when
// the value is computed, or err when it is not valid JSON.
func JSONDoc(v Value) (doc any, unknown bool, err error) {
	if v.Unknown {
		return nil, true, nil
	}
	if v.Missing {
		return nil, false, nil
	}
	if s, ok := v.Str(); ok {
		if strings.TrimSpace(s) == "" {
			return nil, false, nil
		}
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			return nil, false, fmt.Errorf("not valid JSON: %v", err)
		}
		return doc, false, nil
	}
	p, ok := Plain(v.V)
	if !ok {
		return nil, true, nil
	}
	return p, false, nil
}

// strList normalises a JSON "string or list of strings" field.
func strList(x any) []string {
	switch t := x.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return t
	}
	return nil
}

// objList normalises a JSON "object or list of objects" field.
func objList(x any) []map[string]any {
	switch t := x.(type) {
	case map[string]any:
		return []map[string]any{t}
	case []any:
		var out []map[string]any
		for _, e := range t {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// lookupCI looks a key up in a JSON object case-insensitively (IAM policy
// keys are case-sensitive on AWS, but a lenient reader never misses a
// statement because of "effect" vs "Effect").
func lookupCI(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}
