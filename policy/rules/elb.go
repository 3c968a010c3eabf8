package rules

import "strings"

// Load balancer rules beyond internal / headers / deletion protection:
// listeners and TLS, logging, desync mitigation, zones, Classic Load Balancers.

const (
	TypeLBListener  = "aws:lb/listener:Listener"
	TypeALBListener = "aws:alb/listener:Listener"
	TypeCLB         = "aws:elb/loadBalancer:LoadBalancer"
	TypeCLBPolicy   = "aws:elb/loadBalancerPolicy:LoadBalancerPolicy"
)

// weakTLSPolicies are ELB security policies that still negotiate TLS 1.0/1.1
// (ELB's "Security policies for your Application Load Balancer" lists their
// protocols); everything else named ELBSecurityPolicy-TLS13-* / -TLS-1-2-* /
// FS-1-2-* is TLS 1.2+.
var weakTLSPolicies = []string{
	"ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-2015-05", "ELBSecurityPolicy-TLS-1-0-2015-04",
	"ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-FS-2018-06", "ELBSecurityPolicy-FS-1-1-2019-08",
	"ELBSecurityPolicy-TLS13-1-0-2021-06", "ELBSecurityPolicy-TLS13-1-1-2021-06",
	"ELBSecurityPolicy-TLS13-1-0-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-1-PQ-2025-09",
}

func init() {
	register(
		Rule{
			Name:         "lb-access-logs",
			Description:  "Application and Classic Load Balancers write access logs to S3.",
			Control:      "ELB.5",
			Controls:     []string{"ELB.5"},
			Severity:     Medium,
			Remediation:  "set accessLogs: {enabled: true, bucket: <log bucket>}",
			DefaultLevel: Advisory,
			Types:        []string{TypeLB, TypeALB, TypeCLB},
			Check: func(r Resource) []Violation {
				if r.Type != TypeCLB && !isALB(r) {
					return nil
				}
				return wantBool(r, true, false, "set accessLogs: {enabled: true, bucket: <log bucket with the ELB log delivery policy>}", "accessLogs", "enabled")
			},
		},
		Rule{
			Name:         "lb-desync-mitigation",
			Description:  "Application and Classic Load Balancers use desync mitigation mode defensive or strictest.",
			Control:      "ELB.12 / ELB.14",
			Controls:     []string{"ELB.12", "ELB.14"},
			Severity:     Medium,
			Remediation:  "set desyncMitigationMode: \"defensive\" (or \"strictest\")",
			DefaultLevel: Mandatory,
			Types:        []string{TypeLB, TypeALB, TypeCLB},
			Check: func(r Resource) []Violation {
				if r.Type != TypeCLB && !isALB(r) {
					return nil
				}
				return wantString(r, "defensive", []string{"defensive", "strictest"}, "set desyncMitigationMode: \"defensive\" or \"strictest\"", "desyncMitigationMode")
			},
		},
		Rule{
			Name:         "lb-multi-az",
			Description:  "Load balancers span at least two Availability Zones (subnets).",
			Control:      "ELB.13 / ELB.10",
			Controls:     []string{"ELB.13", "ELB.10"},
			Severity:     Medium,
			Remediation:  "set subnets (or subnetMappings; Classic: availabilityZones) to subnets in at least two AZs",
			DefaultLevel: Mandatory,
			Types:        []string{TypeLB, TypeALB, TypeCLB},
			Check: func(r Resource) []Violation {
				best, unknown := 0, false
				for _, p := range []string{"subnets", "subnetMappings", "availabilityZones"} {
					n, u := listLen(Get(r.Props, p))
					unknown = unknown || u
					if n > best {
						best = n
					}
				}
				if best >= 2 || unknown {
					return nil
				}
				return []Violation{fail("load balancer is in %d subnet(s); set subnets to subnets in at least two Availability Zones", best)}
			},
		},
		Rule{
			Name:         "clb-connection-draining",
			Description:  "Classic Load Balancers have connection draining and cross-zone load balancing.",
			Control:      "ELB.7 / ELB.9",
			Controls:     []string{"ELB.7", "ELB.9"},
			Severity:     Low,
			Remediation:  "set connectionDraining: true and crossZoneLoadBalancing: true",
			DefaultLevel: Mandatory,
			Types:        []string{TypeCLB},
			Check: func(r Resource) []Violation {
				out := wantBool(r, true, false, "set connectionDraining: true", "connectionDraining")
				return append(out, wantBool(r, true, true, "set crossZoneLoadBalancing: true", "crossZoneLoadBalancing")...)
			},
		},
		Rule{
			Name:         "lb-https-listeners",
			Description:  "Internet-facing load balancers accept only HTTPS/TLS (HTTP listeners redirect to HTTPS); internal ones are exempt.",
			Control:      "ELB.1 / ELB.2 / ELB.3 (stricter for CLBs, exempts internal LBs: their traffic stays in the VPC)",
			Controls:     []string{"ELB.1", "ELB.2", "ELB.3"},
			Severity:     High,
			Remediation:  "set the listener's protocol to HTTPS/TLS with a certificateArn, or its defaultActions to a redirect with protocol HTTPS",
			DefaultLevel: Mandatory,
			StackCheck:   checkHTTPSListeners,
		},
		Rule{
			Name:         "lb-tls12-policy",
			Description:  "HTTPS/TLS listeners use a security policy without TLS 1.0/1.1.",
			Control:      "ELB.17 / ELB.8 / Checkov CKV_AWS_103",
			Controls:     []string{"ELB.17", "ELB.8", "CKV_AWS_103"},
			Severity:     Medium,
			Remediation:  "set sslPolicy to \"ELBSecurityPolicy-TLS13-1-2-2021-06\" (Classic: Reference-Security-Policy ELBSecurityPolicy-TLS-1-2-2017-01)",
			DefaultLevel: Mandatory,
			Types:        []string{TypeLBListener, TypeALBListener, TypeCLBPolicy},
			Check:        checkTLSPolicy,
		},
	)
}

