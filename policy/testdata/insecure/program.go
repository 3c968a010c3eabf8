// Package insecure is a small Pulumi program written the way a hurried user
// would: defaults everywhere, a few "quick fixes" (open ports, wildcards,
// public ACLs, secrets in environment variables). Every mandatory rule of
// the policy pack fires on it at least once; golden.txt lists the expected
// findings (tests/insecure_program_test.go, `-update` rewrites it).
package insecure

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cognito"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ebs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2clientvpn"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2transitgateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3control"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const openPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`

// Program creates the insecure stack.
func Program(ctx *pulumi.Context) error {
	s := func(v string) pulumi.String { return pulumi.String(v) }
	b := func(v bool) pulumi.Bool { return pulumi.Bool(v) }
	i := func(v int) pulumi.Int { return pulumi.Int(v) }
	steps := []func() error{
		func() error { // network: no flow log, default SG untouched, everything open
			vpc, err := ec2.NewVpc(ctx, "vpc", &ec2.VpcArgs{CidrBlock: s("10.0.0.0/16")})
			if err != nil {
				return err
			}
			if _, err := ec2.NewSubnet(ctx, "public", &ec2.SubnetArgs{VpcId: vpc.ID(), CidrBlock: s("10.0.1.0/24"), MapPublicIpOnLaunch: b(true)}); err != nil {
				return err
			}
			if _, err := ec2.NewDefaultSecurityGroup(ctx, "default", &ec2.DefaultSecurityGroupArgs{VpcId: s("vpc-0123"),
				Ingress: ec2.DefaultSecurityGroupIngressArray{ec2.DefaultSecurityGroupIngressArgs{Protocol: s("-1"), FromPort: i(0), ToPort: i(0), Self: b(true)}}}); err != nil {
				return err
			}
			if _, err := ec2.NewSecurityGroup(ctx, "web", &ec2.SecurityGroupArgs{VpcId: vpc.ID(),
				Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{Protocol: s("tcp"), FromPort: i(22), ToPort: i(22), CidrBlocks: pulumi.StringArray{s("0.0.0.0/0")}}},
				Egress:  ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{Protocol: s("-1"), FromPort: i(0), ToPort: i(0), CidrBlocks: pulumi.StringArray{s("0.0.0.0/0")}}}}); err != nil {
				return err
			}
			if _, err := ec2.NewNetworkAcl(ctx, "acl", &ec2.NetworkAclArgs{VpcId: vpc.ID(),
				Ingress: ec2.NetworkAclIngressArray{ec2.NetworkAclIngressArgs{Protocol: s("-1"), RuleNo: i(100), Action: s("allow"), CidrBlock: s("0.0.0.0/0"), FromPort: i(0), ToPort: i(0)}}}); err != nil {
				return err
			}
			if _, err := ec2.NewInstance(ctx, "bastion", &ec2.InstanceArgs{Ami: s("ami-0123"), InstanceType: s("t3.micro"), AssociatePublicIpAddress: b(true)}); err != nil {
				return err
			}
			if _, err := ebs.NewVolume(ctx, "data", &ebs.VolumeArgs{AvailabilityZone: s("eu-west-1a"), Size: i(10)}); err != nil {
				return err
			}
			if _, err := ebs.NewSnapshotBlockPublicAccess(ctx, "snapshots", &ebs.SnapshotBlockPublicAccessArgs{State: s("unblocked")}); err != nil {
				return err
			}
			if _, err := ec2transitgateway.NewTransitGateway(ctx, "tgw", &ec2transitgateway.TransitGatewayArgs{AutoAcceptSharedAttachments: s("enable")}); err != nil {
				return err
			}
			if _, err := ec2clientvpn.NewEndpoint(ctx, "vpn", &ec2clientvpn.EndpointArgs{ClientCidrBlock: s("10.10.0.0/16"), ServerCertificateArn: s("arn:aws:acm:eu-west-1:123456789012:certificate/x"),
				AuthenticationOptions: ec2clientvpn.EndpointAuthenticationOptionArray{ec2clientvpn.EndpointAuthenticationOptionArgs{Type: s("certificate-authentication"), RootCertificateChainArn: s("arn:aws:acm:eu-west-1:123456789012:certificate/y")}},
				ConnectionLogOptions:  ec2clientvpn.EndpointConnectionLogOptionsArgs{Enabled: b(false)}}); err != nil {
				return err
			}
			_, err = ec2.NewVpnConnection(ctx, "site", &ec2.VpnConnectionArgs{CustomerGatewayId: s("cgw-1"), Type: s("ipsec.1"), TransitGatewayId: s("tgw-1")})
			return err
		},
		func() error { // load balancers: public, plaintext, single subnet
			alb, err := lb.NewLoadBalancer(ctx, "alb", &lb.LoadBalancerArgs{Subnets: pulumi.StringArray{s("subnet-1")}, DesyncMitigationMode: s("monitor")})
			if err != nil {
				return err
			}
			if _, err := lb.NewListener(ctx, "http", &lb.ListenerArgs{LoadBalancerArn: alb.Arn, Port: i(80), Protocol: s("HTTP"),
				DefaultActions: lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{Type: s("forward"), TargetGroupArn: s("arn:tg")}}}); err != nil {
				return err
			}
			if _, err := lb.NewListener(ctx, "https", &lb.ListenerArgs{LoadBalancerArn: alb.Arn, Port: i(443), Protocol: s("HTTPS"), SslPolicy: s("ELBSecurityPolicy-2016-08"),
				CertificateArn: s("arn:aws:acm:eu-west-1:123456789012:certificate/z"),
				DefaultActions: lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{Type: s("forward"), TargetGroupArn: s("arn:tg")}}}); err != nil {
				return err
			}
			_, err = elb.NewLoadBalancer(ctx, "classic", &elb.LoadBalancerArgs{AvailabilityZones: pulumi.StringArray{s("eu-west-1a")}, ConnectionDraining: b(false),
				Listeners: elb.LoadBalancerListenerArray{elb.LoadBalancerListenerArgs{LbPort: i(80), LbProtocol: s("http"), InstancePort: i(80), InstanceProtocol: s("http")}}})
			return err
		},
		func() error { // databases: defaults, a password in code
			if _, err := rds.NewCluster(ctx, "db", &rds.ClusterArgs{Engine: s("aurora-postgresql"), MasterUsername: s("postgres"), MasterPassword: s("Passw0rd!")}); err != nil {
				return err
			}
			if _, err := rds.NewClusterInstance(ctx, "db-1", &rds.ClusterInstanceArgs{ClusterIdentifier: s("db"), InstanceClass: s("db.t4g.medium"), Engine: s("aurora-postgresql"),
				PubliclyAccessible: b(true), AutoMinorVersionUpgrade: b(false)}); err != nil {
				return err
			}
			if _, err := rds.NewInstance(ctx, "legacy", &rds.InstanceArgs{Engine: s("postgres"), InstanceClass: s("db.t4g.micro"), AllocatedStorage: i(20),
				Username: s("admin"), Password: s("Passw0rd!"), PubliclyAccessible: b(true), SkipFinalSnapshot: b(true)}); err != nil {
				return err
			}
			if _, err := rds.NewEventSubscription(ctx, "events", &rds.EventSubscriptionArgs{SnsTopic: s("arn:aws:sns:eu-west-1:123456789012:t"), SourceType: s("db-instance"),
				EventCategories: pulumi.StringArray{s("notification")}}); err != nil {
				return err
			}
			if _, err := rds.NewProxy(ctx, "proxy", &rds.ProxyArgs{EngineFamily: s("POSTGRESQL"), RoleArn: s("arn:aws:iam::123456789012:role/p"), VpcSubnetIds: pulumi.StringArray{s("subnet-1")},
				Auths: rds.ProxyAuthArray{rds.ProxyAuthArgs{SecretArn: s("arn:s")}}}); err != nil {
				return err
			}
			if _, err := rds.NewSnapshot(ctx, "snap", &rds.SnapshotArgs{DbInstanceIdentifier: s("legacy"), DbSnapshotIdentifier: s("snap"), SharedAccounts: pulumi.StringArray{s("all")}}); err != nil {
				return err
			}
			if _, err := elasticache.NewReplicationGroup(ctx, "cache", &elasticache.ReplicationGroupArgs{Description: s("cache"), NodeType: s("cache.t4g.micro"),
				AutoMinorVersionUpgrade: b(false)}); err != nil {
				return err
			}
			_, err := elasticache.NewCluster(ctx, "memcached", &elasticache.ClusterArgs{Engine: s("memcached"), NodeType: s("cache.t4g.micro"), NumCacheNodes: i(1)})
			return err
		},
		func() error { // containers
			if _, err := ecr.NewRepository(ctx, "repo", &ecr.RepositoryArgs{}); err != nil {
				return err
			}
			if _, err := ecr.NewRepositoryPolicy(ctx, "repo-policy", &ecr.RepositoryPolicyArgs{Repository: s("repo"), Policy: s(openPolicy)}); err != nil {
				return err
			}
			if _, err := ecs.NewCluster(ctx, "cluster", &ecs.ClusterArgs{}); err != nil {
				return err
			}
			defs := `[{"name":"app","image":"nginx:latest","privileged":true,"linuxParameters":{"capabilities":{"add":["SYS_ADMIN"]}},` +
				`"environment":[{"name":"DB_PASSWORD","value":"Passw0rd!"}]}]`
			if _, err := ecs.NewTaskDefinition(ctx, "task", &ecs.TaskDefinitionArgs{Family: s("app"), ContainerDefinitions: s(defs), NetworkMode: s("host"),
				Volumes: ecs.TaskDefinitionVolumeArray{ecs.TaskDefinitionVolumeArgs{Name: s("efs"), EfsVolumeConfiguration: ecs.TaskDefinitionVolumeEfsVolumeConfigurationArgs{FileSystemId: s("fs-1")}}}}); err != nil {
				return err
			}
			if _, err := ecs.NewService(ctx, "service", &ecs.ServiceArgs{LaunchType: s("FARGATE"), PlatformVersion: s("1.3.0"),
				NetworkConfiguration: ecs.ServiceNetworkConfigurationArgs{Subnets: pulumi.StringArray{s("subnet-1")}, AssignPublicIp: b(true)}}); err != nil {
				return err
			}
			if _, err := ecs.NewTaskSet(ctx, "taskset", &ecs.TaskSetArgs{Cluster: s("cluster"), Service: s("service"), TaskDefinition: s("task"),
				NetworkConfiguration: ecs.TaskSetNetworkConfigurationArgs{Subnets: pulumi.StringArray{s("subnet-1")}, AssignPublicIp: b(true)}}); err != nil {
				return err
			}
			_, err := ecs.NewCapacityProvider(ctx, "ec2", &ecs.CapacityProviderArgs{AutoScalingGroupProvider: ecs.CapacityProviderAutoScalingGroupProviderArgs{AutoScalingGroupArn: s("arn:asg")}})
			return err
		},
		func() error { // IAM: admin everywhere
			if _, err := iam.NewRole(ctx, "admin", &iam.RoleArgs{
				AssumeRolePolicy:  s(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`),
				ManagedPolicyArns: pulumi.StringArray{s("arn:aws:iam::aws:policy/AdministratorAccess")},
				InlinePolicies:    iam.RoleInlinePolicyArray{iam.RoleInlinePolicyArgs{Name: s("all"), Policy: s(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}},
			}); err != nil {
				return err
			}
			if _, err := iam.NewUserPolicyAttachment(ctx, "alice", &iam.UserPolicyAttachmentArgs{User: s("alice"), PolicyArn: s("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
				return err
			}
			_, err := iam.NewAccountPasswordPolicy(ctx, "passwords", &iam.AccountPasswordPolicyArgs{MinimumPasswordLength: i(8)})
			return err
		},
		func() error { // keys, secrets, topics, logs, alarms
			if _, err := kms.NewKey(ctx, "key", &kms.KeyArgs{DeletionWindowInDays: i(7), Policy: s(openPolicy)}); err != nil {
				return err
			}
			if _, err := secretsmanager.NewSecret(ctx, "secret", &secretsmanager.SecretArgs{RecoveryWindowInDays: i(0), Policy: s(openPolicy)}); err != nil {
				return err
			}
			if _, err := sns.NewTopic(ctx, "topic", &sns.TopicArgs{Policy: s(openPolicy)}); err != nil {
				return err
			}
			if _, err := sns.NewTopicSubscription(ctx, "hook", &sns.TopicSubscriptionArgs{Topic: s("arn:aws:sns:eu-west-1:123456789012:topic"), Protocol: s("http"), Endpoint: s("http://hooks.example.com")}); err != nil {
				return err
			}
			if _, err := cloudwatch.NewLogGroup(ctx, "logs", &cloudwatch.LogGroupArgs{}); err != nil {
				return err
			}
			_, err := cloudwatch.NewMetricAlarm(ctx, "cpu", &cloudwatch.MetricAlarmArgs{ComparisonOperator: s("GreaterThanThreshold"), EvaluationPeriods: i(1),
				MetricName: s("CPUUtilization"), Namespace: s("AWS/EC2"), Period: i(60), Statistic: s("Average"), Threshold: pulumi.Float64(80)})
			return err
		},
		func() error { // S3: public bucket
			bucket, err := s3.NewBucketV2(ctx, "site", &s3.BucketV2Args{})
			if err != nil {
				return err
			}
			if _, err := s3.NewBucketAclV2(ctx, "site-acl", &s3.BucketAclV2Args{Bucket: bucket.ID(), Acl: s("public-read")}); err != nil {
				return err
			}
			if _, err := s3.NewBucketOwnershipControls(ctx, "site-ownership", &s3.BucketOwnershipControlsArgs{Bucket: bucket.ID(),
				Rule: s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: s("ObjectWriter")}}); err != nil {
				return err
			}
			if _, err := s3.NewBucketPolicy(ctx, "site-policy", &s3.BucketPolicyArgs{Bucket: bucket.ID(),
				Policy: s(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"},` +
					`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"s3:PutBucketPolicy","Resource":"arn:aws:s3:::site"}]}`)}); err != nil {
				return err
			}
			if _, err := s3.NewAccountPublicAccessBlock(ctx, "account", &s3.AccountPublicAccessBlockArgs{BlockPublicPolicy: b(false)}); err != nil {
				return err
			}
			_, err = s3control.NewMultiRegionAccessPoint(ctx, "mrap", &s3control.MultiRegionAccessPointArgs{Details: s3control.MultiRegionAccessPointDetailsArgs{Name: s("mrap"),
				PublicAccessBlock: s3control.MultiRegionAccessPointDetailsPublicAccessBlockArgs{BlockPublicPolicy: b(false)},
				Regions:           s3control.MultiRegionAccessPointDetailsRegionArray{s3control.MultiRegionAccessPointDetailsRegionArgs{Bucket: bucket.ID()}}}})
			return err
		},
		func() error { // Lambda
			if _, err := lambda.NewFunction(ctx, "fn", &lambda.FunctionArgs{Role: s("arn:aws:iam::123456789012:role/fn"), Runtime: s("python3.8"), Handler: s("index.handler"),
				Code:        pulumi.NewAssetArchive(map[string]interface{}{"index.py": pulumi.NewStringAsset("def handler(e, c): return 1\n")}),
				Environment: lambda.FunctionEnvironmentArgs{Variables: pulumi.StringMap{"API_TOKEN": s("tok-0123456789")}},
				VpcConfig:   lambda.FunctionVpcConfigArgs{SubnetIds: pulumi.StringArray{s("subnet-1")}, SecurityGroupIds: pulumi.StringArray{s("sg-1")}}}); err != nil {
				return err
			}
			if _, err := lambda.NewPermission(ctx, "fn-public", &lambda.PermissionArgs{Action: s("lambda:InvokeFunction"), Function: s("fn"), Principal: s("*")}); err != nil {
				return err
			}
			_, err := lambda.NewFunctionUrl(ctx, "fn-url", &lambda.FunctionUrlArgs{FunctionName: s("fn"), AuthorizationType: s("NONE")})
			return err
		},
		func() error { // APIs, Cognito, WAF
			api, err := apigateway.NewRestApi(ctx, "api", &apigateway.RestApiArgs{})
			if err != nil {
				return err
			}
			if _, err := apigateway.NewMethod(ctx, "post", &apigateway.MethodArgs{RestApi: api.ID(), ResourceId: api.RootResourceId, HttpMethod: s("POST"), Authorization: s("NONE")}); err != nil {
				return err
			}
			if _, err := apigateway.NewStage(ctx, "stage", &apigateway.StageArgs{RestApi: api.ID(), Deployment: s("dep"), StageName: s("prod")}); err != nil {
				return err
			}
			if _, err := apigateway.NewMethodSettings(ctx, "all", &apigateway.MethodSettingsArgs{RestApi: api.ID(), StageName: s("prod"), MethodPath: s("*/*"),
				Settings: apigateway.MethodSettingsSettingsArgs{CachingEnabled: b(true), DataTraceEnabled: b(true)}}); err != nil {
				return err
			}
			if _, err := apigateway.NewDomainName(ctx, "domain", &apigateway.DomainNameArgs{DomainName: s("api.example.com"), SecurityPolicy: s("TLS_1_0")}); err != nil {
				return err
			}
			if _, err := apigatewayv2.NewRoute(ctx, "v2-post", &apigatewayv2.RouteArgs{ApiId: s("v2"), RouteKey: s("POST /items")}); err != nil {
				return err
			}
			if _, err := apigatewayv2.NewStage(ctx, "v2-stage", &apigatewayv2.StageArgs{ApiId: s("v2")}); err != nil {
				return err
			}
			if _, err := cognito.NewUserPool(ctx, "users", &cognito.UserPoolArgs{}); err != nil {
				return err
			}
			if _, err := cognito.NewUserPoolClient(ctx, "client", &cognito.UserPoolClientArgs{UserPoolId: s("pool"), AllowedOauthFlows: pulumi.StringArray{s("implicit")}}); err != nil {
				return err
			}
			if _, err := cognito.NewIdentityPool(ctx, "identities", &cognito.IdentityPoolArgs{IdentityPoolName: s("ids"), AllowUnauthenticatedIdentities: b(true)}); err != nil {
				return err
			}
			vis := wafv2.WebAclRuleVisibilityConfigArgs{CloudwatchMetricsEnabled: b(false), MetricName: s("common"), SampledRequestsEnabled: b(false)}
			_, err = wafv2.NewWebAcl(ctx, "waf", &wafv2.WebAclArgs{Scope: s("REGIONAL"),
				DefaultAction:    wafv2.WebAclDefaultActionArgs{Allow: wafv2.WebAclDefaultActionAllowArgs{}},
				VisibilityConfig: wafv2.WebAclVisibilityConfigArgs{CloudwatchMetricsEnabled: b(false), MetricName: s("waf"), SampledRequestsEnabled: b(false)},
				Rules: wafv2.WebAclRuleArray{wafv2.WebAclRuleArgs{Name: s("common"), Priority: i(0), VisibilityConfig: vis,
					OverrideAction: wafv2.WebAclRuleOverrideActionArgs{Count: wafv2.WebAclRuleOverrideActionCountArgs{}},
					Statement:      wafv2.WebAclRuleStatementArgs{ManagedRuleGroupStatement: wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{VendorName: s("AWS"), Name: s("AWSManagedRulesCommonRuleSet")}}}}})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}
