package infra

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// MonitoringArgs configures the alarms, their topic and the dashboard. Each
// tier is optional: a nil tier gets no alarms and no dashboard row, so the
// composition wires a tier by handing over its identifiers. The identifiers
// are the values AWS publishes as metric dimensions (see each field).
type MonitoringArgs struct {
	// Thresholds, periods and e-mail subscribers (validated books:alarms).
	Settings AlarmsConfig
	// DashboardName is the dashboard's physical name (CloudWatch requires
	// one), e.g. "books-dev".
	DashboardName string
	// Protect marks the topic's KMS key with pulumi.Protect.
	Protect bool
	Env     Environment

	Api          *ApiMonitoring
	LoadBalancer *LoadBalancerMonitoring
	Service      *ServiceMonitoring
	Database     *DatabaseMonitoring
	Cache        *CacheMonitoring
	// App adds the service's own metrics (EMF): a dashboard row and the
	// cache hit ratio and database pool wait alarms.
	App *AppMonitoring
}

// ApiMonitoring identifies the REST API stage (AWS/ApiGateway ApiName +
// Stage), its WAF web ACL and the limits demo's Lambda function.
type ApiMonitoring struct {
	// RestApiName is the REST API's name (the ApiName dimension).
	RestApiName pulumi.StringInput
	StageName   pulumi.StringInput
	// Waf adds the blocked-request alarm; WebAclMetricName is the web ACL's
	// visibility-config metric name, the WebACL dimension of AWS/WAFV2.
	Waf              bool
	WebAclMetricName pulumi.StringInput
	// LimitsDemo adds the demo Lambda's error alarm (FunctionName dimension).
	LimitsDemo         bool
	LimitsFunctionName pulumi.StringInput
}

// LoadBalancerMonitoring identifies the internal ALB and the service's
// target group by their ARN suffixes (AWS/ApplicationELB LoadBalancer =
// "app/<name>/<id>", TargetGroup = "targetgroup/<name>/<id>").
type LoadBalancerMonitoring struct {
	AlbArnSuffix         pulumi.StringInput
	TargetGroupArnSuffix pulumi.StringInput
}

// ServiceMonitoring identifies the ECS service (AWS/ECS ClusterName + ServiceName).
type ServiceMonitoring struct {
	ClusterName pulumi.StringInput
	ServiceName pulumi.StringInput
}

// DatabaseMonitoring identifies the Aurora cluster (AWS/RDS DBClusterIdentifier).
type DatabaseMonitoring struct {
	ClusterIdentifier pulumi.StringInput
	// Serverless adds the ACUUtilization alarm.
	Serverless bool
	// AutoPause (Serverless v2 with minimum capacity 0): a paused cluster
	// publishes no metrics, so missing data is treated as fine.
	AutoPause bool
	// Readers is the number of reader instances; with any, the READER role
	// gets its own alarms besides the WRITER's.
	Readers int
}

// Roles are the instance roles (the Role dimension) the cluster has.
func (d *DatabaseMonitoring) Roles() []string {
	if d.Readers > 0 {
		return []string{"WRITER", "READER"}
	}
	return []string{"WRITER"}
}

// CacheMonitoring identifies the ElastiCache nodes. Valkey/Redis OSS metrics
// are published per node with the CacheClusterId dimension (the replication
// group's member clusters), so each node gets its own alarms.
type CacheMonitoring struct {
	ReplicationGroupId pulumi.StringInput
	MemberClusters     pulumi.StringArrayInput
	// NodeCount is how many member clusters there are (known from config,
	// so the alarms are registered outside any Apply).
	NodeCount int
}

// Monitoring is the alarm topic, the alarms and the dashboard.
type Monitoring struct {
	pulumi.ResourceState

	AlarmTopicArn pulumi.StringOutput `pulumi:"alarmTopicArn"`
	KmsKeyArn     pulumi.StringOutput `pulumi:"kmsKeyArn"`
	DashboardName pulumi.StringOutput `pulumi:"dashboardName"`
	DashboardUrl  pulumi.StringOutput `pulumi:"dashboardUrl"`
}

