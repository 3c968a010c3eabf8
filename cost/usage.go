package cost

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// HoursPerMonth is the month the estimate prices (AWS's own calculator uses 730).
const HoursPerMonth = 730.0

// Usage is what the graph cannot say: traffic, data volumes, how long the
// database is awake. Every line that depends on one of these fields shows
// the value it used. DefaultUsage documents the defaults; a stack's file
// cost/usage/<stack>.yaml overrides any of them.
type Usage struct {
	// APIRequestsPerMonth reach the REST API (and the WAF in front of it).
	// Default 1,000,000 (≈ 0.4 requests/s).
	APIRequestsPerMonth float64 `yaml:"apiRequestsPerMonth" json:"apiRequestsPerMonth"`
	// APIResponseKB is the average response size: data out to the internet
	// and through the load balancers. Default 2.
	APIResponseKB float64 `yaml:"apiResponseKB" json:"apiResponseKB"`
	// APICacheHitShare is the share of cacheable GETs the stage cache
	// answers (those never reach the NLB, ALB or tasks). Default 0.5.
	APICacheHitShare float64 `yaml:"apiCacheHitShare" json:"apiCacheHitShare"`
	// XRaySampledShare is the share of requests beyond the reservoir (one
	// per second) that X-Ray records: the default sampling rule's 5 %.
	XRaySampledShare float64 `yaml:"xraySampledShare" json:"xraySampledShare"`

	// NATGBPerMonth is the data processed by all NAT gateways together (image
	// pulls go through the S3 gateway endpoint; ECR API, logs, secrets and
	// anything the app calls outside the VPC go through NAT unless interface
	// endpoints exist). Default 5.
	NATGBPerMonth float64 `yaml:"natGBPerMonth" json:"natGBPerMonth"`
	// EndpointGBPerMonth is the data processed by each interface endpoint.
	// Default 1.
	EndpointGBPerMonth float64 `yaml:"endpointGBPerMonth" json:"endpointGBPerMonth"`

	// DBActiveHoursPerMonth is how long an Aurora Serverless v2 instance
	// with minCapacity 0 is awake (not auto-paused); instances with a
	// minimum above 0 never pause and run all 730 hours. Default 730.
	DBActiveHoursPerMonth float64 `yaml:"dbActiveHoursPerMonth" json:"dbActiveHoursPerMonth"`
	// DBAverageACU is the average capacity while awake, clamped to the
	// instance's [minCapacity, maxCapacity]. 0 means "at the minimum"
	// (0.5 ACU for a minimum of 0, the lowest capacity of an awake
	// instance). Default 0.
	DBAverageACU float64 `yaml:"dbAverageACU" json:"dbAverageACU"`
	// DBStorageGB is the cluster volume (Aurora bills what is used). Default 1.
	DBStorageGB float64 `yaml:"dbStorageGB" json:"dbStorageGB"`
	// DBIOMillionsPerMonth are storage I/O requests (Aurora Standard bills
	// them; I/O-Optimized does not). Default 1.
	DBIOMillionsPerMonth float64 `yaml:"dbIOMillionsPerMonth" json:"dbIOMillionsPerMonth"`
	// DBBackupGBBeyondFree is backup storage above the free allowance (100 %
	// of the cluster volume); it grows with retention and churn. Default 0.
	DBBackupGBBeyondFree float64 `yaml:"dbBackupGBBeyondFree" json:"dbBackupGBBeyondFree"`

	// CacheSnapshotGB is the size of one cache snapshot: ElastiCache keeps
	// one per cluster free, each further day of retention is billed.
	// Default 0.1.
	CacheSnapshotGB float64 `yaml:"cacheSnapshotGB" json:"cacheSnapshotGB"`

	// AverageTasks is the ECS service's average running task count; 0 means
	// its desiredCount. Default 0.
	AverageTasks float64 `yaml:"averageTasks" json:"averageTasks"`
	// CustomMetricsPerService are the custom metrics (embedded metric
	// format) each ECS service publishes. Default 0.
	CustomMetricsPerService float64 `yaml:"customMetricsPerService" json:"customMetricsPerService"`
	// ContainerInsightsMetrics per ECS cluster with Container Insights:
	// about 13 cluster-level, 15 per service and 10 per task family (the
	// ECS Container Insights metric list), so 40 for one service. Default 40.
	ContainerInsightsMetrics float64 `yaml:"containerInsightsMetrics" json:"containerInsightsMetrics"`
	// ContainerInsightsLogGB is the performance log events per cluster per
	// month. Default 0.2.
	ContainerInsightsLogGB float64 `yaml:"containerInsightsLogGB" json:"containerInsightsLogGB"`

	// LogGBPerMonth is the data ingested per log group, by the group's
	// logical name; "default" applies to groups not listed. Groups a VPC flow
	// log writes to are priced as vended logs. Default {default: 0.5}.
	LogGBPerMonth map[string]float64 `yaml:"logGBPerMonth" json:"logGBPerMonth"`
	// RDSLogExportGBPerMonth is what each Aurora cluster's log exports
	// (postgresql) write to the CloudWatch Logs group RDS creates itself.
	// Default 0.5.
	RDSLogExportGBPerMonth float64 `yaml:"rdsLogExportGBPerMonth" json:"rdsLogExportGBPerMonth"`
	// EnhancedMonitoringGBPerInstance is what Enhanced Monitoring (when the
	// interval is not 0) writes to CloudWatch Logs (RDSOSMetrics) per DB
	// instance per month. Default 0.5.
	EnhancedMonitoringGBPerInstance float64 `yaml:"enhancedMonitoringGBPerInstance" json:"enhancedMonitoringGBPerInstance"`

	// KMSRequestsPerKey are cryptographic requests per customer key per
	// month (RDS, Secrets Manager, Logs, SNS, ECR). Default 10,000.
	KMSRequestsPerKey float64 `yaml:"kmsRequestsPerKey" json:"kmsRequestsPerKey"`
	// KMSKeyAgeYears is how long the keys have existed: each yearly
	// automatic rotation adds a key version, billed for the first two.
	// Default 0 (first year).
	KMSKeyAgeYears float64 `yaml:"kmsKeyAgeYears" json:"kmsKeyAgeYears"`
	// SecretAPICallsPerSecret per month (tasks read secrets at start; the app
	// reads the DB secret when it opens a pool connection). Default 10,000.
	SecretAPICallsPerSecret float64 `yaml:"secretAPICallsPerSecret" json:"secretAPICallsPerSecret"`

	// CognitoMAU are monthly active users of each user pool. Default 10.
	CognitoMAU float64 `yaml:"cognitoMAU" json:"cognitoMAU"`
	// AlarmNotificationsPerMonth are alarm/OK transitions published to SNS,
	// each e-mailed to every subscriber. Default 100.
	AlarmNotificationsPerMonth float64 `yaml:"alarmNotificationsPerMonth" json:"alarmNotificationsPerMonth"`

	// LambdaInvocationsPerMonth per function. Default 100.
	LambdaInvocationsPerMonth float64 `yaml:"lambdaInvocationsPerMonth" json:"lambdaInvocationsPerMonth"`
	// LambdaAverageSeconds is the average duration; 0 means the function's
	// timeout (an upper bound: the limits demo sleeps until it times out).
	// Default 0.
	LambdaAverageSeconds float64 `yaml:"lambdaAverageSeconds" json:"lambdaAverageSeconds"`
	// S3StorageGB per bucket. Default 0.1.
	S3StorageGB float64 `yaml:"s3StorageGB" json:"s3StorageGB"`
	// S3PutsPerMonth per bucket. Default 1,000.
	S3PutsPerMonth float64 `yaml:"s3PutsPerMonth" json:"s3PutsPerMonth"`

	// ImageMB is the compressed size of one image in ECR. Default 15 (the
	// distroless static image of app/).
	ImageMB float64 `yaml:"imageMB" json:"imageMB"`
	// ImagesStored per repository; 0 means the lifecycle policy's limit.
	// Default 0.
	ImagesStored float64 `yaml:"imagesStored" json:"imagesStored"`
}

