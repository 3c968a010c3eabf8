package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AppMonitoring is the service's own metrics: the app writes them as
// CloudWatch Embedded Metric Format lines on its log stream (see
// app/README.md "Metrics"), CloudWatch Logs extracts them, so they need
// nothing but the awslogs driver's logs:PutLogEvents. Names, units and
// dimensions come from the app's catalogue.
type AppMonitoring struct {
	Metrics *AppMetrics
	// Dimensions are the Stack and Service values the task environment
	// gives the app (AppMetrics.TaskEnvironment).
	Dimensions AppMetricDimensions
}

// MathAlarmSpec is a metric-math alarm: Inputs are fetched with the alarm
// period and combined by Expressions, the last of which is the alarmed
// value (terraform-provider-aws metric_alarm.go: metric_query conflicts
// with metric_name, namespace, period, statistic and dimensions, so those
// live in each query).
type MathAlarmSpec struct {
	Suffix, Description string
	Comparison          string
	Threshold           float64
	TreatMissingData    string
	Inputs              []MathInput
	Expressions         []MathExpression
}

// MathInput is one metric of a metric-math alarm. Id must start with a
// lowercase letter (PutMetricAlarm MetricDataQuery.Id).
type MathInput struct {
	Id, Namespace, MetricName, Stat string
	Dimensions                      map[string]string
}

// MathExpression is one expression over the inputs' Ids.
type MathExpression struct {
	Id, Expression, Label string
}

// AppAlarmSpecs are the alarms on the service's metrics (none without App).
func AppAlarmSpecs(args *MonitoringArgs) []MathAlarmSpec {
	a := args.App
	if a == nil {
		return nil
	}
	s := args.Settings
	input := func(id, name string) MathInput {
		return MathInput{Id: id, Namespace: a.Metrics.Namespace.Default, MetricName: name, Stat: "Sum", Dimensions: a.baseDimensions()}
	}
	return []MathAlarmSpec{
		{
			Suffix: "app-cache-hit-ratio",
			Description: fmt.Sprintf("Service cache hit ratio (%% of book reads served by the cache) below books:alarms.cacheHitRatioPercent, "+
				"in periods with at least books:alarms.cacheHitRatioMinReads (%d) reads", s.CacheHitRatioMinReads),
			Comparison: "LessThanThreshold", Threshold: float64(s.CacheHitRatioPercent),
			// No reads, or too few to judge, publishes no point: not an alarm.
			TreatMissingData: missingNotBreaching,
			Inputs:           []MathInput{input("hits", "CacheHits"), input("misses", "CacheMisses"), input("errors", "CacheErrors")},
			Expressions: []MathExpression{
				{Id: "reads", Expression: "hits + misses + errors", Label: "cache reads"},
				{Id: "ratio", Expression: fmt.Sprintf("IF(reads >= %d, 100 * hits / reads)", s.CacheHitRatioMinReads), Label: "cache hit ratio (%)"},
			},
		},
		{
			Suffix:      "app-db-pool-wait",
			Description: "Mean wait for a database connection per acquire (ms) above books:alarms.dbPoolWaitMs: the pool (DB_MAX_CONNS) or the database is the bottleneck",
			Comparison:  "GreaterThanThreshold", Threshold: float64(s.DbPoolWaitMs),
			TreatMissingData: missingNotBreaching,
			Inputs:           []MathInput{input("wait", "DbPoolWaitTime"), input("acquires", "DbPoolAcquires")},
			Expressions: []MathExpression{
				{Id: "meanwait", Expression: "IF(acquires > 0, wait / acquires)", Label: "mean pool wait per acquire (ms)"},
			},
		},
	}
}

func (a *AppMonitoring) baseDimensions() map[string]string {
	return map[string]string{AppDimStack: a.Dimensions.Stack, AppDimService: a.Dimensions.Service}
}