// Treat-missing-data values. Each alarm chooses one deliberately:
//   - notBreaching for event counts and latency, which AWS publishes only
//     when there is traffic (no requests means nothing went wrong), and for
//     a database that auto-pauses (a paused cluster publishes nothing);
//   - missing for gauges AWS publishes every period, so a gap is reported
//     as INSUFFICIENT_DATA rather than hidden.
const (
	missingNotBreaching = "notBreaching"
	missingKeep         = "missing"
)

// AlarmSpec is one metric alarm; AlarmSpecs lists every alarm in one place
// so the set can be reviewed against AWS's metric documentation.
type AlarmSpec struct {
	// Suffix makes the logical name: <component>-<Suffix>.
	Suffix, Description          string
	Namespace, MetricName        string
	Statistic, ExtendedStatistic string
	Comparison                   string
	Threshold                    float64
	TreatMissingData             string
	Dimensions                   pulumi.StringMap
	IgnoreLowSamplePercentile    bool
}

// NewMonitoring creates the KMS key and SNS topic, the e-mail subscriptions,
// the alarms of every given tier, the RDS event subscription and the dashboard.
func NewMonitoring(ctx *pulumi.Context, name string, args *MonitoringArgs, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	if args == nil {
		return nil, fmt.Errorf("monitoring %s: args are required", name)
	}
	if args.DashboardName == "" {
		return nil, fmt.Errorf("monitoring %s: DashboardName is required", name)
	}
	m := &Monitoring{}
	if err := ctx.RegisterComponentResource("books:infra:Monitoring", name, m, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(m)

	keyPolicy, err := alarmTopicKeyPolicy(args.Env).JSON()
	if err != nil {
		return nil, err
	}
	key, err := newKmsKey(ctx, name, "Alarm topic of "+name+" (CloudWatch alarms and RDS events publish to it)", pulumi.String(keyPolicy), args.Protect, m)
	if err != nil {
		return nil, err
	}
	topic, err := sns.NewTopic(ctx, name+"-alarms", &sns.TopicArgs{
		DisplayName:    pulumi.String("Alarms of " + args.DashboardName),
		KmsMasterKeyId: key.Arn,
	}, parent)
	if err != nil {
		return nil, err
	}
	for i, email := range args.Settings.Emails {
		if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-email-%d", name, i), &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(email),
		}, pulumi.Parent(topic)); err != nil {
			return nil, err
		}
	}

	for _, spec := range AlarmSpecs(args) {
		if err := newAlarm(ctx, name, spec, args.Settings, topic.Arn, parent); err != nil {
			return nil, err
		}
	}
	for _, spec := range AppAlarmSpecs(args) {
		if err := newMathAlarm(ctx, name, spec, args.Settings, topic.Arn, parent); err != nil {
			return nil, err
		}
	}

	if db := args.Database; db != nil {
		if _, err := rds.NewEventSubscription(ctx, name+"-db-events", &rds.EventSubscriptionArgs{
			SnsTopic:        topic.Arn,
			SourceType:      pulumi.String("db-cluster"),
			SourceIds:       pulumi.StringArray{db.ClusterIdentifier},
			EventCategories: pulumi.ToStringArray(DbClusterEventCategories),
		}, parent); err != nil {
			return nil, err
		}
	}

	body := dashboardBody(args)
	dash, err := cloudwatch.NewDashboard(ctx, name, &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(args.DashboardName),
		DashboardBody: body,
	}, parent)
	if err != nil {
		return nil, err
	}

	m.AlarmTopicArn = topic.Arn
	m.KmsKeyArn = key.Arn
	m.DashboardName = dash.DashboardName
	m.DashboardUrl = dash.DashboardName.ApplyT(func(n string) string {
		return DashboardURL(args.Env, n)
	}).(pulumi.StringOutput)
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{
		"alarmTopicArn": m.AlarmTopicArn,
		"kmsKeyArn":     m.KmsKeyArn,
		"dashboardName": m.DashboardName,
		"dashboardUrl":  m.DashboardUrl,
	}); err != nil {
		return nil, err
	}
	return m, nil
}

