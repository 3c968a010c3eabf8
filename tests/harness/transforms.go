package harness

// Resource and invoke transforms under the mocks.
//
// pulumi sdk v3.263.0 through v3.276.0 never runs transforms under mocks (go/pulumi/mocks.go):
// ctx.RegisterResourceTransform registers the callback and the mock
// monitor's RegisterStackTransform hands the Go function to the mocks only if
// they implement pulumi.MockResourceMonitorWithTransforms — and silently
// drops it otherwise; per-resource transforms (pulumi.Transforms) reach
// NewResource resolved in MockResourceArgs.Transforms, documented as "the
// mock monitor does not run them". So a program's transforms were ignored and
// the mocked graph showed the untransformed inputs.
//
// The harness now does what the engine does for every registration
// (pkg/v3 resource/deploy/source_eval.go, RegisterResource): run the
// resource's own transforms, then each ancestor's, then the stack's, in that
// order, each on the previous one's result, before the provider (here: the
// mock) sees the inputs. A nil result leaves the resource unchanged; a result
// replaces the properties entirely (nil Props: no properties), as the SDK's
// transform callback does. Invoke transforms run before Call the same way.
//
// Values are converted the way the SDK's transform callback converts them:
// properties reach the transform as pulumi.Map of Bool/Float64/String/Array/
// Map, secrets as ToSecret outputs, unknowns as unknown outputs; the result is
// resolved (outputs awaited) back into a property map, secret where the
// returned value was secret. A property the transform hands back unchanged
// keeps its original value exactly (nested secrets included).
//
// Options: the transform sees Protect, IgnoreChanges, RetainOnDelete,
// DeleteBeforeReplace, ReplaceOnChanges, AdditionalSecretOutputs, Version,
// PluginDownloadURL and CustomTimeouts of the registration. Parent, DependsOn
// and providers are not reconstructed (the mocks cannot build pulumi.Resource
// values from URNs); resources a transform adds to DependsOn are recorded as
// dependencies, a changed Protect is recorded, and changing Parent is an
// error, as in the SDK.

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/archive"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

var _ pulumi.MockResourceMonitorWithTransforms = (*mocks)(nil)

// transforms holds the stack's transforms and, per registered resource, its
// own transforms and parent (children inherit their ancestors' transforms).
type transforms struct {
	mu      sync.Mutex
	stack   []pulumi.ResourceTransform
	invoke  []pulumi.InvokeTransform
	own     map[string][]pulumi.ResourceTransform
	parents map[string]string
}

// RegisterTransform records a stack transform (ctx.RegisterResourceTransform).
func (m *mocks) RegisterTransform(t pulumi.ResourceTransform) {
	m.tr.mu.Lock()
	defer m.tr.mu.Unlock()
	m.tr.stack = append(m.tr.stack, t)
}

// RegisterInvokeTransform records a stack invoke transform.
func (m *mocks) RegisterInvokeTransform(t pulumi.InvokeTransform) {
	m.tr.mu.Lock()
	defer m.tr.mu.Unlock()
	m.tr.invoke = append(m.tr.invoke, t)
}

// transformed is the outcome of a registration's transforms.
type transformed struct {
	inputs  resource.PropertyMap
	protect *bool    // set when a transform changed it
	deps    []string // URNs a transform added to DependsOn
}

// chain returns the transforms for a registration (own, ancestors', stack's)
// and remembers the resource's own transforms and parent for its children.
func (m *mocks) chain(urn, parent string, own []pulumi.ResourceTransform) []pulumi.ResourceTransform {
	m.tr.mu.Lock()
	defer m.tr.mu.Unlock()
	if m.tr.own == nil {
		m.tr.own, m.tr.parents = map[string][]pulumi.ResourceTransform{}, map[string]string{}
	}
	m.tr.own[urn], m.tr.parents[urn] = own, parent
	ts := append([]pulumi.ResourceTransform(nil), own...)
	for p, seen := parent, 0; p != "" && seen < 1000; p, seen = m.tr.parents[p], seen+1 {
		ts = append(ts, m.tr.own[p]...)
	}
	return append(ts, m.tr.stack...)
}