func isALB(r Resource) bool {
	t, ok := Get(r.Props, "loadBalancerType").Str()
	return !ok || strings.EqualFold(t, "application")
}

func checkTLSPolicy(r Resource) []Violation {
	if r.Type == TypeCLBPolicy {
		var out []Violation
		for _, attr := range []string{"policyAttributes"} {
			out = append(out, eachItem(r, attr, func(i int, a Resource) []Violation {
				n, _ := Get(a.Props, "name").Str()
				v, _ := Get(a.Props, "value").Str()
				if strings.EqualFold(n, "Reference-Security-Policy") && !strings.Contains(v, "TLS-1-2") {
					return []Violation{fail("policyAttributes %s is %q; use ELBSecurityPolicy-TLS-1-2-2017-01", n, v)}
				}
				if strings.HasPrefix(n, "Protocol-TLSv1") && !strings.HasPrefix(n, "Protocol-TLSv1.2") && strings.EqualFold(v, "true") {
					return []Violation{fail("policyAttributes enables %s; turn off TLS 1.0/1.1", n)}
				}
				return nil
			})...)
		}
		return out
	}
	p := Get(r.Props, "protocol")
	if p.Unknown {
		return []Violation{cannotTell("protocol")}
	}
	proto, _ := p.Str()
	if !strings.EqualFold(proto, "HTTPS") && !strings.EqualFold(proto, "TLS") {
		return nil
	}
	return wantNotIn(r, "ELBSecurityPolicy-2016-08", weakTLSPolicies, "set sslPolicy: \"ELBSecurityPolicy-TLS13-1-2-2021-06\"", "sslPolicy")
}

// redirectsToHTTPS reports whether a listener's default actions redirect to HTTPS.
func redirectsToHTTPS(l Resource) bool {
	items, _ := Get(l.Props, "defaultActions").List()
	for _, it := range items {
		m, _ := it.Map()
		t, _ := Get(m, "type").Str()
		p, _ := Get(m, "redirect", "protocol").Str()
		if strings.EqualFold(t, "redirect") && strings.EqualFold(p, "HTTPS") {
			return true
		}
	}
	return false
}

func checkHTTPSListeners(stack []Resource) []Violation {
	var out []Violation
	lbs := ofTypes(stack, TypeLB, TypeALB)
	listeners := ofTypes(stack, TypeLBListener, TypeALBListener)
	matches := matchRefs(lbs, listeners, "loadBalancerArn", "arn")
	for i, lb := range lbs {
		internal := Get(lb.Props, "internal")
		if b, _ := internal.Bool(); b || internal.Unknown {
			continue
		}
		for _, l := range matches[i].sure {
			pv := Get(l.Props, "protocol")
			if pv.Unknown {
				out = append(out, cannotTellAt(l.URN, "protocol"))
				continue
			}
			proto, _ := pv.Str()
			if proto == "" {
				proto = "HTTP" // the provider's default for application load balancers
				if !isALB(lb) {
					proto = "TCP"
				}
			}
			switch strings.ToUpper(proto) {
			case "HTTPS", "TLS":
			case "HTTP":
				if !redirectsToHTTPS(l) {
					out = append(out, failAt(l.URN, "internet-facing load balancer %s has an HTTP listener that does not redirect to HTTPS; set defaultActions to [{type: \"redirect\", redirect: {protocol: \"HTTPS\", port: \"443\", statusCode: \"HTTP_301\"}}]", lb.Name))
				}
			default:
				out = append(out, failAt(l.URN, "internet-facing load balancer %s has a %s listener (plaintext); set protocol: \"TLS\" with a certificateArn", lb.Name, proto))
			}
		}
	}
	for _, c := range ofTypes(stack, TypeCLB) {
		if b, _ := Get(c.Props, "internal").Bool(); b {
			continue
		}
		for _, v := range eachItem(c, "listeners", func(i int, l Resource) []Violation {
			p, _ := Get(l.Props, "lbProtocol").Str()
			if !strings.EqualFold(p, "https") && !strings.EqualFold(p, "ssl") {
				return []Violation{fail("listeners[%d].lbProtocol is %q on an internet-facing Classic Load Balancer; use https or ssl with an ACM sslCertificateId", i, p)}
			}
			if id, _ := Get(l.Props, "sslCertificateId").Str(); id != "" && !strings.Contains(id, ":acm:") {
				return []Violation{fail("listeners[%d].sslCertificateId is not an ACM certificate (%s); use an ACM certificate ARN (ELB.2)", i, id)}
			}
			return nil
		}) {
			if v.URN == "" {
				v.URN = c.URN
			}
			out = append(out, v)
		}
	}
	return out
}
