package tests

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/tests/harness"
)

// configSource serves a harness.StackConfig to infra.DecodeConfig, as the
// engine serves config to the program.
type configSource struct {
	stack string
	cfg   *harness.StackConfig
}

func (c configSource) Project() string { return "books" }
func (c configSource) Stack() string   { return c.stack }
func (c configSource) GetConfig(key string) (string, bool) {
	v, ok := c.cfg.Values[key]
	return v, ok
}
func (c configSource) IsConfigSecret(key string) bool { return slices.Contains(c.cfg.SecretKeys, key) }

func loadStack(t *testing.T, stack string) *harness.StackConfig {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := harness.LoadStackConfig(root, stack)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// stackConfig is the decoded, validated config of a stack file.
func stackConfig(t *testing.T, stack string) *infra.Config {
	t.Helper()
	cfg, err := infra.DecodeConfig(configSource{stack, loadStack(t, stack)})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestPulumiYamlDefaultsMatchDefaultConfig keeps the declared defaults (what
// `pulumi config` users read) equal to the program's single source of defaults.
func TestPulumiYamlDefaultsMatchDefaultConfig(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	def := infra.DefaultConfig()
	sections := map[string]any{
		"network": def.Network, "database": def.Database, "cache": def.Cache,
		"service": def.Service, "api": def.Api, "alarms": def.Alarms,
	}
	declared := projectDefaults(t, root)
	for name, want := range sections {
		got, ok := declared["books:"+name]
		if !ok {
			t.Errorf("Pulumi.yaml does not declare books:%s", name)
			continue
		}
		wantJSON, _ := json.Marshal(want)
		var a, b any
		_ = json.Unmarshal(wantJSON, &a)
		_ = json.Unmarshal([]byte(got), &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("books:%s default in Pulumi.yaml differs from infra.DefaultConfig():\n  Pulumi.yaml: %s\n  Go:          %s", name, got, wantJSON)
		}
	}
}

// projectDefaults reads Pulumi.yaml's defaults alone (via an empty stack).
func projectDefaults(t *testing.T, root string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, root+"/Pulumi.yaml", dir+"/Pulumi.yaml")
	writeFile(t, dir+"/Pulumi.empty.yaml", "config: {}\n")
	sc, err := harness.LoadStackConfig(dir, "empty")
	if err != nil {
		t.Fatal(err)
	}
	return sc.Values
}

func TestStackFilesValidate(t *testing.T) {
	for _, stack := range stacks(t) {
		t.Run(stack, func(t *testing.T) { stackConfig(t, stack) })
	}
}

// TestConfigErrors shows every validation's message: each case breaks one
// value of the dev stack and expects an error naming the key, the value and
// what is allowed.
func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name  string
		key   string // books:<section>, or a full key
		patch string // JSON merged into the section (or raw value for scalars)
		want  []string
	}{
		{"CidrSyntax", "network", `{"cidr":"10.0.0/16"}`, []string{"books:network.cidr", `"10.0.0/16"`, "IPv4 CIDR"}},
		{"CidrHostBits", "network", `{"cidr":"10.0.0.1/16"}`, []string{"books:network.cidr", "10.0.0.0/16"}},
		{"CidrTooSmall", "network", `{"cidr":"10.0.0.0/26"}`, []string{"books:network.cidr", "/16–/24"}},
		{"CidrPublic", "network", `{"cidr":"8.8.0.0/16"}`, []string{"books:network.cidr", "RFC 1918"}},
		{"CidrTooSmallForSubnets", "network", `{"cidr":"10.0.0.0/20","azCount":6,"privateSubnetMask":24}`, []string{"books:network", "6 AZs", "need 4608 addresses", "larger cidr"}},
		{"AzCountLow", "network", `{"azCount":1}`, []string{"books:network.azCount=1", "2–6"}},
		{"AzCountHigh", "network", `{"azCount":7}`, []string{"books:network.azCount=7", "2–6"}},
		{"NatStrategy", "network", `{"natStrategy":"Double"}`, []string{"books:network.natStrategy=Double", "Single, OnePerAz, None"}},
		{"NatNoneNeedsEndpoints", "network", `{"natStrategy":"None"}`, []string{"natStrategy=None", "interfaceEndpoints=true"}},
		{"SubnetMask", "network", `{"privateSubnetMask":30}`, []string{"books:network.privateSubnetMask=30", "16–28"}},
		{"FlowLogRetention", "network", `{"flowLogRetentionDays":10}`, []string{"books:network.flowLogRetentionDays=10", "1, 3, 5, 7, 14"}},
		{"UnknownField", "network", `{"azs":2}`, []string{"books:network", "unknown field", `"azs"`, "azCount"}},
		{"WrongType", "network", `{"azCount":"two"}`, []string{"books:network.azCount", "number", "string"}},
		{"NotAnObject", "network", `[1,2]`, []string{"books:network must be an object (YAML map), not a JSON array"}},
		{"AcuStep", "database", `{"minCapacity":0.3}`, []string{"books:database.minCapacity=0.3", "0–256 in steps of 0.5"}},
		{"AcuMax", "database", `{"maxCapacity":300}`, []string{"books:database.maxCapacity=300", "0–256"}},
		{"AcuMaxBelowOne", "database", `{"maxCapacity":0.5}`, []string{"books:database.maxCapacity=0.5", "minimum maximum of 1"}},
		{"AcuMinAboveMax", "database", `{"minCapacity":8,"maxCapacity":4}`, []string{"books:database.minCapacity=8", "maxCapacity=4"}},
		{"AutoPause", "database", `{"minCapacity":0,"autoPauseSeconds":100}`, []string{"books:database.autoPauseSeconds=100", "300–86400"}},
		{"EngineVersionEmpty", "database", `{"engineVersion":""}`, []string{"books:database.engineVersion", "16.6"}},
		{"EngineVersionShape", "database", `{"engineVersion":"latest"}`, []string{"books:database.engineVersion=\"latest\""}},
		{"MasterUser", "database", `{"masterUsername":"postgres"}`, []string{"books:database.masterUsername=\"postgres\"", "reserved"}},
		{"InstanceClass", "database", `{"serverless":false,"instanceClass":"r6g.large"}`, []string{"books:database.instanceClass", "db.r6g.large"}},
		{"BackupWindow", "database", `{"preferredBackupWindow":"3am"}`, []string{"books:database.preferredBackupWindow", "hh:mm-hh:mm"}},
		{"MonitoringInterval", "database", `{"monitoringInterval":7}`, []string{"books:database.monitoringInterval=7", "0, 1, 5, 10, 15, 30, 60"}},
		{"CacheEngine", "cache", `{"engine":"memcached"}`, []string{"books:cache.engine=memcached", "valkey, redis"}},
		{"CacheNodeType", "cache", `{"nodeType":"t4g.micro"}`, []string{"books:cache.nodeType", "cache.t4g.micro"}},
		{"CacheNodeCount", "cache", `{"nodeCount":0}`, []string{"books:cache.nodeCount=0", "1–6"}},
		{"CacheFailoverNeedsTwo", "cache", `{"nodeCount":1,"failover":true}`, []string{"books:cache.failover=true", "nodeCount ≥ 2"}},
		{"CacheEngineVersion", "cache", `{"engineVersion":"6.2"}`, []string{"books:cache.engineVersion", "too old"}},
		{"FargateCpu", "service", `{"cpu":300}`, []string{"books:service.cpu=300", "Fargate size", "256, 512, 1024"}},
		{"FargatePair", "service", `{"cpu":256,"memory":4096}`, []string{"books:service.memory=4096", "cpu=256", "512, 1024, 2048"}},
		{"Architecture", "service", `{"architecture":"amd64"}`, []string{"books:service.architecture=amd64", "arm64, x86_64"}},
		{"DesiredOutsideRange", "service", `{"minCount":2,"maxCount":4,"desiredCount":1}`, []string{"books:service.desiredCount=1", "2–4"}},
		{"ServiceLogRetention", "service", `{"logRetentionDays":2}`, []string{"books:service.logRetentionDays=2", "CloudWatch Logs retention"}},
		{"ApiCacheSize", "api", `{"cacheSize":"1"}`, []string{"books:api.cacheSize=1", "0.5, 1.6"}},
		{"ApiMfa", "api", `{"mfa":"SOMETIMES"}`, []string{"books:api.mfa=SOMETIMES", "OFF, OPTIONAL, ON"}},
		{"ApiCors", "api", `{"corsAllowOrigins":["example.com"]}`, []string{"books:api.corsAllowOrigins[0]", "https://"}},
		{"ApiDomainNeedsCert", "api", `{"domainName":"api.example.com"}`, []string{"books:api.domainName", "certificateArn", "together"}},
		{"AlarmEmail", "alarms", `{"emails":["oncall"]}`, []string{"books:alarms.emails[0]=\"oncall\"", "e-mail address"}},
		{"AlarmEmailNoDot", "alarms", `{"emails":["a@localhost"]}`, []string{"books:alarms.emails[0]"}},
		{"AlarmPeriod", "alarms", `{"periodSeconds":45}`, []string{"books:alarms.periodSeconds=45", "60, 300, 900, 3600"}},
		{"AlarmPeriodBelowMetricResolution", "alarms", `{"periodSeconds":10}`, []string{"books:alarms.periodSeconds=10", "60, 300, 900, 3600"}},
		{"AlarmThreshold", "alarms", `{"cpuPercent":150}`, []string{"books:alarms.cpuPercent=150", "1–100"}},
		{"AlarmCacheHitRatio", "alarms", `{"cacheHitRatioPercent":0}`, []string{"books:alarms.cacheHitRatioPercent=0", "1–100"}},
		{"AlarmDbPoolWaitAboveRequestTimeout", "alarms", `{"dbPoolWaitMs":20000}`, []string{"books:alarms.dbPoolWaitMs=20000", "1–10000"}},
		{"AlarmCacheMinReadsType", "alarms", `{"cacheHitRatioMinReads":"many"}`, []string{"books:alarms.cacheHitRatioMinReads", "number"}},
		{"Region", "aws:region", `mars-1`, []string{"aws:region=\"mars-1\"", "eu-west-1"}},
		{"Protect", "books:protect", `yes`, []string{"books:protect=\"yes\"", "true, false"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := loadStack(t, "dev")
			key := tc.key
			if !strings.Contains(key, ":") {
				key = "books:" + key
				merged := map[string]any{}
				_ = json.Unmarshal([]byte(sc.Values[key]), &merged)
				var patch map[string]any
				if err := json.Unmarshal([]byte(tc.patch), &patch); err != nil {
					sc.Values[key] = tc.patch // not an object: the case is about that
				} else {
					for k, v := range patch {
						merged[k] = v
					}
					b, _ := json.Marshal(merged)
					sc.Values[key] = string(b)
				}
			} else {
				sc.Values[key] = tc.patch
			}
			_, err := infra.DecodeConfig(configSource{"dev", sc})
			assertConfigError(t, err, tc.want...)
		})
	}
}

