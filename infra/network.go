package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	awsxec2 "github.com/pulumi/pulumi-awsx/sdk/v2/go/awsx/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Ports the tiers talk on.
const (
	HTTPPort     = 80
	HTTPSPort    = 443
	PostgresPort = 5432
	RedisPort    = 6379
)

// NetworkArgs configures the VPC and its security groups.
type NetworkArgs struct {
	// Cidr is the VPC's IPv4 block (validated by config).
	Cidr string
	// AzCount is the number of availability zones.
	AzCount int
	// NatStrategy is Single, OnePerAz or None.
	NatStrategy string
	// PublicSubnetMask, PrivateSubnetMask and IsolatedSubnetMask are each
	// tier's per-AZ prefix length.
	PublicSubnetMask, PrivateSubnetMask, IsolatedSubnetMask int
	// FlowLogRetentionDays is the flow-log group's retention.
	FlowLogRetentionDays int
	// InterfaceEndpoints adds ECR (api, dkr), CloudWatch Logs and Secrets
	// Manager interface endpoints in the private subnets.
	InterfaceEndpoints bool
	// ContainerPort is the service's port, the only one the ALB reaches.
	ContainerPort int
	// Env names the endpoints' services and the flow-log role's
	// confused-deputy guard.
	Env Environment
}

// Network is the VPC, its flow log and one security group per tier.
type Network struct {
	pulumi.ResourceState

	VpcId            pulumi.StringOutput      `pulumi:"vpcId"`
	VpcCidr          pulumi.StringOutput      `pulumi:"vpcCidr"`
	PublicSubnetIds  pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	PrivateSubnetIds pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	// IsolatedSubnetIds have no route out of the VPC: database and cache.
	IsolatedSubnetIds pulumi.StringArrayOutput `pulumi:"isolatedSubnetIds"`

	// One security group per tier. Ingress always names the tier in front.
	AlbSecurityGroupId      pulumi.StringOutput `pulumi:"albSecurityGroupId"`
	ServiceSecurityGroupId  pulumi.StringOutput `pulumi:"serviceSecurityGroupId"`
	DatabaseSecurityGroupId pulumi.StringOutput `pulumi:"databaseSecurityGroupId"`
	CacheSecurityGroupId    pulumi.StringOutput `pulumi:"cacheSecurityGroupId"`
	EndpointSecurityGroupId pulumi.StringOutput `pulumi:"endpointSecurityGroupId"`

	FlowLogGroupName pulumi.StringOutput `pulumi:"flowLogGroupName"`
}

// InterfaceEndpointServices are the services tasks reach through interface
// endpoints when NetworkArgs.InterfaceEndpoints is set.
var InterfaceEndpointServices = []string{"ecr.api", "ecr.dkr", "logs", "secretsmanager"}

