package rules

import (
	"fmt"
	"strings"
)

// Network rules: security groups, VPC flow logs, load balancers.

const (
	anyIPv4 = "0.0.0.0/0"
	anyIPv6 = "::/0"
)

func isOpenCIDR(s string) bool {
	s = strings.TrimSpace(s)
	return s == anyIPv4 || s == anyIPv6 || s == "::0/0" || s == "0:0:0:0:0:0:0:0/0"
}

// openCIDRs inspects a list-of-CIDR property; it returns the open CIDRs found
// and whether some element was unknown.
func openCIDRs(v Value) (open []string, unknown bool) {
	if v.Unknown {
		return nil, true
	}
	if s, ok := v.Str(); ok { // a single CIDR (cidrIpv4 / cidrIpv6)
		if isOpenCIDR(s) {
			return []string{s}, false
		}
		return nil, false
	}
	items, _ := v.List()
	for _, it := range items {
		if it.Unknown {
			unknown = true
			continue
		}
		if s, ok := it.Str(); ok && isOpenCIDR(s) {
			open = append(open, s)
		}
	}
	return open, unknown
}

func init() {
	register(
		Rule{
			Name:         "sg-no-open-ingress",
			Description:  "No security group ingress from 0.0.0.0/0 or ::/0.",
			Control:      "EC2.18 / EC2.19 (stricter: no unrestricted ingress on any port)",
			Controls:     []string{"EC2.13", "EC2.14", "EC2.18", "EC2.19", "EC2.53", "EC2.54", "CIS 5.2", "CIS 5.3"},
			Severity:     High,
			Remediation:  "set the rule's peer to a security group (sourceSecurityGroupId / referencedSecurityGroupId) or a private CIDR instead of cidrBlocks/cidrIpv4 0.0.0.0/0 or ::/0",
			DefaultLevel: Mandatory,
			Types:        []string{TypeSecurityGroup, TypeSecurityGroupRule, TypeSGIngressRule},
			Check:        checkOpenIngress,
		},
		Rule{
			Name:         "vpc-flow-logs",
			Description:  "Every VPC (aws.ec2.Vpc and awsx ec2.Vpc) has a flow log.",
			Control:      "EC2.6",
			Controls:     []string{"EC2.6", "CIS 3.7"},
			Severity:     Medium,
			Remediation:  "add an aws.ec2.FlowLog with vpcId set to the VPC and trafficType ALL (or REJECT)",
			DefaultLevel: Mandatory,
			StackCheck:   checkFlowLogs,
		},
		Rule{
			Name:         "lb-internal",
			Description:  "Load balancers are internal (the API is exposed through API Gateway + VPC Link only).",
			Control:      "no direct FSBP control",
			Controls:     []string{"BOOKS.LB-INTERNAL"},
			Severity:     High,
			Remediation:  "set internal: true",
			DefaultLevel: Mandatory,
			Types:        []string{TypeLB, TypeALB},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, false, "set internal: true and place the load balancer in private subnets; expose it through API Gateway's VPC Link", "internal")
			},
		},
		Rule{
			Name:         "alb-drop-invalid-headers",
			Description:  "Application load balancers drop invalid HTTP header fields.",
			Control:      "ELB.4",
			Controls:     []string{"ELB.4"},
			Severity:     Medium,
			Remediation:  "set dropInvalidHeaderFields: true",
			DefaultLevel: Mandatory,
			Types:        []string{TypeLB, TypeALB},
			Check: func(r Resource) []Violation {
				t := Get(r.Props, "loadBalancerType")
				if t.Unknown {
					return []Violation{cannotTell("loadBalancerType")}
				}
				if s, ok := t.Str(); ok && !strings.EqualFold(s, "application") {
					return nil // network / gateway load balancers have no such setting
				}
				return wantBool(r, true, false, "set dropInvalidHeaderFields: true on application load balancers", "dropInvalidHeaderFields")
			},
		},
		Rule{
			Name:         "lb-deletion-protection",
			Description:  "Prod load balancers have deletion protection.",
			Control:      "ELB.6",
			Controls:     []string{"ELB.6"},
			Severity:     Medium,
			Remediation:  "set enableDeletionProtection: true",
			DefaultLevel: Mandatory,
			ProdOnly:     true,
			Types:        []string{TypeLB, TypeALB},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, false, "set enableDeletionProtection: true on prod load balancers", "enableDeletionProtection")
			},
		},
	)
}

