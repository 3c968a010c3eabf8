package cost

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/books-platform/books/tests/harness"
)

// One test binary links the whole program; every test here shares it and
// each mocked run takes a fraction of a second.

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func stackNames(t *testing.T) []string {
	t.Helper()
	stacks, err := harness.Stacks(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(stacks) < 2 {
		t.Fatalf("expected the dev and prod stack files, found %v", stacks)
	}
	return stacks
}

// Regions the price table must cover: every stack's and us-east-1.
var tableRegions = []string{"eu-west-1", "us-east-1"}

func TestPriceTable(t *testing.T) {
	table, err := Prices()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("EveryDimensionInEveryRegion", func(t *testing.T) {
		for _, key := range sortedKeys(table.Dimensions) {
			for _, region := range tableRegions {
				if _, _, err := table.Lookup(key, region); err != nil {
					t.Error(err)
				}
			}
		}
	})
	t.Run("NoEntryOlderThanMaxAge", func(t *testing.T) {
		if stale := table.Stale(time.Now()); len(stale) > 0 {
			t.Errorf("%d price entries are older than %d days:\n%s", len(stale), table.MaxAgeDays, strings.Join(stale, "\n"))
		}
		// The check can fail: a year and a day later every entry is stale.
		later := time.Now().AddDate(0, 0, table.MaxAgeDays+1)
		if got, want := len(table.Stale(later)), 2*len(table.Dimensions); got != want {
			t.Errorf("Stale(now + maxAgeDays + 1) = %d entries, want all %d", got, want)
		}
	})
	t.Run("IncompleteEntriesRefused", func(t *testing.T) {
		for name, entry := range map[string]string{
			"no source":          `{usd: 1, read: "2026-12-01", quality: aws-page}`,
			"not a date":         `{usd: 1, source: "https://aws.amazon.com/x", read: "December", quality: aws-page}`,
			"unknown quality":    `{usd: 1, source: "https://aws.amazon.com/x", read: "2026-12-01", quality: guessed}`,
			"not-found, no note": `{usd: 1, source: "https://aws.amazon.com/x", read: "2026-12-01", quality: not-found}`,
		} {
			doc := "maxAgeDays: 365\ndimensions:\n  x.hour:\n    what: x\n    unit: hour\n    regions:\n      eu-west-1: " + entry + "\n"
			if _, err := ParsePrices([]byte(doc)); err == nil || !strings.Contains(err.Error(), "x.hour eu-west-1") {
				t.Errorf("%s: ParsePrices = %v, want an error naming x.hour eu-west-1", name, err)
			}
		}
	})
}

func TestEveryBillableTypeHasAPrice(t *testing.T) {
	table, err := Prices()
	if err != nil {
		t.Fatal(err)
	}
	for _, stack := range stackNames(t) {
		t.Run(stack, func(t *testing.T) {
			g, err := harness.Run(stack)
			if err != nil {
				t.Fatal(err)
			}
			if missing := Unclassified(g); len(missing) > 0 {
				t.Errorf("resource types of stack %s that are neither priced nor listed as free: %v", stack, missing)
			}
			for _, region := range tableRegions {
				if _, err := Compute(g, region, DefaultUsage(), table); err != nil {
					t.Errorf("region %s: %v", region, err)
				}
			}
			// The check can fail: an unknown type, and a dimension without a price.
			bogus := &harness.Graph{Project: g.Project, Stack: g.Stack, Resources: append(append([]*harness.Resource(nil), g.Resources...),
				&harness.Resource{URN: "urn:pulumi:x::books::aws:newsvc/thing:Thing::t", Type: "aws:newsvc/thing:Thing", Name: "t", Custom: true})}
			if _, err := Compute(bogus, "eu-west-1", DefaultUsage(), table); err == nil || !strings.Contains(err.Error(), "aws:newsvc/thing:Thing has no price") {
				t.Errorf("a graph with an unpriced type: Compute = %v, want an error naming the type", err)
			}
			short := &PriceTable{MaxAgeDays: table.MaxAgeDays, Dimensions: map[string]*Dimension{}}
			for k, v := range table.Dimensions {
				if k != "ec2.natGateway.hour" && k != "elb.alb.hour" {
					short.Dimensions[k] = v
				}
			}
			if _, err := Compute(g, "eu-west-1", DefaultUsage(), short); err == nil || !strings.Contains(err.Error(), `"elb.alb.hour"`) {
				t.Errorf("a table without elb.alb.hour: Compute = %v, want an error naming it", err)
			}
		})
	}
}

// fixedPrices is the checked-in table with round prices for the dimensions
// the hand-computed cases use, so the expected values below are literal.
func fixedPrices(t *testing.T) *PriceTable {
	t.Helper()
	table, err := Prices()
	if err != nil {
		t.Fatal(err)
	}
	fixed := map[string]float64{
		"ec2.natGateway.hour":                     0.05,
		"ec2.natGateway.gb":                       0.05,
		"ec2.publicIPv4.hour":                     0.005,
		"rds.aurora.serverlessV2.acuHour":         0.10,
		"ecs.fargateSpot.arm64.vcpuHour":          0.01,
		"ecs.fargateSpot.arm64.gbHour":            0.001,
		"ecs.fargate.arm64.vcpuHour":              0.04,
		"ecs.fargate.arm64.gbHour":                0.004,
		"apigateway.cache.0.5gb.hour":             0.02,
		"apigateway.cache.1.6gb.hour":             0.04,
		"cloudwatch.metrics.custom.month":         0.30,
		"elasticache.valkey.cache.t4g.micro.hour": 0.01,
	}
	out := &PriceTable{MaxAgeDays: table.MaxAgeDays, Dimensions: map[string]*Dimension{}}
	for k, d := range table.Dimensions {
		copyD := *d
		copyD.Regions = map[string]Price{}
		for r, p := range d.Regions {
			if v, ok := fixed[k]; ok {
				p.USD = v
			}
			copyD.Regions[r] = p
		}
		out.Dimensions[k] = &copyD
	}
	return out
}

// fixedUsage is the usage of the hand-computed cases (not the stack files).
func fixedUsage() Usage {
	u := DefaultUsage()
	u.NATGBPerMonth = 10
	u.DBActiveHoursPerMonth = 200
	u.DBAverageACU = 0
	u.AverageTasks = 0
	return u
}

// setField edits one field of a structured config key (books:network, …).
func setField(t *testing.T, c *harness.StackConfig, key, field string, value any) {
	t.Helper()
	m := map[string]any{}
	if raw := c.Values[key]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	m[field] = value
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	c.Values[key] = string(b)
}

type edit struct {
	key, field string
	value      any
}

func estimate(t *testing.T, stack string, u Usage, table *PriceTable, edits ...edit) *Estimate {
	t.Helper()
	e, err := EstimateStack(repoRoot(t), stack, StackOptions{Usage: &u, Prices: table, EditConfig: func(c *harness.StackConfig) {
		for _, ed := range edits {
			setField(t, c, ed.key, ed.field, ed.value)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// line finds the line of a resource (by logical name) and dimension.
func line(t *testing.T, e *Estimate, resource, dim string) Line {
	t.Helper()
	for _, l := range e.Lines {
		if l.Resource == resource && l.Dimension == dim {
			return l
		}
	}
	t.Fatalf("stack %s has no line %s %s", e.Stack, resource, dim)
	return Line{}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestHandComputedLines(t *testing.T) {
	table, u := fixedPrices(t), fixedUsage()
	// The service settings are pinned, so the cases do not follow the stack
	// files' sizes: 0.25 vCPU, 0.5 GB, arm64, one task on Spot.
	spotARM := []edit{
		{"books:service", "cpu", 256}, {"books:service", "memory", 512}, {"books:service", "architecture", "arm64"},
		{"books:service", "desiredCount", 1}, {"books:service", "minCount", 1}, {"books:service", "spotPercent", 100},
	}
	cases := []struct {
		name, stack string
		usage       func(*Usage)
		edits       []edit
		resource    string
		dim         string
		want        float64 // USD per month, by hand
	}{
		// 1 NAT × 730 h × $0.05; 10 GB × $0.05; its Elastic IP 730 h × $0.005.
		{"NAT single hours", "dev", nil, []edit{{"books:network", "natStrategy", "Single"}}, "network", "ec2.natGateway.hour", 36.50},
		{"NAT data", "dev", nil, []edit{{"books:network", "natStrategy", "Single"}}, "network", "ec2.natGateway.gb", 0.50},
		{"NAT Elastic IP", "dev", nil, []edit{{"books:network", "natStrategy", "Single"}}, "network", "ec2.publicIPv4.hour", 3.65},
		// 3 NATs (one per AZ of prod) × 730 h × $0.05.
		{"NAT one per AZ", "prod", nil, []edit{{"books:network", "natStrategy", "OnePerAz"}, {"books:network", "azCount", 3}}, "network", "ec2.natGateway.hour", 109.50},
		// Aurora Serverless v2 at the minimum: minCapacity 0 pauses, awake 200 h at the 0.5 ACU floor × $0.10.
		{"Aurora at min 0 (auto-pause)", "dev", nil, []edit{{"books:database", "minCapacity", 0}, {"books:database", "maxCapacity", 4}}, "database-1", "rds.aurora.serverlessV2.acuHour", 10.00},
		// minCapacity 1 never pauses: 1 ACU × 730 h × $0.10.
		{"Aurora at min 1", "prod", nil, []edit{{"books:database", "minCapacity", 1}, {"books:database", "maxCapacity", 16}}, "database-1", "rds.aurora.serverlessV2.acuHour", 73.00},
		// Average 2.5 ACU: 2.5 × 730 h × $0.10 for the writer and for the reader.
		{"Aurora at avg 2.5 ACU, writer", "prod", func(u *Usage) { u.DBAverageACU = 2.5 }, []edit{{"books:database", "minCapacity", 1}, {"books:database", "maxCapacity", 16}, {"books:database", "readers", 1}}, "database-1", "rds.aurora.serverlessV2.acuHour", 182.50},
		{"Aurora at avg 2.5 ACU, reader", "prod", func(u *Usage) { u.DBAverageACU = 2.5 }, []edit{{"books:database", "minCapacity", 1}, {"books:database", "maxCapacity", 16}, {"books:database", "readers", 1}}, "database-2", "rds.aurora.serverlessV2.acuHour", 182.50},
		// Average 6 ACU above maxCapacity 4 is clamped: 4 × 200 h × $0.10.
		{"Aurora average clamped to max", "dev", func(u *Usage) { u.DBAverageACU = 6 }, []edit{{"books:database", "minCapacity", 0}, {"books:database", "maxCapacity", 4}}, "database-1", "rds.aurora.serverlessV2.acuHour", 80.00},
		// Fargate Spot ARM: 1 task × 0.25 vCPU × 730 h × $0.01; 0.5 GB × 730 h × $0.001.
		{"Fargate Spot ARM vCPU", "dev", nil, spotARM, "service", "ecs.fargateSpot.arm64.vcpuHour", 1.825},
		{"Fargate Spot ARM memory", "dev", nil, spotARM, "service", "ecs.fargateSpot.arm64.gbHour", 0.365},
		// spotPercent 50 with 3 tasks: base 1 on FARGATE, the other 2 split 50/50:
		// on-demand 2 × 0.25 × 730 × $0.04, Spot 1 × 0.25 × 730 × $0.01.
		{"Fargate split on-demand", "dev", nil, append(append([]edit{}, spotARM...), edit{"books:service", "spotPercent", 50}, edit{"books:service", "desiredCount", 3}, edit{"books:service", "maxCount", 4}), "service", "ecs.fargate.arm64.vcpuHour", 14.60},
		{"Fargate split Spot", "dev", nil, append(append([]edit{}, spotARM...), edit{"books:service", "spotPercent", 50}, edit{"books:service", "desiredCount", 3}, edit{"books:service", "maxCount", 4}), "service", "ecs.fargateSpot.arm64.vcpuHour", 1.825},
		// API cache: 730 h × $0.02 (0.5 GB), 730 h × $0.04 (1.6 GB).
		{"API cache 0.5 GB", "dev", nil, []edit{{"books:api", "cacheSize", "0.5"}}, "api", "apigateway.cache.0.5gb.hour", 14.60},
		{"API cache 1.6 GB", "prod", nil, []edit{{"books:api", "cacheSize", "1.6"}}, "api", "apigateway.cache.1.6gb.hour", 29.20},
		// ElastiCache: 1 valkey cache.t4g.micro × 730 h × $0.01.
		{"cache node", "dev", nil, []edit{{"books:cache", "nodeType", "cache.t4g.micro"}, {"books:cache", "nodeCount", 1}, {"books:cache", "failover", false}}, "cache", "elasticache.valkey.cache.t4g.micro.hour", 7.30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			uu := u
			if tc.usage != nil {
				tc.usage(&uu)
			}
			l := line(t, estimate(t, tc.stack, uu, table, tc.edits...), tc.resource, tc.dim)
			if !near(l.Monthly, tc.want) {
				t.Errorf("%s %s = $%v/month (%v %s × $%v), want $%v", tc.resource, tc.dim, l.Monthly, l.Quantity, l.Unit, l.UnitUSD, tc.want)
			}
			// Data, ACU-hours and task counts come from the usage file.
			if strings.HasSuffix(tc.dim, ".gb") || strings.Contains(tc.dim, "acuHour") || strings.HasPrefix(tc.dim, "ecs.") {
				if l.Assumption == "" {
					t.Errorf("%s %s depends on usage but shows no assumption", tc.resource, tc.dim)
				}
			}
		})
	}
}

// changed lists the keys (resource#dimension) of a diff's lines.
func changed(d *Diff) []string {
	var keys []string
	for _, r := range d.Resources {
		for _, l := range r.Lines {
			keys = append(keys, r.Resource+"#"+l.Dimension+" "+l.Change)
		}
	}
	sort.Strings(keys)
	return keys
}

// roundTrip writes an estimate as JSON and reads it back, as -diff does.
func roundTrip(t *testing.T, e *Estimate) *Estimate {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, e, FormatJSON); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), e.Stack+".json")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := ReadEstimate(path)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func TestConfigChangeDiff(t *testing.T) {
	table, u := fixedPrices(t), fixedUsage()
	base := roundTrip(t, estimate(t, "dev", u, table))
	t.Run("NoChange", func(t *testing.T) {
		d := Compare(base, roundTrip(t, estimate(t, "dev", u, table)))
		if len(d.Resources) != 0 || d.Delta != 0 {
			t.Errorf("the same stack twice differs: %v", changed(d))
		}
	})
	t.Run("natStrategy", func(t *testing.T) {
		// Single → OnePerAz on dev's 2 AZs: one more NAT gateway and its IP;
		// the data processed stays the same.
		d := Compare(base, roundTrip(t, estimate(t, "dev", u, table, edit{"books:network", "natStrategy", "OnePerAz"})))
		want := []string{"network#ec2.natGateway.hour changed", "network#ec2.publicIPv4.hour changed"}
		if got := changed(d); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("changed lines %v, want %v", got, want)
		}
		if !near(d.Delta, 36.50+3.65) {
			t.Errorf("delta $%v, want $%v (a NAT gateway and its Elastic IP)", d.Delta, 36.50+3.65)
		}
	})
	t.Run("readers", func(t *testing.T) {
		// 0 → 1 reader: the reader instance's ACU-hours, and the READER-role
		// alarms monitoring adds for it; nothing else.
		head := roundTrip(t, estimate(t, "dev", u, table, edit{"books:database", "readers", 1}))
		d := Compare(base, head)
		var readerAlarms int
		for _, r := range d.Resources {
			switch {
			case r.Resource == "database-2" && len(r.Lines) == 1 && r.Lines[0].Dimension == "rds.aurora.serverlessV2.acuHour" && r.Change == Added:
				if !near(r.Delta, 10.00) {
					t.Errorf("reader at the 0.5 ACU floor for 200 h × $0.10 = $%v, want $10", r.Delta)
				}
			case r.Type == "aws:cloudwatch/metricAlarm:MetricAlarm" && strings.Contains(r.Resource, "reader") && r.Change == Added:
				readerAlarms++
			default:
				t.Errorf("unexpected change %s %s: %v", r.Resource, r.Change, changed(&Diff{Resources: []ResourceDiff{r}}))
			}
		}
		if readerAlarms == 0 || len(d.Resources) != readerAlarms+1 {
			t.Errorf("changes %v: want the reader instance and its alarms", changed(d))
		}
	})
	t.Run("detailedMetrics", func(t *testing.T) {
		// false → true: the stage-wide method setting publishes 7 metrics
		// for each of dev's 9 methods, billed as custom metrics; nothing
		// else changes (the alarms use stage-level metrics either way).
		d := Compare(base, roundTrip(t, estimate(t, "dev", u, table, edit{"books:api", "detailedMetrics", true})))
		want := []string{"api-settings-all#cloudwatch.metrics.custom.month added"}
		if got := changed(d); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("changed lines %v, want %v", got, want)
		}
		if !near(d.Delta, 9*7*0.30) {
			t.Errorf("delta $%v, want $%v (9 methods × 7 metrics × $0.30)", d.Delta, 9*7*0.30)
		}
	})
	t.Run("cacheSize", func(t *testing.T) {
		// 0.5 → 1.6 GB: the stage's cache line moves to the larger size.
		d := Compare(base, roundTrip(t, estimate(t, "dev", u, table, edit{"books:api", "cacheSize", "1.6"})))
		want := []string{"api#apigateway.cache.0.5gb.hour removed", "api#apigateway.cache.1.6gb.hour added"}
		if got := changed(d); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("changed lines %v, want %v", got, want)
		}
		if !near(d.Delta, 29.20-14.60) {
			t.Errorf("delta $%v, want $%v", d.Delta, 29.20-14.60)
		}
		var md bytes.Buffer
		if err := RenderDiff(&md, d, FormatMarkdown); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"#### Cost of `dev`", "**+$14.60**", "| removed | Api | `api` | API Gateway cache cluster 0.5 GB | $14.60 | $0.00 | -$14.60 |"} {
			if !strings.Contains(md.String(), want) {
				t.Errorf("markdown diff lacks %q:\n%s", want, md.String())
			}
		}
	})
}

