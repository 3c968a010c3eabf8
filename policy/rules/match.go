package rules

import "strings"

// Match is the tri-state result of "does this property refer to that resource".
type Match int

const (
	NoMatch Match = iota
	MaybeMatch
	IsMatch
)

// identity returns the known values by which other resources may refer to
// target: its provider id and the given identity properties (e.g. a
// bucket's "bucket" name, a VPC component's "vpcId" output).
func identity(target Resource, props ...string) (keys []string, someUnknown bool) {
	if target.ID != "" {
		keys = append(keys, target.ID)
	}
	for _, p := range append([]string{"id"}, props...) {
		v := Get(target.Props, p)
		if v.Unknown {
			someUnknown = true
		}
		if s, ok := v.Str(); ok && s != "" {
			keys = append(keys, s)
		}
	}
	return keys, someUnknown
}

// RefersTo decides whether ref's property prop refers to target.
//
//  1. If ref records property dependencies for prop, they decide: the target
//     (or, for children of a component, the target's parent) must be listed.
//     This works in a preview even when the value itself is unknown.
//  2. Otherwise the value decides: unknown → MaybeMatch; a known string
//     matches when it equals one of the target's identity values (ID, "id"
//     and identityProps); when part of the target's identity is not known
//     yet the answer is MaybeMatch (cannot tell), never NoMatch.
func RefersTo(ref Resource, prop string, target Resource, identityProps ...string) Match {
	if deps, ok := ref.PropertyDependencies[prop]; ok && len(deps) > 0 {
		for _, d := range deps {
			if d == target.URN && d != "" {
				return IsMatch
			}
		}
		// A value that is derived from another resource's output only (e.g.
		// an awsx component's vpcId) lists that resource instead.
		if target.Parent != "" {
			for _, d := range deps {
				if d == target.Parent {
					return IsMatch
				}
			}
		}
		return NoMatch
	}
	v := Get(ref.Props, prop)
	if v.Unknown {
		return MaybeMatch
	}
	s, ok := v.Str()
	if !ok {
		if v.Known() {
			if p, ok := Plain(v.V); ok {
				if ps, ok := p.(string); ok {
					s = ps
				}
			}
		}
		if s == "" {
			return NoMatch
		}
	}
	keys, someUnknown := identity(target, identityProps...)
	if len(keys) == 0 {
		return MaybeMatch
	}
	for _, k := range keys {
		if k == s || strings.HasSuffix(s, ":"+k) || strings.HasSuffix(s, "/"+k) {
			// exact, or an ARN ending in the id/name (arn:aws:s3:::NAME, …/vpc-123)
			return IsMatch
		}
	}
	if someUnknown {
		return MaybeMatch // the target's name/id is not known yet
	}
	return NoMatch
}

// requireCompanion checks that every resource of the target types has a
// companion of companionType whose prop refers to it (by identityProps):
// a sure match passes, a possible one is "cannot tell yet", none is fix.
func requireCompanion(stack []Resource, targetTypes []string, companionType, prop string, identityProps []string, fix string) []Violation {
	targets := ofTypes(stack, targetTypes...)
	matches := matchRefs(targets, ofTypes(stack, companionType), prop, identityProps...)
	var out []Violation
	for i, t := range targets {
		switch {
		case len(matches[i].sure) > 0:
		case len(matches[i].maybe) > 0:
			out = append(out, cannotTellAt(t.URN, "which "+companionType+" belongs to this resource ("+prop+")"))
		default:
			out = append(out, failAt(t.URN, "%s", fix))
		}
	}
	return out
}
