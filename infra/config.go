package infra

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Namespace is the project's config namespace: every key is "books:<name>".
const Namespace = "books"

// Secret config keys. Both must be set with `pulumi config set --secret`.
const (
	KeyBasicAuthPassword = Namespace + ":basicAuthPassword"
	KeyCacheAuthToken    = Namespace + ":cacheAuthToken"
)

// Config is the whole stack configuration, decoded and validated before any
// resource is created. Components never see it: Deploy maps it into XArgs.
type Config struct {
	Project string
	Stack   string
	// Region is aws:region; the AWS provider reads it too.
	Region string
	// Protect marks stateful resources (Aurora, KMS keys, cache) with
	// pulumi.Protect, so `pulumi destroy` refuses to delete them. Key books:protect.
	Protect bool

	Network  NetworkConfig
	Database DatabaseConfig
	Cache    CacheConfig
	Service  ServiceConfig
	Api      ApiConfig
	Alarms   AlarmsConfig

	// BasicAuthPassword is the backend's Basic-auth password (secret).
	BasicAuthPassword pulumi.StringOutput
	// CacheAuthToken is the ElastiCache AUTH token (secret).
	CacheAuthToken pulumi.StringOutput
}

// NetworkConfig is books:network.
type NetworkConfig struct {
	// Cidr is the VPC's IPv4 block, /16 to /24.
	Cidr string `json:"cidr"`
	// AzCount is how many availability zones the VPC spans, 2–6.
	AzCount int `json:"azCount"`
	// NatStrategy is awsx's NAT gateway strategy: Single, OnePerAz or None.
	NatStrategy string `json:"natStrategy"`
	// PublicSubnetMask, PrivateSubnetMask and IsolatedSubnetMask are the
	// prefix lengths of each tier's per-AZ subnet.
	PublicSubnetMask   int `json:"publicSubnetMask"`
	PrivateSubnetMask  int `json:"privateSubnetMask"`
	IsolatedSubnetMask int `json:"isolatedSubnetMask"`
	// FlowLogRetentionDays is the flow-log group's retention.
	FlowLogRetentionDays int `json:"flowLogRetentionDays"`
	// InterfaceEndpoints adds ECR, CloudWatch Logs and Secrets Manager
	// interface endpoints so tasks reach them without the NAT.
	InterfaceEndpoints bool `json:"interfaceEndpoints"`
}

// DatabaseConfig is books:database.
type DatabaseConfig struct {
	// EngineVersion is the aurora-postgresql version, e.g. "16.6".
	EngineVersion string `json:"engineVersion"`
	DatabaseName  string `json:"databaseName"`
	// MasterUsername must not be a default name (postgres, admin, root, …).
	MasterUsername string `json:"masterUsername"`
	// Serverless selects Aurora Serverless v2 (db.serverless instances);
	// otherwise InstanceClass is used.
	Serverless    bool   `json:"serverless"`
	InstanceClass string `json:"instanceClass"`
	// MinCapacity and MaxCapacity are Serverless v2 ACUs, 0–256 in 0.5 steps.
	// MinCapacity 0 enables auto-pause after AutoPauseSeconds.
	MinCapacity      float64 `json:"minCapacity"`
	MaxCapacity      float64 `json:"maxCapacity"`
	AutoPauseSeconds int     `json:"autoPauseSeconds"`
	// Readers is the number of reader instances besides the writer.
	Readers                    int    `json:"readers"`
	BackupRetentionDays        int    `json:"backupRetentionDays"`
	PreferredBackupWindow      string `json:"preferredBackupWindow"`
	PreferredMaintenanceWindow string `json:"preferredMaintenanceWindow"`
	// DeletionProtection also takes a final snapshot on deletion.
	DeletionProtection  bool `json:"deletionProtection"`
	PerformanceInsights bool `json:"performanceInsights"`
	// MonitoringInterval is the enhanced-monitoring interval in seconds (0 = off).
	MonitoringInterval int `json:"monitoringInterval"`
	// EngineUpgrade applies EngineVersion to an existing cluster (major
	// versions included, immediately). Off, the version is set at creation
	// only, so AWS's automatic minor upgrades never plan a downgrade.
	EngineUpgrade bool `json:"engineUpgrade"`
}

