package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// Environment-aware rules: a rule declares Params whose default differs
// between prod stacks (the prod pattern matches) and the others; policy
// config overrides a value for every stack ("minRetentionDays") or for prod
// stacks only ("prodMinRetentionDays").

// Param is one rule setting.
type Param struct {
	// Name is the config property ("minRetentionDays"); "prod" + Name with
	// its first letter upper-cased overrides it on prod stacks only.
	Name        string
	Description string
	// Default applies to non-prod stacks, Prod to prod stacks. Both are
	// float64 or string.
	Default, Prod any
}

// ProdName is the prod-only config property of a parameter.
func (p Param) ProdName() string {
	if p.Name == "" {
		return "prod"
	}
	return "prod" + strings.ToUpper(p.Name[:1]) + p.Name[1:]
}

// Env is what an environment-aware rule knows about the stack.
type Env struct {
	Stack  string
	Prod   bool
	values map[string]any
}

// Num returns a numeric parameter (0 when the rule declares no such parameter).
func (e Env) Num(name string) float64 {
	switch v := e.values[name].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case string:
		f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f
	}
	return 0
}

// Str returns a string parameter.
func (e Env) Str(name string) string {
	if v, ok := e.values[name]; ok {
		return fmt.Sprint(v)
	}
	return ""
}

// Env resolves a rule's environment for a stack (for callers that run one
// rule at a time, such as the policy pack).
func (c Config) Env(rule Rule, stack string) Env { return c.envFor(rule, stack) }

// envFor resolves a rule's parameters for a stack: the default for the kind
// of stack, then a config override for every stack, then a prod-only one.
func (c Config) envFor(rule Rule, stack string) Env {
	return c.envIn(rule, stack, c.IsProd(stack))
}

func (c Config) envIn(rule Rule, stack string, prod bool) Env {
	e := Env{Stack: stack, Prod: prod}
	if len(rule.Params) == 0 {
		return e
	}
	e.values = map[string]any{}
	over := c.Params[rule.Name]
	for _, p := range rule.Params {
		v := p.Default
		if e.Prod {
			v = p.Prod
		}
		if o, ok := over[p.Name]; ok {
			v = o
		}
		if o, ok := over[p.ProdName()]; ok && e.Prod {
			v = o
		}
		e.values[p.Name] = v
	}
	return e
}

// ParamNames lists every config property a rule accepts.
func (rule Rule) ParamNames() []string {
	var out []string
	for _, p := range rule.Params {
		out = append(out, p.Name, p.ProdName())
	}
	return out
}

func (rule Rule) validParam(key string, v any) error {
	for _, p := range rule.Params {
		if key != p.Name && key != p.ProdName() {
			continue
		}
		if _, isNum := p.Default.(float64); isNum {
			switch x := v.(type) {
			case float64, int:
				return nil
			case string:
				if _, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
					return nil
				}
			}
			return fmt.Errorf("parameter %q must be a number, got %v", key, v)
		}
		if _, ok := v.(string); !ok {
			return fmt.Errorf("parameter %q must be a string, got %v", key, v)
		}
		return nil
	}
	return fmt.Errorf("unknown parameter %q (allowed: %s)", key, strings.Join(rule.ParamNames(), ", "))
}
