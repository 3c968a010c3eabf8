package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/tests/harness"
	"gopkg.in/yaml.v3"
)

func listQueryParams(t *testing.T) []string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "app", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var get struct {
		Parameters []struct{ Name, In string } `yaml:"parameters"`
	}
	node := doc.Paths["/book"]["get"]
	if err := node.Decode(&get); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range get.Parameters {
		if p.In == "query" {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		t.Fatal("openapi.yaml: GET /book has no query parameters")
	}
	return names
}

// cachedReads are the design's cached methods (DESIGN.md "Api"): the public
// list and the single-book read. Every other method must bypass the cache.
var cachedReads = map[string]bool{"GET /book": true, "GET /book/{bookId}": true}

func TestApiCacheKeys(t *testing.T) {
	query := listQueryParams(t)
	wantKeys := map[string][]string{
		"GET /book":          nil,
		"GET /book/{bookId}": {"method.request.path.bookId"},
	}
	for _, q := range query {
		wantKeys["GET /book"] = append(wantKeys["GET /book"], "method.request.querystring."+q)
	}
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		methods, integs := methodsByRoute(t, run.g)
		for route, keys := range wantKeys {
			got := propStrings(integs[route], "cacheKeyParameters")
			for _, k := range keys {
				if !slices.Contains(got, k) {
					t.Errorf("%s: cache keys %v lack %s (different requests would share a cache entry)", route, got, k)
				}
				if v := prop(methods[route], "requestParameters", k); !v.IsBool() {
					t.Errorf("%s: method does not declare %s, so it cannot be a cache key", route, k)
				}
			}
		}
		// Every parameter a cached method declares changes its response,
		// so every one of them is a cache key.
		for route := range cachedReads {
			for k := range prop(methods[route], "requestParameters").ObjectValue() {
				if !slices.Contains(propStrings(integs[route], "cacheKeyParameters"), string(k)) {
					t.Errorf("%s: declares %s but does not key the cache by it", route, k)
				}
			}
		}
	})
}

// settingsPath is the stage method-settings key AWS uses for a method: the
// resource path with every "/" written "~1" (the leading one included),
// then "/" and the verb, e.g. "~1book~1{bookId}/GET" (terraform-provider-aws
// internal/service/apigateway/method_settings.go passes it through as is;
// issue #9738 shows `aws apigateway get-stage` returning that form).
func settingsPath(path, verb string) string {
	return strings.ReplaceAll(path, "/", "~1") + "/" + verb
}

// methodSettingsByPath returns the stage's method settings keyed by methodPath.
func methodSettingsByPath(t *testing.T, g *harness.Graph) map[string]*harness.Resource {
	t.Helper()
	settings := map[string]*harness.Resource{}
	for _, s := range g.ByType(typSettings) {
		p := propString(s, "methodPath")
		if settings[p] != nil {
			t.Errorf("two method settings for %q: the later UpdateStage wins", p)
		}
		settings[p] = s
	}
	return settings
}

// TestApiMethodSettingsNameRealMethods: a per-method setting whose path is
// not a method's escaped path silently applies to nothing.
func TestApiMethodSettingsNameRealMethods(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		methods, _ := methodsByRoute(t, run.g)
		real := map[string]bool{"*/*": true}
		for route := range methods {
			verb, path, _ := strings.Cut(route, " ")
			real[settingsPath(path, verb)] = true
		}
		for p := range methodSettingsByPath(t, run.g) {
			if !real[p] {
				t.Errorf("method settings %q match no method of the API (non-root paths escape every / as ~1)", p)
			}
		}
	})
}

// TestApiCachingOnlyOnCachedReads computes each method's effective caching
// (its own setting, else the stage-wide */*) and wants it on exactly for the
// cached reads; the stage-wide setting never caches.
func TestApiCachingOnlyOnCachedReads(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		methods, _ := methodsByRoute(t, run.g)
		settings := methodSettingsByPath(t, run.g)
		all := settings["*/*"]
		if all == nil {
			t.Fatal("no */* method settings (logging, metrics and throttling of every method)")
		}
		if propBool(all, "settings", "cachingEnabled") {
			t.Error("*/* turns caching on for every method, writes included")
		}
		for route := range methods {
			verb, path, _ := strings.Cut(route, " ")
			s := settings[settingsPath(path, verb)]
			if s == nil {
				s = all
			}
			if got := propBool(s, "settings", "cachingEnabled"); got != cachedReads[route] {
				t.Errorf("%s: caching %v, want %v", route, got, cachedReads[route])
			}
		}
		for route := range cachedReads {
			if methods[route] == nil {
				t.Errorf("%s: no method", route)
			}
		}
	})
}

// TestApiCachedReadsRefreshable: a client that wrote may read its write
// through the gateway with Cache-Control: max-age=0. With a Cognito
// authorizer no client can send the IAM-signed request that
// requireAuthorizationForCacheControl=true demands, so it must be false
// (docs/decisions.md: throttling and WAF bound the abuse).
func TestApiCachedReadsRefreshable(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		settings := methodSettingsByPath(t, run.g)
		for route := range cachedReads {
			verb, path, _ := strings.Cut(route, " ")
			s := settings[settingsPath(path, verb)]
			if s == nil {
				t.Errorf("%s: no method settings of its own", route)
				continue
			}
			if v := prop(s, "settings", "requireAuthorizationForCacheControl"); !v.IsBool() || v.BoolValue() {
				t.Errorf("%s: requireAuthorizationForCacheControl %v, want an explicit false (max-age=0 must refresh the entry)", route, v)
			}
			if ttl, _ := propNumber(s, "settings", "cacheTtlInSeconds"); int(ttl) != infra.CacheTTLSeconds {
				t.Errorf("%s: cache TTL %v, want %d", route, ttl, infra.CacheTTLSeconds)
			}
			if !propBool(s, "settings", "cacheDataEncrypted") {
				t.Errorf("%s: cache data not encrypted", route)
			}
		}
	})
}