// CacheConfig is books:cache.
type CacheConfig struct {
	// Engine is valkey or redis.
	Engine        string `json:"engine"`
	EngineVersion string `json:"engineVersion"`
	NodeType      string `json:"nodeType"`
	// NodeCount is the primary plus replicas, 1–6.
	NodeCount int `json:"nodeCount"`
	// Failover enables automatic failover and multi-AZ; needs NodeCount ≥ 2.
	Failover              bool   `json:"failover"`
	SnapshotRetentionDays int    `json:"snapshotRetentionDays"`
	SnapshotWindow        string `json:"snapshotWindow"`
	MaintenanceWindow     string `json:"maintenanceWindow"`
	LogRetentionDays      int    `json:"logRetentionDays"`
}

// ServiceConfig is books:service.
type ServiceConfig struct {
	// Cpu and Memory are the Fargate task size (CPU units, MiB).
	Cpu    int `json:"cpu"`
	Memory int `json:"memory"`
	// Architecture is the image and task CPU architecture: arm64 or x86_64.
	Architecture string `json:"architecture"`
	DesiredCount int    `json:"desiredCount"`
	MinCount     int    `json:"minCount"`
	MaxCount     int    `json:"maxCount"`
	// SpotPercent is the share of tasks on Fargate Spot, 0–100.
	SpotPercent      int    `json:"spotPercent"`
	ContainerPort    int    `json:"containerPort"`
	LogRetentionDays int    `json:"logRetentionDays"`
	LogLevel         string `json:"logLevel"`
	// CpuTargetPercent is the target-tracking CPU utilization.
	CpuTargetPercent int `json:"cpuTargetPercent"`
	// RequestsPerTarget is the target-tracking ALB requests per target per minute.
	RequestsPerTarget int `json:"requestsPerTarget"`
	// KeepImages is how many tagged images the ECR lifecycle policy keeps.
	KeepImages int `json:"keepImages"`
}

// ApiConfig is books:api.
type ApiConfig struct {
	StageName         string   `json:"stageName"`
	ThrottleRateLimit float64  `json:"throttleRateLimit"`
	ThrottleBurst     int      `json:"throttleBurstLimit"`
	CacheSize         string   `json:"cacheSize"`
	CorsAllowOrigins  []string `json:"corsAllowOrigins"`
	Waf               bool     `json:"waf"`
	WafRateLimit      int      `json:"wafRateLimit"`
	LimitsDemo        bool     `json:"limitsDemo"`
	// Mfa is the Cognito MFA setting: OFF, OPTIONAL or ON.
	Mfa              string `json:"mfa"`
	RefreshTokenDays int    `json:"refreshTokenDays"`
	LogRetentionDays int    `json:"logRetentionDays"`
	DomainName       string `json:"domainName"`
	CertificateArn   string `json:"certificateArn"`
	// ManageAccount makes this stack own the region's API Gateway account
	// settings (the CloudWatch role of execution logs): exactly one stack
	// per account and region sets it (README "API Gateway account settings").
	ManageAccount bool `json:"manageAccount"`
	// SesIdentityArn (a verified SES identity) makes Cognito send its
	// e-mail through SES (DEVELOPER) instead of its default sender, which
	// is limited to a few dozen e-mails a day. EmailFrom is the sender
	// ("Books <no-reply@example.com>"), only with SES; empty uses the
	// identity's address.
	SesIdentityArn string `json:"sesIdentityArn"`
	EmailFrom      string `json:"emailFrom"`
	// DetailedMetrics turns on per-method CloudWatch metrics (the method
	// settings' metricsEnabled; "ApiName, Method, Resource, Stage"
	// dimensions), billed as custom metrics. The alarms and the dashboard
	// use only the API- and stage-level metrics API Gateway publishes
	// without it (AWS "Amazon API Gateway dimensions and metrics").
	DetailedMetrics bool `json:"detailedMetrics"`
}

// AlarmsConfig is books:alarms.
type AlarmsConfig struct {
	Emails            []string `json:"emails"`
	PeriodSeconds     int      `json:"periodSeconds"`
	EvaluationPeriods int      `json:"evaluationPeriods"`
	Api5xxCount       int      `json:"api5xxCount"`
	ApiLatencyP99Ms   int      `json:"apiLatencyP99Ms"`
	Target5xxCount    int      `json:"target5xxCount"`
	TargetP99Ms       int      `json:"targetP99Ms"`
	CpuPercent        int      `json:"cpuPercent"`
	MemoryPercent     int      `json:"memoryPercent"`
	DbConnections     int      `json:"dbConnections"`
	DbFreeableMiB     int      `json:"dbFreeableMiB"`
	AcuPercent        int      `json:"acuPercent"`
	CacheMemPercent   int      `json:"cacheMemoryPercent"`
	CacheEvictions    int      `json:"cacheEvictions"`
	WafBlockedCount   int      `json:"wafBlockedCount"`
	// The service's own (EMF) metrics: cache hit ratio in percent of the
	// reads, alarmed only in periods with at least CacheHitRatioMinReads
	// reads; mean wait for a database connection per acquire, ms.
	CacheHitRatioPercent  int `json:"cacheHitRatioPercent"`
	CacheHitRatioMinReads int `json:"cacheHitRatioMinReads"`
	DbPoolWaitMs          int `json:"dbPoolWaitMs"`
}

