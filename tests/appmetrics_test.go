package tests

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/tests/harness"
)

// The service writes its metrics as EMF lines (app/metrics); the names,
// units and dimensions are app/metrics/metrics.json, which the app embeds
// (its tests keep the emitted documents equal to it) and the program reads.
// These tests hold the program to the same file: the task environment sets
// the dimension values, the dashboard graphs exactly the emitted metrics
// with their dimension sets, and the alarms query them.

var appCatalogue = sync.OnceValues(func() (*infra.AppMetrics, error) {
	root, err := harness.RepoRoot()
	if err != nil {
		return nil, err
	}
	return infra.LoadAppMetrics(filepath.Join(root, infra.AppDir))
})

func loadAppCatalogue(t *testing.T) *infra.AppMetrics {
	t.Helper()
	c, err := appCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// appTaskEnv is the service container's plain environment.
func appTaskEnv(g *harness.Graph) map[string]string {
	out := map[string]string{}
	for _, td := range g.ByType("aws:ecs/taskDefinition:TaskDefinition") {
		var defs []containerDefinition
		if json.Unmarshal([]byte(monString(td, "containerDefinitions")), &defs) != nil {
			continue
		}
		for _, d := range defs {
			for _, kv := range d.Environment {
				out[kv.Name] = kv.Value
			}
		}
	}
	return out
}

// resolveAppDimension says where a dimension of the app's metrics comes
// from: Stack and Service from the task environment the app reads them
// from, Route and StatusClass from the values the app writes ("" if none).
func resolveAppDimension(g *harness.Graph, dim, v string) string {
	c, err := appCatalogue()
	if err != nil {
		return ""
	}
	for _, d := range c.Dimensions {
		if d.Name == dim && appTaskEnv(g)[d.Env] == v && v != "" {
			return "task environment " + d.Env
		}
	}
	switch {
	case dim == infra.AppDimRoute && slices.Contains(c.Routes, v):
		return "app route " + v
	case dim == infra.AppDimStatusClass && slices.Contains(c.StatusClasses, v):
		return "status class " + v
	}
	return ""
}

func TestAppMetricsProgramUsesTheCatalogue(t *testing.T) {
	c := loadAppCatalogue(t)
	var names []string
	for _, m := range c.Metrics {
		names = append(names, m.Name)
	}
	want := slices.Clone(infra.AppMetricNames)
	sort.Strings(names)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Errorf("metrics.json lists %v\nthe program uses   %v", names, want)
	}
}

func TestAppMetricsTaskEnvironmentSetsNamespaceAndDimensions(t *testing.T) {
	c := loadAppCatalogue(t)
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		env := svcContainers(t, g)[0].Environment
		got := map[string]string{}
		for _, kv := range env {
			got[kv.Name] = kv.Value
		}
		want := map[string]string{c.Namespace.Env: c.Namespace.Default, "METRICS_STACK": stack, "METRICS_SERVICE": "books-api"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("task environment %s = %q, want %q", k, got[k], v)
			}
		}
		for _, d := range c.Dimensions {
			if got[d.Env] == "" {
				t.Errorf("task environment lacks %s (dimension %s)", d.Env, d.Name)
			}
		}
	})
}

// dashWidget is a metric widget with its metrics as raw arrays.
type dashWidget struct {
	Title   string
	Metrics [][]any
}

