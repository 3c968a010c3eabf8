package tests

import (
	"slices"
	"strings"
	"testing"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/tests/harness"
)

func TestNetworkLayout(t *testing.T) {
	want := map[string]struct {
		azs int
		nat string
	}{"dev": {2, "Single"}, "prod": {3, "OnePerAz"}}
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		vpc := only(t, g, "awsx:ec2:Vpc")
		azs, _ := propNumber(vpc, "numberOfAvailabilityZones")
		nat := propString(vpc, "natGateways", "strategy")
		if w, ok := want[stack]; ok && (int(azs) != w.azs || nat != w.nat) {
			t.Errorf("azs=%v nat=%q, want %d and %q", azs, nat, w.azs, w.nat)
		}
		var tiers []string
		for _, s := range prop(vpc, "subnetSpecs").ArrayValue() {
			tiers = append(tiers, s.ObjectValue()["type"].StringValue())
		}
		if !slices.Equal(tiers, []string{"Public", "Private", "Isolated"}) {
			t.Errorf("subnet tiers = %v, want Public, Private, Isolated", tiers)
		}
		if propString(vpc, "subnetStrategy") != "Auto" {
			t.Errorf("subnetStrategy = %q, want Auto (Legacy cannot honour cidrMask per tier)", propString(vpc, "subnetStrategy"))
		}
	})
}

func TestFlowLogsCaptureAllTrafficToARetainedGroup(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		fl := only(t, g, "aws:ec2/flowLog:FlowLog")
		if propString(fl, "trafficType") != "ALL" || propString(fl, "logDestinationType") != "cloud-watch-logs" {
			t.Errorf("flow log trafficType=%q destination=%q", propString(fl, "trafficType"), propString(fl, "logDestinationType"))
		}
		if propString(fl, "vpcId") != only(t, g, "awsx:ec2:Vpc").Outputs["vpcId"].StringValue() {
			t.Errorf("flow log is not attached to the VPC")
		}
		group := g.Find("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
		if group == nil || propString(fl, "logDestination") != group.Outputs["arn"].StringValue() {
			t.Fatalf("flow log does not deliver to the network-flow-logs group")
		}
		if days, _ := propNumber(group, "retentionInDays"); days <= 0 {
			t.Errorf("flow-log group keeps logs forever")
		}
	})
}

func TestDefaultSecurityGroupHasNoRules(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		sg := only(t, g, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
		for _, k := range []string{"ingress", "egress"} {
			v := prop(sg, k)
			if !v.IsArray() || len(v.ArrayValue()) != 0 {
				t.Errorf("default security group %s = %v, want an explicit empty list", k, v)
			}
		}
	})
}

// sgByTier maps "alb", "service", … to the security group's mock id.
func sgByTier(t *testing.T, g *harness.Graph) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, sg := range g.ByType("aws:ec2/securityGroup:SecurityGroup") {
		out[strings.TrimPrefix(sg.Name, "network-")] = sg.ID
	}
	return out
}

// TestSecurityGroupTiers: each tier admits only the tier in front of it, on
// its port; only the ALB admits a CIDR (the VPC's, for the NLB).
func TestSecurityGroupTiers(t *testing.T) {
	type ingress struct {
		from string // tier name, or a CIDR
		port int
	}
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		cfg := stackConfig(t, stack)
		sgs := sgByTier(t, g)
		tierOf := map[string]string{}
		for tier, id := range sgs {
			tierOf[id] = tier
		}
		want := map[string][]ingress{
			"alb":       {{cfg.Network.Cidr, infra.HTTPPort}},
			"service":   {{"alb", cfg.Service.ContainerPort}},
			"database":  {{"service", infra.PostgresPort}},
			"cache":     {{"service", infra.RedisPort}},
			"endpoints": {{"service", infra.HTTPSPort}},
		}
		got := map[string][]ingress{}
		for _, r := range g.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
			from, _ := propNumber(r, "fromPort")
			to, _ := propNumber(r, "toPort")
			if from != to {
				t.Errorf("%s opens a port range %v–%v", r.Name, from, to)
			}
			src := propString(r, "cidrIpv4")
			if ref := propString(r, "referencedSecurityGroupId"); ref != "" {
				src = tierOf[ref]
			}
			if propString(r, "cidrIpv6") != "" || propString(r, "prefixListId") != "" {
				t.Errorf("%s admits an IPv6 block or prefix list", r.Name)
			}
			tier := tierOf[propString(r, "securityGroupId")]
			got[tier] = append(got[tier], ingress{src, int(to)})
		}
		for tier, w := range want {
			if !slices.Equal(got[tier], w) {
				t.Errorf("%s ingress = %v, want %v", tier, got[tier], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("ingress rules on unexpected groups: %v", got)
		}
		// No inline rules anywhere (they would fight the rule resources).
		for _, sg := range g.ByType("aws:ec2/securityGroup:SecurityGroup") {
			if v := prop(sg, "ingress"); v.IsArray() && len(v.ArrayValue()) > 0 {
				t.Errorf("%s has inline ingress", sg.Name)
			}
		}
	})
}

func TestDatabaseAndCacheHaveNoEgressAndAreReachedOnlyFromTheService(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		sgs := sgByTier(t, g)
		for _, r := range g.ByType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") {
			owner := propString(r, "securityGroupId")
			if owner == sgs["database"] || owner == sgs["cache"] || owner == sgs["endpoints"] {
				t.Errorf("%s gives a data tier egress", r.Name)
			}
			if propString(r, "cidrIpv4") == "0.0.0.0/0" {
				if port, _ := propNumber(r, "toPort"); owner != sgs["service"] || int(port) != infra.HTTPSPort {
					t.Errorf("%s: only the service may reach 0.0.0.0/0, and only on 443", r.Name)
				}
			}
		}
	})
}

func TestInterfaceEndpointsFollowTheFlag(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		cfg := stackConfig(t, stack)
		private := subnetIDs(t, g, "private")
		var iface, gateway int
		for _, ep := range g.ByType("aws:ec2/vpcEndpoint:VpcEndpoint") {
			switch propString(ep, "vpcEndpointType") {
			case "Interface":
				iface++
				if !slices.Equal(propStrings(ep, "subnetIds"), private) {
					t.Errorf("%s is not in the private subnets", ep.Name)
				}
				if !propBool(ep, "privateDnsEnabled") {
					t.Errorf("%s without private DNS: SDKs would not use it", ep.Name)
				}
			case "Gateway":
				gateway++
				if !strings.HasSuffix(propString(ep, "serviceName"), ".s3") {
					t.Errorf("unexpected gateway endpoint %s", propString(ep, "serviceName"))
				}
			}
		}
		wantIface := 0
		if cfg.Network.InterfaceEndpoints {
			wantIface = len(infra.InterfaceEndpointServices)
		}
		if iface != wantIface || gateway != 1 {
			t.Errorf("interface endpoints = %d (want %d), S3 gateway endpoints = %d (want 1)", iface, wantIface, gateway)
		}
	})
}