// DefaultConfig returns every structured key's defaults. It is the single
// source of defaults: Pulumi.yaml declares the same values, and a test keeps
// the two equal.
func DefaultConfig() Config {
	return Config{
		Network: NetworkConfig{
			Cidr:                 "10.0.0.0/16",
			AzCount:              2,
			NatStrategy:          "Single",
			PublicSubnetMask:     24,
			PrivateSubnetMask:    20,
			IsolatedSubnetMask:   24,
			FlowLogRetentionDays: 30,
		},
		Database: DatabaseConfig{
			EngineVersion:              "16.6",
			DatabaseName:               "books",
			MasterUsername:             "books_admin",
			Serverless:                 true,
			InstanceClass:              "db.r6g.large",
			MinCapacity:                0,
			MaxCapacity:                4,
			AutoPauseSeconds:           600,
			Readers:                    0,
			BackupRetentionDays:        7,
			PreferredBackupWindow:      "03:00-04:00",
			PreferredMaintenanceWindow: "sun:04:30-sun:05:30",
		},
		Cache: CacheConfig{
			Engine:                "valkey",
			EngineVersion:         "8.0",
			NodeType:              "cache.t4g.micro",
			NodeCount:             1,
			SnapshotRetentionDays: 1,
			SnapshotWindow:        "02:00-03:00",
			MaintenanceWindow:     "sun:05:30-sun:06:30",
			LogRetentionDays:      14,
		},
		Service: ServiceConfig{
			Cpu:               256,
			Memory:            512,
			Architecture:      "arm64",
			DesiredCount:      1,
			MinCount:          1,
			MaxCount:          2,
			SpotPercent:       0,
			ContainerPort:     8080,
			LogRetentionDays:  30,
			LogLevel:          "info",
			CpuTargetPercent:  60,
			RequestsPerTarget: 500,
			KeepImages:        20,
		},
		Api: ApiConfig{
			StageName:         "v1",
			ThrottleRateLimit: 100,
			ThrottleBurst:     200,
			CacheSize:         "0.5",
			CorsAllowOrigins:  []string{},
			WafRateLimit:      2000,
			Mfa:               "OPTIONAL",
			RefreshTokenDays:  30,
			LogRetentionDays:  30,
			ManageAccount:     true,
		},
		Alarms: AlarmsConfig{
			Emails:            []string{},
			PeriodSeconds:     60,
			EvaluationPeriods: 5,
			Api5xxCount:       5,
			ApiLatencyP99Ms:   2000,
			Target5xxCount:    5,
			TargetP99Ms:       1000,
			CpuPercent:        80,
			MemoryPercent:     80,
			DbConnections:     200,
			DbFreeableMiB:     256,
			AcuPercent:        90,
			CacheMemPercent:   80,
			CacheEvictions:    100,
			WafBlockedCount:   500,
			// Justified in README "Service metrics".
			CacheHitRatioPercent:  50,
			CacheHitRatioMinReads: 100,
			DbPoolWaitMs:          100,
		},
	}
}

// ConfigSource is what LoadConfig reads: a *pulumi.Context satisfies it.
type ConfigSource interface {
	Project() string
	Stack() string
	GetConfig(key string) (string, bool)
	IsConfigSecret(key string) bool
}

// LoadConfig decodes and validates the stack's configuration. Every problem
// is reported at once, each naming its key; nothing is created when it fails.
func LoadConfig(ctx *pulumi.Context) (*Config, error) {
	cfg, err := DecodeConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg.BasicAuthPassword = pulumi.ToSecret(pulumi.String(mustGet(ctx, KeyBasicAuthPassword))).(pulumi.StringOutput)
	cfg.CacheAuthToken = pulumi.ToSecret(pulumi.String(mustGet(ctx, KeyCacheAuthToken))).(pulumi.StringOutput)
	return cfg, nil
}

func mustGet(src ConfigSource, key string) string {
	v, _ := src.GetConfig(key)
	return v
}