// DefaultUsage is the usage an estimate assumes where the stack's usage
// file says nothing (the field comments of Usage give the reasons).
func DefaultUsage() Usage {
	return Usage{
		APIRequestsPerMonth:             1_000_000,
		APIResponseKB:                   2,
		APICacheHitShare:                0.5,
		XRaySampledShare:                0.05,
		NATGBPerMonth:                   5,
		EndpointGBPerMonth:              1,
		DBActiveHoursPerMonth:           HoursPerMonth,
		DBAverageACU:                    0,
		DBStorageGB:                     1,
		DBIOMillionsPerMonth:            1,
		DBBackupGBBeyondFree:            0,
		CacheSnapshotGB:                 0.1,
		AverageTasks:                    0,
		CustomMetricsPerService:         0,
		ContainerInsightsMetrics:        40,
		ContainerInsightsLogGB:          0.2,
		LogGBPerMonth:                   map[string]float64{"default": 0.5},
		RDSLogExportGBPerMonth:          0.5,
		EnhancedMonitoringGBPerInstance: 0.5,
		KMSRequestsPerKey:               10_000,
		KMSKeyAgeYears:                  0,
		SecretAPICallsPerSecret:         10_000,
		CognitoMAU:                      10,
		AlarmNotificationsPerMonth:      100,
		LambdaInvocationsPerMonth:       100,
		LambdaAverageSeconds:            0,
		S3StorageGB:                     0.1,
		S3PutsPerMonth:                  1_000,
		ImageMB:                         15,
		ImagesStored:                    0,
	}
}

