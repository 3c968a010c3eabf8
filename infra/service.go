package infra

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/appautoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Settings of the service that follow from the app's contract (app/README.md).
const (
	// ContainerName is the task's only container.
	ContainerName = "books"
	// ContainerUser is the image's nonroot uid:gid (distroless nonroot).
	ContainerUser = "65532:65532"
	// StopTimeoutSeconds is above the app's 25 s drain deadline
	// (SHUTDOWN_TIMEOUT), so SIGKILL never interrupts a drain.
	StopTimeoutSeconds = 30
	// ShutdownGraceSeconds (app SHUTDOWN_GRACE): after SIGTERM the app
	// answers /readyz 503 and keeps serving, with Connection: close, while
	// the load balancer stops routing to a target whose deregistration
	// started with the signal (Fargate Spot interruption).
	ShutdownGraceSeconds = 10
	// ShutdownTimeoutSeconds (app SHUTDOWN_TIMEOUT) is SIGTERM to exit:
	// the grace plus in-flight requests (10 s request timeout); below
	// StopTimeoutSeconds and DeregistrationDelaySeconds.
	ShutdownTimeoutSeconds = 25
	// HealthCheckPath is the ALB target group's health check: liveness
	// only, so a database outage does not take every target out.
	HealthCheckPath = "/healthz"
	// HealthCheckGraceSeconds covers start-up: migrations wait for a
	// resuming Aurora Serverless (MIGRATION_TIMEOUT is 2 min).
	HealthCheckGraceSeconds = 120
	// DeregistrationDelaySeconds is short: requests finish within the
	// app's 10 s request timeout.
	DeregistrationDelaySeconds = 30
	// AlbIdleTimeoutSeconds is below the app's 75 s keep-alive idle
	// timeout, so the ALB closes idle connections first.
	AlbIdleTimeoutSeconds = 60
)

// ServiceArgs configures the container service.
type ServiceArgs struct {
	// Settings are the validated books:service values.
	Settings ServiceConfig
	// AppDir is the Docker build context, relative to the project directory
	// (the program's working directory), e.g. "app".
	AppDir string
	// ImageTag is the content hash of AppDir (ImageTag): unchanged sources
	// keep the tag, the digest and the task definition.
	ImageTag string
	// Family is the task definition family (default project-stack-name).
	Family string

	VpcId pulumi.StringInput
	// SubnetIds are the private subnets of the ALB and the tasks.
	SubnetIds              pulumi.StringArrayInput
	AlbSecurityGroupId     pulumi.StringInput
	ServiceSecurityGroupId pulumi.StringInput

	// Database connection (plain values) and its RDS-managed secret.
	DbHost, DbName, DbUser pulumi.StringInput
	DbPort                 pulumi.IntInput
	DbSecretArn            pulumi.StringInput
	DbKmsKeyArn            pulumi.StringInput
	// RedisUrlSecretArn is the Cache component's REDIS_URL secret.
	RedisUrlSecretArn pulumi.StringInput
	CacheKmsKeyArn    pulumi.StringInput
	// BasicAuthPassword (secret) is stored in a Secrets Manager secret.
	BasicAuthPassword pulumi.StringInput
	// MetricsEnvironment is the app's EMF namespace and dimension values
	// (AppMetrics.TaskEnvironment), plain container environment.
	MetricsEnvironment []KeyValuePair

	// Alarms are the thresholds and periods of the deployment alarms
	// (books:alarms, the same as Monitoring's alarms on the target group).
	Alarms AlarmsConfig

	// DeletionProtection protects the ALB and keeps ECR from deleting a
	// repository that still holds images.
	DeletionProtection bool
	// Protect marks the KMS key and the Basic-auth secret with pulumi.Protect.
	Protect bool
	Env     Environment
}