// runTransforms applies the registration's transforms to its inputs.
func (m *mocks) runTransforms(args pulumi.MockResourceArgs, urn string) (transformed, error) {
	rpc := args.RegisterRPC
	out := transformed{inputs: args.Inputs}
	if rpc == nil { // a read: no transforms
		return out, nil
	}
	ts := m.chain(urn, rpc.GetParent(), args.Transforms)
	if len(ts) == 0 {
		return out, nil
	}
	opts := optionsOf(rpc)
	for _, t := range ts {
		props := toInputs(out.inputs)
		res := t(context.Background(), &pulumi.ResourceTransformArgs{
			Custom: args.Custom, Type: args.TypeToken, Name: args.Name, Props: props, Opts: opts,
		})
		if res == nil {
			continue
		}
		if res.Opts.Parent != nil {
			return out, fmt.Errorf("harness: transform of %s %q: cannot change parent in transform", args.TypeToken, args.Name)
		}
		pm, err := fromInputs(res.Props, out.inputs)
		if err != nil {
			return out, fmt.Errorf("harness: transform of %s %q: %w", args.TypeToken, args.Name, err)
		}
		out.inputs = pm
		if res.Opts.Protect != opts.Protect {
			p := res.Opts.Protect
			out.protect = &p
		}
		for _, d := range res.Opts.DependsOn {
			u, err := internals.UnsafeAwaitOutput(context.Background(), d.URN())
			if err != nil {
				return out, fmt.Errorf("harness: transform of %s %q: dependsOn: %w", args.TypeToken, args.Name, err)
			}
			if s, ok := u.Value.(pulumi.URN); ok {
				out.deps = append(out.deps, string(s))
			}
		}
		res.Opts.DependsOn = nil
		opts = res.Opts
	}
	return out, nil
}

// runInvokeTransforms applies the stack's invoke transforms to an invoke's args.
func (m *mocks) runInvokeTransforms(token string, in resource.PropertyMap) (resource.PropertyMap, error) {
	m.tr.mu.Lock()
	ts := append([]pulumi.InvokeTransform(nil), m.tr.invoke...)
	m.tr.mu.Unlock()
	for _, t := range ts {
		args := toInputs(in)
		res := t(context.Background(), &pulumi.InvokeTransformArgs{Token: token, Args: args})
		if res == nil {
			continue
		}
		pm, err := fromInputs(res.Args, in)
		if err != nil {
			return nil, fmt.Errorf("harness: invoke transform of %s: %w", token, err)
		}
		in = pm
	}
	return in, nil
}

// optionsOf rebuilds the resource options a transform can see from the
// registration request.
func optionsOf(rpc *pulumirpc.RegisterResourceRequest) pulumi.ResourceOptions {
	o := pulumi.ResourceOptions{
		Protect:                 rpc.GetProtect(),
		IgnoreChanges:           rpc.GetIgnoreChanges(),
		RetainOnDelete:          rpc.GetRetainOnDelete(),
		DeleteBeforeReplace:     rpc.GetDeleteBeforeReplace(),
		ReplaceOnChanges:        rpc.GetReplaceOnChanges(),
		AdditionalSecretOutputs: rpc.GetAdditionalSecretOutputs(),
		Version:                 rpc.GetVersion(),
		PluginDownloadURL:       rpc.GetPluginDownloadURL(),
	}
	if ct := rpc.GetCustomTimeouts(); ct != nil {
		o.CustomTimeouts = &pulumi.CustomTimeouts{Create: ct.GetCreate(), Update: ct.GetUpdate(), Delete: ct.GetDelete()}
	}
	return o
}

// toInputs converts a property map into what a transform receives.
func toInputs(pm resource.PropertyMap) pulumi.Map {
	out := pulumi.Map{}
	for k, v := range pm {
		out[string(k)] = toInput(v)
	}
	return out
}

func toInput(v resource.PropertyValue) pulumi.Input {
	switch {
	case v.IsNull():
		return nil
	case v.IsBool():
		return pulumi.Bool(v.BoolValue())
	case v.IsNumber():
		return pulumi.Float64(v.NumberValue())
	case v.IsString():
		return pulumi.String(v.StringValue())
	case v.IsArray():
		arr := make(pulumi.Array, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			arr[i] = toInput(e)
		}
		return arr
	case v.IsObject():
		return toInputs(v.ObjectValue())
	case v.IsAsset():
		a := v.AssetValue()
		switch {
		case a.IsPath():
			return pulumi.NewFileAsset(a.Path)
		case a.IsURI():
			return pulumi.NewRemoteAsset(a.URI)
		}
		return pulumi.NewStringAsset(a.Text)
	case v.IsArchive():
		a := v.ArchiveValue()
		if a.IsURI() {
			return pulumi.NewRemoteArchive(a.URI)
		}
		return pulumi.NewFileArchive(a.Path)
	case v.IsSecret():
		return pulumi.ToSecret(toInput(v.SecretValue().Element))
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return pulumi.UnsafeUnknownOutput(nil)
		}
		in := toInput(o.Element)
		if o.Secret {
			return pulumi.ToSecret(in)
		}
		return in
	case v.IsResourceReference():
		ref := v.ResourceReferenceValue()
		if id, ok := ref.IDString(); ok && id != "" {
			return pulumi.String(id)
		}
		return pulumi.String(string(ref.URN))
	}
	return pulumi.UnsafeUnknownOutput(nil) // computed
}

// fromInputs resolves a transform's result back into a property map. A
// property that resolves to its original content and secrecy keeps its
// original value exactly (where nested secrets sat included), so only what a
// transform changed changes.
func fromInputs(props pulumi.Map, orig resource.PropertyMap) (resource.PropertyMap, error) {
	out := resource.PropertyMap{}
	for k, in := range props {
		v, err := resolve(in)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", k, err)
		}
		key := resource.PropertyKey(k)
		if o, ok := orig[key]; ok && sameValue(v, o) {
			v = o
		}
		if !v.IsNull() {
			out[key] = v
		}
	}
	return out, nil
}