func dashboardWidgets(t *testing.T, body string) []dashWidget {
	t.Helper()
	var d struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Title   string  `json:"title"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	var out []dashWidget
	for _, w := range d.Widgets {
		if w.Type == "metric" {
			out = append(out, dashWidget{w.Properties.Title, w.Properties.Metrics})
		}
	}
	return out
}

// metricIdent matches the ids an expression refers to.
var metricIdent = regexp.MustCompile(`\b[a-z][a-zA-Z0-9_]*\b`)

// exprRefs are the ids an expression uses (function names are upper case).
func exprRefs(expr string) []string { return metricIdent.FindAllString(expr, -1) }

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// TestAppMetricsDashboardGraphsExactlyTheEmittedMetrics: every metric the
// app writes is on the dashboard, nothing else of its namespace is, each
// with one of the dimension sets the app writes it under and dimension
// values the app is given or produces; every expression uses ids of its
// own widget.
func TestAppMetricsDashboardGraphsExactlyTheEmittedMetrics(t *testing.T) {
	c := loadAppCatalogue(t)
	sets := map[string][][]string{}
	for _, m := range c.Metrics {
		sets[m.Name] = m.Dimensions
	}
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		graphed := map[string]bool{}
		for _, w := range dashboardWidgets(t, monString(monOnly(t, g, typeDashboard), "dashboardBody")) {
			ids := map[string]bool{}
			var exprs []string
			for _, m := range w.Metrics {
				last, _ := m[len(m)-1].(map[string]any)
				if len(m) == 1 && last["expression"] != nil {
					exprs = append(exprs, fmt.Sprint(last["expression"]))
					continue
				}
				if id, ok := last["id"]; ok {
					ids[fmt.Sprint(id)] = true
				}
				if fmt.Sprint(m[0]) != c.Namespace.Default {
					continue
				}
				name := fmt.Sprint(m[1])
				if _, ok := sets[name]; !ok {
					t.Errorf("%s: %s is not a metric the app writes", w.Title, name)
					continue
				}
				graphed[name] = true
				rest := m[2:]
				if last != nil {
					rest = rest[:len(rest)-1]
				}
				var keys []string
				for i := 0; i+1 < len(rest); i += 2 {
					k, v := fmt.Sprint(rest[i]), fmt.Sprint(rest[i+1])
					keys = append(keys, k)
					if resolveAppDimension(g, k, v) == "" {
						t.Errorf("%s: %s %s=%q is no value the app writes", w.Title, name, k, v)
					}
				}
				if !slices.ContainsFunc(sets[name], func(s []string) bool { return sameSet(s, keys) }) {
					t.Errorf("%s: %s with dimensions %v, but the app writes it with %v", w.Title, name, keys, sets[name])
				}
			}
			for _, e := range exprs {
				for _, ref := range exprRefs(e) {
					if !ids[ref] {
						t.Errorf("%s: expression %q uses %q, which no metric of the widget has as id", w.Title, e, ref)
					}
				}
			}
		}
		for name := range sets {
			if !graphed[name] {
				t.Errorf("%s is written by the app but not on the dashboard", name)
			}
		}
	})
}

// appAlarm returns the Monitoring alarm with suffix.
func appAlarm(t *testing.T, g *harness.Graph, suffix string) *harness.Resource {
	t.Helper()
	for _, a := range monChildren(t, g, typeAlarm) {
		if alarmSuffix(a) == suffix {
			return a
		}
	}
	t.Fatalf("no alarm %s", suffix)
	return nil
}

// TestAppMetricsAlarms: the cache hit ratio and pool wait alarms exist in
// every stack, notify the topic on alarm and OK, take their thresholds from
// books:alarms, and query the app's metrics as the app writes them.
func TestAppMetricsAlarms(t *testing.T) {
	c := loadAppCatalogue(t)
	sets := map[string][][]string{}
	for _, m := range c.Metrics {
		sets[m.Name] = m.Dimensions
	}
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		a := stackConfig(t, stack).Alarms
		topic := monString(monOnly(t, g, typeTopic), "arn")
		for _, w := range []struct {
			suffix     string
			threshold  float64
			comparison string
			inputs     []string
			expression string
		}{
			{"app-cache-hit-ratio", float64(a.CacheHitRatioPercent), "LessThanThreshold", []string{"CacheHits", "CacheMisses", "CacheErrors"},
				fmt.Sprintf("IF(reads >= %d, 100 * hits / reads)", a.CacheHitRatioMinReads)},
			{"app-db-pool-wait", float64(a.DbPoolWaitMs), "GreaterThanThreshold", []string{"DbPoolWaitTime", "DbPoolAcquires"},
				"IF(acquires > 0, wait / acquires)"},
		} {
			r := appAlarm(t, g, w.suffix)
			for _, key := range []string{"alarmActions", "okActions"} {
				if got := monStrings(r, key); !slices.Equal(got, []string{topic}) {
					t.Errorf("%s %s = %v, want [%s]", w.suffix, key, got, topic)
				}
			}
			if th := monValue(r, "threshold").NumberValue(); th != w.threshold || monString(r, "comparisonOperator") != w.comparison {
				t.Errorf("%s: %s %v, want %s %v", w.suffix, monString(r, "comparisonOperator"), th, w.comparison, w.threshold)
			}
			// metricQueries conflicts with these (terraform-provider-aws metric_alarm.go).
			for _, k := range []string{"metricName", "namespace", "period", "statistic", "extendedStatistic", "dimensions"} {
				if v := monValue(r, k); !v.IsNull() && !(v.IsObject() && len(v.ObjectValue()) == 0) && !(v.IsString() && v.StringValue() == "") {
					t.Errorf("%s sets %s (%v) next to metricQueries", w.suffix, k, v)
				}
			}
			var inputs, returned []string
			ids := map[string]bool{}
			var exprs []string
			for _, q := range monValue(r, "metricQueries").ArrayValue() {
				o := q.ObjectValue()
				id := o["id"].StringValue()
				if !regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`).MatchString(id) {
					t.Errorf("%s: query id %q must start with a lowercase letter", w.suffix, id)
				}
				ids[id] = true
				if o["returnData"].IsBool() && o["returnData"].BoolValue() {
					returned = append(returned, id)
				}
				if e := o["expression"]; e.IsString() && e.StringValue() != "" {
					exprs = append(exprs, e.StringValue())
					if o["returnData"].IsBool() && o["returnData"].BoolValue() && e.StringValue() != w.expression {
						t.Errorf("%s alarms on %q, want %q", w.suffix, e.StringValue(), w.expression)
					}
					continue
				}
				m := o["metric"].ObjectValue()
				name := m["metricName"].StringValue()
				inputs = append(inputs, name)
				if m["namespace"].StringValue() != c.Namespace.Default || m["period"].NumberValue() != float64(a.PeriodSeconds) || m["stat"].StringValue() != "Sum" {
					t.Errorf("%s: input %s namespace %q period %v stat %q", w.suffix, name, m["namespace"].StringValue(), m["period"].NumberValue(), m["stat"].StringValue())
				}
				var keys []string
				for k, v := range m["dimensions"].ObjectValue() {
					keys = append(keys, string(k))
					if resolveAppDimension(g, string(k), v.StringValue()) == "" {
						t.Errorf("%s: input %s %s=%q is no value the app writes", w.suffix, name, k, v.StringValue())
					}
				}
				if !slices.ContainsFunc(sets[name], func(s []string) bool { return sameSet(s, keys) }) {
					t.Errorf("%s: input %s with dimensions %v, but the app writes it with %v", w.suffix, name, keys, sets[name])
				}
			}
			if !sameSet(inputs, w.inputs) || len(returned) != 1 {
				t.Errorf("%s: inputs %v (want %v), returned ids %v (want exactly one)", w.suffix, inputs, w.inputs, returned)
			}
			for _, e := range exprs {
				for _, ref := range exprRefs(e) {
					if !ids[ref] {
						t.Errorf("%s: expression %q uses undefined id %q", w.suffix, e, ref)
					}
				}
			}
		}
	})
}

// TestAppMetricsNeedNoCloudWatchPermission: EMF metrics are extracted by
// CloudWatch Logs from the log group the awslogs driver writes to, so the
// roles hold no cloudwatch: action, and the execution role may write the
// service's log streams (TestServiceRolesAreLeastPrivilege pins the exact
// grants).
func TestAppMetricsNeedNoCloudWatchPermission(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		for _, role := range []string{"service-execution", "service-task"} {
			for _, st := range svcRolePolicy(t, g, role).Statement {
				for _, a := range st.Action {
					if strings.HasPrefix(strings.ToLower(a), "cloudwatch:") {
						t.Errorf("%s grants %s: EMF needs no CloudWatch API permission", role, a)
					}
				}
			}
		}
		logs := svcGrants(t, svcRolePolicy(t, g, "service-execution"))["logs:PutLogEvents"]
		group := svcOut(svcFind(t, g, "aws:cloudwatch/logGroup:LogGroup", "service"), "arn")
		if !slices.Contains(logs, group+":log-stream:*") {
			t.Errorf("execution role logs:PutLogEvents on %v, want the service log group's streams", logs)
		}
	})
}