// DecodeConfig is LoadConfig without the pulumi outputs: the plain, validated
// settings. Offline tools and tests call it directly.
func DecodeConfig(src ConfigSource) (*Config, error) {
	cfg := DefaultConfig()
	cfg.Project, cfg.Stack = src.Project(), src.Stack()

	var errs []error
	region, ok := src.GetConfig("aws:region")
	switch {
	case !ok || region == "":
		errs = append(errs, errors.New("aws:region is not set: run `pulumi config set aws:region eu-west-1` (or your region)"))
	case !regionPattern.MatchString(region):
		errs = append(errs, fmt.Errorf("aws:region=%q is not an AWS region name (like eu-west-1)", region))
	}
	cfg.Region = region

	if raw, ok := src.GetConfig(Namespace + ":protect"); ok {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("books:protect=%q is not a boolean (true, false)", raw))
		}
		cfg.Protect = b
	}

	sections := []struct {
		name   string
		target any
	}{
		{"network", &cfg.Network},
		{"database", &cfg.Database},
		{"cache", &cfg.Cache},
		{"service", &cfg.Service},
		{"api", &cfg.Api},
		{"alarms", &cfg.Alarms},
	}
	decoded := true
	for _, s := range sections {
		if err := decodeSection(src, s.name, s.target); err != nil {
			errs = append(errs, err)
			decoded = false
		}
	}
	if decoded {
		// Values are only worth checking once every section parsed.
		errs = append(errs, cfg.Validate()...)
	}
	errs = append(errs, validateSecrets(src)...)
	if len(errs) > 0 {
		return nil, &ConfigError{Stack: cfg.Stack, Problems: errs}
	}
	return &cfg, nil
}

// ConfigError lists every configuration problem of a stack.
type ConfigError struct {
	Stack    string
	Problems []error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration for stack %q:", e.Stack)
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is/As see each problem.
func (e *ConfigError) Unwrap() []error { return e.Problems }

// decodeSection merges the JSON object stored under books:<name> over the
// defaults already in target, rejecting unknown fields and wrong types.
func decodeSection(src ConfigSource, name string, target any) error {
	key := Namespace + ":" + name
	raw, ok := src.GetConfig(key)
	if !ok || strings.TrimSpace(raw) == "" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field == "":
			return fmt.Errorf("%s must be an object (YAML map), not a JSON %s", key, typeErr.Value)
		case errors.As(err, &typeErr):
			return fmt.Errorf("%s.%s: expected a %s, got a JSON %s", key, typeErr.Field, goTypeName(typeErr.Type.Kind().String()), typeErr.Value)
		case errors.As(err, &syntaxErr):
			return fmt.Errorf("%s must be an object (YAML map), not %q", key, raw)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.TrimPrefix(err.Error(), "json: unknown field ")
			return fmt.Errorf("%s has unknown field %s (allowed: %s)", key, field, strings.Join(jsonFields(target), ", "))
		default:
			return fmt.Errorf("%s: %v", key, err)
		}
	}
	return nil
}

func goTypeName(kind string) string {
	switch kind {
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "list"
	}
	return kind
}

// secretRules are the requirements for the two secret keys.
var secretRules = []struct {
	key    string
	minLen int
	check  func(string) string
}{
	{KeyBasicAuthPassword, 16, nil},
	{KeyCacheAuthToken, 16, func(v string) string {
		// ElastiCache AUTH tokens: 16–128 printable ASCII characters except space, ", / and @.
		if len(v) > 128 {
			return "is longer than ElastiCache's 128-character limit for AUTH tokens"
		}
		for _, r := range v {
			if r < 0x21 || r > 0x7e || r == '"' || r == '/' || r == '@' {
				return `contains a character ElastiCache rejects in AUTH tokens (allowed: printable ASCII except space, ", / and @)`
			}
		}
		return ""
	}},
}

func validateSecrets(src ConfigSource) []error {
	var errs []error
	for _, r := range secretRules {
		fix := fmt.Sprintf("pulumi config set --secret %s \"$(openssl rand -hex 32)\" --stack %s` (or `make secrets STACK=%s`", r.key, src.Stack(), src.Stack())
		v, ok := src.GetConfig(r.key)
		switch {
		case !ok || v == "":
			errs = append(errs, fmt.Errorf("%s is required and must be a secret: run `%s`", r.key, fix))
		case !src.IsConfigSecret(r.key):
			errs = append(errs, fmt.Errorf("%s is stored in plain text: set it again as a secret with `%s`", r.key, fix))
		case len(v) < r.minLen:
			errs = append(errs, fmt.Errorf("%s is shorter than %d characters: generate a strong one with `%s`", r.key, r.minLen, fix))
		case r.check != nil && r.check(v) != "":
			errs = append(errs, fmt.Errorf("%s %s: generate one with `%s`", r.key, r.check(v), fix))
		}
	}
	return errs
}

