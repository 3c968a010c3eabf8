// Package rules holds the books platform's infrastructure policy rules as
// plain Go functions over a resource's type token and properties (plus the
// whole resource list for stack rules). The same code runs in the Pulumi
// policy pack (../main.go, served with policyx) and in `go test` over a
// mocked graph of the real program.
//
// Conventions every rule follows:
//   - a computed (unknown) value means "cannot tell yet": no violation, at most
//     an advisory note (Violation.Note);
//   - a missing property means the provider's default;
//   - rules never panic: Evaluate, Rule.CheckResource and Rule.CheckStack
//     recover and turn a panic into an advisory note naming the rule.
package rules

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Level is a rule's enforcement level.
type Level string

const (
	Mandatory Level = "mandatory"
	Advisory  Level = "advisory"
	Disabled  Level = "disabled"
)

// ParseLevel parses "mandatory", "advisory" or "disabled" (case-insensitive).
func ParseLevel(s string) (Level, error) {
	switch Level(strings.ToLower(strings.TrimSpace(s))) {
	case Mandatory:
		return Mandatory, nil
	case Advisory:
		return Advisory, nil
	case Disabled:
		return Disabled, nil
	}
	return "", fmt.Errorf("invalid enforcement level %q (want mandatory, advisory or disabled)", s)
}

// Resource is one resource of a stack as the rules see it.
type Resource struct {
	// URN is urn:pulumi:STACK::PROJECT::[PARENT$]TYPE::NAME.
	URN string
	// Type is the Pulumi type token, e.g. aws:rds/cluster:Cluster.
	Type string
	// Name is the logical name.
	Name string
	// Props are the resource's inputs (mocked runs) or the properties the
	// engine sends to analyzers (preview/update). Unknown values are
	// resource.Computed or unknown resource.Output values; secrets may be
	// wrapped.
	Props resource.PropertyMap

	// Optional data that makes cross-resource matching (stack rules) exact.
	//
	// ID is the provider id (a mock's NewResource id). References such as a
	// BucketPublicAccessBlock's bucket or a FlowLog's vpcId hold this value.
	ID string
	// Parent is the parent resource's URN, if any.
	Parent string
	// PropertyDependencies maps an input property name to the URNs of the
	// resources its value came from (as recorded by the engine or by a
	// mock's RegisterResource request). When present it decides matching
	// even if the value itself is unknown.
	PropertyDependencies map[string][]string
}

// Violation is one finding of one rule.
type Violation struct {
	Rule    string
	Level   Level
	URN     string
	Message string
	// Note marks "cannot tell yet" findings (unknown values during preview)
	// and recovered rule panics. Notes are always Advisory.
	Note bool
}

func (v Violation) String() string {
	kind := string(v.Level)
	if v.Note {
		kind = "note"
	}
	return fmt.Sprintf("[%s] %s: %s (%s)", kind, v.Rule, v.Message, v.URN)
}

// Severity is a rule's severity, in Security Hub's terms.
type Severity string

const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Rule is one policy.
type Rule struct {
	// Name is the policy name (unique, kebab-case).
	Name string
	// Description is a one-line description.
	Description string
	// Control is a free-text note on the controls the rule implements
	// (deviations, scope); Controls are their ids.
	Control string
	// Controls are the catalogue ids the rule implements ("EC2.18" for an
	// FSBP control, "CKV_AWS_382" for a Checkov check, "CIS 5.2", …); every
	// id is a row of the controls catalogue (controls.go, ../CONTROLS.md).
	Controls []string
	// Severity is how bad a violation is; DefaultLevel follows from it:
	// mandatory for what must not ship, advisory otherwise.
	Severity Severity
	// Remediation says which property to change, and how.
	Remediation string
	// Params are the rule's settings (environment-aware thresholds),
	// overridable through policy config (resource policies) or Config.Params.
	Params []Param
	// DefaultLevel is the enforcement level unless configured otherwise.
	DefaultLevel Level
	// ProdOnly rules run only on stacks whose name matches the prod pattern.
	ProdOnly bool
	// Types are the resource type tokens a resource rule applies to.
	Types []string
	// Check is a resource rule (nil for stack rules). It is only called for
	// resources whose Type is in Types.
	Check func(r Resource) []Violation
	// CheckEnv is a resource rule that reads the environment (the stack's
	// kind and the rule's Params); a rule has Check or CheckEnv, not both.
	CheckEnv func(r Resource, env Env) []Violation
	// StackCheck is a stack rule (nil for resource rules).
	StackCheck func(stack []Resource) []Violation
}

