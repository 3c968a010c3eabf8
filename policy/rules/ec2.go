package rules

import (
	"fmt"
	"strings"
)

// EC2 / VPC rules beyond ingress and flow logs: egress, the default security
// group, network ACLs, subnets, instances, launch templates, EBS, transit
// gateways, Client VPN.

const (
	TypeSGEgressRule         = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	TypeDefaultSecurityGroup = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	TypeDefaultVPC           = "aws:ec2/defaultVpc:DefaultVpc"
	TypeSubnet               = "aws:ec2/subnet:Subnet"
	TypeNetworkACL           = "aws:ec2/networkAcl:NetworkAcl"
	TypeNetworkACLRule       = "aws:ec2/networkAclRule:NetworkAclRule"
	TypeDefaultNetworkACL    = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
	TypeInstance             = "aws:ec2/instance:Instance"
	TypeLaunchTemplate       = "aws:ec2/launchTemplate:LaunchTemplate"
	TypeEBSVolume            = "aws:ebs/volume:Volume"
	TypeEBSDefaultEncryption = "aws:ebs/encryptionByDefault:EncryptionByDefault"
	TypeEBSSnapshotBPA       = "aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess"
	TypeTransitGateway       = "aws:ec2transitgateway/transitGateway:TransitGateway"
	TypeClientVPNEndpoint    = "aws:ec2clientvpn/endpoint:Endpoint"
	TypeNetworkInterface     = "aws:ec2/networkInterface:NetworkInterface"
	TypeVPNConnection        = "aws:ec2/vpnConnection:VpnConnection"
	TypeSpotFleetRequest     = "aws:ec2/spotFleetRequest:SpotFleetRequest"
)

var adminPorts = []float64{22, 3389}

