package infra

import (
	"encoding/json"
	"fmt"
	"net/url"
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
		AlarmActions:       actions,
		OkActions:          actions,
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
	_, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+spec.Suffix, a, parent)
	return err
}

// DashboardURL is the CloudWatch console address of a dashboard.
func DashboardURL(env Environment, name string) string {
	host := "console.aws.amazon.com"
	switch env.Partition {
	case "aws-cn":
		host = "console.amazonaws.cn"
	case "aws-us-gov":
		host = "console.amazonaws-us-gov.com"
	}
	return fmt.Sprintf("https://%s.%s/cloudwatch/home?region=%s#dashboards:name=%s",
		env.Region, host, env.Region, url.PathEscape(name))
}

// Dashboard is a CloudWatch dashboard body
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html).
type Dashboard struct {
	Widgets []Widget `json:"widgets"`
}

// Widget is one dashboard widget: "text" (Markdown) or "metric" (a graph).
type Widget struct {
	Type       string           `json:"type"`
	X          int              `json:"x"`
	Y          int              `json:"y"`
	Width      int              `json:"width"`
	Height     int              `json:"height"`
	Properties WidgetProperties `json:"properties"`
}

// WidgetProperties holds a text widget's Markdown or a metric widget's graph.
type WidgetProperties struct {
	Markdown string `json:"markdown,omitempty"`

	Title   string   `json:"title,omitempty"`
	Region  string   `json:"region,omitempty"`
	View    string   `json:"view,omitempty"`
	Stat    string   `json:"stat,omitempty"`
	Period  int      `json:"period,omitempty"`
	Metrics []Metric `json:"metrics,omitempty"`
}

// Metric is one graphed metric: namespace, name, dimension name/value pairs
// and its rendering options, marshalled as CloudWatch's array form.
type Metric struct {
	Namespace, Name string
	Dimensions      [][2]string
	Options         MetricOptions
}

// MetricOptions are a graphed metric's per-metric settings.
type MetricOptions struct {
	Stat  string `json:"stat,omitempty"`
	Label string `json:"label,omitempty"`
}

// MarshalJSON renders [namespace, name, dim1, value1, …, {options}].
func (m Metric) MarshalJSON() ([]byte, error) {
	arr := []any{m.Namespace, m.Name}
	for _, d := range m.Dimensions {
		arr = append(arr, d[0], d[1])
	}
	if m.Options != (MetricOptions{}) {
		arr = append(arr, m.Options)
	}
	return json.Marshal(arr)
}

// DashboardIds are the resolved identifiers the dashboard graphs.
type DashboardIds struct {
	ApiName, Stage, WebAcl, Function string
	LoadBalancer, TargetGroup        string
	Cluster, Service                 string
	DbCluster, ReplicationGroup      string
	CacheNodes                       []string
}

// dashboardBody resolves the tiers' identifiers and renders the dashboard:
// a Markdown header and a row of graphs per tier. Identifiers of absent
// tiers resolve to "" and are never graphed.
func dashboardBody(args *MonitoringArgs) pulumi.StringOutput {
	empty := pulumi.String("")
	pick := func(on bool, in pulumi.StringInput) pulumi.StringInput {
		if !on || in == nil {
			return empty
		}
		return in
	}
	a, lb, svc, db, c := args.Api, args.LoadBalancer, args.Service, args.Database, args.Cache
	if a == nil {
		a = &ApiMonitoring{}
	}
	if lb == nil {
		lb = &LoadBalancerMonitoring{}
	}
	if svc == nil {
		svc = &ServiceMonitoring{}
	}
	if db == nil {
		db = &DatabaseMonitoring{}
	}
	var nodes pulumi.StringArrayInput = pulumi.StringArray{}
	rg := pulumi.StringInput(empty)
	if c != nil {
		nodes, rg = c.MemberClusters, pick(true, c.ReplicationGroupId)
	}
	return pulumi.All(
		pick(true, a.RestApiName), pick(true, a.StageName), pick(a.Waf, a.WebAclMetricName), pick(a.LimitsDemo, a.LimitsFunctionName),
		pick(true, lb.AlbArnSuffix), pick(true, lb.TargetGroupArnSuffix),
		pick(true, svc.ClusterName), pick(true, svc.ServiceName),
		pick(true, db.ClusterIdentifier), rg, nodes,
	).ApplyT(func(v []any) (string, error) {
		d := DashboardIds{
			ApiName: v[0].(string), Stage: v[1].(string), WebAcl: v[2].(string), Function: v[3].(string),
			LoadBalancer: v[4].(string), TargetGroup: v[5].(string),
			Cluster: v[6].(string), Service: v[7].(string),
			DbCluster: v[8].(string), ReplicationGroup: v[9].(string), CacheNodes: v[10].([]string),
		}
		b, err := json.Marshal(BuildDashboard(args, d))
		if err != nil {
			return "", fmt.Errorf("marshal dashboard: %w", err)
		}
		return string(b), nil
	}).(pulumi.StringOutput)
}