// Service is the books API on ECS Fargate behind an internal ALB.
type Service struct {
	pulumi.ResourceState

	ClusterName          pulumi.StringOutput `pulumi:"clusterName"`
	ClusterArn           pulumi.StringOutput `pulumi:"clusterArn"`
	ServiceName          pulumi.StringOutput `pulumi:"serviceName"`
	TaskDefinitionArn    pulumi.StringOutput `pulumi:"taskDefinitionArn"`
	AlbArn               pulumi.StringOutput `pulumi:"albArn"`
	AlbArnSuffix         pulumi.StringOutput `pulumi:"albArnSuffix"`
	AlbDnsName           pulumi.StringOutput `pulumi:"albDnsName"`
	ListenerArn          pulumi.StringOutput `pulumi:"listenerArn"`
	TargetGroupArn       pulumi.StringOutput `pulumi:"targetGroupArn"`
	TargetGroupArnSuffix pulumi.StringOutput `pulumi:"targetGroupArnSuffix"`
	RepositoryUrl        pulumi.StringOutput `pulumi:"repositoryUrl"`
	// ImageRef is the pushed image by digest (repository@sha256:…).
	ImageRef     pulumi.StringOutput `pulumi:"imageRef"`
	LogGroupName pulumi.StringOutput `pulumi:"logGroupName"`
}

// DockerPlatform is the docker platform of a books:service architecture.
func DockerPlatform(architecture string) string {
	if architecture == "x86_64" {
		return "linux/amd64"
	}
	return "linux/arm64"
}

// ecsCPUArchitecture is the task definition's runtimePlatform.cpuArchitecture.
func ecsCPUArchitecture(architecture string) string {
	if architecture == "x86_64" {
		return "X86_64"
	}
	return "ARM64"
}