var (
	regionPattern       = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	engineVersionRegexp = regexp.MustCompile(`^(\d+)\.(\d+)(\.\d+)?$`)
	identifierPattern   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,62}$`)
	windowPattern       = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$`)
	weeklyWindowPattern = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$`)
	cacheNodePattern    = regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9]+$`)
	dbInstancePattern   = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	stageNamePattern    = regexp.MustCompile(`^[a-zA-Z0-9_]{1,128}$`)
	arnPattern          = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$`)
	sesIdentityPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity/[^\s]+$`)
)

// LogRetentionDays are the values CloudWatch Logs accepts for retentionInDays
// (0, "never expire", is deliberately not offered).
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// FargateMemory lists, per Fargate CPU size, the memory sizes (MiB) AWS accepts.
var FargateMemory = map[int][]int{
	256:   {512, 1024, 2048},
	512:   stepRange(1024, 4096, 1024),
	1024:  stepRange(2048, 8192, 1024),
	2048:  stepRange(4096, 16384, 1024),
	4096:  stepRange(8192, 30720, 1024),
	8192:  stepRange(16384, 61440, 4096),
	16384: stepRange(32768, 122880, 8192),
}

func stepRange(from, to, step int) []int {
	var out []int
	for v := from; v <= to; v += step {
		out = append(out, v)
	}
	return out
}

// ApiCacheSizes are API Gateway's stage cache cluster sizes (GB).
var ApiCacheSizes = []string{"0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"}

// MonitoringIntervals are RDS enhanced-monitoring intervals (0 = off).
var MonitoringIntervals = []int{0, 1, 5, 10, 15, 30, 60}

// reservedDBUsers cannot (or should not) be Aurora master user names.
var reservedDBUsers = []string{"postgres", "admin", "root", "rdsadmin", "administrator", "master", "user"}

// problems collects validation errors, each naming its key.
type problems []error

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }

func (p *problems) oneOf(key string, value any, allowed []string) {
	if !slices.Contains(allowed, fmt.Sprint(value)) {
		p.addf("%s=%v is not allowed (allowed: %s)", key, value, strings.Join(allowed, ", "))
	}
}

func (p *problems) intRange(key string, v, lo, hi int) {
	if v < lo || v > hi {
		p.addf("%s=%d is out of range (allowed: %d–%d)", key, v, lo, hi)
	}
}

func (p *problems) retention(key string, v int) {
	if !slices.Contains(LogRetentionDays, v) {
		p.addf("%s=%d is not a CloudWatch Logs retention (allowed: %s)", key, v, joinInts(LogRetentionDays))
	}
}

func (p *problems) pattern(key, v string, re *regexp.Regexp, what string) {
	if !re.MatchString(v) {
		p.addf("%s=%q is not %s", key, v, what)
	}
}

func joinInts(vs []int) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ", ")
}

// Validate checks every setting and returns one error per problem.
func (c *Config) Validate() []error {
	var p problems
	c.Network.validate(&p)
	c.Database.validate(&p)
	c.Cache.validate(&p)
	c.Service.validate(&p)
	c.Api.validate(&p)
	c.Alarms.validate(&p)
	return p
}