// BuildDashboard lays out one row per configured tier.
func BuildDashboard(args *MonitoringArgs, d DashboardIds) Dashboard {
	region, period := args.Env.Region, args.Settings.PeriodSeconds
	var widgets []Widget
	y := 0
	row := func(header string, graphs ...WidgetProperties) {
		widgets = append(widgets, Widget{Type: "text", X: 0, Y: y, Width: 24, Height: 1, Properties: WidgetProperties{Markdown: "## " + header}})
		y++
		w := 24 / len(graphs)
		for i, g := range graphs {
			g.Region, g.View, g.Period = region, "timeSeries", period
			widgets = append(widgets, Widget{Type: "metric", X: i * w, Y: y, Width: w, Height: 6, Properties: g})
		}
		y += 6
	}
	graph := func(title string, metrics ...Metric) WidgetProperties {
		return WidgetProperties{Title: title, Metrics: metrics}
	}
	metric := func(ns, name, stat string, dims ...[2]string) Metric {
		return Metric{Namespace: ns, Name: name, Dimensions: dims, Options: MetricOptions{Stat: stat}}
	}
	if args.Api != nil {
		api := [][2]string{{"ApiName", d.ApiName}, {"Stage", d.Stage}}
		graphs := []WidgetProperties{
			graph("API requests and errors",
				metric("AWS/ApiGateway", "Count", "Sum", api...),
				metric("AWS/ApiGateway", "4XXError", "Sum", api...),
				metric("AWS/ApiGateway", "5XXError", "Sum", api...)),
			graph("API latency (ms)",
				metric("AWS/ApiGateway", "Latency", "p99", api...),
				metric("AWS/ApiGateway", "IntegrationLatency", "p99", api...)),
			graph("API cache",
				metric("AWS/ApiGateway", "CacheHitCount", "Sum", api...),
				metric("AWS/ApiGateway", "CacheMissCount", "Sum", api...)),
		}
		if args.Api.Waf {
			graphs = append(graphs, graph("WAF blocked requests",
				metric("AWS/WAFV2", "BlockedRequests", "Sum", [2]string{"WebACL", d.WebAcl}, [2]string{"Region", region}, [2]string{"Rule", "ALL"})))
		}
		if args.Api.LimitsDemo {
			graphs = append(graphs, graph("Limits demo Lambda",
				metric("AWS/Lambda", "Invocations", "Sum", [2]string{"FunctionName", d.Function}),
				metric("AWS/Lambda", "Errors", "Sum", [2]string{"FunctionName", d.Function})))
		}
		row("API Gateway", graphs...)
	}
	if args.LoadBalancer != nil {
		lb := [][2]string{{"LoadBalancer", d.LoadBalancer}, {"TargetGroup", d.TargetGroup}}
		row("Load balancer",
			graph("Target responses",
				metric("AWS/ApplicationELB", "RequestCount", "Sum", lb...),
				metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", lb...)),
			graph("Target response time (s)",
				metric("AWS/ApplicationELB", "TargetResponseTime", "p99", lb...)),
			graph("Targets",
				metric("AWS/ApplicationELB", "HealthyHostCount", "Minimum", lb...),
				metric("AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", lb...)))
	}
	if args.Service != nil {
		svc := [][2]string{{"ClusterName", d.Cluster}, {"ServiceName", d.Service}}
		row("ECS service",
			graph("Service CPU (%)", metric("AWS/ECS", "CPUUtilization", "Average", svc...), metric("AWS/ECS", "CPUUtilization", "Maximum", svc...)),
			graph("Service memory (%)", metric("AWS/ECS", "MemoryUtilization", "Average", svc...), metric("AWS/ECS", "MemoryUtilization", "Maximum", svc...)))
	}
	if args.Database != nil {
		perRole := func(name, stat string) []Metric {
			var ms []Metric
			for _, role := range args.Database.Roles() {
				m := metric("AWS/RDS", name, stat, [2]string{"DBClusterIdentifier", d.DbCluster}, [2]string{"Role", role})
				m.Options.Label = role
				ms = append(ms, m)
			}
			return ms
		}
		graphs := []WidgetProperties{
			graph("Aurora CPU (%)", perRole("CPUUtilization", "Maximum")...),
			graph("Aurora connections", perRole("DatabaseConnections", "Maximum")...),
			graph("Aurora freeable memory (bytes)", perRole("FreeableMemory", "Minimum")...),
		}
		if args.Database.Serverless {
			graphs = append(graphs,
				graph("Aurora Serverless v2 capacity (ACU)", perRole("ServerlessDatabaseCapacity", "Maximum")...),
				graph("Aurora Serverless v2 capacity use (% of max)", perRole("ACUUtilization", "Maximum")...))
		}
		row("Database", graphs...)
	}
	if args.Cache != nil {
		var cpu, mem, ev []Metric
		for _, n := range d.CacheNodes {
			node := [2]string{"CacheClusterId", n}
			cpu = append(cpu, metric("AWS/ElastiCache", "EngineCPUUtilization", "Average", node))
			mem = append(mem, metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "Maximum", node))
			ev = append(ev, metric("AWS/ElastiCache", "Evictions", "Sum", node))
		}
		row("Cache "+d.ReplicationGroup,
			graph("Cache engine CPU (%)", cpu...),
			graph("Cache memory (%)", mem...),
			graph("Cache evictions", ev...))
	}
	if len(widgets) == 0 {
		widgets = []Widget{{Type: "text", Width: 24, Height: 1, Properties: WidgetProperties{Markdown: "No tiers are monitored yet."}}}
	}
	return Dashboard{Widgets: widgets}
}