// NewService creates the KMS key, ECR repository and image, log group,
// Basic-auth secret, roles, cluster, task definition, ALB, ECS service and
// its autoscaling.
func NewService(ctx *pulumi.Context, name string, args *ServiceArgs, opts ...pulumi.ResourceOption) (*Service, error) {
	if args == nil {
		return nil, fmt.Errorf("service %s: args are required", name)
	}
	if args.ImageTag == "" || args.AppDir == "" {
		return nil, fmt.Errorf("service %s: AppDir and ImageTag are required", name)
	}
	s := args.Settings
	family := args.Family
	if family == "" {
		family = fmt.Sprintf("%s-%s-%s", ctx.Project(), ctx.Stack(), name)
	}
	svc := &Service{}
	if err := ctx.RegisterComponentResource("books:infra:Service", name, svc, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(svc)

	keyPolicy, err := serviceKeyPolicy(args.Env)
	if err != nil {
		return nil, err
	}
	key, err := newKmsKey(ctx, name, "ECR images, logs and the Basic-auth secret of "+name, pulumi.String(keyPolicy), args.Protect, svc)
	if err != nil {
		return nil, err
	}

	repo, image, err := newImage(ctx, name, args, key.Arn, svc)
	if err != nil {
		return nil, err
	}

	logGroup, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		RetentionInDays: pulumi.Int(s.LogRetentionDays),
		KmsKeyId:        key.Arn,
	}, parent)
	if err != nil {
		return nil, err
	}

	authSecret, err := secretsmanager.NewSecret(ctx, name+"-basic-auth", &secretsmanager.SecretArgs{
		Description: pulumi.String("BASIC_AUTH_PASSWORD of the books service (from books:basicAuthPassword)"),
		KmsKeyId:    key.Arn,
	}, parent, pulumi.Protect(args.Protect))
	if err != nil {
		return nil, err
	}
	authVersion, err := secretsmanager.NewSecretVersion(ctx, name+"-basic-auth", &secretsmanager.SecretVersionArgs{
		SecretId:     authSecret.ID(),
		SecretString: pulumi.ToSecret(args.BasicAuthPassword).(pulumi.StringOutput),
	}, pulumi.Parent(authSecret))
	if err != nil {
		return nil, err
	}
	// The task definition names the secret; tasks read its AWSCURRENT
	// version, which exists only once the version does.
	authSecretArn := waitFor(authSecret.Arn, authVersion)

	execPolicy := policyFromOutputs(func(v []string) PolicyDocument {
		return ExecutionRolePolicy(v[0], v[1], []string{v[2], v[3]}, []string{v[4], v[5]})
	}, repo.Arn, logGroup.Arn, authSecretArn, args.RedisUrlSecretArn, key.Arn, args.CacheKmsKeyArn)
	_, execRoleArn, err := newServiceRole(ctx, name+"-execution", "ecs-tasks.amazonaws.com", args.Env.Account, execPolicy, svc)
	if err != nil {
		return nil, err
	}
	taskPolicy := policyFromOutputs(func(v []string) PolicyDocument {
		return TaskRolePolicy(v[0], v[1])
	}, args.DbSecretArn, args.DbKmsKeyArn)
	_, taskRoleArn, err := newServiceRole(ctx, name+"-task", "ecs-tasks.amazonaws.com", args.Env.Account, taskPolicy, svc)
	if err != nil {
		return nil, err
	}

	cluster, err := ecs.NewCluster(ctx, name, &ecs.ClusterArgs{
		Settings: ecs.ClusterSettingArray{ecs.ClusterSettingArgs{
			Name: pulumi.String("containerInsights"), Value: pulumi.String("enabled"),
		}},
	}, parent)
	if err != nil {
		return nil, err
	}
	strategy := CapacityStrategy(s.SpotPercent)
	defaultStrategies := ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArray{}
	serviceStrategies := ecs.ServiceCapacityProviderStrategyArray{}
	for _, st := range strategy {
		defaultStrategies = append(defaultStrategies, ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs{
			CapacityProvider: pulumi.String(st.Provider), Weight: pulumi.Int(st.Weight), Base: pulumi.Int(st.Base),
		})
		serviceStrategies = append(serviceStrategies, ecs.ServiceCapacityProviderStrategyArgs{
			CapacityProvider: pulumi.String(st.Provider), Weight: pulumi.Int(st.Weight), Base: pulumi.Int(st.Base),
		})
	}
	providers, err := ecs.NewClusterCapacityProviders(ctx, name, &ecs.ClusterCapacityProvidersArgs{
		ClusterName:                       cluster.Name,
		CapacityProviders:                 pulumi.ToStringArray([]string{"FARGATE", "FARGATE_SPOT"}),
		DefaultCapacityProviderStrategies: defaultStrategies,
	}, pulumi.Parent(cluster))
	if err != nil {
		return nil, err
	}

	dbPort := args.DbPort.ToIntOutput().ApplyT(strconv.Itoa).(pulumi.StringOutput)
	containers := pulumi.All(image.RepoDigest, logGroup.Name, args.DbHost, dbPort, args.DbName, args.DbUser,
		args.DbSecretArn, authSecretArn, args.RedisUrlSecretArn).ApplyT(func(v []any) (string, error) {
		str := func(i int) string { return v[i].(string) }
		return ContainerDefinitions(ContainerInputs{
			Image: str(0), LogGroup: str(1), Region: args.Env.Region,
			DbHost: str(2), DbPort: str(3), DbName: str(4), DbUser: str(5), DbSecretArn: str(6),
			BasicAuthSecretArn: str(7), RedisUrlSecretArn: str(8),
			Port: s.ContainerPort, LogLevel: s.LogLevel, Extra: args.MetricsEnvironment,
		})
	}).(pulumi.StringOutput)
	task, err := ecs.NewTaskDefinition(ctx, name, &ecs.TaskDefinitionArgs{
		Family:                  pulumi.String(family),
		Cpu:                     pulumi.String(strconv.Itoa(s.Cpu)),
		Memory:                  pulumi.String(strconv.Itoa(s.Memory)),
		NetworkMode:             pulumi.String("awsvpc"),
		RequiresCompatibilities: pulumi.ToStringArray([]string{"FARGATE"}),
		RuntimePlatform: ecs.TaskDefinitionRuntimePlatformArgs{
			CpuArchitecture:       pulumi.String(ecsCPUArchitecture(s.Architecture)),
			OperatingSystemFamily: pulumi.String("LINUX"),
		},
		ExecutionRoleArn:     execRoleArn,
		TaskRoleArn:          taskRoleArn,
		ContainerDefinitions: containers,
	}, parent)
	if err != nil {
		return nil, err
	}

	alb, err := lb.NewLoadBalancer(ctx, name, &lb.LoadBalancerArgs{
		LoadBalancerType:         pulumi.String("application"),
		Internal:                 pulumi.Bool(true),
		Subnets:                  args.SubnetIds,
		SecurityGroups:           pulumi.StringArray{args.AlbSecurityGroupId},
		DropInvalidHeaderFields:  pulumi.Bool(true),
		EnableDeletionProtection: pulumi.Bool(args.DeletionProtection),
		IdleTimeout:              pulumi.Int(AlbIdleTimeoutSeconds),
	}, parent)
	if err != nil {
		return nil, err
	}
	tg, err := lb.NewTargetGroup(ctx, name, &lb.TargetGroupArgs{
		TargetType:          pulumi.String("ip"),
		Port:                pulumi.Int(s.ContainerPort),
		Protocol:            pulumi.String("HTTP"),
		VpcId:               args.VpcId,
		DeregistrationDelay: pulumi.Int(DeregistrationDelaySeconds),
		HealthCheck: lb.TargetGroupHealthCheckArgs{
			Enabled:            pulumi.Bool(true),
			Path:               pulumi.String(HealthCheckPath),
			Protocol:           pulumi.String("HTTP"),
			Matcher:            pulumi.String("200"),
			Interval:           pulumi.Int(15),
			Timeout:            pulumi.Int(5),
			HealthyThreshold:   pulumi.Int(2),
			UnhealthyThreshold: pulumi.Int(3),
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	listener, err := lb.NewListener(ctx, name, &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn,
		Port:            pulumi.Int(HTTPPort),
		Protocol:        pulumi.String("HTTP"),
		DefaultActions: lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
			Type:           pulumi.String("forward"),
			TargetGroupArn: tg.Arn,
		}},
	}, pulumi.Parent(alb))
	if err != nil {
		return nil, err
	}

	deployAlarms, err := newDeploymentAlarms(ctx, name, args.Alarms, alb.ArnSuffix, tg.ArnSuffix, parent)
	if err != nil {
		return nil, err
	}
	service, err := ecs.NewService(ctx, name, &ecs.ServiceArgs{
		Cluster:                    cluster.Arn,
		TaskDefinition:             task.Arn,
		DesiredCount:               pulumi.Int(s.DesiredCount),
		CapacityProviderStrategies: serviceStrategies,
		NetworkConfiguration: ecs.ServiceNetworkConfigurationArgs{
			Subnets:        args.SubnetIds,
			SecurityGroups: pulumi.StringArray{args.ServiceSecurityGroupId},
			AssignPublicIp: pulumi.Bool(false),
		},
		LoadBalancers: ecs.ServiceLoadBalancerArray{ecs.ServiceLoadBalancerArgs{
			TargetGroupArn: tg.Arn,
			ContainerName:  pulumi.String(ContainerName),
			ContainerPort:  pulumi.Int(s.ContainerPort),
		}},
		DeploymentCircuitBreaker: ecs.ServiceDeploymentCircuitBreakerArgs{
			Enable: pulumi.Bool(true), Rollback: pulumi.Bool(true),
		},
		Alarms:                          deploymentAlarmsArgs(deployAlarms),
		AvailabilityZoneRebalancing:     pulumi.String(azRebalancing(s)),
		DeploymentMinimumHealthyPercent: pulumi.Int(100),
		DeploymentMaximumPercent:        pulumi.Int(200),
		HealthCheckGracePeriodSeconds:   pulumi.Int(HealthCheckGraceSeconds),
		PropagateTags:                   pulumi.String("SERVICE"),
		EnableEcsManagedTags:            pulumi.Bool(true),
		WaitForSteadyState:              pulumi.Bool(true),
	}, parent,
		// The target group must be attached to the ALB, and the cluster
		// must have its capacity providers, before the service starts.
		pulumi.DependsOn([]pulumi.Resource{listener, providers}),
		// Autoscaling owns the running count after creation; a deploy
		// must not reset it to desiredCount.
		pulumi.IgnoreChanges([]string{"desiredCount"}))
	if err != nil {
		return nil, err
	}

	if err := newAutoscaling(ctx, name, s, cluster.Name, service.Name,
		pulumi.Sprintf("%s/%s", alb.ArnSuffix, tg.ArnSuffix), parent); err != nil {
		return nil, err
	}

	svc.ClusterName = cluster.Name
	svc.ClusterArn = cluster.Arn
	svc.ServiceName = service.Name
	svc.TaskDefinitionArn = task.Arn
	svc.AlbArn = alb.Arn
	svc.AlbArnSuffix = alb.ArnSuffix
	svc.AlbDnsName = alb.DnsName
	svc.ListenerArn = listener.Arn
	svc.TargetGroupArn = tg.Arn
	svc.TargetGroupArnSuffix = tg.ArnSuffix
	svc.RepositoryUrl = repo.RepositoryUrl
	svc.ImageRef = image.RepoDigest
	svc.LogGroupName = logGroup.Name
	return svc, ctx.RegisterResourceOutputs(svc, pulumi.Map{
		"clusterName":          svc.ClusterName,
		"clusterArn":           svc.ClusterArn,
		"serviceName":          svc.ServiceName,
		"taskDefinitionArn":    svc.TaskDefinitionArn,
		"albArn":               svc.AlbArn,
		"albArnSuffix":         svc.AlbArnSuffix,
		"albDnsName":           svc.AlbDnsName,
		"listenerArn":          svc.ListenerArn,
		"targetGroupArn":       svc.TargetGroupArn,
		"targetGroupArnSuffix": svc.TargetGroupArnSuffix,
		"repositoryUrl":        svc.RepositoryUrl,
		"imageRef":             svc.ImageRef,
		"logGroupName":         svc.LogGroupName,
	})
}