// DbClusterEventCategories are the Aurora cluster events sent to the topic.
var DbClusterEventCategories = []string{"failover", "failure", "maintenance", "notification"}

// alarmTopicKeyPolicy keeps the account in control of the key (without the
// root statement the key could become unmanageable) and lets CloudWatch
// alarms and RDS event notifications encrypt messages for the topic: SNS
// asks KMS on the publisher's behalf, so each publishing service principal
// needs kms:GenerateDataKey* and kms:Decrypt, limited to this account.
func alarmTopicKeyPolicy(env Environment) PolicyDocument {
	root := fmt.Sprintf("arn:%s:iam::%s:root", env.Partition, env.Account)
	publishers := []string{"cloudwatch.amazonaws.com", "events.rds.amazonaws.com"}
	return NewPolicyDocument(
		PolicyStatement{
			Sid:       "AccountAdministersKey",
			Effect:    "Allow",
			Principal: map[string]any{"AWS": root},
			Action:    []string{"kms:*"},
			Resource:  []string{"*"},
		},
		PolicyStatement{
			Sid:       "AlarmPublishersUseKey",
			Effect:    "Allow",
			Principal: map[string]any{"Service": publishers},
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
			Resource:  []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": env.Account}},
		},
	)
}

// AlarmSpecs lists the alarms for the given tiers, in a fixed order.
func AlarmSpecs(args *MonitoringArgs) []AlarmSpec {
	s := args.Settings
	var out []AlarmSpec
	if a := args.Api; a != nil {
		dims := pulumi.StringMap{"ApiName": a.RestApiName, "Stage": a.StageName}
		out = append(out,
			AlarmSpec{Suffix: "api-5xx", Description: "API Gateway 5XX responses above books:alarms.api5xxCount",
				Namespace: "AWS/ApiGateway", MetricName: "5XXError", Statistic: "Sum",
				Comparison: "GreaterThanOrEqualToThreshold", Threshold: float64(s.Api5xxCount),
				TreatMissingData: missingNotBreaching, Dimensions: dims},
			AlarmSpec{Suffix: "api-latency-p99", Description: "API Gateway p99 latency (ms) above books:alarms.apiLatencyP99Ms",
				Namespace: "AWS/ApiGateway", MetricName: "Latency", ExtendedStatistic: "p99",
				Comparison: "GreaterThanThreshold", Threshold: float64(s.ApiLatencyP99Ms),
				TreatMissingData: missingNotBreaching, Dimensions: dims, IgnoreLowSamplePercentile: true},
		)
		if a.Waf {
			out = append(out, AlarmSpec{Suffix: "waf-blocked", Description: "WAF blocked-request surge above books:alarms.wafBlockedCount",
				Namespace: "AWS/WAFV2", MetricName: "BlockedRequests", Statistic: "Sum",
				Comparison: "GreaterThanOrEqualToThreshold", Threshold: float64(s.WafBlockedCount),
				TreatMissingData: missingNotBreaching,
				Dimensions:       pulumi.StringMap{"WebACL": a.WebAclMetricName, "Region": pulumi.String(args.Env.Region), "Rule": pulumi.String("ALL")}})
		}
		if a.LimitsDemo {
			out = append(out, AlarmSpec{Suffix: "limits-lambda-errors", Description: "Errors of the limits demo's Lambda function",
				Namespace: "AWS/Lambda", MetricName: "Errors", Statistic: "Sum",
				Comparison: "GreaterThanOrEqualToThreshold", Threshold: 1,
				TreatMissingData: missingNotBreaching, Dimensions: pulumi.StringMap{"FunctionName": a.LimitsFunctionName}})
		}
	}
	if lb := args.LoadBalancer; lb != nil {
		dims := pulumi.StringMap{"LoadBalancer": lb.AlbArnSuffix, "TargetGroup": lb.TargetGroupArnSuffix}
		out = append(out,
			AlarmSpec{Suffix: "target-5xx", Description: "5XX responses from the service's targets above books:alarms.target5xxCount",
				Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Statistic: "Sum",
				Comparison: "GreaterThanOrEqualToThreshold", Threshold: float64(s.Target5xxCount),
				TreatMissingData: missingNotBreaching, Dimensions: dims},
			AlarmSpec{Suffix: "unhealthy-hosts", Description: "Unhealthy targets in the service's target group",
				Namespace: "AWS/ApplicationELB", MetricName: "UnHealthyHostCount", Statistic: "Maximum",
				Comparison: "GreaterThanOrEqualToThreshold", Threshold: 1,
				TreatMissingData: missingKeep, Dimensions: dims},
			AlarmSpec{Suffix: "target-p99", Description: "Target p99 response time (s) above books:alarms.targetP99Ms",
				Namespace: "AWS/ApplicationELB", MetricName: "TargetResponseTime", ExtendedStatistic: "p99",
				Comparison: "GreaterThanThreshold", Threshold: float64(s.TargetP99Ms) / 1000,
				TreatMissingData: missingNotBreaching, Dimensions: dims, IgnoreLowSamplePercentile: true},
		)
	}
	if svc := args.Service; svc != nil {
		dims := pulumi.StringMap{"ClusterName": svc.ClusterName, "ServiceName": svc.ServiceName}
		out = append(out,
			AlarmSpec{Suffix: "service-cpu", Description: "ECS service CPU utilization above books:alarms.cpuPercent",
				Namespace: "AWS/ECS", MetricName: "CPUUtilization", Statistic: "Average",
				Comparison: "GreaterThanThreshold", Threshold: float64(s.CpuPercent),
				TreatMissingData: missingKeep, Dimensions: dims},
			AlarmSpec{Suffix: "service-memory", Description: "ECS service memory utilization above books:alarms.memoryPercent",
				Namespace: "AWS/ECS", MetricName: "MemoryUtilization", Statistic: "Average",
				Comparison: "GreaterThanThreshold", Threshold: float64(s.MemoryPercent),
				TreatMissingData: missingKeep, Dimensions: dims},
		)
	}
	if db := args.Database; db != nil {
		missing := missingKeep
		if db.AutoPause {
			missing = missingNotBreaching
		}
		// AWS advises alarming on the WRITER and READER role metrics
		// (DBClusterIdentifier + Role) rather than on instances, whose roles
		// change on failover.
		for _, role := range db.Roles() {
			dims := pulumi.StringMap{"DBClusterIdentifier": db.ClusterIdentifier, "Role": pulumi.String(role)}
			r := "db-" + strings.ToLower(role)
			out = append(out,
				AlarmSpec{Suffix: r + "-cpu", Description: "Aurora " + role + " CPU utilization above books:alarms.cpuPercent",
					Namespace: "AWS/RDS", MetricName: "CPUUtilization", Statistic: "Maximum",
					Comparison: "GreaterThanThreshold", Threshold: float64(s.CpuPercent),
					TreatMissingData: missing, Dimensions: dims},
				AlarmSpec{Suffix: r + "-connections", Description: "Aurora " + role + " connections above books:alarms.dbConnections",
					Namespace: "AWS/RDS", MetricName: "DatabaseConnections", Statistic: "Maximum",
					Comparison: "GreaterThanThreshold", Threshold: float64(s.DbConnections),
					TreatMissingData: missing, Dimensions: dims},
				AlarmSpec{Suffix: r + "-freeable-memory", Description: "Aurora " + role + " freeable memory (bytes) below books:alarms.dbFreeableMiB",
					Namespace: "AWS/RDS", MetricName: "FreeableMemory", Statistic: "Minimum",
					Comparison: "LessThanThreshold", Threshold: float64(s.DbFreeableMiB) * 1024 * 1024,
					TreatMissingData: missing, Dimensions: dims},
			)
			if db.Serverless {
				out = append(out, AlarmSpec{Suffix: r + "-acu", Description: "Aurora Serverless v2 " + role + " capacity use (% of max ACU) above books:alarms.acuPercent",
					Namespace: "AWS/RDS", MetricName: "ACUUtilization", Statistic: "Maximum",
					Comparison: "GreaterThanThreshold", Threshold: float64(s.AcuPercent),
					TreatMissingData: missing, Dimensions: dims})
			}
		}
	}
	if c := args.Cache; c != nil {
		members := c.MemberClusters.ToStringArrayOutput()
		for i := 0; i < c.NodeCount; i++ {
			dims := pulumi.StringMap{"CacheClusterId": members.Index(pulumi.Int(i))}
			node := fmt.Sprintf("cache-%d", i+1)
			out = append(out,
				AlarmSpec{Suffix: node + "-engine-cpu", Description: "Cache engine-thread CPU above books:alarms.cpuPercent",
					Namespace: "AWS/ElastiCache", MetricName: "EngineCPUUtilization", Statistic: "Average",
					Comparison: "GreaterThanThreshold", Threshold: float64(s.CpuPercent),
					TreatMissingData: missingKeep, Dimensions: dims},
				AlarmSpec{Suffix: node + "-memory", Description: "Cache memory use (% of maxmemory) above books:alarms.cacheMemoryPercent",
					Namespace: "AWS/ElastiCache", MetricName: "DatabaseMemoryUsagePercentage", Statistic: "Maximum",
					Comparison: "GreaterThanThreshold", Threshold: float64(s.CacheMemPercent),
					TreatMissingData: missingKeep, Dimensions: dims},
				AlarmSpec{Suffix: node + "-evictions", Description: "Cache evictions per period above books:alarms.cacheEvictions",
					Namespace: "AWS/ElastiCache", MetricName: "Evictions", Statistic: "Sum",
					Comparison: "GreaterThanThreshold", Threshold: float64(s.CacheEvictions),
					TreatMissingData: missingKeep, Dimensions: dims},
			)
		}
	}
	return out
}