func newMathAlarm(ctx *pulumi.Context, name string, spec MathAlarmSpec, s AlarmsConfig, topicArn pulumi.StringOutput, parent pulumi.ResourceOption) error {
	var queries cloudwatch.MetricAlarmMetricQueryArray
	for _, in := range spec.Inputs {
		queries = append(queries, cloudwatch.MetricAlarmMetricQueryArgs{
			Id: pulumi.String(in.Id),
			Metric: cloudwatch.MetricAlarmMetricQueryMetricArgs{
				Namespace:  pulumi.String(in.Namespace),
				MetricName: pulumi.String(in.MetricName),
				Dimensions: pulumi.ToStringMap(in.Dimensions),
				Period:     pulumi.Int(s.PeriodSeconds),
				Stat:       pulumi.String(in.Stat),
			},
			ReturnData: pulumi.Bool(false),
		})
	}
	for i, e := range spec.Expressions {
		queries = append(queries, cloudwatch.MetricAlarmMetricQueryArgs{
			Id:         pulumi.String(e.Id),
			Expression: pulumi.String(e.Expression),
			Label:      pulumi.String(e.Label),
			ReturnData: pulumi.Bool(i == len(spec.Expressions)-1),
		})
	}
	actions := pulumi.Array{topicArn}
	_, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+spec.Suffix, &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String(spec.Description),
		MetricQueries:      queries,
		EvaluationPeriods:  pulumi.Int(s.EvaluationPeriods),
		ComparisonOperator: pulumi.String(spec.Comparison),
		Threshold:          pulumi.Float64(spec.Threshold),
		TreatMissingData:   pulumi.String(spec.TreatMissingData),
		AlarmActions:       actions,
		OkActions:          actions,
	}, parent)
	return err
}

// appDashboardRows are the service's metrics on the dashboard: writes and
// the cache; the database pool and latency.
func appDashboardRows(a *AppMonitoring) [][]WidgetProperties {
	ns := a.Metrics.Namespace.Default
	base := [][2]string{{AppDimStack, a.Dimensions.Stack}, {AppDimService, a.Dimensions.Service}}
	hidden := false
	m := func(name, stat string, extra ...[2]string) Metric {
		return Metric{Namespace: ns, Name: name, Dimensions: append(append([][2]string{}, base...), extra...), Options: MetricOptions{Stat: stat}}
	}
	input := func(id, name string) Metric {
		x := m(name, "Sum")
		x.Options.Id, x.Options.Visible = id, &hidden
		return x
	}
	expr := func(id, expression, label string) Metric {
		return Metric{Options: MetricOptions{Id: id, Expression: expression, Label: label}}
	}
	var p99, classes []Metric
	for _, r := range a.Metrics.BookRoutes() {
		x := m("RequestLatency", "p99", [2]string{AppDimRoute, r}, [2]string{AppDimStatusClass, "2xx"})
		x.Options.Label = r
		p99 = append(p99, x)
	}
	for _, c := range a.Metrics.StatusClasses {
		x := m("RequestLatency", "SampleCount", [2]string{AppDimStatusClass, c})
		x.Options.Label = c
		classes = append(classes, x)
	}
	return [][]WidgetProperties{
		{
			{Title: "Book writes and 412 conflicts", Metrics: []Metric{
				m("BooksCreated", "Sum"), m("BooksUpdated", "Sum"), m("BooksDeleted", "Sum"), m("WriteConflicts", "Sum")}},
			{Title: "Service cache reads", Metrics: []Metric{m("CacheHits", "Sum"), m("CacheMisses", "Sum"), m("CacheErrors", "Sum")}},
			{Title: "Service cache hit ratio (%)", Metrics: []Metric{
				input("hits", "CacheHits"), input("misses", "CacheMisses"), input("errors", "CacheErrors"),
				expr("ratio", "100 * hits / (hits + misses + errors)", "hit ratio")}},
		},
		{
			{Title: "Database pool acquires", Metrics: []Metric{
				m("DbPoolAcquires", "Sum"), m("DbPoolWaits", "Sum"), m("DbPoolCanceledAcquires", "Sum")}},
			{Title: "Database pool time per acquire (ms)", Metrics: []Metric{
				input("wait", "DbPoolWaitTime"), input("acquire", "DbPoolAcquireTime"), input("acquires", "DbPoolAcquires"),
				expr("meanwait", "wait / acquires", "waiting"), expr("meanacquire", "acquire / acquires", "acquiring")}},
			{Title: "Request latency p99 by route, 2xx (ms)", Metrics: p99},
			{Title: "Responses by status class (probes excluded)", Metrics: classes},
		},
	}
}
