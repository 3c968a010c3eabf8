package tests

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	typeAlarm     = "aws:cloudwatch/metricAlarm:MetricAlarm"
	typeDashboard = "aws:cloudwatch/dashboard:Dashboard"
	typeTopic     = "aws:sns/topic:Topic"
	typeKmsKey    = "aws:kms/key:Key"
	typeMonitor   = "books:infra:Monitoring"
)

// monValue reads a property (outputs first, then inputs) as a plain value.
func monValue(r *harness.Resource, key string) resource.PropertyValue {
	if v, ok := r.Outputs[resource.PropertyKey(key)]; ok {
		return v
	}
	return r.Inputs[resource.PropertyKey(key)]
}

func monString(r *harness.Resource, key string) string {
	v := monValue(r, key)
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func monStrings(r *harness.Resource, key string) []string {
	v := monValue(r, key)
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

// monChildren lists the resources of typ registered under the Monitoring component.
func monChildren(t *testing.T, g *harness.Graph, typ string) []*harness.Resource {
	t.Helper()
	comps := g.ByType(typeMonitor)
	if len(comps) != 1 {
		t.Fatalf("want one %s component, found %d", typeMonitor, len(comps))
	}
	var out []*harness.Resource
	for _, r := range g.ByType(typ) {
		for p := r; p != nil; p = g.ByURN(p.Parent) {
			if p.Parent == comps[0].URN {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

func monOnly(t *testing.T, g *harness.Graph, typ string) *harness.Resource {
	t.Helper()
	rs := monChildren(t, g, typ)
	if len(rs) != 1 {
		t.Fatalf("want one %s under Monitoring, found %d", typ, len(rs))
	}
	return rs[0]
}

// alarmSuffix is an alarm's logical name without the component's prefix.
func alarmSuffix(r *harness.Resource) string { return strings.TrimPrefix(r.Name, "monitoring-") }

// findByOutput returns the name of a resource of one of types whose output
// key equals v (or, for an array output, contains it), or "".
func findByOutput(g *harness.Graph, types []string, key, v string) string {
	for _, typ := range types {
		for _, r := range g.ByType(typ) {
			if monString(r, key) == v || slices.Contains(monStrings(r, key), v) {
				return r.Type + "::" + r.Name
			}
		}
	}
	return ""
}

// resolveDimension finds the stack resource a metric dimension names, the
// way AWS publishes each dimension ("" when it names nothing in the stack).
func resolveDimension(g *harness.Graph, region, dim, v string) string {
	if v == "" {
		return ""
	}
	lbTypes := []string{"aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"}
	tgTypes := []string{"aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup"}
	switch dim {
	case "ApiName":
		return findByOutput(g, []string{"aws:apigateway/restApi:RestApi"}, "name", v)
	case "Stage":
		return findByOutput(g, []string{"aws:apigateway/stage:Stage"}, "stageName", v)
	case "LoadBalancer":
		return findByOutput(g, lbTypes, "arnSuffix", v)
	case "TargetGroup":
		return findByOutput(g, tgTypes, "arnSuffix", v)
	case "ClusterName":
		return findByOutput(g, []string{"aws:ecs/cluster:Cluster"}, "name", v)
	case "ServiceName":
		return findByOutput(g, []string{"aws:ecs/service:Service"}, "name", v)
	case "DBClusterIdentifier":
		return findByOutput(g, []string{"aws:rds/cluster:Cluster"}, "clusterIdentifier", v)
	case "CacheClusterId":
		return findByOutput(g, []string{"aws:elasticache/replicationGroup:ReplicationGroup"}, "memberClusters", v)
	case "FunctionName":
		return findByOutput(g, []string{"aws:lambda/function:Function"}, "name", v)
	case "WebACL":
		for _, r := range g.ByType("aws:wafv2/webAcl:WebAcl") {
			vc := monValue(r, "visibilityConfig")
			if vc.IsObject() && vc.ObjectValue()["metricName"].IsString() && vc.ObjectValue()["metricName"].StringValue() == v {
				return r.Type + "::" + r.Name
			}
		}
	case "Region":
		if v == region {
			return "provider region"
		}
	case "Rule":
		if v == "ALL" {
			return "all rules"
		}
	case "Role":
		instances := len(g.ByType("aws:rds/clusterInstance:ClusterInstance"))
		if v == "WRITER" && instances >= 1 || v == "READER" && instances >= 2 {
			return "Aurora " + v + " role"
		}
	default:
		return resolveAppDimension(g, dim, v)
	}
	return ""
}

func stackRegion(t *testing.T, stack string) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := harness.LoadStackConfig(root, stack)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Values["aws:region"]
}

// alarmDimensions are an alarm's dimensions, those of its metric-math
// inputs included.
func alarmDimensions(r *harness.Resource) map[string]string {
	out := map[string]string{}
	add := func(v resource.PropertyValue) {
		if !v.IsObject() {
			return
		}
		for k, d := range v.ObjectValue() {
			if d.IsString() {
				out[string(k)] = d.StringValue()
			}
		}
	}
	add(monValue(r, "dimensions"))
	if q := monValue(r, "metricQueries"); q.IsArray() {
		for _, e := range q.ArrayValue() {
			if e.IsObject() && e.ObjectValue()["metric"].IsObject() {
				add(e.ObjectValue()["metric"].ObjectValue()["dimensions"])
			}
		}
	}
	return out
}

func TestMonitoringAlarmsNotifyTheTopicOnAlarmAndOk(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		topic := monOnly(t, g, typeTopic)
		arn := monString(topic, "arn")
		if !strings.HasPrefix(arn, "arn:aws:sns:") {
			t.Fatalf("topic arn %q", arn)
		}
		alarms := monChildren(t, g, typeAlarm)
		if len(alarms) == 0 {
			t.Fatal("no alarms")
		}
		for _, a := range alarms {
			t.Logf("%-28s %s/%s %v missing=%s", alarmSuffix(a), monString(a, "namespace"), monString(a, "metricName"), alarmDimensions(a), monString(a, "treatMissingData"))
			for _, key := range []string{"alarmActions", "okActions"} {
				if got := monStrings(a, key); !slices.Equal(got, []string{arn}) {
					t.Errorf("%s %s = %v, want [%s]", a.Name, key, got, arn)
				}
			}
			switch m := monString(a, "treatMissingData"); m {
			case "notBreaching", "missing", "breaching", "ignore":
			default:
				t.Errorf("%s treatMissingData = %q, want a deliberate value", a.Name, m)
			}
		}
	})
}

func TestMonitoringAlarmDimensionsNameStackResources(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		region := stackRegion(t, stack)
		for _, a := range monChildren(t, g, typeAlarm) {
			dims := alarmDimensions(a)
			if len(dims) == 0 {
				t.Errorf("%s has no dimensions", a.Name)
			}
			for k, v := range dims {
				if resolveDimension(g, region, k, v) == "" {
					t.Errorf("%s: dimension %s=%q names no resource of the stack", a.Name, k, v)
				}
			}
		}
	})
}

// dashboardMetrics parses a dashboard body and returns every graphed
// metric as namespace, name and dimensions.
type dashMetric struct {
	Namespace, Name string
	Dims            map[string]string
}

func dashboardMetrics(t *testing.T, body string) []dashMetric {
	t.Helper()
	var d struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Region  string            `json:"region"`
				Metrics []json.RawMessage `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("dashboard body is not JSON: %v", err)
	}
	var out []dashMetric
	for _, w := range d.Widgets {
		if w.Type != "metric" {
			continue
		}
		for _, raw := range w.Properties.Metrics {
			var arr []any
			if err := json.Unmarshal(raw, &arr); err != nil || len(arr) == 0 {
				t.Fatalf("metric %s is not [namespace, name, …]", raw)
			}
			if opts, ok := arr[0].(map[string]any); ok && len(arr) == 1 && opts["expression"] != nil {
				continue // metric math over the others
			}
			if len(arr) < 2 {
				t.Fatalf("metric %s is not [namespace, name, …]", raw)
			}
			m := dashMetric{Namespace: fmt.Sprint(arr[0]), Name: fmt.Sprint(arr[1]), Dims: map[string]string{}}
			rest := arr[2:]
			if n := len(rest); n > 0 {
				if _, isOpts := rest[n-1].(map[string]any); isOpts {
					rest = rest[:n-1]
				}
			}
			if len(rest)%2 != 0 {
				t.Fatalf("metric %s has an odd dimension list", raw)
			}
			for i := 0; i < len(rest); i += 2 {
				m.Dims[fmt.Sprint(rest[i])] = fmt.Sprint(rest[i+1])
			}
			out = append(out, m)
		}
	}
	return out
}

func TestMonitoringDashboardCoversEveryTier(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		region := stackRegion(t, stack)
		dash := monOnly(t, g, typeDashboard)
		if monString(dash, "dashboardName") != "books-"+stack {
			t.Errorf("dashboardName = %q", monString(dash, "dashboardName"))
		}
		metrics := dashboardMetrics(t, monString(dash, "dashboardBody"))
		referenced := map[string]bool{}
		for _, m := range metrics {
			for k, v := range m.Dims {
				r := resolveDimension(g, region, k, v)
				if r == "" {
					t.Errorf("dashboard metric %s/%s: %s=%q names no resource of the stack", m.Namespace, m.Name, k, v)
				}
				referenced[r] = true
			}
		}
		// Every tier's resources the stack has must be on the dashboard.
		tiers := map[string]string{
			"aws:apigateway/restApi:RestApi":                    "API",
			"aws:lb/targetGroup:TargetGroup":                    "load balancer",
			"aws:ecs/service:Service":                           "service",
			"aws:rds/cluster:Cluster":                           "database",
			"aws:elasticache/replicationGroup:ReplicationGroup": "cache",
		}
		for typ, tier := range tiers {
			for _, r := range g.ByType(typ) {
				if typ == "aws:lb/targetGroup:TargetGroup" && !strings.HasPrefix(monString(r, "protocol"), "HTTP") {
					continue // the API's NLB target group (TCP, targets the ALB) is not the service's
				}
				if !referenced[r.Type+"::"+r.Name] {
					t.Errorf("%s tier: %s is not on the dashboard", tier, r.Name)
				}
			}
		}
		for _, rg := range g.ByType("aws:elasticache/replicationGroup:ReplicationGroup") {
			for _, node := range monStrings(rg, "memberClusters") {
				if !slices.ContainsFunc(metrics, func(m dashMetric) bool { return m.Dims["CacheClusterId"] == node }) {
					t.Errorf("cache node %s is not on the dashboard", node)
				}
			}
		}
	})
}

// hasAlarm reports whether the graph has a Monitoring alarm on metric.
func hasAlarm(t *testing.T, g *harness.Graph, namespace, metric string) bool {
	t.Helper()
	return slices.ContainsFunc(monChildren(t, g, typeAlarm), func(r *harness.Resource) bool {
		return monString(r, "namespace") == namespace && monString(r, "metricName") == metric
	})
}

func TestMonitoringConditionalAlarmsFollowTheirFeature(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		serverless := slices.ContainsFunc(g.ByType("aws:rds/clusterInstance:ClusterInstance"), func(r *harness.Resource) bool {
			return monString(r, "instanceClass") == "db.serverless"
		})
		waf := len(g.ByType("aws:wafv2/webAcl:WebAcl")) > 0
		demo := len(g.ByType("aws:lambda/function:Function")) > 0
		for _, c := range []struct {
			feature       string
			on            bool
			namespace, mt string
		}{
			{"Aurora Serverless v2", serverless, "AWS/RDS", "ACUUtilization"},
			{"WAF", waf, "AWS/WAFV2", "BlockedRequests"},
			{"limits demo", demo, "AWS/Lambda", "Errors"},
		} {
			if got := hasAlarm(t, g, c.namespace, c.mt); got != c.on {
				t.Errorf("%s on=%v but %s %s alarm present=%v", c.feature, c.on, c.namespace, c.mt, got)
			}
		}
		readers := len(g.ByType("aws:rds/clusterInstance:ClusterInstance")) > 1
		readerAlarms := slices.ContainsFunc(monChildren(t, g, typeAlarm), func(r *harness.Resource) bool {
			return alarmDimensions(r)["Role"] == "READER"
		})
		if readerAlarms != readers {
			t.Errorf("cluster has readers=%v but READER-role alarms present=%v", readers, readerAlarms)
		}
	})
	t.Run("provisioned Aurora has no ACU alarm", func(t *testing.T) {
		g, err := harness.Run("prod", harness.WithConfig(func(c *harness.StackConfig) {
			var db map[string]any
			if err := json.Unmarshal([]byte(c.Values["books:database"]), &db); err != nil {
				t.Fatal(err)
			}
			db["serverless"] = false
			b, _ := json.Marshal(db)
			c.Values["books:database"] = string(b)
		}))
		if err != nil {
			t.Fatal(err)
		}
		if hasAlarm(t, g, "AWS/RDS", "ACUUtilization") {
			t.Error("provisioned cluster still has an ACUUtilization alarm")
		}
		if !hasAlarm(t, g, "AWS/RDS", "FreeableMemory") {
			t.Error("provisioned cluster lost its FreeableMemory alarm")
		}
	})
}

func TestMonitoringTopicKeyLetsCloudWatchPublish(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		key := monOnly(t, g, typeKmsKey)
		topic := monOnly(t, g, typeTopic)
		if monString(topic, "kmsMasterKeyId") != monString(key, "arn") {
			t.Errorf("topic kmsMasterKeyId = %q, want the Monitoring key %q", monString(topic, "kmsMasterKeyId"), monString(key, "arn"))
		}
		if v := monValue(key, "enableKeyRotation"); !v.IsBool() || !v.BoolValue() {
			t.Error("topic key does not rotate")
		}
		var doc infra.PolicyDocument
		if err := json.Unmarshal([]byte(monString(key, "policy")), &doc); err != nil {
			t.Fatalf("key policy: %v", err)
		}
		for _, svc := range []string{"cloudwatch.amazonaws.com", "events.rds.amazonaws.com"} {
			if !keyPolicyAllows(doc, svc, "kms:GenerateDataKey", "kms:Decrypt") {
				t.Errorf("key policy does not let %s use the key (kms:GenerateDataKey*, kms:Decrypt)", svc)
			}
		}
		if !keyPolicyAllowsAccount(doc, harness.Account) {
			t.Error("key policy does not keep the account root in control of the key")
		}
	})
}

func principals(p map[string]any, kind string) []string {
	switch v := p[kind].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

func actionMatches(patterns []string, action string) bool {
	for _, p := range patterns {
		if p == "*" || p == "kms:*" || p == action || (strings.HasSuffix(p, "*") && strings.HasPrefix(action, strings.TrimSuffix(p, "*"))) {
			return true
		}
	}
	return false
}

func keyPolicyAllows(doc infra.PolicyDocument, service string, actions ...string) bool {
	for _, a := range actions {
		ok := false
		for _, st := range doc.Statement {
			if st.Effect == "Allow" && slices.Contains(principals(st.Principal, "Service"), service) && actionMatches(st.Action, a) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func keyPolicyAllowsAccount(doc infra.PolicyDocument, account string) bool {
	for _, st := range doc.Statement {
		if st.Effect == "Allow" && slices.Contains(principals(st.Principal, "AWS"), "arn:aws:iam::"+account+":root") && actionMatches(st.Action, "kms:PutKeyPolicy") {
			return true
		}
	}
	return false
}

func TestMonitoringRdsEventSubscription(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		es := monOnly(t, g, "aws:rds/eventSubscription:EventSubscription")
		topic := monOnly(t, g, typeTopic)
		if monString(es, "snsTopic") != monString(topic, "arn") || monString(es, "sourceType") != "db-cluster" {
			t.Errorf("event subscription snsTopic=%q sourceType=%q", monString(es, "snsTopic"), monString(es, "sourceType"))
		}
		for _, id := range monStrings(es, "sourceIds") {
			if findByOutput(g, []string{"aws:rds/cluster:Cluster"}, "clusterIdentifier", id) == "" {
				t.Errorf("event subscription source %q is no cluster of the stack", id)
			}
		}
		cats := monStrings(es, "eventCategories")
		for _, c := range []string{"failover", "failure", "maintenance"} {
			if !slices.Contains(cats, c) {
				t.Errorf("event categories %v lack %q", cats, c)
			}
		}
	})
}

// monitoringLiterals are the identifiers the direct test hands NewMonitoring.
var monitoringLiterals = map[string]string{
	"ApiName": "books-api", "Stage": "v1", "WebACL": "booksWebAcl", "FunctionName": "books-limits-fn",
	"LoadBalancer": "app/books-alb/0123456789abcdef", "TargetGroup": "targetgroup/books-tg/fedcba9876543210",
	"ClusterName": "books-cluster", "ServiceName": "books-service",
	"DBClusterIdentifier": "books-db", "Region": "eu-west-1", "Rule": "ALL",
}

var monitoringCacheNodes = []string{"books-cache-001", "books-cache-002"}

// runMonitoringDirect runs NewMonitoring alone with literal inputs.
func runMonitoringDirect(t *testing.T, serverless, waf, demo bool, readers int) *harness.Graph {
	t.Helper()
	l := monitoringLiterals
	program := func(ctx *pulumi.Context) error {
		_, err := infra.NewMonitoring(ctx, "monitoring", &infra.MonitoringArgs{
			Settings:      infra.DefaultConfig().Alarms,
			DashboardName: "books-direct",
			Env:           infra.Environment{Region: "eu-west-1", Account: harness.Account, Partition: harness.Partition},
			Api: &infra.ApiMonitoring{
				RestApiName: pulumi.String(l["ApiName"]), StageName: pulumi.String(l["Stage"]),
				Waf: waf, WebAclMetricName: pulumi.String(l["WebACL"]),
				LimitsDemo: demo, LimitsFunctionName: pulumi.String(l["FunctionName"]),
			},
			LoadBalancer: &infra.LoadBalancerMonitoring{AlbArnSuffix: pulumi.String(l["LoadBalancer"]), TargetGroupArnSuffix: pulumi.String(l["TargetGroup"])},
			Service:      &infra.ServiceMonitoring{ClusterName: pulumi.String(l["ClusterName"]), ServiceName: pulumi.String(l["ServiceName"])},
			Database:     &infra.DatabaseMonitoring{ClusterIdentifier: pulumi.String(l["DBClusterIdentifier"]), Serverless: serverless, Readers: readers},
			Cache: &infra.CacheMonitoring{ReplicationGroupId: pulumi.String("books-cache"),
				MemberClusters: pulumi.ToStringArray(monitoringCacheNodes), NodeCount: len(monitoringCacheNodes)},
		})
		return err
	}
	g, err := harness.RunProgram("books", "dev", program)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestMonitoringComponentDirect(t *testing.T) {
	for _, c := range []struct {
		serverless, waf, demo bool
		readers               int
	}{{true, true, true, 1}, {false, false, false, 0}, {true, false, true, 0}, {false, true, false, 2}} {
		t.Run(fmt.Sprintf("serverless=%v,waf=%v,demo=%v,readers=%d", c.serverless, c.waf, c.demo, c.readers), func(t *testing.T) {
			g := runMonitoringDirect(t, c.serverless, c.waf, c.demo, c.readers)
			roles := []string{"writer"}
			if c.readers > 0 {
				roles = append(roles, "reader")
			}
			alarms := monChildren(t, g, typeAlarm)
			var names []string
			for _, a := range alarms {
				names = append(names, alarmSuffix(a))
				for k, v := range alarmDimensions(a) {
					want, known := monitoringLiterals[k]
					switch k {
					case "CacheClusterId":
						known, want = slices.Contains(monitoringCacheNodes, v), v
					case "Role":
						known, want = slices.Contains(roles, strings.ToLower(v)), v
					}
					if !known || v != want {
						t.Errorf("%s: dimension %s=%q is not the identifier passed in", a.Name, k, v)
					}
				}
			}
			sort.Strings(names)
			want := []string{"api-5xx", "api-latency-p99", "service-cpu", "service-memory", "target-5xx", "target-p99", "unhealthy-hosts"}
			for _, r := range roles {
				want = append(want, "db-"+r+"-connections", "db-"+r+"-cpu", "db-"+r+"-freeable-memory")
				if c.serverless {
					want = append(want, "db-"+r+"-acu")
				}
			}
			for _, n := range []string{"1", "2"} {
				want = append(want, "cache-"+n+"-engine-cpu", "cache-"+n+"-evictions", "cache-"+n+"-memory")
			}
			if c.waf {
				want = append(want, "waf-blocked")
			}
			if c.demo {
				want = append(want, "limits-lambda-errors")
			}
			sort.Strings(want)
			if !slices.Equal(names, want) {
				t.Errorf("alarms = %v\nwant     %v", names, want)
			}
			// The dashboard graphs every identifier passed in (WAF and the
			// demo function only when enabled).
			metrics := dashboardMetrics(t, monString(monOnly(t, g, typeDashboard), "dashboardBody"))
			seen := map[string]bool{}
			for _, m := range metrics {
				for k, v := range m.Dims {
					seen[k+"="+v] = true
				}
			}
			for k, v := range monitoringLiterals {
				on := !(k == "WebACL" && !c.waf) && !(k == "FunctionName" && !c.demo) && !((k == "Region" || k == "Rule") && !c.waf)
				if seen[k+"="+v] != on {
					t.Errorf("dashboard shows %s=%s: %v, want %v", k, v, seen[k+"="+v], on)
				}
			}
			for _, r := range roles {
				if !seen["Role="+strings.ToUpper(r)] {
					t.Errorf("dashboard lacks the Aurora %s role", r)
				}
			}
			for _, n := range monitoringCacheNodes {
				if !seen["CacheClusterId="+n] {
					t.Errorf("dashboard lacks cache node %s", n)
				}
			}
		})
	}
}

func TestMonitoringDashboardURL(t *testing.T) {
	env := infra.Environment{Region: "eu-west-1", Partition: "aws"}
	want := "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=books-dev"
	if got := infra.DashboardURL(env, "books-dev"); got != want {
		t.Errorf("DashboardURL = %q, want %q", got, want)
	}
}

func TestMonitoringEmailSubscriptionsFollowConfig(t *testing.T) {
	want := map[string][]string{"dev": nil, "prod": {"oncall@example.com"}}
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		topic := monOnly(t, g, typeTopic)
		var got []string
		for _, s := range monChildren(t, g, "aws:sns/topicSubscription:TopicSubscription") {
			if monString(s, "protocol") != "email" || monString(s, "topic") != monString(topic, "arn") {
				t.Errorf("%s: protocol=%q topic=%q", s.Name, monString(s, "protocol"), monString(s, "topic"))
			}
			got = append(got, monString(s, "endpoint"))
		}
		if w, ok := want[stack]; ok && !slices.Equal(got, w) {
			t.Errorf("e-mail subscribers = %v, want %v (books:alarms.emails)", got, w)
		}
	})
}

// Thresholds come from books:alarms in the metric's own unit: the ALB
// reports TargetResponseTime in seconds, RDS FreeableMemory in bytes.
func TestMonitoringThresholdsUseTheMetricsUnits(t *testing.T) {
	a := infra.DefaultConfig().Alarms
	g := runMonitoringDirect(t, true, true, true, 0)
	want := map[string]float64{
		"target-p99":                float64(a.TargetP99Ms) / 1000,
		"api-latency-p99":           float64(a.ApiLatencyP99Ms),
		"db-writer-freeable-memory": float64(a.DbFreeableMiB) * 1024 * 1024,
		"db-writer-acu":             float64(a.AcuPercent),
		"cache-1-memory":            float64(a.CacheMemPercent),
		"waf-blocked":               float64(a.WafBlockedCount),
	}
	for _, r := range monChildren(t, g, typeAlarm) {
		if p := monValue(r, "period").NumberValue(); p != float64(a.PeriodSeconds) {
			t.Errorf("%s period = %v, want books:alarms.periodSeconds %d", r.Name, p, a.PeriodSeconds)
		}
		if e := monValue(r, "evaluationPeriods").NumberValue(); e != float64(a.EvaluationPeriods) {
			t.Errorf("%s evaluationPeriods = %v, want %d", r.Name, e, a.EvaluationPeriods)
		}
		if w, ok := want[alarmSuffix(r)]; ok {
			if got := monValue(r, "threshold").NumberValue(); got != w {
				t.Errorf("%s threshold = %v, want %v", r.Name, got, w)
			}
			delete(want, alarmSuffix(r))
		}
	}
	if len(want) > 0 {
		t.Errorf("alarms missing: %v", want)
	}
}