// newImage creates the ECR repository, its lifecycle policy, and builds and
// pushes the image tagged with args.ImageTag.
//
// BuildOnPreview is false: `pulumi preview` does not build, so PR previews
// run on runners without a Docker daemon; the image's repoDigest, and so
// the task definition, show as unknown ("computed") in a preview whenever
// the tag changed. `pulumi up` builds with BuildKit for the configured
// platform and pushes with a short-lived ECR token.
func newImage(ctx *pulumi.Context, name string, args *ServiceArgs, keyArn pulumi.StringOutput, owner pulumi.Resource) (*ecr.Repository, *docker.Image, error) {
	parent := pulumi.Parent(owner)
	repo, err := ecr.NewRepository(ctx, name, &ecr.RepositoryArgs{
		ImageTagMutability: pulumi.String("IMMUTABLE"),
		ImageScanningConfiguration: ecr.RepositoryImageScanningConfigurationArgs{
			ScanOnPush: pulumi.Bool(true),
		},
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{ecr.RepositoryEncryptionConfigurationArgs{
			EncryptionType: pulumi.String("KMS"),
			KmsKey:         keyArn,
		}},
		ForceDelete: pulumi.Bool(!args.DeletionProtection),
	}, parent)
	if err != nil {
		return nil, nil, err
	}
	lifecycle, err := json.Marshal(ImageLifecyclePolicy(args.Settings.KeepImages))
	if err != nil {
		return nil, nil, err
	}
	if _, err := ecr.NewLifecyclePolicy(ctx, name, &ecr.LifecyclePolicyArgs{
		Repository: repo.Name,
		Policy:     pulumi.String(string(lifecycle)),
	}, pulumi.Parent(repo)); err != nil {
		return nil, nil, err
	}

	token := ecr.GetAuthorizationTokenOutput(ctx, ecr.GetAuthorizationTokenOutputArgs{
		RegistryId: repo.RegistryId,
	}, parent)
	image, err := docker.NewImage(ctx, name, &docker.ImageArgs{
		ImageName: pulumi.Sprintf("%s:%s", repo.RepositoryUrl, args.ImageTag),
		Build: docker.DockerBuildArgs{
			Context:        pulumi.String(args.AppDir),
			Dockerfile:     pulumi.String(args.AppDir + "/Dockerfile"),
			Platform:       pulumi.String(DockerPlatform(args.Settings.Architecture)),
			BuilderVersion: docker.BuilderVersionBuilderBuildKit,
		},
		BuildOnPreview: pulumi.Bool(false),
		Registry: docker.RegistryArgs{
			Server:   repo.RepositoryUrl,
			Username: token.UserName(),
			Password: pulumi.ToSecret(token.Password()).(pulumi.StringOutput),
		},
	}, parent)
	if err != nil {
		return nil, nil, err
	}
	return repo, image, nil
}

