package infra

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

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

// MetricOptions are a graphed metric's per-metric settings. Expression
// makes the entry a metric-math expression over the Ids of the others
// (Namespace and Name stay empty); Visible false hides an input.
type MetricOptions struct {
	Expression string `json:"expression,omitempty"`
	Id         string `json:"id,omitempty"`
	Stat       string `json:"stat,omitempty"`
	Label      string `json:"label,omitempty"`
	Visible    *bool  `json:"visible,omitempty"`
}

// MarshalJSON renders [namespace, name, dim1, value1, …, {options}], or
// [{expression, id, label}] for an expression.
func (m Metric) MarshalJSON() ([]byte, error) {
	if m.Options.Expression != "" {
		return json.Marshal([]any{m.Options})
	}
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
	if args.App != nil {
		rows := appDashboardRows(args.App)
		row("Service metrics: writes and cache (EMF, namespace "+args.App.Metrics.Namespace.Default+")", rows[0]...)
		row("Service metrics: database pool and request latency", rows[1]...)
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