func (n NetworkConfig) validate(p *problems) {
	const k = "books:network"
	prefix, err := netip.ParsePrefix(n.Cidr)
	switch {
	case err != nil || !prefix.Addr().Is4():
		p.addf("%s.cidr=%q is not an IPv4 CIDR block (like 10.0.0.0/16)", k, n.Cidr)
	case prefix.Masked() != prefix:
		p.addf("%s.cidr=%q has host bits set (did you mean %s?)", k, n.Cidr, prefix.Masked())
	case prefix.Bits() < 16 || prefix.Bits() > 24:
		p.addf("%s.cidr=%q has prefix /%d (allowed: /16–/24)", k, n.Cidr, prefix.Bits())
	case !prefix.Addr().IsPrivate():
		p.addf("%s.cidr=%q is not in a private (RFC 1918) range", k, n.Cidr)
	}
	p.intRange(k+".azCount", n.AzCount, 2, 6)
	p.oneOf(k+".natStrategy", n.NatStrategy, []string{"Single", "OnePerAz", "None"})
	if n.NatStrategy == "None" && !n.InterfaceEndpoints {
		p.addf("%s.natStrategy=None needs %s.interfaceEndpoints=true: tasks in private subnets could not reach ECR, Logs or Secrets Manager", k, k)
	}
	masks := []struct {
		name string
		v    int
	}{{"publicSubnetMask", n.PublicSubnetMask}, {"privateSubnetMask", n.PrivateSubnetMask}, {"isolatedSubnetMask", n.IsolatedSubnetMask}}
	fits := err == nil
	for _, m := range masks {
		if m.v < 16 || m.v > 28 {
			p.addf("%s.%s=%d is out of range (allowed: 16–28, AWS's subnet sizes)", k, m.name, m.v)
			fits = false
		} else if err == nil && m.v <= prefix.Bits() {
			p.addf("%s.%s=%d must be longer than the VPC's /%d", k, m.name, m.v, prefix.Bits())
			fits = false
		}
	}
	if fits && n.AzCount >= 2 && n.AzCount <= 6 {
		need := 0
		for _, m := range masks {
			need += n.AzCount << (32 - m.v)
		}
		if have := 1 << (32 - prefix.Bits()); need > have {
			p.addf("%s: %d AZs × (public /%d + private /%d + isolated /%d) need %d addresses but cidr=%s has %d: use a larger cidr or longer masks",
				k, n.AzCount, n.PublicSubnetMask, n.PrivateSubnetMask, n.IsolatedSubnetMask, need, n.Cidr, have)
		}
	}
	p.retention(k+".flowLogRetentionDays", n.FlowLogRetentionDays)
}

// acuStep reports whether v is a valid ACU value: 0–256 in steps of 0.5.
func acuStep(v float64) bool {
	return v >= 0 && v <= 256 && math.Mod(v*2, 1) == 0
}

func (d DatabaseConfig) validate(p *problems) {
	const k = "books:database"
	if strings.TrimSpace(d.EngineVersion) == "" {
		p.addf("%s.engineVersion must be set to an aurora-postgresql version (like 16.6)", k)
	} else if !engineVersionRegexp.MatchString(d.EngineVersion) {
		p.addf("%s.engineVersion=%q is not an aurora-postgresql version (like 16.6)", k, d.EngineVersion)
	}
	p.pattern(k+".databaseName", d.DatabaseName, identifierPattern, "a PostgreSQL identifier (a letter, then letters, digits or _; at most 63)")
	p.pattern(k+".masterUsername", d.MasterUsername, identifierPattern, "a PostgreSQL identifier (a letter, then letters, digits or _; at most 63)")
	if slices.Contains(reservedDBUsers, strings.ToLower(d.MasterUsername)) {
		p.addf("%s.masterUsername=%q is a default or reserved name (not allowed: %s)", k, d.MasterUsername, strings.Join(reservedDBUsers, ", "))
	}
	if d.Serverless {
		for _, c := range []struct {
			name string
			v    float64
		}{{"minCapacity", d.MinCapacity}, {"maxCapacity", d.MaxCapacity}} {
			if !acuStep(c.v) {
				p.addf("%s.%s=%v is not a Serverless v2 capacity (allowed: 0–256 in steps of 0.5)", k, c.name, c.v)
			}
		}
		if d.MaxCapacity < 1 {
			p.addf("%s.maxCapacity=%v is below Aurora's minimum maximum of 1 ACU", k, d.MaxCapacity)
		}
		if d.MinCapacity > d.MaxCapacity {
			p.addf("%s.minCapacity=%v is greater than maxCapacity=%v", k, d.MinCapacity, d.MaxCapacity)
		}
		if d.MinCapacity == 0 {
			p.intRange(k+".autoPauseSeconds", d.AutoPauseSeconds, 300, 86400)
		}
	} else {
		p.pattern(k+".instanceClass", d.InstanceClass, dbInstancePattern, "an RDS instance class (like db.r6g.large)")
		if d.InstanceClass == "db.serverless" {
			p.addf("%s.instanceClass=db.serverless needs %s.serverless=true", k, k)
		}
	}
	p.intRange(k+".readers", d.Readers, 0, 15)
	p.intRange(k+".backupRetentionDays", d.BackupRetentionDays, 1, 35)
	p.pattern(k+".preferredBackupWindow", d.PreferredBackupWindow, windowPattern, "a UTC window hh:mm-hh:mm")
	p.pattern(k+".preferredMaintenanceWindow", d.PreferredMaintenanceWindow, weeklyWindowPattern, "a weekly window ddd:hh:mm-ddd:hh:mm")
	if !slices.Contains(MonitoringIntervals, d.MonitoringInterval) {
		p.addf("%s.monitoringInterval=%d is not an enhanced-monitoring interval (allowed: %s)", k, d.MonitoringInterval, joinInts(MonitoringIntervals))
	}
}

