package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/books-platform/books/policy/rules"
)

const (
	// PackName is the policy pack name shown by `pulumi preview`.
	PackName = "books-policy"
	// NotesPolicy is the advisory stack policy that reports "cannot tell yet"
	// notes (unknown values during preview) and recovered rule panics for all
	// rules: policyx reports every violation of a policy at that policy's
	// single enforcement level, so notes cannot be advisory findings of a
	// mandatory rule.
	NotesPolicy = "cannot-tell-yet"
	// ProdPatternEnv overrides the prod stack pattern for every rule.
	ProdPatternEnv = "BOOKS_POLICY_PROD_STACK_PATTERN"
	// ProdPatternConfigKey is the same setting as stack configuration
	// (`pulumi config set books-policy:prodStackPattern '^prod'`).
	ProdPatternConfigKey = "books-policy:prodStackPattern"
	// ProdPatternProperty is the per-policy config property of prod-only
	// resource policies (policyx passes config properties to resource
	// policies only).
	ProdPatternProperty = "prodStackPattern"
)

// PackVersion is the pack version.
var PackVersion = semver.MustParse("0.1.0")

// settings are pack-wide settings resolved when the engine configures the stack.
type settings struct {
	stack       string // from ConfigureStack; "" → read from URNs
	prodPattern string // "" → rules.DefaultProdStackPattern
}

func (s settings) config(override string) rules.Config {
	p := s.prodPattern
	if override != "" {
		p = override
	}
	return rules.Config{ProdStackPattern: p}
}

func (s settings) stackOf(urn string) string {
	if st := rules.StackFromURN(urn); st != "" {
		return st
	}
	return s.stack
}

// NewPack builds the policy pack; policyx calls it from ConfigureStack with a
// context carrying the stack name and stack configuration.
func NewPack(ctx *pulumi.Context) (policyx.PolicyPack, error) {
	s := settings{prodPattern: os.Getenv(ProdPatternEnv)}
	if ctx != nil {
		s.stack = ctx.Stack()
		if v, ok := ctx.GetConfig(ProdPatternConfigKey); ok && v != "" {
			s.prodPattern = v
		}
	}
	if err := s.config("").Validate(); err != nil {
		return nil, err
	}
	return policyx.NewPolicyPack(PackName, PackVersion, policyx.EnforcementLevelMandatory, Policies(s))
}

// Policies converts every rule into a policyx policy, plus the notes policy.
func Policies(s settings) []policyx.Policy {
	var out []policyx.Policy
	for _, rule := range rules.All() {
		out = append(out, toPolicy(rule, s))
	}
	out = append(out, policyx.NewStackValidationPolicy(NotesPolicy, policyx.StackValidationPolicyArgs{
		Description:      "Reports values that cannot be checked yet (unknown until apply) and internal rule errors; never blocks.",
		EnforcementLevel: policyx.EnforcementLevelAdvisory,
		ValidateStack: func(ctx context.Context, args policyx.StackValidationArgs) error {
			rs := fromAnalyzerResources(args.Resources)
			stack := s.stack
			if len(rs) > 0 {
				stack = s.stackOf(rs[0].URN)
			}
			for _, v := range rules.Evaluate(stack, rs, s.config("")) {
				if v.Note {
					args.Manager.ReportViolation(fmt.Sprintf("[%s] %s", v.Rule, v.Message), v.URN)
				}
			}
			return nil
		},
	}))
	return out
}

func level(l rules.Level) policyx.EnforcementLevel {
	switch l {
	case rules.Advisory:
		return policyx.EnforcementLevelAdvisory
	case rules.Disabled:
		return policyx.EnforcementLevelDisabled
	}
	return policyx.EnforcementLevelMandatory
}

func description(rule rules.Rule) string {
	d := rule.Description
	if rule.ProdOnly {
		d += " [prod stacks only]"
	}
	return fmt.Sprintf("%s (%s; severity %s) Fix: %s", d, strings.Join(rule.Controls, ", "), rule.Severity, rule.Remediation)
}