func assertConfigError(t *testing.T, err error, want ...string) {
	t.Helper()
	var ce *infra.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want an *infra.ConfigError, got %v", err)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not mention %q:\n%s", w, msg)
		}
	}
}

func TestSecretsAreRequiredSecretAndStrong(t *testing.T) {
	const fix = `pulumi config set --secret books:basicAuthPassword "$(openssl rand -hex 32)" --stack dev`
	cases := []struct {
		name string
		edit func(sc *harness.StackConfig)
		want []string
	}{
		{"Missing", func(sc *harness.StackConfig) { delete(sc.Values, infra.KeyBasicAuthPassword) },
			[]string{"books:basicAuthPassword is required", fix, "make secrets STACK=dev"}},
		{"PlainText", func(sc *harness.StackConfig) {
			sc.SecretKeys = slices.DeleteFunc(sc.SecretKeys, func(k string) bool { return k == infra.KeyBasicAuthPassword })
		}, []string{"books:basicAuthPassword is stored in plain text", fix}},
		{"Short", func(sc *harness.StackConfig) { sc.Values[infra.KeyBasicAuthPassword] = "hunter2" },
			[]string{"books:basicAuthPassword is shorter than 16", fix}},
		{"CacheTokenCharacters", func(sc *harness.StackConfig) { sc.Values[infra.KeyCacheAuthToken] = "0123456789abcdef@/" },
			[]string{"books:cacheAuthToken contains a character ElastiCache rejects"}},
		{"CacheTokenTooLong", func(sc *harness.StackConfig) { sc.Values[infra.KeyCacheAuthToken] = strings.Repeat("a", 129) },
			[]string{"books:cacheAuthToken is longer than ElastiCache's 128"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := loadStack(t, "dev")
			tc.edit(sc)
			_, err := infra.DecodeConfig(configSource{"dev", sc})
			assertConfigError(t, err, tc.want...)
		})
	}
}

// TestBadConfigCreatesNothing runs the real program with a broken value:
// it must fail with the config error before registering any resource.
func TestBadConfigCreatesNothing(t *testing.T) {
	g, err := harness.Run("prod", harness.WithConfig(func(c *harness.StackConfig) {
		c.Values["books:service"] = `{"cpu":300}`
		delete(c.Values, infra.KeyCacheAuthToken)
	}))
	assertConfigError(t, err, "books:service.cpu=300", "books:cacheAuthToken is required")
	if n := len(g.Resources); n != 0 {
		t.Errorf("a failed config validation registered %d resources", n)
	}
}

func TestSecretsStaySecret(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		for _, r := range g.Resources {
			for _, secret := range harness.TestSecrets {
				if leak := findPlain(r.Inputs, secret); leak != "" {
					t.Errorf("%s %s has a secret in plain text at %s", r.Type, r.Name, leak)
				}
			}
		}
	})
}