// ParameterGroupFamily is the cluster parameter group family of the engine
// version, e.g. aurora-postgresql16.
func (d DatabaseConfig) ParameterGroupFamily() string {
	major, _, _ := strings.Cut(d.EngineVersion, ".")
	return "aurora-postgresql" + major
}

func (c CacheConfig) validate(p *problems) {
	const k = "books:cache"
	p.oneOf(k+".engine", c.Engine, []string{"valkey", "redis"})
	if strings.TrimSpace(c.EngineVersion) == "" || !engineVersionRegexp.MatchString(c.EngineVersion) {
		p.addf("%s.engineVersion=%q is not an engine version (like 8.0 for valkey, 7.1 for redis)", k, c.EngineVersion)
	} else if major, _ := strconv.Atoi(strings.Split(c.EngineVersion, ".")[0]); (c.Engine == "valkey" && major < 7) || (c.Engine == "redis" && major < 6) {
		p.addf("%s.engineVersion=%q is too old for %s with AUTH and in-transit encryption (valkey ≥ 7.2, redis ≥ 6)", k, c.EngineVersion, c.Engine)
	}
	p.pattern(k+".nodeType", c.NodeType, cacheNodePattern, "an ElastiCache node type (like cache.t4g.micro)")
	p.intRange(k+".nodeCount", c.NodeCount, 1, 6)
	if c.Failover && c.NodeCount < 2 {
		p.addf("%s.failover=true needs nodeCount ≥ 2 (a primary and a replica), got nodeCount=%d", k, c.NodeCount)
	}
	p.intRange(k+".snapshotRetentionDays", c.SnapshotRetentionDays, 0, 35)
	p.pattern(k+".snapshotWindow", c.SnapshotWindow, windowPattern, "a UTC window hh:mm-hh:mm")
	p.pattern(k+".maintenanceWindow", c.MaintenanceWindow, weeklyWindowPattern, "a weekly window ddd:hh:mm-ddd:hh:mm")
	p.retention(k+".logRetentionDays", c.LogRetentionDays)
}

// ParameterGroupFamily is the ElastiCache parameter group family, e.g. valkey8.
func (c CacheConfig) ParameterGroupFamily() string {
	major, _, _ := strings.Cut(c.EngineVersion, ".")
	return c.Engine + major
}

func (s ServiceConfig) validate(p *problems) {
	const k = "books:service"
	mems, ok := FargateMemory[s.Cpu]
	if !ok {
		cpus := make([]int, 0, len(FargateMemory))
		for c := range FargateMemory {
			cpus = append(cpus, c)
		}
		slices.Sort(cpus)
		p.addf("%s.cpu=%d is not a Fargate size (allowed: %s)", k, s.Cpu, joinInts(cpus))
	} else if !slices.Contains(mems, s.Memory) {
		p.addf("%s.memory=%d is not valid with cpu=%d (allowed: %s)", k, s.Memory, s.Cpu, joinInts(mems))
	}
	p.oneOf(k+".architecture", s.Architecture, []string{"arm64", "x86_64"})
	p.intRange(k+".minCount", s.MinCount, 1, 100)
	p.intRange(k+".maxCount", s.MaxCount, 1, 100)
	if s.MinCount > s.MaxCount {
		p.addf("%s.minCount=%d is greater than maxCount=%d", k, s.MinCount, s.MaxCount)
	}
	if s.DesiredCount < s.MinCount || s.DesiredCount > s.MaxCount {
		p.addf("%s.desiredCount=%d is outside minCount–maxCount (%d–%d)", k, s.DesiredCount, s.MinCount, s.MaxCount)
	}
	p.intRange(k+".spotPercent", s.SpotPercent, 0, 100)
	p.intRange(k+".containerPort", s.ContainerPort, 1024, 65535)
	p.retention(k+".logRetentionDays", s.LogRetentionDays)
	p.oneOf(k+".logLevel", s.LogLevel, []string{"debug", "info", "warn", "error"})
	p.intRange(k+".cpuTargetPercent", s.CpuTargetPercent, 10, 95)
	p.intRange(k+".requestsPerTarget", s.RequestsPerTarget, 1, 100000)
	p.intRange(k+".keepImages", s.KeepImages, 1, 1000)
}