// sameValue reports whether two values have the same content and are
// both secret or both not.
func sameValue(a, b resource.PropertyValue) bool {
	return a.ContainsSecrets() == b.ContainsSecrets() && reflect.DeepEqual(stripped(a), stripped(b))
}

// stripped is a value's plain content: secrets and known outputs unwrapped,
// unknowns as one marker.
func stripped(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return stripped(v.SecretValue().Element)
	case v.IsOutput():
		if !v.OutputValue().Known {
			return "<unknown>"
		}
		return stripped(v.OutputValue().Element)
	case v.IsComputed():
		return "<unknown>"
	case v.IsArray():
		out := make([]any, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			out[i] = stripped(e)
		}
		return out
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			if !e.IsNull() {
				out[string(k)] = stripped(e)
			}
		}
		return out
	}
	return v.V
}

// resolve awaits every output in v and converts the plain result.
func resolve(v any) (resource.PropertyValue, error) {
	if v == nil {
		return resource.NewNullProperty(), nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return resource.NewNullProperty(), nil
	}
	r, err := internals.UnsafeAwaitOutput(context.Background(), pulumi.ToOutput(v))
	if err != nil {
		return resource.PropertyValue{}, err
	}
	if !r.Known {
		return resource.MakeComputed(resource.NewStringProperty("")), nil
	}
	pv, err := plainValue(reflect.ValueOf(r.Value))
	if err != nil {
		return pv, err
	}
	if r.Secret {
		pv = resource.MakeSecret(pv)
	}
	return pv, nil
}

// plainValue converts resolved Go data (scalars, slices, maps, the SDK's
// plain structs with `pulumi:"name"` tags, assets, archives, resources).
func plainValue(v reflect.Value) (resource.PropertyValue, error) {
	if !v.IsValid() {
		return resource.NewNullProperty(), nil
	}
	if v.CanInterface() {
		switch x := v.Interface().(type) {
		case pulumi.Asset:
			return resource.NewAssetProperty(&asset.Asset{Sig: asset.AssetSig, Path: x.Path(), Text: x.Text(), URI: x.URI()}), nil
		case pulumi.Archive:
			if len(x.Assets()) > 0 {
				return resource.PropertyValue{}, fmt.Errorf("an asset archive built in a transform is not supported by the harness")
			}
			return resource.NewArchiveProperty(&archive.Archive{Sig: archive.ArchiveSig, Path: x.Path(), URI: x.URI()}), nil
		case pulumi.CustomResource:
			id, err := internals.UnsafeAwaitOutput(context.Background(), x.ID())
			if err != nil {
				return resource.PropertyValue{}, err
			}
			return resource.NewStringProperty(fmt.Sprint(id.Value)), nil
		case pulumi.Resource:
			u, err := internals.UnsafeAwaitOutput(context.Background(), x.URN())
			if err != nil {
				return resource.PropertyValue{}, err
			}
			return resource.NewStringProperty(fmt.Sprint(u.Value)), nil
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return resource.NewNullProperty(), nil
		}
		return plainValue(v.Elem())
	case reflect.Bool:
		return resource.NewBoolProperty(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return resource.NewNumberProperty(float64(v.Int())), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return resource.NewNumberProperty(float64(v.Uint())), nil
	case reflect.Float32, reflect.Float64:
		return resource.NewNumberProperty(v.Float()), nil
	case reflect.String:
		return resource.NewStringProperty(v.String()), nil
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return resource.NewNullProperty(), nil
		}
		arr := make([]resource.PropertyValue, v.Len())
		for i := range arr {
			e, err := plainValue(v.Index(i))
			if err != nil {
				return e, err
			}
			arr[i] = e
		}
		return resource.NewArrayProperty(arr), nil
	case reflect.Map:
		if v.IsNil() {
			return resource.NewNullProperty(), nil
		}
		pm := resource.PropertyMap{}
		for it := v.MapRange(); it.Next(); {
			e, err := plainValue(it.Value())
			if err != nil {
				return e, err
			}
			if !e.IsNull() {
				pm[resource.PropertyKey(fmt.Sprint(it.Key().Interface()))] = e
			}
		}
		return resource.NewObjectProperty(pm), nil
	case reflect.Struct:
		pm := resource.PropertyMap{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("pulumi"), ",")
			if name == "" || !t.Field(i).IsExported() {
				continue
			}
			e, err := plainValue(v.Field(i))
			if err != nil {
				return e, err
			}
			if !e.IsNull() {
				pm[resource.PropertyKey(name)] = e
			}
		}
		return resource.NewObjectProperty(pm), nil
	}
	return resource.PropertyValue{}, fmt.Errorf("cannot convert a %s returned by a transform", v.Type())
}