func checkOpenIngress(r Resource) []Violation {
	var out []Violation
	report := func(where string, open []string, unknown bool) {
		if len(open) > 0 {
			out = append(out, fail("%s allows ingress from %s; allow only the security group of the tier in front (sourceSecurityGroupId / referencedSecurityGroupId) or the VPC CIDR", where, strings.Join(open, ", ")))
		} else if unknown {
			out = append(out, cannotTell(where+" CIDRs"))
		}
	}
	switch r.Type {
	case TypeSecurityGroup:
		iv := Get(r.Props, "ingress")
		if iv.Unknown {
			return []Violation{cannotTell("ingress")}
		}
		items, _ := iv.List()
		for i, it := range items {
			if it.Unknown {
				out = append(out, cannotTell(fmt.Sprintf("ingress[%d]", i)))
				continue
			}
			m, ok := it.Map()
			if !ok {
				continue
			}
			o4, u4 := openCIDRs(Get(m, "cidrBlocks"))
			o6, u6 := openCIDRs(Get(m, "ipv6CidrBlocks"))
			report(fmt.Sprintf("ingress[%d]", i), append(o4, o6...), u4 || u6)
		}
	case TypeSecurityGroupRule:
		tv := Get(r.Props, "type")
		o4, u4 := openCIDRs(Get(r.Props, "cidrBlocks"))
		o6, u6 := openCIDRs(Get(r.Props, "ipv6CidrBlocks"))
		open := append(o4, o6...)
		if tv.Unknown {
			if len(open) > 0 || u4 || u6 {
				return []Violation{cannotTell("type")}
			}
			return nil
		}
		if s, _ := tv.Str(); !strings.EqualFold(s, "ingress") {
			return nil
		}
		report("ingress rule", open, u4 || u6)
	case TypeSGIngressRule:
		o4, u4 := openCIDRs(Get(r.Props, "cidrIpv4"))
		o6, u6 := openCIDRs(Get(r.Props, "cidrIpv6"))
		report("ingress rule", append(o4, o6...), u4 || u6)
	}
	return out
}

func checkFlowLogs(stack []Resource) []Violation {
	vpcs := ofTypes(stack, TypeVPC, TypeAwsxVPC)
	logs := ofTypes(stack, TypeFlowLog)
	matches := matchRefs(vpcs, logs, "vpcId", "vpcId")
	byURN := map[string]int{}
	for i, v := range vpcs {
		byURN[v.URN] = i
	}
	// A log capturing only ACCEPTed traffic misses the rejected connections
	// EC2.6 asks for (its default parameter: REJECT).
	captures := func(fl Resource) bool {
		s, ok := Get(fl.Props, "trafficType").Str()
		return !ok || !strings.EqualFold(s, "ACCEPT")
	}
	covered := func(i int) bool {
		for _, fl := range matches[i].sure {
			if captures(fl) {
				return true
			}
		}
		return false
	}
	var out []Violation
	for i, v := range vpcs {
		if covered(i) {
			continue
		}
		// An aws.ec2.Vpc created inside an awsx ec2.Vpc component is covered
		// by a flow log attached to the component's vpcId output.
		if j, ok := byURN[v.Parent]; ok && v.Parent != "" && covered(j) {
			continue
		}
		// Conversely, an awsx component is covered by a flow log on its child VPC.
		childCovered := false
		for j, c := range vpcs {
			if c.Parent == v.URN && covered(j) {
				childCovered = true
			}
		}
		if childCovered {
			continue
		}
		if len(matches[i].maybe) > 0 {
			out = append(out, cannotTellAt(v.URN, "which aws.ec2.FlowLog belongs to this VPC (vpcId)"))
			continue
		}
		if len(matches[i].sure) > 0 {
			out = append(out, failAt(matches[i].sure[0].URN, "flow log has trafficType ACCEPT, so rejected connections are not recorded; set trafficType: \"ALL\""))
			continue
		}
		out = append(out, failAt(v.URN, "VPC has no flow log; add an aws.ec2.FlowLog with vpcId set to this VPC's id, trafficType ALL, delivering to a CloudWatch log group with retention"))
	}
	return out
}