func init() {
	register(
		Rule{
			Name:         "sg-no-unrestricted-egress",
			Description:  "No security group egress to 0.0.0.0/0 or ::/0 on all protocols or all ports.",
			Control:      "Checkov CKV_AWS_382; egress to the internet on one port (443 for AWS APIs) stays allowed",
			Controls:     []string{"CKV_AWS_382"},
			Severity:     Medium,
			Remediation:  "set the egress rule's protocol and fromPort/toPort to what the workload needs, or its destination to a security group",
			DefaultLevel: Mandatory,
			Types:        []string{TypeSecurityGroup, TypeSecurityGroupRule, TypeSGEgressRule},
			Check:        checkOpenEgress,
		},
		Rule{
			Name:         "vpc-default-sg-closed",
			Description:  "Every VPC's default security group is managed by the program and has no rules (inline or rule resources).",
			Control:      "EC2.2 / CIS 5.4",
			Controls:     []string{"EC2.2", "CIS 5.4"},
			Severity:     High,
			Remediation:  "add an aws.ec2.DefaultSecurityGroup with vpcId set to the VPC and no ingress/egress, and attach no rule resources to it",
			DefaultLevel: Mandatory,
			StackCheck:   checkDefaultSG,
		},
		Rule{
			Name:         "subnet-no-auto-public-ip",
			Description:  "Subnets do not assign public IPv4 addresses on launch.",
			Control:      "EC2.15",
			Controls:     []string{"EC2.15"},
			Severity:     Medium,
			Remediation:  "set mapPublicIpOnLaunch: false (give public addresses explicitly, e.g. an Elastic IP for a NAT gateway)",
			DefaultLevel: Mandatory,
			Types:        []string{TypeSubnet},
			Check: func(r Resource) []Violation {
				return wantBool(r, false, false, "set mapPublicIpOnLaunch: false", "mapPublicIpOnLaunch")
			},
		},
		Rule{
			Name:         "nacl-no-open-admin-ports",
			Description:  "Network ACLs do not allow ingress from 0.0.0.0/0 or ::/0 to SSH (22) or RDP (3389).",
			Control:      "EC2.21 / CIS 5.1",
			Controls:     []string{"EC2.21", "CIS 5.1"},
			Severity:     Medium,
			Remediation:  "set the rule's cidrBlock to a private range, or its action to deny, for ports 22 and 3389",
			DefaultLevel: Mandatory,
			Types:        []string{TypeNetworkACL, TypeNetworkACLRule, TypeDefaultNetworkACL},
			Check:        checkNACL,
		},
		Rule{
			Name:         "ec2-imdsv2",
			Description:  "EC2 instances and launch templates require IMDSv2 (metadataOptions.httpTokens required).",
			Control:      "EC2.8 / EC2.170",
			Controls:     []string{"EC2.8", "EC2.170"},
			Severity:     High,
			Remediation:  "set metadataOptions.httpTokens: \"required\"",
			DefaultLevel: Mandatory,
			Types:        []string{TypeInstance, TypeLaunchTemplate},
			Check: func(r Resource) []Violation {
				if v := Get(r.Props, "metadataOptions", "httpEndpoint"); v.Known() {
					if s, _ := v.Str(); strings.EqualFold(s, "disabled") {
						return nil // no metadata service at all
					}
				}
				return wantString(r, "optional", []string{"required"}, "set metadataOptions.httpTokens: \"required\"", "metadataOptions", "httpTokens")
			},
		},
		Rule{
			Name:         "ec2-no-public-ip",
			Description:  "EC2 instances and launch templates do not assign public IPv4 addresses.",
			Control:      "EC2.9 / EC2.25",
			Controls:     []string{"EC2.9", "EC2.25"},
			Severity:     High,
			Remediation:  "set associatePublicIpAddress: false (launch templates: networkInterfaces[].associatePublicIpAddress \"false\")",
			DefaultLevel: Mandatory,
			Types:        []string{TypeInstance, TypeLaunchTemplate},
			Check: func(r Resource) []Violation {
				if r.Type == TypeInstance {
					return wantBool(r, false, false, "set associatePublicIpAddress: false and launch into a private subnet", "associatePublicIpAddress")
				}
				return eachItem(r, "networkInterfaces", func(i int, ni Resource) []Violation {
					return fill(wantBool(ni, false, false, "set associatePublicIpAddress: \"false\"", "associatePublicIpAddress"), "")
				})
			},
		},
		Rule{
			Name:         "ebs-encrypted",
			Description:  "EBS volumes (standalone, instance root and data volumes, launch templates) are encrypted, and account default encryption is not turned off.",
			Control:      "EC2.3 / EC2.7 / EC2.173 / EC2.181 / CIS 2.2.1",
			Controls:     []string{"EC2.3", "EC2.7", "EC2.173", "EC2.181", "CIS 2.2.1"},
			Severity:     Medium,
			Remediation:  "set encrypted: true (instances: rootBlockDevice.encrypted and ebsBlockDevices[].encrypted; launch templates: blockDeviceMappings[].ebs.encrypted \"true\")",
			DefaultLevel: Mandatory,
			Types:        []string{TypeEBSVolume, TypeInstance, TypeLaunchTemplate, TypeEBSDefaultEncryption, TypeSpotFleetRequest},
			Check:        checkEBS,
		},
		Rule{
			Name:         "ebs-snapshot-block-public-access",
			Description:  "EBS snapshot block public access is not unblocked.",
			Control:      "EC2.182",
			Controls:     []string{"EC2.182"},
			Severity:     High,
			Remediation:  "set state: \"block-all-sharing\"",
			DefaultLevel: Mandatory,
			Types:        []string{TypeEBSSnapshotBPA},
			Check: func(r Resource) []Violation {
				return wantString(r, "", []string{"block-all-sharing", "block-new-sharing"}, "set state: \"block-all-sharing\"", "state")
			},
		},
		Rule{
			Name:         "ec2-single-eni",
			Description:  "EC2 instances use one network interface.",
			Control:      "EC2.17",
			Controls:     []string{"EC2.17"},
			Severity:     Low,
			Remediation:  "remove the additional networkInterfaces",
			DefaultLevel: Advisory,
			Types:        []string{TypeInstance},
			Check: func(r Resource) []Violation {
				if n, unknown := listLen(Get(r.Props, "networkInterfaces")); !unknown && n > 1 {
					return []Violation{fail("networkInterfaces has %d interfaces; attach one and remove the others", n)}
				}
				return nil
			},
		},
		Rule{
			Name:         "eni-source-dest-check",
			Description:  "Network interfaces keep source/destination checking on.",
			Control:      "EC2.180 (NAT and firewall appliances may need it off: disable this rule for them)",
			Controls:     []string{"EC2.180"},
			Severity:     Medium,
			Remediation:  "set sourceDestCheck: true",
			DefaultLevel: Advisory,
			Types:        []string{TypeNetworkInterface, TypeInstance},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, true, "set sourceDestCheck: true", "sourceDestCheck")
			},
		},
		Rule{
			Name:         "tgw-no-auto-accept",
			Description:  "Transit gateways do not accept shared VPC attachments automatically.",
			Control:      "EC2.23",
			Controls:     []string{"EC2.23"},
			Severity:     High,
			Remediation:  "set autoAcceptSharedAttachments: \"disable\"",
			DefaultLevel: Mandatory,
			Types:        []string{TypeTransitGateway},
			Check: func(r Resource) []Violation {
				return wantString(r, "disable", []string{"disable"}, "set autoAcceptSharedAttachments: \"disable\"", "autoAcceptSharedAttachments")
			},
		},
		Rule{
			Name:         "vpn-tunnel-logging",
			Description:  "Site-to-Site VPN connections log both tunnels' activity.",
			Control:      "EC2.171",
			Controls:     []string{"EC2.171"},
			Severity:     Medium,
			Remediation:  "set tunnel1LogOptions and tunnel2LogOptions .cloudwatchLogOptions.logEnabled: true",
			DefaultLevel: Mandatory,
			Types:        []string{TypeVPNConnection},
			Check: func(r Resource) []Violation {
				out := wantBool(r, true, false, "set tunnel1LogOptions.cloudwatchLogOptions: {logEnabled: true, logGroupArn: <group>}", "tunnel1LogOptions", "cloudwatchLogOptions", "logEnabled")
				return append(out, wantBool(r, true, false, "set tunnel2LogOptions.cloudwatchLogOptions: {logEnabled: true, logGroupArn: <group>}", "tunnel2LogOptions", "cloudwatchLogOptions", "logEnabled")...)
			},
		},
		Rule{
			Name:         "clientvpn-connection-logs",
			Description:  "Client VPN endpoints log client connections.",
			Control:      "EC2.51",
			Controls:     []string{"EC2.51"},
			Severity:     Low,
			Remediation:  "set connectionLogOptions.enabled: true with cloudwatchLogGroup",
			DefaultLevel: Mandatory,
			Types:        []string{TypeClientVPNEndpoint},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, false, "set connectionLogOptions: {enabled: true, cloudwatchLogGroup: <log group>}", "connectionLogOptions", "enabled")
			},
		},
	)
}