// NewNetwork creates the VPC (awsx: public, private and isolated subnets in
// every AZ, NAT per strategy), an S3 gateway endpoint, VPC flow logs, the
// default security group stripped of rules and the tier security groups.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	if args == nil {
		return nil, fmt.Errorf("network %s: args are required", name)
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource("books:infra:Network", name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)

	azCount := args.AzCount
	cidr := args.Cidr
	publicMask, privateMask, isolatedMask := args.PublicSubnetMask, args.PrivateSubnetMask, args.IsolatedSubnetMask
	strategy := awsxec2.SubnetAllocationStrategyAuto
	v, err := awsxec2.NewVpc(ctx, name, &awsxec2.VpcArgs{
		CidrBlock:                 &cidr,
		NumberOfAvailabilityZones: &azCount,
		SubnetStrategy:            &strategy,
		SubnetSpecs: []awsxec2.SubnetSpecArgs{
			{Type: awsxec2.SubnetTypePublic, CidrMask: &publicMask},
			{Type: awsxec2.SubnetTypePrivate, CidrMask: &privateMask},
			{Type: awsxec2.SubnetTypeIsolated, CidrMask: &isolatedMask},
		},
		NatGateways: &awsxec2.NatGatewayConfigurationArgs{
			Strategy: awsxec2.NatGatewayStrategy(args.NatStrategy),
		},
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, err
	}
	n.VpcId = v.VpcId
	n.VpcCidr = pulumi.String(cidr).ToStringOutput()
	n.PublicSubnetIds = v.PublicSubnetIds
	n.PrivateSubnetIds = v.PrivateSubnetIds
	n.IsolatedSubnetIds = v.IsolatedSubnetIds

	// S3 gateway endpoint on every route table: image layers (ECR stores
	// them in S3) do not cross the NAT. awsx does not attach a gateway
	// endpoint to its route tables by itself, so we do it here.
	routeTableIds := v.RouteTables.ApplyT(func(rts []*ec2.RouteTable) pulumi.StringArrayOutput {
		ids := make(pulumi.StringArray, len(rts))
		for i, rt := range rts {
			ids[i] = rt.ID().ToStringOutput()
		}
		return ids.ToStringArrayOutput()
	}).(pulumi.StringArrayOutput)
	if _, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           v.VpcId,
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", args.Env.Region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   routeTableIds,
	}, parent); err != nil {
		return nil, err
	}

	if err := n.flowLogs(ctx, name, args, v.VpcId); err != nil {
		return nil, err
	}

	// The default security group keeps no rules, so nothing can use it by accident.
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default", &ec2.DefaultSecurityGroupArgs{
		VpcId:   v.VpcId,
		Ingress: ec2.DefaultSecurityGroupIngressArray{},
		Egress:  ec2.DefaultSecurityGroupEgressArray{},
	}, parent); err != nil {
		return nil, err
	}

	if err := n.securityGroups(ctx, name, args, v.VpcId); err != nil {
		return nil, err
	}

	if args.InterfaceEndpoints {
		for _, svc := range InterfaceEndpointServices {
			if _, err := ec2.NewVpcEndpoint(ctx, name+"-"+svc, &ec2.VpcEndpointArgs{
				VpcId:             v.VpcId,
				ServiceName:       pulumi.Sprintf("com.amazonaws.%s.%s", args.Env.Region, svc),
				VpcEndpointType:   pulumi.String("Interface"),
				PrivateDnsEnabled: pulumi.Bool(true),
				SubnetIds:         v.PrivateSubnetIds,
				SecurityGroupIds:  pulumi.StringArray{n.EndpointSecurityGroupId},
			}, parent); err != nil {
				return nil, err
			}
		}
	}

	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":                   n.VpcId,
		"vpcCidr":                 n.VpcCidr,
		"publicSubnetIds":         n.PublicSubnetIds,
		"privateSubnetIds":        n.PrivateSubnetIds,
		"isolatedSubnetIds":       n.IsolatedSubnetIds,
		"albSecurityGroupId":      n.AlbSecurityGroupId,
		"serviceSecurityGroupId":  n.ServiceSecurityGroupId,
		"databaseSecurityGroupId": n.DatabaseSecurityGroupId,
		"cacheSecurityGroupId":    n.CacheSecurityGroupId,
		"endpointSecurityGroupId": n.EndpointSecurityGroupId,
		"flowLogGroupName":        n.FlowLogGroupName,
	})
}

// flowLogs records all traffic of the VPC to a log group with retention.
func (n *Network) flowLogs(ctx *pulumi.Context, name string, args *NetworkArgs, vpcId pulumi.StringInput) error {
	parent := pulumi.Parent(n)
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		RetentionInDays: pulumi.Int(args.FlowLogRetentionDays),
	}, parent)
	if err != nil {
		return err
	}
	n.FlowLogGroupName = group.Name
	policy := policyFromOutputs(func(v []string) PolicyDocument {
		return NewPolicyDocument(Allow("WriteFlowLogs",
			[]string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			v[0], v[0]+":log-stream:*"))
	}, group.Arn)
	_, roleArn, err := newServiceRole(ctx, name+"-flow-logs", "vpc-flow-logs.amazonaws.com", args.Env.Account, policy, n)
	if err != nil {
		return err
	}
	_, err = ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:                  vpcId,
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             roleArn,
		MaxAggregationInterval: pulumi.Int(60),
	}, parent)
	return err
}

// rule is one security group rule between tiers. The peer (the source of
// ingress, the destination of egress) is a security group or, only where the
// design allows it, a CIDR.
type rule struct {
	name     string
	port     int
	peerSG   pulumi.StringInput
	peerCidr string
	desc     string
}