// AppliesTo reports whether a resource rule checks resources of this type.
func (rule Rule) AppliesTo(typ string) bool {
	for _, t := range rule.Types {
		if t == typ {
			return true
		}
	}
	return false
}

// IsStackRule reports whether the rule looks at the whole stack.
func (rule Rule) IsStackRule() bool { return rule.StackCheck != nil }

// CheckResource runs a resource rule on one resource, never panicking. It
// returns nil when the rule does not apply to the resource's type. Rule and
// Level are not filled in (Evaluate does that); notes have Note set.
func (rule Rule) CheckResource(r Resource) []Violation {
	if !rule.IsResourceRule() || !rule.AppliesTo(r.Type) {
		return nil
	}
	stack := StackFromURN(r.URN)
	return rule.CheckResourceIn(r, Config{}.envFor(rule, stack))
}

// CheckResourceIn runs a resource rule in an environment, never panicking.
func (rule Rule) CheckResourceIn(r Resource, env Env) (out []Violation) {
	if (rule.Check == nil && rule.CheckEnv == nil) || !rule.AppliesTo(r.Type) {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			out = []Violation{panicNote(rule.Name, r.URN, p)}
		}
	}()
	if rule.CheckEnv != nil {
		return fill(rule.CheckEnv(r, env), r.URN)
	}
	return fill(rule.Check(r), r.URN)
}

// IsResourceRule reports whether the rule checks one resource at a time.
func (rule Rule) IsResourceRule() bool { return rule.Check != nil || rule.CheckEnv != nil }

// CheckStack runs a stack rule, never panicking.
func (rule Rule) CheckStack(stack []Resource) (out []Violation) {
	if rule.StackCheck == nil {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			out = []Violation{panicNote(rule.Name, "", p)}
		}
	}()
	return rule.StackCheck(stack)
}

func fill(vs []Violation, urn string) []Violation {
	for i := range vs {
		if vs[i].URN == "" {
			vs[i].URN = urn
		}
	}
	return vs
}

func panicNote(rule, urn string, p any) Violation {
	return Violation{
		Rule:    rule,
		Level:   Advisory,
		URN:     urn,
		Note:    true,
		Message: fmt.Sprintf("internal error in policy rule %q (recovered panic: %v); the resource was not checked by this rule — please report it", rule, p),
	}
}

// Config tunes an evaluation.
type Config struct {
	// ProdStackPattern is a regular expression matched against the stack
	// name; prod-only rules run when it matches. Empty means "prod".
	ProdStackPattern string
	// Levels overrides enforcement levels by rule name.
	Levels map[string]Level
	// OmitNotes drops "cannot tell yet" notes from Evaluate's result.
	OmitNotes bool
	// Params overrides rule parameters by rule name and parameter name
	// (numbers as float64 or numeric strings, strings as strings).
	Params map[string]map[string]any
}

// DefaultProdStackPattern is the default prod stack pattern.
const DefaultProdStackPattern = "prod"

// Validate checks the pattern and that every overridden rule exists.
func (c Config) Validate() error {
	if _, err := c.prodRE(); err != nil {
		return err
	}
	for name, lvl := range c.Levels {
		if _, ok := Lookup(name); !ok {
			return fmt.Errorf("policy config names unknown rule %q", name)
		}
		if _, err := ParseLevel(string(lvl)); err != nil {
			return fmt.Errorf("rule %q: %w", name, err)
		}
	}
	for name, ps := range c.Params {
		rule, ok := Lookup(name)
		if !ok {
			return fmt.Errorf("policy config names unknown rule %q", name)
		}
		for k, v := range ps {
			if err := rule.validParam(k, v); err != nil {
				return fmt.Errorf("rule %q: %w", name, err)
			}
		}
	}
	return nil
}