func newAlarm(ctx *pulumi.Context, name string, spec AlarmSpec, s AlarmsConfig, topicArn pulumi.StringOutput, parent pulumi.ResourceOption) error {
	actions := pulumi.Array{topicArn}
	a := metricAlarmArgs(spec, s)
	a.AlarmActions = actions
	a.OkActions = actions
	_, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+spec.Suffix, a, parent)
	return err
}

// metricAlarmArgs is the alarm of a spec with books:alarms' period and
// evaluation periods, without actions.
func metricAlarmArgs(spec AlarmSpec, s AlarmsConfig) *cloudwatch.MetricAlarmArgs {
	a := &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String(spec.Description),
		Namespace:          pulumi.String(spec.Namespace),
		MetricName:         pulumi.String(spec.MetricName),
		Dimensions:         spec.Dimensions,
		Period:             pulumi.Int(s.PeriodSeconds),
		EvaluationPeriods:  pulumi.Int(s.EvaluationPeriods),
		ComparisonOperator: pulumi.String(spec.Comparison),
		Threshold:          pulumi.Float64(spec.Threshold),
		TreatMissingData:   pulumi.String(spec.TreatMissingData),
	}
	if spec.ExtendedStatistic != "" {
		a.ExtendedStatistic = pulumi.String(spec.ExtendedStatistic)
	} else {
		a.Statistic = pulumi.String(spec.Statistic)
	}
	if spec.IgnoreLowSamplePercentile {
		// A percentile over a handful of requests is noise: keep the state.
		a.EvaluateLowSampleCountPercentiles = pulumi.String("ignore")
	}
	return a
}
