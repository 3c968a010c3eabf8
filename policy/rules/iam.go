package rules

import (
	"fmt"
	"strings"
)

// IAM rules over policy documents in aws.iam.Policy, RolePolicy, UserPolicy,
// GroupPolicy and aws.iam.Role inlinePolicies.

// StarOnlyActions is the explicit allowlist of actions AWS authorizes only on
// Resource "*" (the Service Authorization Reference lists no resource type
// for them), so "*" is the least privilege possible. Keep it small: anything
// added here must be impossible to scope to an ARN.
var StarOnlyActions = []string{
	"ecr:GetAuthorizationToken",          // registry login token (image pulls/pushes)
	"xray:PutTraceSegments",              // X-Ray daemon / SDK
	"xray:PutTelemetryRecords",           // X-Ray daemon / SDK
	"xray:GetSamplingRules",              // X-Ray SDK sampling
	"xray:GetSamplingTargets",            // X-Ray SDK sampling
	"xray:GetSamplingStatisticSummaries", // X-Ray SDK sampling
	"cloudwatch:PutMetricData",           // scoped with a cloudwatch:namespace condition instead
	"logs:DescribeLogGroups",             // listing; not scopable to one group in practice
	"ssmmessages:CreateControlChannel",   // ECS Exec
	"ssmmessages:CreateDataChannel",      // ECS Exec
	"ssmmessages:OpenControlChannel",     // ECS Exec
	"ssmmessages:OpenDataChannel",        // ECS Exec
	"ec2:DescribeNetworkInterfaces",      // VPC-attached Lambda / tasks
}

var policyTypes = []string{TypeIAMPolicy, TypeIAMRolePolicy, TypeIAMUserPolicy, TypeIAMGroupPolicy, TypeIAMRole}

func init() {
	register(
		Rule{
			Name:         "iam-no-wildcard-actions",
			Description:  "IAM policies allow no \"*\" or \"service:*\" actions (and no Allow with NotAction).",
			Control:      "IAM.1 (\"*\" actions) / IAM.21 (\"service:*\" actions)",
			Controls:     []string{"IAM.1", "IAM.21", "CKV_AWS_62", "CKV_AWS_63"},
			Severity:     High,
			Remediation:  "replace \"*\" / \"service:*\" in Action with the actions needed",
			DefaultLevel: Mandatory,
			Types:        policyTypes,
			Check:        policyCheck(checkWildcardActions),
		},
		Rule{
			Name:         "iam-no-wildcard-resources",
			Description:  "IAM policies allow no Resource \"*\" except for the actions AWS authorizes only on \"*\".",
			Control:      "Checkov CKV_AWS_355 (no direct FSBP control)",
			Controls:     []string{"CKV_AWS_355", "KMS.1", "KMS.2"},
			Severity:     High,
			Remediation:  "set the statement's Resource to the ARNs involved instead of \"*\"",
			DefaultLevel: Mandatory,
			Types:        policyTypes,
			Check:        policyCheck(checkWildcardResources),
		},
	)
}

type policyDoc struct {
	where string // "policy" or "inlinePolicies[0].policy"
	value Value
}

func policyDocs(r Resource) []policyDoc {
	if r.Type != TypeIAMRole {
		return []policyDoc{{"policy", Get(r.Props, "policy")}}
	}
	iv := Get(r.Props, "inlinePolicies")
	if iv.Unknown {
		return []policyDoc{{"inlinePolicies", iv}}
	}
	items, _ := iv.List()
	var out []policyDoc
	for i, it := range items {
		where := fmt.Sprintf("inlinePolicies[%d].policy", i)
		if it.Unknown {
			out = append(out, policyDoc{where, it})
			continue
		}
		if m, ok := it.Map(); ok {
			out = append(out, policyDoc{where, Get(m, "policy")})
		}
	}
	return out
}

// Statement is one parsed IAM policy statement.
type Statement struct {
	Sid, Effect                  string
	Actions, NotActions          []string
	Resources, NotResources      []string
	HasNotAction, HasNotResource bool
	// Principals maps a principal type ("AWS", "Service", "Federated",
	// "CanonicalUser") to its values; Principal "*" is {"*": ["*"]}.
	Principals      map[string][]string
	HasNotPrincipal bool
	// Conditions maps an operator ("StringEquals") to its keys and values;
	// keys are lower-cased (condition keys are case-insensitive).
	Conditions map[string]map[string][]string
}