// configSchema declares a resource policy's config properties: the prod
// stack pattern of prod-only rules and every parameter of environment-aware
// rules (as a value for all stacks and a prod-only override).
func configSchema(rule rules.Rule) *policyx.ConfigSchema {
	props := map[string]map[string]any{}
	if rule.ProdOnly {
		props[ProdPatternProperty] = map[string]any{"type": "string", "description": "regular expression matched against the stack name; the policy runs on matching stacks"}
	}
	for _, p := range rule.Params {
		typ := "string"
		if _, isNum := p.Default.(float64); isNum {
			typ = "number"
		}
		props[p.Name] = map[string]any{"type": typ, "description": p.Description + " (all stacks)"}
		props[p.ProdName()] = map[string]any{"type": typ, "description": p.Description + " (prod stacks)"}
	}
	if len(props) == 0 {
		return nil
	}
	return &policyx.ConfigSchema{Properties: props}
}

// paramsFrom picks a rule's parameters out of its policy config.
func paramsFrom(rule rules.Rule, config map[string]any) map[string]map[string]any {
	ps := map[string]any{}
	for _, name := range rule.ParamNames() {
		if v, ok := config[name]; ok {
			ps[name] = v
		}
	}
	if len(ps) == 0 {
		return nil
	}
	return map[string]map[string]any{rule.Name: ps}
}

func toPolicy(rule rules.Rule, s settings) policyx.Policy {
	if rule.IsStackRule() {
		return policyx.NewStackValidationPolicy(rule.Name, policyx.StackValidationPolicyArgs{
			Description:      description(rule),
			EnforcementLevel: level(rule.DefaultLevel),
			ValidateStack: func(ctx context.Context, args policyx.StackValidationArgs) error {
				rs := fromAnalyzerResources(args.Resources)
				if rule.ProdOnly {
					stack := s.stack
					if len(rs) > 0 {
						stack = s.stackOf(rs[0].URN)
					}
					if !s.config("").IsProd(stack) {
						return nil
					}
				}
				for _, v := range rule.CheckStack(rs) {
					if !v.Note {
						args.Manager.ReportViolation(v.Message, v.URN)
					}
				}
				return nil
			},
		})
	}
	return policyx.NewResourceValidationPolicy(rule.Name, policyx.ResourceValidationPolicyArgs{
		Description:      description(rule),
		EnforcementLevel: level(rule.DefaultLevel),
		ConfigSchema:     configSchema(rule),
		ValidateResource: func(ctx context.Context, args policyx.ResourceValidationArgs) error {
			if !rule.AppliesTo(args.Resource.Type) {
				return nil
			}
			r := fromAnalyzer(args.Resource)
			override, _ := args.Config[ProdPatternProperty].(string)
			cfg := s.config(override)
			cfg.Params = paramsFrom(rule, args.Config)
			if err := cfg.Validate(); err != nil {
				// A bad parameter must not abort the whole analysis: report it.
				args.Manager.ReportViolation("invalid policy config: "+err.Error(), r.URN)
				return nil
			}
			stack := s.stackOf(r.URN)
			if rule.ProdOnly && !cfg.IsProd(stack) {
				return nil
			}
			for _, v := range rule.CheckResourceIn(r, cfg.Env(rule, stack)) {
				if !v.Note {
					args.Manager.ReportViolation(v.Message, v.URN)
				}
			}
			return nil
		},
	})
}

// fromAnalyzer converts policyx's resource view into the rules' Resource.
func fromAnalyzer(a policyx.AnalyzerResource) rules.Resource {
	var deps map[string][]string
	if len(a.PropertyDependencies) > 0 {
		deps = a.PropertyDependencies
	}
	return rules.Resource{
		URN:                  a.URN,
		Type:                 a.Type,
		Name:                 a.Name,
		Props:                resource.ToResourcePropertyMap(a.Properties),
		Parent:               a.Parent,
		PropertyDependencies: deps,
	}
}

func fromAnalyzerResources(as []policyx.AnalyzerResource) []rules.Resource {
	out := make([]rules.Resource, 0, len(as))
	for _, a := range as {
		out = append(out, fromAnalyzer(a))
	}
	return out
}

// policyNames lists the pack's policy names (rules + notes policy), sorted.
func policyNames() []string {
	var names []string
	for _, r := range rules.All() {
		names = append(names, r.Name)
	}
	names = append(names, NotesPolicy)
	sort.Strings(names)
	return names
}