// newAutoscaling registers the service's desired count with Application
// Auto Scaling and tracks CPU and ALB requests per target.
func newAutoscaling(ctx *pulumi.Context, name string, s ServiceConfig, clusterName, serviceName, resourceLabel pulumi.StringInput, parent pulumi.ResourceOption) error {
	target, err := appautoscaling.NewTarget(ctx, name, &appautoscaling.TargetArgs{
		ServiceNamespace:  pulumi.String("ecs"),
		ScalableDimension: pulumi.String("ecs:service:DesiredCount"),
		ResourceId:        pulumi.Sprintf("service/%s/%s", clusterName, serviceName),
		MinCapacity:       pulumi.Int(s.MinCount),
		MaxCapacity:       pulumi.Int(s.MaxCount),
	}, parent)
	if err != nil {
		return err
	}
	policies := []struct {
		suffix, metric string
		label          pulumi.StringInput
		target         int
	}{
		{"cpu", "ECSServiceAverageCPUUtilization", nil, s.CpuTargetPercent},
		{"requests", "ALBRequestCountPerTarget", resourceLabel, s.RequestsPerTarget},
	}
	for _, p := range policies {
		spec := appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs{
			PredefinedMetricType: pulumi.String(p.metric),
		}
		if p.label != nil {
			spec.ResourceLabel = p.label
		}
		if _, err := appautoscaling.NewPolicy(ctx, name+"-"+p.suffix, &appautoscaling.PolicyArgs{
			PolicyType:        pulumi.String("TargetTrackingScaling"),
			ResourceId:        target.ResourceId,
			ScalableDimension: target.ScalableDimension,
			ServiceNamespace:  target.ServiceNamespace,
			TargetTrackingScalingPolicyConfiguration: appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs{
				PredefinedMetricSpecification: spec,
				TargetValue:                   pulumi.Float64(float64(p.target)),
				ScaleOutCooldown:              pulumi.Int(60),
				ScaleInCooldown:               pulumi.Int(300),
			},
		}, pulumi.Parent(target)); err != nil {
			return err
		}
	}
	return nil
}

// CapacityProviderShare is one entry of a capacity provider strategy.
type CapacityProviderShare struct {
	Provider     string
	Weight, Base int
}

// CapacityStrategy splits tasks between Fargate Spot (spotPercent) and
// on-demand Fargate. A mixed strategy keeps one on-demand task as its base.
func CapacityStrategy(spotPercent int) []CapacityProviderShare {
	switch {
	case spotPercent >= 100:
		return []CapacityProviderShare{{Provider: "FARGATE_SPOT", Weight: 1}}
	case spotPercent <= 0:
		return []CapacityProviderShare{{Provider: "FARGATE", Weight: 1}}
	}
	return []CapacityProviderShare{
		{Provider: "FARGATE", Weight: 100 - spotPercent, Base: 1},
		{Provider: "FARGATE_SPOT", Weight: spotPercent},
	}
}