// TestApiMethodSettingsLoggingAndThrottling: every setting (each replaces
// the stage-wide one for its method) keeps logging, throttling and the
// stack's books:api.detailedMetrics, set explicitly either way.
func TestApiMethodSettingsLoggingAndThrottling(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		for path, s := range methodSettingsByPath(t, run.g) {
			metrics := prop(s, "settings", "metricsEnabled")
			if propString(s, "settings", "loggingLevel") != "INFO" || !metrics.IsBool() || metrics.BoolValue() != run.cfg.Api.DetailedMetrics {
				t.Errorf("%s: logging %q metrics %v, want INFO and detailedMetrics=%v", path, propString(s, "settings", "loggingLevel"), metrics, run.cfg.Api.DetailedMetrics)
			}
			if v := prop(s, "settings", "dataTraceEnabled"); !v.IsBool() || v.BoolValue() {
				t.Errorf("%s: data trace not explicitly off", path)
			}
			rate, _ := propNumber(s, "settings", "throttlingRateLimit")
			burst, _ := propNumber(s, "settings", "throttlingBurstLimit")
			if rate != run.cfg.Api.ThrottleRateLimit || int(burst) != run.cfg.Api.ThrottleBurst {
				t.Errorf("%s: throttling %v/%v, want %v/%v", path, rate, burst, run.cfg.Api.ThrottleRateLimit, run.cfg.Api.ThrottleBurst)
			}
		}
	})
}

func TestApiStage(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		g := run.g
		stage := only(t, g, typStage)
		dep := only(t, g, typDeployment)
		if propString(stage, "deployment") != dep.ID {
			t.Errorf("stage deploys %q, not the deployment %s", propString(stage, "deployment"), dep.ID)
		}
		if propString(stage, "stageName") != run.cfg.Api.StageName || !propBool(stage, "xrayTracingEnabled") {
			t.Errorf("stage %q xray %v", propString(stage, "stageName"), propBool(stage, "xrayTracingEnabled"))
		}
		if !propBool(stage, "cacheClusterEnabled") || propString(stage, "cacheClusterSize") != run.cfg.Api.CacheSize {
			t.Errorf("cache cluster %v size %q", propBool(stage, "cacheClusterEnabled"), propString(stage, "cacheClusterSize"))
		}
		dest := propString(stage, "accessLogSettings", "destinationArn")
		var logs *harness.Resource
		for _, lg := range g.ByType("aws:cloudwatch/logGroup:LogGroup") {
			if lg.Outputs["arn"].StringValue() == dest {
				logs = lg
			}
		}
		if logs == nil {
			t.Fatalf("access logs go to %q, not a log group of the stack", dest)
		}
		if d, _ := propNumber(logs, "retentionInDays"); int(d) != run.cfg.Api.LogRetentionDays {
			t.Errorf("access log retention %v", d)
		}
		var format map[string]string
		if err := json.Unmarshal([]byte(propString(stage, "accessLogSettings", "format")), &format); err != nil || format["requestId"] == "" {
			t.Errorf("access log format is not JSON with the request id: %v", err)
		}
		acct := only(t, g, "aws:apigateway/account:Account")
		var role *harness.Resource
		for _, r := range g.ByType("aws:iam/role:Role") {
			if r.Outputs["arn"].StringValue() == propString(acct, "cloudwatchRoleArn") {
				role = r
			}
		}
		if role == nil || !strings.Contains(propString(role, "assumeRolePolicy"), "apigateway.amazonaws.com") {
			t.Errorf("account CloudWatch role %q is not an API Gateway role", propString(acct, "cloudwatchRoleArn"))
		}
		if !slices.Contains(stage.Dependencies, acct.URN) {
			t.Error("the stage does not wait for the account's CloudWatch role (execution logging fails without it)")
		}
		// The deployment follows every method and integration.
		for _, typ := range []string{typMethod, typInteg} {
			for _, r := range g.ByType(typ) {
				if !slices.Contains(dep.Dependencies, r.URN) {
					t.Errorf("deployment does not depend on %s", r.Name)
				}
			}
		}
		if len(propString(dep, "triggers", "definition")) != 64 {
			t.Errorf("deployment trigger %v is not the definition hash", prop(dep, "triggers"))
		}
	})
}

func TestApiExecutionLogGroupHasRetention(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		rest := only(t, run.g, typRestApi)
		want := "API-Gateway-Execution-Logs_" + rest.ID + "/" + run.cfg.Api.StageName
		for _, lg := range run.g.ByType("aws:cloudwatch/logGroup:LogGroup") {
			if propString(lg, "name") == want {
				if d, _ := propNumber(lg, "retentionInDays"); int(d) != run.cfg.Api.LogRetentionDays {
					t.Errorf("execution log retention %v", d)
				}
				return
			}
		}
		t.Errorf("no log group %s: API Gateway would create it without retention", want)
	})
}