func protocolAll(p string) bool {
	p = strings.ToLower(strings.TrimSpace(p))
	return p == "-1" || p == "all"
}

// coversAllPorts reports whether a rule's port range is the whole range.
func coversAllPorts(m Resource) (bool, bool) {
	from, to := Get(m.Props, "fromPort"), Get(m.Props, "toPort")
	if from.Unknown || to.Unknown {
		return false, true
	}
	f, fok := from.Num()
	t, tok := to.Num()
	if from.Missing && to.Missing {
		return false, false
	}
	return fok && tok && f <= 1 && t >= 65535, false
}

// openEgress checks one egress rule (inline block or rule resource).
func openEgress(m Resource, where string, cidrKeys ...string) []Violation {
	var open []string
	unknown := false
	for _, k := range cidrKeys {
		o, u := openCIDRs(Get(m.Props, k))
		open, unknown = append(open, o...), unknown || u
	}
	if len(open) == 0 {
		if unknown {
			return []Violation{cannotTell(where + " destination")}
		}
		return nil
	}
	pv := Get(m.Props, "protocol")
	if pv.Missing {
		pv = Get(m.Props, "ipProtocol")
	}
	if pv.Unknown {
		return []Violation{cannotTell(where + " protocol")}
	}
	proto, _ := pv.Str()
	all, u := coversAllPorts(m)
	if u {
		return []Violation{cannotTell(where + " ports")}
	}
	if protocolAll(proto) || all {
		return []Violation{fail("%s allows all traffic (protocol %q, ports %s) to %s; allow only the protocol and ports the workload needs, or a destination security group", where, proto, portRange(m), strings.Join(open, ", "))}
	}
	return nil
}