func TestUsageFiles(t *testing.T) {
	root := repoRoot(t)
	for _, stack := range stackNames(t) {
		t.Run(stack, func(t *testing.T) {
			if _, found, err := LoadUsage(root, stack); err != nil || !found {
				t.Errorf("%s: found=%v err=%v (every stack needs a usage file with its assumptions)", UsageFile(stack), found, err)
			}
		})
	}
	t.Run("UnknownKey", func(t *testing.T) {
		if _, err := ParseUsage([]byte("apiRequestPerMonth: 5\n")); err == nil || !strings.Contains(err.Error(), "apiRequestPerMonth") {
			t.Errorf("misspelt key: %v, want an error naming it", err)
		}
	})
	t.Run("BadValues", func(t *testing.T) {
		_, err := ParseUsage([]byte("natGBPerMonth: -1\napiCacheHitShare: 2\ndbActiveHoursPerMonth: 800\n"))
		for _, want := range []string{"natGBPerMonth=-1", "apiCacheHitShare=2", "dbActiveHoursPerMonth=800"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not name %s", err, want)
			}
		}
	})
	t.Run("EmptyIsDefaults", func(t *testing.T) {
		u, err := ParseUsage(nil)
		if err != nil || mustJSON(u) != mustJSON(DefaultUsage()) {
			t.Errorf("empty file: %v, %+v", err, u)
		}
	})
	t.Run("LogGroupsAddToDefault", func(t *testing.T) {
		u, err := ParseUsage([]byte("logGBPerMonth:\n  service: 3\n"))
		if err != nil {
			t.Fatal(err)
		}
		if gb, _ := u.logGB("service"); gb != 3 {
			t.Errorf("service = %v, want 3", gb)
		}
		if gb, key := u.logGB("other"); gb != 0.5 || key != "logGBPerMonth.default" {
			t.Errorf("other = %v from %s, want the default 0.5", gb, key)
		}
	})
}

