// Package harness runs the real program (infra.Deploy) for a stack under
// Pulumi's mocks and records every resource it registers, so tests, the
// policy pack's tests and offline tools can query the graph.
package harness

import (
	"sort"
	"sync"

	"github.com/books-platform/books/infra"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one registered resource (custom or component).
type Resource struct {
	URN, Type, Name, ID string
	// Parent is the parent's URN ("" for the stack's direct children).
	Parent  string
	Custom  bool
	Protect bool
	// RetainOnDelete and IgnoreChanges are the resource options of those names.
	RetainOnDelete bool
	IgnoreChanges  []string
	// Inputs are what the program passed; Outputs add the mock's computed values.
	Inputs, Outputs resource.PropertyMap
	// Dependencies and PropertyDependencies are URNs the resource depends on.
	Dependencies         []string
	PropertyDependencies map[string][]string
}

// Graph is everything one run registered, in registration order.
type Graph struct {
	Project, Stack string
	Resources      []*Resource
	// Invokes are the data-source calls, in call order.
	Invokes []Invoke

	mu sync.Mutex
}

func (g *Graph) record(m *mocks, args pulumi.MockResourceArgs, id string, out resource.PropertyMap) *Resource {
	r := &Resource{Type: args.TypeToken, Name: args.Name, ID: id, Custom: args.Custom, Inputs: args.Inputs, Outputs: out}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Protect = rpc.GetProtect()
		r.RetainOnDelete = rpc.GetRetainOnDelete()
		r.IgnoreChanges = rpc.GetIgnoreChanges()
		r.Dependencies = rpc.GetDependencies()
		r.PropertyDependencies = map[string][]string{}
		for k, deps := range rpc.GetPropertyDependencies() {
			r.PropertyDependencies[k] = deps.GetUrns()
		}
	}
	r.URN = m.urn(args)
	g.mu.Lock()
	g.Resources = append(g.Resources, r)
	g.mu.Unlock()
	return r
}

// urn is the URN the mock monitor gives a registration.
func (m *mocks) urn(args pulumi.MockResourceArgs) string {
	parent := ""
	if rpc := args.RegisterRPC; rpc != nil {
		parent = rpc.GetParent()
	}
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(args.TypeToken), args.Name))
}

// Invoke is one data-source call the program made (after invoke transforms).
type Invoke struct {
	Token string
	Args  resource.PropertyMap
}

func (g *Graph) recordInvoke(token string, args resource.PropertyMap) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.Invokes = append(g.Invokes, Invoke{Token: token, Args: args})
}

// ByType returns the resources of a type token, sorted by name.
func (g *Graph) ByType(typ string) []*Resource {
	var out []*Resource
	for _, r := range g.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Find returns the resource of a type with a logical name, or nil.
func (g *Graph) Find(typ, name string) *Resource {
	for _, r := range g.Resources {
		if r.Type == typ && r.Name == name {
			return r
		}
	}
	return nil
}

// ByURN returns the resource with a URN, or nil.
func (g *Graph) ByURN(urn string) *Resource {
	for _, r := range g.Resources {
		if r.URN == urn {
			return r
		}
	}
	return nil
}

// CountByType counts resources per type token (components included).
func (g *Graph) CountByType() map[string]int {
	counts := map[string]int{}
	for _, r := range g.Resources {
		counts[r.Type]++
	}
	return counts
}

// Option changes a run.
type Option func(*runSettings)

type runSettings struct {
	root       string
	edit       func(*StackConfig)
	program    pulumi.RunFunc
	transforms []pulumi.ResourceTransform
}

// WithConfig edits the stack's config before the run (for tests of bad
// values): set or delete keys in c.Values, change c.SecretKeys.
func WithConfig(edit func(c *StackConfig)) Option {
	return func(s *runSettings) { s.edit = edit }
}

// WithTransforms registers resource transforms (ctx.RegisterResourceTransform)
// before the program runs, as a user's main.go would: they apply to every
// resource the program registers, and the graph records the transformed
// inputs.
func WithTransforms(ts ...pulumi.ResourceTransform) Option {
	return func(s *runSettings) { s.transforms = append(s.transforms, ts...) }
}

// Run runs infra.Deploy for stack under mocks, with config from
// Pulumi.yaml and Pulumi.<stack>.yaml, and returns the registered graph. The
// error is the program's (for example an *infra.ConfigError).
func Run(stack string, opts ...Option) (*Graph, error) {
	s := runSettings{program: infra.Deploy}
	for _, o := range opts {
		o(&s)
	}
	if s.root == "" {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		s.root = root
	}
	project, err := ProjectName(s.root)
	if err != nil {
		return nil, err
	}
	cfg, err := LoadStackConfig(s.root, stack)
	if err != nil {
		return nil, err
	}
	if s.edit != nil {
		s.edit(cfg)
	}
	region := cfg.Values["aws:region"]
	if region == "" {
		region = "eu-west-1"
	}
	g := &Graph{Project: project, Stack: stack}
	m := &mocks{project: project, stack: stack, region: region, graph: g}
	withConfig := func(info *pulumi.RunInfo) {
		info.Config = cfg.Values
		info.ConfigSecretKeys = cfg.SecretKeys
	}
	program := s.program
	if len(s.transforms) > 0 {
		program = func(ctx *pulumi.Context) error {
			for _, t := range s.transforms {
				if err := ctx.RegisterResourceTransform(t); err != nil {
					return err
				}
			}
			return s.program(ctx)
		}
	}
	if err := pulumi.RunErr(program, pulumi.WithMocks(project, stack, m), withConfig); err != nil {
		return g, err
	}
	return g, nil
}