func portRange(m Resource) string {
	return fmt.Sprintf("%s-%s", describe(Get(m.Props, "fromPort")), describe(Get(m.Props, "toPort")))
}

func checkOpenEgress(r Resource) []Violation {
	switch r.Type {
	case TypeSecurityGroup:
		return eachItem(r, "egress", func(i int, m Resource) []Violation {
			return openEgress(m, fmt.Sprintf("egress[%d]", i), "cidrBlocks", "ipv6CidrBlocks")
		})
	case TypeSecurityGroupRule:
		tv := Get(r.Props, "type")
		if tv.Unknown {
			return []Violation{cannotTell("type")}
		}
		if s, _ := tv.Str(); !strings.EqualFold(s, "egress") {
			return nil
		}
		return openEgress(r, "egress rule", "cidrBlocks", "ipv6CidrBlocks")
	}
	return openEgress(r, "egress rule", "cidrIpv4", "cidrIpv6")
}

func checkDefaultSG(stack []Resource) []Violation {
	var out []Violation
	defaults := ofTypes(stack, TypeDefaultSecurityGroup)
	for _, d := range defaults {
		for _, dir := range []string{"ingress", "egress"} {
			v := Get(d.Props, dir)
			if v.Unknown {
				out = append(out, cannotTellAt(d.URN, dir))
				continue
			}
			if n, _ := listLen(v); n > 0 {
				out = append(out, failAt(d.URN, "default security group has %d %s rule(s); set %s: [] so the default group allows no traffic (EC2.2)", n, dir, dir))
			}
		}
	}
	// Rule resources attached to a default security group.
	rulesOn := ofTypes(stack, TypeSecurityGroupRule, TypeSGIngressRule, TypeSGEgressRule)
	for _, rr := range rulesOn {
		for _, d := range defaults {
			if RefersTo(rr, "securityGroupId", d, "id") == IsMatch {
				out = append(out, failAt(rr.URN, "rule is attached to the VPC's default security group; attach it to a security group of its own and keep the default group empty"))
			}
		}
	}
	// Every VPC of the program has its default group managed.
	vpcs := ofTypes(stack, TypeVPC, TypeAwsxVPC, TypeDefaultVPC)
	matches := matchRefs(vpcs, defaults, "vpcId", "vpcId")
	for i, v := range vpcs {
		if len(matches[i].sure) > 0 || parentCovered(vpcs, matches, i) {
			continue
		}
		if len(matches[i].maybe) > 0 {
			out = append(out, cannotTellAt(v.URN, "which aws.ec2.DefaultSecurityGroup belongs to this VPC (vpcId)"))
			continue
		}
		out = append(out, failAt(v.URN, "the VPC's default security group keeps AWS's allow-all rules; add an aws.ec2.DefaultSecurityGroup with vpcId set to this VPC and no ingress/egress"))
	}
	return out
}