func TestStackEstimates(t *testing.T) {
	root := repoRoot(t)
	for _, stack := range stackNames(t) {
		t.Run(stack, func(t *testing.T) {
			e, err := EstimateStack(root, stack, StackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if e.Monthly <= 0 || e.UsageFile != UsageFile(stack) {
				t.Errorf("total $%v, usage %q", e.Monthly, e.UsageFile)
			}
			var sum float64
			for _, l := range e.Lines {
				sum += l.Monthly
				if l.Assumption != "" && !strings.Contains(l.Assumption, "=") {
					t.Errorf("%s %s: assumption %q names no usage value", l.Resource, l.Dimension, l.Assumption)
				}
			}
			if math.Abs(sum-e.Monthly) > 0.01 {
				t.Errorf("lines add up to $%.2f, total says $%.2f", sum, e.Monthly)
			}
			t.Logf("stack %s: $%.2f/month ($%.4f/hour)", stack, e.Monthly, e.Hourly)
			for _, l := range e.Top(3) {
				t.Logf("  top: $%.2f %s %s (%s)", l.Monthly, l.Resource, l.What, l.Basis)
			}
			for _, format := range Formats {
				var b bytes.Buffer
				if err := Render(&b, e, format); err != nil {
					t.Fatal(err)
				}
				if format != FormatJSON && !strings.Contains(b.String(), "not a bill") {
					t.Errorf("%s output does not say it is an estimate", format)
				}
			}
		})
	}
}
