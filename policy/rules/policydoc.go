package rules

import (
	"fmt"
	"strings"
)

// Resource-based and trust policy documents: who a statement lets in.

func principals(x any) map[string][]string {
	out := map[string][]string{}
	switch t := x.(type) {
	case string:
		out[strings.TrimSpace(t)] = []string{strings.TrimSpace(t)}
	case map[string]any:
		for k, v := range t {
			for _, s := range strList(v) {
				out[k] = append(out[k], strings.TrimSpace(s))
			}
		}
	}
	return out
}

func conditions(x any) map[string]map[string][]string {
	out := map[string]map[string][]string{}
	m, _ := x.(map[string]any)
	for op, kv := range m {
		keys, _ := kv.(map[string]any)
		out[op] = map[string][]string{}
		for k, v := range keys {
			vals := strList(v)
			vals = append(vals, boolStrings(v)...)
			out[op][strings.ToLower(k)] = vals
		}
	}
	return out
}

// IsAllow reports whether the statement's effect is Allow.
func (st Statement) IsAllow() bool { return strings.EqualFold(strings.TrimSpace(st.Effect), "Allow") }

// AnyPrincipal reports whether the statement names every principal:
// Principal "*", {"AWS": "*"} (or "*" among the AWS values), or NotPrincipal
// (in an Allow, everyone but the listed principals).
func (st Statement) AnyPrincipal() bool {
	if st.HasNotPrincipal {
		return true
	}
	for typ, vals := range st.Principals {
		if typ == "*" {
			return true
		}
		if strings.EqualFold(typ, "AWS") || strings.EqualFold(typ, "CanonicalUser") {
			for _, v := range vals {
				if v == "*" {
					return true
				}
			}
		}
	}
	return false
}

// restrictingKeys are condition keys that limit a statement to known
// callers or origins (an account, an organization, a resource, a network).
var restrictingKeys = []string{
	"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:sourceorgid", "aws:sourceorgpaths",
	"aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
	"aws:sourcevpc", "aws:sourcevpce", "aws:sourceip", "aws:vpcsourceip", "aws:userid", "aws:username",
	"kms:calleraccount", "kms:viaservice", "aws:principalservicename", "lambda:functionurlauthtype",
	"aws:calledvia", "sts:externalid",
}

// Restricted reports whether a condition limits who can use the statement.
// Keys under an …IfExists or Null operator restrict nothing (a request
// without the key passes).
func (st Statement) Restricted() bool {
	for op, keys := range st.Conditions {
		lop := strings.ToLower(op)
		if strings.HasSuffix(lop, "ifexists") || lop == "null" {
			continue
		}
		for k := range keys {
			if containsFold(restrictingKeys, k) {
				return true
			}
		}
	}
	return false
}

// HasCondition reports whether some operator sets a condition on key
// (case-insensitive, or on any key with the given suffix when key starts
// with "*").
func (st Statement) HasCondition(key string) bool {
	key = strings.ToLower(key)
	for _, keys := range st.Conditions {
		for k := range keys {
			if k == key || (strings.HasPrefix(key, "*") && strings.HasSuffix(k, key[1:])) {
				return true
			}
		}
	}
	return false
}

// publicAccess returns a description of each statement of a resource policy
// that allows anyone (any principal, no restricting condition).
func publicAccess(v Value) (found []string, unknown bool, err error) {
	stmts, unknown, err := ParsePolicy(v)
	if unknown || err != nil {
		return nil, unknown, err
	}
	for i, st := range stmts {
		if !st.IsAllow() || !st.AnyPrincipal() || st.Restricted() {
			continue
		}
		name := fmt.Sprintf("statement %d", i)
		if st.Sid != "" {
			name = fmt.Sprintf("statement %q", st.Sid)
		}
		acts := st.Actions
		if st.HasNotAction {
			acts = []string{"NotAction …"}
		}
		found = append(found, fmt.Sprintf("%s allows %s to %s", name, principalText(st), strings.Join(acts, ", ")))
	}
	return found, false, nil
}

func principalText(st Statement) string {
	if st.HasNotPrincipal {
		return "every principal but the NotPrincipal list"
	}
	return "any principal (\"*\")"
}

// publicPolicyCheck builds a rule check that reads the resource policy
// documents at props (the first present one per resource) and fails on a
// statement open to anyone.
func publicPolicyCheck(fix string, props ...string) func(Resource) []Violation {
	return func(r Resource) []Violation {
		var out []Violation
		for _, p := range props {
			v := Get(r.Props, p)
			if v.Missing {
				continue
			}
			found, unknown, err := publicAccess(v)
			switch {
			case unknown:
				out = append(out, cannotTell(p))
			case err != nil:
				out = append(out, Violation{Note: true, Message: fmt.Sprintf("cannot check %s: %v; the provider will reject it too", p, err)})
			}
			for _, f := range found {
				out = append(out, fail("%s: %s without a condition that limits the caller (aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID, aws:SourceVpce, …); %s", p, f, fix))
			}
		}
		return out
	}
}