// parentCovered reports whether the VPC at i is the child (or parent) of a
// VPC that has a match: an aws.ec2.Vpc inside an awsx ec2.Vpc component.
func parentCovered(vpcs []Resource, matches []refMatches, i int) bool {
	for j, o := range vpcs {
		if j != i && len(matches[j].sure) > 0 && (vpcs[i].Parent == o.URN || o.Parent == vpcs[i].URN) {
			return true
		}
	}
	return false
}

// checkNACL flags allow rules from anywhere that reach port 22 or 3389.
func checkNACL(r Resource) []Violation {
	check := func(m Resource, where string) []Violation {
		if egress, _ := Get(m.Props, "egress").Bool(); egress {
			return nil
		}
		act := Get(m.Props, "action")
		if act.Missing {
			act = Get(m.Props, "ruleAction")
		}
		if act.Unknown {
			return []Violation{cannotTell(where + " action")}
		}
		if s, _ := act.Str(); !strings.EqualFold(s, "allow") {
			return nil
		}
		o4, u4 := openCIDRs(Get(m.Props, "cidrBlock"))
		o6, u6 := openCIDRs(Get(m.Props, "ipv6CidrBlock"))
		if len(o4)+len(o6) == 0 {
			if u4 || u6 {
				return []Violation{cannotTell(where + " CIDR")}
			}
			return nil
		}
		pv, fv, tv := Get(m.Props, "protocol"), Get(m.Props, "fromPort"), Get(m.Props, "toPort")
		if pv.Unknown || fv.Unknown || tv.Unknown {
			return []Violation{cannotTell(where + " protocol/ports")}
		}
		proto, _ := pv.Str()
		from, fok := fv.Num()
		to, tok := tv.Num()
		for _, p := range adminPorts {
			if protocolAll(proto) || !fok || !tok || (from <= p && p <= to) {
				return []Violation{fail("%s allows ingress from %s to port %g; deny it or narrow cidrBlock (EC2.21)", where, strings.Join(append(o4, o6...), ", "), p)}
			}
		}
		return nil
	}
	if r.Type == TypeNetworkACLRule {
		return check(r, "rule")
	}
	return eachItem(r, "ingress", func(i int, m Resource) []Violation {
		return check(m, fmt.Sprintf("ingress[%d]", i))
	})
}

func checkEBS(r Resource) []Violation {
	fix := "set encrypted: true (optionally kmsKeyId to a customer-managed key)"
	switch r.Type {
	case TypeEBSVolume:
		if v := Get(r.Props, "snapshotId"); v.NonEmpty() && Get(r.Props, "encrypted").Missing {
			return nil // inherits the snapshot's encryption
		}
		return wantBool(r, true, false, fix, "encrypted")
	case TypeEBSDefaultEncryption:
		return wantBool(r, true, true, "set enabled: true", "enabled")
	case TypeSpotFleetRequest:
		return eachItem(r, "launchSpecifications", func(i int, ls Resource) []Violation {
			ls.Type = TypeInstance
			return checkEBS(ls)
		})
	case TypeInstance:
		var out []Violation
		if rb := Get(r.Props, "rootBlockDevice"); rb.Known() {
			out = append(out, wantBool(r, true, false, "set rootBlockDevice.encrypted: true", "rootBlockDevice", "encrypted")...)
		}
		out = append(out, eachItem(r, "ebsBlockDevices", func(i int, d Resource) []Violation {
			return wantBool(d, true, false, fmt.Sprintf("set ebsBlockDevices[%d].encrypted: true", i), "encrypted")
		})...)
		return out
	}
	return eachItem(r, "blockDeviceMappings", func(i int, d Resource) []Violation {
		if Get(d.Props, "ebs").Missing {
			return nil // instance store or no device
		}
		return wantBool(d, true, false, fmt.Sprintf("set blockDeviceMappings[%d].ebs.encrypted: \"true\"", i), "ebs", "encrypted")
	})
}