// securityGroups creates the tier groups and their rules:
//
//	VPC CIDR (NLB) ─80─▶ alb ─containerPort─▶ service ─5432─▶ database
//	                                             ├──6379─▶ cache
//	                                             └──443──▶ endpoints / AWS APIs
func (n *Network) securityGroups(ctx *pulumi.Context, name string, args *NetworkArgs, vpcId pulumi.StringInput) error {
	tiers := []struct{ name, desc string }{
		{"alb", "Internal ALB: HTTP from the NLB (VPC CIDR)"},
		{"service", "ECS tasks: the container port from the ALB"},
		{"database", "Aurora: PostgreSQL from the service"},
		{"cache", "ElastiCache: Redis protocol from the service"},
		{"endpoints", "Interface endpoints: HTTPS from the service"},
	}
	groups := make([]*ec2.SecurityGroup, len(tiers))
	for i, tier := range tiers {
		// No inline rules: the provider removes AWS's default allow-all
		// egress, and every rule below is its own resource.
		sg, err := ec2.NewSecurityGroup(ctx, name+"-"+tier.name, &ec2.SecurityGroupArgs{
			VpcId:       vpcId,
			Description: pulumi.String(tier.desc),
		}, pulumi.Parent(n))
		if err != nil {
			return err
		}
		groups[i] = sg
	}
	alb, svc, db, cache, endpoints := groups[0], groups[1], groups[2], groups[3], groups[4]
	n.AlbSecurityGroupId = alb.ID().ToStringOutput()
	n.ServiceSecurityGroupId = svc.ID().ToStringOutput()
	n.DatabaseSecurityGroupId = db.ID().ToStringOutput()
	n.CacheSecurityGroupId = cache.ID().ToStringOutput()
	n.EndpointSecurityGroupId = endpoints.ID().ToStringOutput()

	ingress := map[*ec2.SecurityGroup][]rule{
		// The NLB has no security group; its nodes' addresses are in the VPC CIDR.
		alb:       {{name: "from-nlb", port: HTTPPort, peerCidr: args.Cidr, desc: "HTTP from the NLB in this VPC"}},
		svc:       {{name: "from-alb", port: args.ContainerPort, peerSG: alb.ID(), desc: "app port from the ALB"}},
		db:        {{name: "from-service", port: PostgresPort, peerSG: svc.ID(), desc: "PostgreSQL from the service"}},
		cache:     {{name: "from-service", port: RedisPort, peerSG: svc.ID(), desc: "Redis (TLS) from the service"}},
		endpoints: {{name: "from-service", port: HTTPSPort, peerSG: svc.ID(), desc: "HTTPS from the service"}},
	}
	egress := map[*ec2.SecurityGroup][]rule{
		alb: {{name: "to-service", port: args.ContainerPort, peerSG: svc.ID(), desc: "app port to the service"}},
		svc: {
			{name: "to-database", port: PostgresPort, peerSG: db.ID(), desc: "PostgreSQL to Aurora"},
			{name: "to-cache", port: RedisPort, peerSG: cache.ID(), desc: "Redis (TLS) to ElastiCache"},
			// AWS APIs (ECR, Logs, Secrets Manager, S3) through the NAT or the endpoints.
			{name: "to-aws-https", port: HTTPSPort, peerCidr: "0.0.0.0/0", desc: "HTTPS to AWS APIs"},
		},
	}
	for i, sg := range groups {
		for _, dir := range []struct {
			name  string
			rules []rule
		}{{"ingress", ingress[sg]}, {"egress", egress[sg]}} {
			for _, r := range dir.rules {
				args := vpc.SecurityGroupIngressRuleArgs{
					SecurityGroupId:           sg.ID(),
					IpProtocol:                pulumi.String("tcp"),
					FromPort:                  pulumi.Int(r.port),
					ToPort:                    pulumi.Int(r.port),
					ReferencedSecurityGroupId: optionalID(r.peerSG),
					CidrIpv4:                  optionalString(r.peerCidr),
					Description:               pulumi.String(r.desc),
				}
				ruleName := name + "-" + tiers[i].name + "-" + r.name
				var err error
				if dir.name == "ingress" {
					_, err = vpc.NewSecurityGroupIngressRule(ctx, ruleName, &args, pulumi.Parent(sg))
				} else {
					egressArgs := vpc.SecurityGroupEgressRuleArgs(args)
					_, err = vpc.NewSecurityGroupEgressRule(ctx, ruleName, &egressArgs, pulumi.Parent(sg))
				}
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func optionalID(v pulumi.StringInput) pulumi.StringPtrInput {
	if v == nil {
		return nil
	}
	return v.ToStringOutput().ToStringPtrOutput()
}

func optionalString(s string) pulumi.StringPtrInput {
	if s == "" {
		return nil
	}
	return pulumi.String(s)
}