func (a ApiConfig) validate(p *problems) {
	const k = "books:api"
	p.pattern(k+".stageName", a.StageName, stageNamePattern, "a stage name (letters, digits, _; at most 128)")
	if a.ThrottleRateLimit <= 0 || a.ThrottleRateLimit > 10000 {
		p.addf("%s.throttleRateLimit=%v is out of range (allowed: above 0, at most 10000 requests/s)", k, a.ThrottleRateLimit)
	}
	p.intRange(k+".throttleBurstLimit", a.ThrottleBurst, 1, 5000)
	p.oneOf(k+".cacheSize", a.CacheSize, ApiCacheSizes)
	for i, o := range a.CorsAllowOrigins {
		if o != "*" && !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://localhost") {
			p.addf("%s.corsAllowOrigins[%d]=%q is not an origin (https://host, http://localhost:port or *)", k, i, o)
		}
	}
	p.intRange(k+".wafRateLimit", a.WafRateLimit, 10, 2000000000)
	p.oneOf(k+".mfa", a.Mfa, []string{"OFF", "OPTIONAL", "ON"})
	p.intRange(k+".refreshTokenDays", a.RefreshTokenDays, 1, 3650)
	p.retention(k+".logRetentionDays", a.LogRetentionDays)
	if (a.DomainName == "") != (a.CertificateArn == "") {
		p.addf("%s.domainName and %s.certificateArn must be set together", k, k)
	}
	if a.CertificateArn != "" {
		p.pattern(k+".certificateArn", a.CertificateArn, arnPattern, "an ACM certificate ARN")
	}
	if a.SesIdentityArn != "" {
		p.pattern(k+".sesIdentityArn", a.SesIdentityArn, sesIdentityPattern, "a verified SES identity ARN (arn:aws:ses:<region>:<account>:identity/<domain or address>)")
	}
	if a.EmailFrom != "" {
		if a.SesIdentityArn == "" {
			p.addf("%s.emailFrom needs %s.sesIdentityArn: the default Cognito sender cannot use another address", k, k)
		} else if _, err := mail.ParseAddress(a.EmailFrom); err != nil {
			p.addf("%s.emailFrom=%q is not an address (like Books <no-reply@example.com>)", k, a.EmailFrom)
		}
	}
}

func (a AlarmsConfig) validate(p *problems) {
	const k = "books:alarms"
	for i, e := range a.Emails {
		addr, err := mail.ParseAddress(e)
		if err != nil || addr.Address != e || !strings.Contains(e[strings.LastIndex(e, "@")+1:], ".") {
			p.addf("%s.emails[%d]=%q is not an e-mail address (like oncall@example.com)", k, i, e)
		}
	}
	// Every metric alarmed on is published once a minute: a shorter period
	// would leave the alarms without data points.
	p.oneOf(k+".periodSeconds", a.PeriodSeconds, []string{"60", "300", "900", "3600"})
	p.intRange(k+".evaluationPeriods", a.EvaluationPeriods, 1, 100)
	for _, t := range []struct {
		name   string
		v      int
		lo, hi int
	}{
		{"api5xxCount", a.Api5xxCount, 1, 1000000},
		{"apiLatencyP99Ms", a.ApiLatencyP99Ms, 1, 29000},
		{"target5xxCount", a.Target5xxCount, 1, 1000000},
		{"targetP99Ms", a.TargetP99Ms, 1, 60000},
		{"cpuPercent", a.CpuPercent, 1, 100},
		{"memoryPercent", a.MemoryPercent, 1, 100},
		{"dbConnections", a.DbConnections, 1, 100000},
		{"dbFreeableMiB", a.DbFreeableMiB, 1, 1000000},
		{"acuPercent", a.AcuPercent, 1, 100},
		{"cacheMemoryPercent", a.CacheMemPercent, 1, 100},
		{"cacheEvictions", a.CacheEvictions, 1, 100000000},
		{"wafBlockedCount", a.WafBlockedCount, 1, 100000000},
		{"cacheHitRatioPercent", a.CacheHitRatioPercent, 1, 100},
		{"cacheHitRatioMinReads", a.CacheHitRatioMinReads, 1, 100000000},
		// The request timeout is 10 s: a mean wait above it cannot happen.
		{"dbPoolWaitMs", a.DbPoolWaitMs, 1, 10000},
	} {
		p.intRange(k+"."+t.name, t.v, t.lo, t.hi)
	}
}

// jsonFields lists the JSON field names of the struct target points to.
func jsonFields(target any) []string {
	var names []string
	b, _ := json.Marshal(target)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