// UsageFile is where a stack's usage lives, relative to the repository root.
func UsageFile(stack string) string { return filepath.Join("cost", "usage", stack+".yaml") }

// LoadUsage reads root/cost/usage/<stack>.yaml over DefaultUsage. A
// missing file means the defaults (found reports whether it exists);
// an unknown key or a negative value is an error naming it.
func LoadUsage(root, stack string) (u Usage, found bool, err error) {
	u = DefaultUsage()
	path := filepath.Join(root, UsageFile(stack))
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return u, false, nil
	}
	if err != nil {
		return u, false, err
	}
	u, err = ParseUsage(b)
	if err != nil {
		return u, true, fmt.Errorf("%s: %w", UsageFile(stack), err)
	}
	return u, true, nil
}

// ParseUsage decodes a usage file over DefaultUsage.
func ParseUsage(b []byte) (Usage, error) {
	u := DefaultUsage()
	logs := u.LogGBPerMonth
	u.LogGBPerMonth = nil
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&u); err != nil && !errors.Is(err, io.EOF) {
		return u, err
	}
	// The file's log groups add to (and may replace) the default entry.
	for k, v := range u.LogGBPerMonth {
		logs[k] = v
	}
	u.LogGBPerMonth = logs
	return u, u.validate()
}

func (u Usage) validate() error {
	var bad []string
	check := func(key string, v float64) {
		if v < 0 {
			bad = append(bad, fmt.Sprintf("%s=%g must not be negative", key, v))
		}
	}
	check("apiRequestsPerMonth", u.APIRequestsPerMonth)
	check("apiResponseKB", u.APIResponseKB)
	check("natGBPerMonth", u.NATGBPerMonth)
	check("endpointGBPerMonth", u.EndpointGBPerMonth)
	check("dbAverageACU", u.DBAverageACU)
	check("dbStorageGB", u.DBStorageGB)
	check("dbIOMillionsPerMonth", u.DBIOMillionsPerMonth)
	check("dbBackupGBBeyondFree", u.DBBackupGBBeyondFree)
	check("cacheSnapshotGB", u.CacheSnapshotGB)
	check("averageTasks", u.AverageTasks)
	check("customMetricsPerService", u.CustomMetricsPerService)
	check("containerInsightsMetrics", u.ContainerInsightsMetrics)
	check("containerInsightsLogGB", u.ContainerInsightsLogGB)
	check("rdsLogExportGBPerMonth", u.RDSLogExportGBPerMonth)
	check("enhancedMonitoringGBPerInstance", u.EnhancedMonitoringGBPerInstance)
	check("kmsRequestsPerKey", u.KMSRequestsPerKey)
	check("kmsKeyAgeYears", u.KMSKeyAgeYears)
	check("secretAPICallsPerSecret", u.SecretAPICallsPerSecret)
	check("cognitoMAU", u.CognitoMAU)
	check("alarmNotificationsPerMonth", u.AlarmNotificationsPerMonth)
	check("lambdaInvocationsPerMonth", u.LambdaInvocationsPerMonth)
	check("lambdaAverageSeconds", u.LambdaAverageSeconds)
	check("s3StorageGB", u.S3StorageGB)
	check("s3PutsPerMonth", u.S3PutsPerMonth)
	check("imageMB", u.ImageMB)
	check("imagesStored", u.ImagesStored)
	for _, k := range sortedKeys(u.LogGBPerMonth) {
		check("logGBPerMonth."+k, u.LogGBPerMonth[k])
	}
	for key, v := range map[string]float64{"apiCacheHitShare": u.APICacheHitShare, "xraySampledShare": u.XRaySampledShare} {
		if v < 0 || v > 1 {
			bad = append(bad, fmt.Sprintf("%s=%g must be between 0 and 1", key, v))
		}
	}
	if u.DBActiveHoursPerMonth < 0 || u.DBActiveHoursPerMonth > HoursPerMonth {
		bad = append(bad, fmt.Sprintf("dbActiveHoursPerMonth=%g must be between 0 and %g", u.DBActiveHoursPerMonth, HoursPerMonth))
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// logGB is a log group's monthly ingestion and the usage key it came from.
func (u Usage) logGB(group string) (float64, string) {
	if v, ok := u.LogGBPerMonth[group]; ok {
		return v, "logGBPerMonth." + group
	}
	return u.LogGBPerMonth["default"], "logGBPerMonth.default"
}
