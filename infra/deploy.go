package infra

import (
	"fmt"
	"path/filepath"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Deploy is the program: main.go passes it to pulumi.Run, the tests to
// pulumi.RunErr with mocks, the offline preview to the Automation API. It
// reads and validates the stack config first, so a bad value fails before
// any resource is registered, then composes the components.
func Deploy(ctx *pulumi.Context) error {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return err
	}
	env, err := resolveEnvironment(ctx, cfg.Region)
	if err != nil {
		return err
	}

	network, err := NewNetwork(ctx, "network", &NetworkArgs{
		Cidr:                 cfg.Network.Cidr,
		AzCount:              cfg.Network.AzCount,
		NatStrategy:          cfg.Network.NatStrategy,
		PublicSubnetMask:     cfg.Network.PublicSubnetMask,
		PrivateSubnetMask:    cfg.Network.PrivateSubnetMask,
		IsolatedSubnetMask:   cfg.Network.IsolatedSubnetMask,
		FlowLogRetentionDays: cfg.Network.FlowLogRetentionDays,
		InterfaceEndpoints:   cfg.Network.InterfaceEndpoints,
		ContainerPort:        cfg.Service.ContainerPort,
		Env:                  env,
	})
	if err != nil {
		return err
	}

	database, err := NewDatabase(ctx, "database", &DatabaseArgs{
		Settings:                cfg.Database,
		SubnetIds:               network.IsolatedSubnetIds,
		SecurityGroupId:         network.DatabaseSecurityGroupId,
		FinalSnapshotIdentifier: fmt.Sprintf("%s-%s-final", cfg.Project, cfg.Stack),
		Protect:                 cfg.Protect,
		Env:                     env,
	})
	if err != nil {
		return err
	}

	cache, err := NewCache(ctx, "cache", &CacheArgs{
		Settings:        cfg.Cache,
		SubnetIds:       network.IsolatedSubnetIds,
		SecurityGroupId: network.CacheSecurityGroupId,
		AuthToken:       cfg.CacheAuthToken,
		Protect:         cfg.Protect,
	})
	if err != nil {
		return err
	}

	projectRoot, err := FindProjectRoot(ctx.RootDirectory())
	if err != nil {
		return err
	}
	imageTag, err := ImageTag(filepath.Join(projectRoot, AppDir), DockerPlatform(cfg.Service.Architecture))
	if err != nil {
		return err
	}
	appMetrics, err := LoadAppMetrics(filepath.Join(projectRoot, AppDir))
	if err != nil {
		return err
	}
	appDims := AppMetricDimensions{Stack: cfg.Stack, Service: cfg.Project + "-api"}
	service, err := NewService(ctx, "service", &ServiceArgs{
		Settings:               cfg.Service,
		AppDir:                 AppDir,
		ImageTag:               imageTag,
		Family:                 fmt.Sprintf("%s-%s", cfg.Project, cfg.Stack),
		VpcId:                  network.VpcId,
		SubnetIds:              network.PrivateSubnetIds,
		AlbSecurityGroupId:     network.AlbSecurityGroupId,
		ServiceSecurityGroupId: network.ServiceSecurityGroupId,
		DbHost:                 database.Endpoint,
		DbPort:                 database.Port,
		DbName:                 database.DatabaseName,
		DbUser:                 database.MasterUsername,
		DbSecretArn:            database.MasterSecretArn,
		DbKmsKeyArn:            database.KmsKeyArn,
		RedisUrlSecretArn:      cache.UrlSecretArn,
		CacheKmsKeyArn:         cache.KmsKeyArn,
		BasicAuthPassword:      cfg.BasicAuthPassword,
		MetricsEnvironment:     appMetrics.TaskEnvironment(appDims),
		Alarms:                 cfg.Alarms,
		DeletionProtection:     cfg.Protect,
		Protect:                cfg.Protect,
		Env:                    env,
	})
	if err != nil {
		return err
	}
	ctx.Export("ecsClusterName", service.ClusterName)
	ctx.Export("ecsServiceName", service.ServiceName)
	ctx.Export("taskDefinitionArn", service.TaskDefinitionArn)
	ctx.Export("imageRef", service.ImageRef)
	ctx.Export("albDnsName", service.AlbDnsName)

	api, err := NewApi(ctx, "api", &ApiArgs{
		Settings:           cfg.Api,
		VpcId:              network.VpcId,
		PrivateSubnetIds:   network.PrivateSubnetIds,
		AlbArn:             service.AlbArn,
		AlbListenerArn:     service.ListenerArn,
		AlbPort:            HTTPPort,
		BasicAuthPassword:  cfg.BasicAuthPassword,
		DeletionProtection: cfg.Protect,
		Env:                env,
	})
	if err != nil {
		return err
	}
	ctx.Export("apiUrl", api.ApiUrl)
	ctx.Export("restApiId", api.RestApiId)
	ctx.Export("stageName", api.StageName)
	ctx.Export("userPoolId", api.UserPoolId)
	ctx.Export("userPoolClientId", api.UserPoolClientId)
	ctx.Export("limitsDemoEnabled", pulumi.Bool(cfg.Api.LimitsDemo))
	if cfg.Api.LimitsDemo {
		ctx.Export("payloadBucketName", api.PayloadBucketName)
	}
	if cfg.Api.Waf {
		ctx.Export("webAclArn", api.WebAclArn)
	}
	if cfg.Api.DomainName != "" {
		ctx.Export("customDomainUrl", api.CustomDomainUrl)
	}

	// Monitoring: alarms, their topic and the dashboard for every tier wired
	// below (a tier left nil gets neither alarms nor a dashboard row).
	monitoring, err := NewMonitoring(ctx, "monitoring", &MonitoringArgs{
		Settings:      cfg.Alarms,
		DashboardName: fmt.Sprintf("%s-%s", cfg.Project, cfg.Stack),
		Protect:       cfg.Protect,
		Env:           env,
		Api: &ApiMonitoring{
			RestApiName:        api.RestApiName,
			StageName:          api.StageName,
			Waf:                cfg.Api.Waf,
			WebAclMetricName:   api.WebAclMetricName,
			LimitsDemo:         cfg.Api.LimitsDemo,
			LimitsFunctionName: api.LimitsFunctionName,
		},
		LoadBalancer: &LoadBalancerMonitoring{
			AlbArnSuffix:         service.AlbArnSuffix,
			TargetGroupArnSuffix: service.TargetGroupArnSuffix,
		},
		Service: &ServiceMonitoring{
			ClusterName: service.ClusterName,
			ServiceName: service.ServiceName,
		},
		Database: &DatabaseMonitoring{
			ClusterIdentifier: database.ClusterIdentifier,
			Serverless:        cfg.Database.Serverless,
			AutoPause:         cfg.Database.Serverless && cfg.Database.MinCapacity == 0,
			Readers:           cfg.Database.Readers,
		},
		Cache: &CacheMonitoring{
			ReplicationGroupId: cache.ReplicationGroupId,
			MemberClusters:     cache.MemberClusters,
			NodeCount:          cfg.Cache.NodeCount,
		},
		App: &AppMonitoring{Metrics: appMetrics, Dimensions: appDims},
	})
	if err != nil {
		return err
	}
	ctx.Export("alarmTopicArn", monitoring.AlarmTopicArn)
	ctx.Export("dashboardName", monitoring.DashboardName)
	ctx.Export("dashboardUrl", monitoring.DashboardUrl)

	ctx.Export("region", pulumi.String(cfg.Region))
	ctx.Export("vpcId", network.VpcId)
	ctx.Export("dbClusterIdentifier", database.ClusterIdentifier)
	ctx.Export("dbClusterEndpoint", database.Endpoint)
	ctx.Export("dbReaderEndpoint", database.ReaderEndpoint)
	ctx.Export("dbMasterSecretArn", database.MasterSecretArn)
	ctx.Export("cacheReplicationGroupId", cache.ReplicationGroupId)
	ctx.Export("cacheEndpoint", cache.PrimaryEndpoint)
	return nil
}

// resolveEnvironment asks the provider who and where we are: the account
// scopes trust policies, the partition builds ARNs (aws, aws-cn, aws-us-gov).
func resolveEnvironment(ctx *pulumi.Context, region string) (Environment, error) {
	caller, err := aws.GetCallerIdentity(ctx, nil, nil)
	if err != nil {
		return Environment{}, fmt.Errorf("look up the AWS account (are credentials configured?): %w", err)
	}
	partition, err := aws.GetPartition(ctx, nil, nil)
	if err != nil {
		return Environment{}, fmt.Errorf("look up the AWS partition: %w", err)
	}
	return Environment{Region: region, Account: caller.AccountId, Partition: partition.Partition}, nil
}
