package rules

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// WAFv2 rules: a web ACL has rules that block (not count), metrics, the
// Known Bad Inputs group, and logging.

const (
	TypeWAFWebACL  = "aws:wafv2/webAcl:WebAcl"
	TypeWAFLogging = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
)

func init() {
	register(
		Rule{
			Name: "waf-web-acl-rules", Description: "WAF web ACLs have at least one rule, every rule enforces (no count-only action or override), and metrics are on for the ACL and each rule.",
			Control:  "WAF.10 / WAF.12; count-only rules and count overrides of managed groups protect nothing",
			Controls: []string{"WAF.10", "WAF.12"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "add rules; set rules[].action to block (not count) and rules[].overrideAction to none; set visibilityConfig.cloudwatchMetricsEnabled: true",
			Types:       []string{TypeWAFWebACL},
			Check:       checkWebACL,
		},
		Rule{
			Name: "waf-known-bad-inputs", Description: "WAF web ACLs include the AWSManagedRulesKnownBadInputsRuleSet managed rule group (Log4j and other exploit patterns).",
			Control: "Checkov CKV_AWS_192", Controls: []string{"CKV_AWS_192"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "add a rule with statement.managedRuleGroupStatement {vendorName: \"AWS\", name: \"AWSManagedRulesKnownBadInputsRuleSet\"} and overrideAction none",
			Types:       []string{TypeWAFWebACL},
			Check: func(r Resource) []Violation {
				v := Get(r.Props, "rules")
				if v.Unknown {
					return []Violation{cannotTell("rules")}
				}
				items, _ := v.List()
				for _, it := range items {
					if it.Unknown {
						return []Violation{cannotTell("rules")}
					}
					m, _ := it.Map()
					nv := Get(m, "statement", "managedRuleGroupStatement", "name")
					if nv.Unknown {
						return []Violation{cannotTell("rules[].statement")}
					}
					if n, _ := nv.Str(); n == "AWSManagedRulesKnownBadInputsRuleSet" {
						return nil
					}
				}
				return []Violation{fail("rules do not include AWSManagedRulesKnownBadInputsRuleSet; add it as a managed rule group with overrideAction none")}
			},
		},
		Rule{
			Name: "waf-logging", Description: "WAF web ACLs have logging.",
			Control: "WAF.11", Controls: []string{"WAF.11"}, Severity: Low, DefaultLevel: Advisory,
			Remediation: "add an aws.wafv2.WebAclLoggingConfiguration with resourceArn set to the ACL's ARN",
			StackCheck: func(stack []Resource) []Violation {
				return requireCompanion(stack, []string{TypeWAFWebACL}, TypeWAFLogging, "resourceArn", []string{"arn"},
					"web ACL has no logging; add an aws.wafv2.WebAclLoggingConfiguration with resourceArn: <acl>.arn and logDestinationConfigs: [<aws-waf-logs-… log group ARN>]")
			},
		},
	)
}

func checkWebACL(r Resource) []Violation {
	var out []Violation
	out = append(out, wantBool(r, true, false, "set visibilityConfig.cloudwatchMetricsEnabled: true", "visibilityConfig", "cloudwatchMetricsEnabled")...)
	v := Get(r.Props, "rules")
	if v.Unknown {
		return append(out, cannotTell("rules"))
	}
	if n, _ := listLen(v); n == 0 && Get(r.Props, "ruleJson").Missing {
		out = append(out, fail("web ACL has no rules, so it allows everything its defaultAction allows; add managed rule groups and a rate-based rule"))
	}
	out = append(out, eachItem(r, "rules", func(i int, rule Resource) []Violation {
		name, _ := Get(rule.Props, "name").Str()
		where := fmt.Sprintf("rules[%d] (%s)", i, name)
		var vs []Violation
		if Get(rule.Props, "overrideAction", "count").Known() {
			vs = append(vs, fail("%s has overrideAction count, so the rule group only counts matches; set overrideAction: {none: {}}", where))
		}
		if Get(rule.Props, "action", "count").Known() {
			vs = append(vs, fail("%s has action count, so matching requests pass; set action: {block: {}}", where))
		}
		for j, o := range listOf(Get(rule.Props, "statement", "managedRuleGroupStatement", "ruleActionOverrides")) {
			if Get(o, "actionToUse", "count").Known() || Get(o, "actionToUse", "allow").Known() {
				n, _ := Get(o, "name").Str()
				vs = append(vs, fail("%s overrides rule %q (ruleActionOverrides[%d]) to count/allow; remove the override unless the rule is a documented false positive", where, n, j))
			}
		}
		if b, ok := Get(rule.Props, "visibilityConfig", "cloudwatchMetricsEnabled").Bool(); ok && !b {
			vs = append(vs, fail("%s has visibilityConfig.cloudwatchMetricsEnabled false; set it true", where))
		}
		return vs
	})...)
	if da := Get(r.Props, "defaultAction"); da.Known() && strings.Contains(describe(da), "count") {
		out = append(out, fail("defaultAction counts; set defaultAction to allow or block"))
	}
	return out
}

func listOf(v Value) []resource.PropertyMap {
	items, _ := v.List()
	var out []resource.PropertyMap
	for _, it := range items {
		if m, ok := it.Map(); ok {
			out = append(out, m)
		}
	}
	return out
}