// ParsePolicy parses an IAM policy document (JSON string or object value).
func ParsePolicy(v Value) (stmts []Statement, unknown bool, err error) {
	doc, unknown, err := JSONDoc(v)
	if unknown || err != nil || doc == nil {
		return nil, unknown, err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, false, fmt.Errorf("policy document is not a JSON object")
	}
	st, _ := lookupCI(m, "Statement")
	for _, s := range objList(st) {
		var out Statement
		if x, ok := lookupCI(s, "Sid"); ok {
			out.Sid, _ = x.(string)
		}
		if x, ok := lookupCI(s, "Effect"); ok {
			out.Effect, _ = x.(string)
		}
		if x, ok := lookupCI(s, "Action"); ok {
			out.Actions = strList(x)
		}
		if x, ok := lookupCI(s, "NotAction"); ok {
			out.NotActions, out.HasNotAction = strList(x), true
		}
		if x, ok := lookupCI(s, "Resource"); ok {
			out.Resources = strList(x)
		}
		if x, ok := lookupCI(s, "NotResource"); ok {
			out.NotResources, out.HasNotResource = strList(x), true
		}
		if x, ok := lookupCI(s, "Principal"); ok {
			out.Principals = principals(x)
		}
		if _, ok := lookupCI(s, "NotPrincipal"); ok {
			out.HasNotPrincipal = true
		}
		if x, ok := lookupCI(s, "Condition"); ok {
			out.Conditions = conditions(x)
		}
		stmts = append(stmts, out)
	}
	return stmts, false, nil
}

func policyCheck(f func(where string, st Statement) []Violation) func(Resource) []Violation {
	return func(r Resource) []Violation {
		var out []Violation
		for _, d := range policyDocs(r) {
			stmts, unknown, err := ParsePolicy(d.value)
			if unknown {
				out = append(out, cannotTell(d.where))
				continue
			}
			if err != nil {
				out = append(out, Violation{Note: true, Message: fmt.Sprintf("cannot check %s: %v; the provider will reject it too", d.where, err)})
				continue
			}
			for _, st := range stmts {
				if !strings.EqualFold(strings.TrimSpace(st.Effect), "Allow") {
					continue
				}
				out = append(out, f(d.where, st)...)
			}
		}
		return out
	}
}

func stmtName(where string, st Statement) string {
	if st.Sid != "" {
		return fmt.Sprintf("%s statement %q", where, st.Sid)
	}
	return where + " statement"
}

func checkWildcardActions(where string, st Statement) []Violation {
	var out []Violation
	if st.HasNotAction {
		out = append(out, fail("%s uses Allow with NotAction, which grants every other action; list the needed actions in Action instead", stmtName(where, st)))
	}
	var bad []string
	for _, a := range st.Actions {
		a = strings.TrimSpace(a)
		if a == "*" || strings.HasSuffix(a, ":*") {
			bad = append(bad, a)
		}
	}
	if len(bad) > 0 {
		out = append(out, fail("%s allows %s; list the specific actions the workload needs (e.g. \"s3:GetObject\")", stmtName(where, st), quoteAll(bad)))
	}
	return out
}

func checkWildcardResources(where string, st Statement) []Violation {
	if st.HasNotResource {
		return []Violation{fail("%s uses Allow with NotResource, which grants every other resource; list the resource ARNs in Resource instead", stmtName(where, st))}
	}
	star := false
	for _, r := range st.Resources {
		if strings.TrimSpace(r) == "*" {
			star = true
		}
	}
	if !star {
		return nil
	}
	var scopable []string
	for _, a := range st.Actions {
		if !containsFold(StarOnlyActions, strings.TrimSpace(a)) {
			scopable = append(scopable, a)
		}
	}
	if st.HasNotAction && len(st.Actions) == 0 {
		scopable = append(scopable, "NotAction …")
	}
	if len(scopable) == 0 {
		return nil
	}
	return []Violation{fail("%s allows %s on Resource \"*\"; scope Resource to the ARNs involved (only %s may use \"*\")", stmtName(where, st), quoteAll(scopable), strings.Join(StarOnlyActions, ", "))}
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