func (c Config) prodRE() (*regexp.Regexp, error) {
	p := c.ProdStackPattern
	if p == "" {
		p = DefaultProdStackPattern
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("invalid prod stack pattern %q: %w", p, err)
	}
	return re, nil
}

// IsProd reports whether prod-only rules apply to the stack. An invalid
// pattern falls back to the default (and Validate reports it).
func (c Config) IsProd(stack string) bool {
	re, err := c.prodRE()
	if err != nil {
		re = regexp.MustCompile(DefaultProdStackPattern)
	}
	return re.MatchString(stack)
}

// LevelOf returns the effective enforcement level of a rule.
func (c Config) LevelOf(rule Rule) Level {
	if l, ok := c.Levels[rule.Name]; ok {
		if pl, err := ParseLevel(string(l)); err == nil {
			return pl
		}
	}
	return rule.DefaultLevel
}

// StackFromURN returns the stack name of urn:pulumi:STACK::project::...,
// or "" if the URN is malformed.
func StackFromURN(urn string) string {
	const prefix = "urn:pulumi:"
	if !strings.HasPrefix(urn, prefix) {
		return ""
	}
	rest := urn[len(prefix):]
	if i := strings.Index(rest, "::"); i >= 0 {
		return rest[:i]
	}
	return ""
}

// Evaluate runs every rule over a recorded graph: each resource rule over
// each resource of its types, and each stack rule once. Prod-only rules run
// when the stack name matches cfg's prod pattern; stackName may be empty, in
// which case it is read from the first resource's URN. Disabled rules are
// skipped. Notes (cannot tell yet, recovered panics) are Advisory with
// Note set; they are omitted when cfg.OmitNotes is set.
func Evaluate(stackName string, resources []Resource, cfg Config) []Violation {
	if stackName == "" {
		for _, r := range resources {
			if s := StackFromURN(r.URN); s != "" {
				stackName = s
				break
			}
		}
	}
	prod := cfg.IsProd(stackName)
	// Resources by type, in stack order, so each resource rule only visits
	// the resources it applies to.
	byType := map[string][]int{}
	for i, r := range resources {
		byType[r.Type] = append(byType[r.Type], i)
	}
	var out []Violation
	for _, rule := range All() {
		level := cfg.LevelOf(rule)
		if level == Disabled || (rule.ProdOnly && !prod) {
			continue
		}
		var vs []Violation
		if rule.IsResourceRule() {
			env := cfg.envIn(rule, stackName, prod)
			var idx []int
			for _, t := range rule.Types {
				idx = append(idx, byType[t]...)
			}
			sort.Ints(idx)
			for _, i := range idx {
				vs = append(vs, rule.CheckResourceIn(resources[i], env)...)
			}
		}
		if rule.StackCheck != nil {
			vs = append(vs, rule.CheckStack(resources)...)
		}
		for _, v := range vs {
			v.Rule = rule.Name
			if v.Note {
				if cfg.OmitNotes {
					continue
				}
				v.Level = Advisory
			} else {
				v.Level = level
			}
			out = append(out, v)
		}
	}
	return out
}

// MandatoryOnly returns the non-note mandatory violations of vs.
func MandatoryOnly(vs []Violation) []Violation {
	var out []Violation
	for _, v := range vs {
		if v.Level == Mandatory && !v.Note {
			out = append(out, v)
		}
	}
	return out
}

var registry []Rule

func register(rs ...Rule) {
	registry = append(registry, rs...)
}

// All returns every rule, sorted by name.
func All() []Rule {
	out := make([]Rule, len(registry))
	copy(out, registry)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup finds a rule by name.
func Lookup(name string) (Rule, bool) {
	for _, r := range registry {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

// violation and note constructors used by the rules.

func fail(format string, args ...any) Violation {
	return Violation{Message: fmt.Sprintf(format, args...)}
}

func failAt(urn string, format string, args ...any) Violation {
	return Violation{URN: urn, Message: fmt.Sprintf(format, args...)}
}

func cannotTell(what string) Violation {
	return Violation{Note: true, Message: "cannot tell yet: " + what + " is not known until the resources it depends on exist; the rule is re-checked when the value is known"}
}

func cannotTellAt(urn, what string) Violation {
	v := cannotTell(what)
	v.URN = urn
	return v
}
