package cost

import (
	"fmt"
	"math"
	"strings"

	"github.com/books-platform/books/tests/harness"
)

// Data pricers: Aurora (cluster storage, I/O, backups, the RDS-managed
// secret and log exports; instances by ACU-hour or class), ElastiCache node
// hours and snapshots, Secrets Manager and KMS.
func init() {
	pricers["aws:rds/cluster:Cluster"] = priceAuroraCluster
	pricers["aws:rds/clusterInstance:ClusterInstance"] = priceAuroraInstance
	pricers["aws:elasticache/replicationGroup:ReplicationGroup"] = priceReplicationGroup
	pricers["aws:secretsmanager/secret:Secret"] = priceSecret
	pricers["aws:kms/key:Key"] = priceKmsKey
}

// Aurora Serverless v2: an awake instance never goes below 0.5 ACU, even
// with minCapacity 0 (0 only while paused) — Aurora user guide, "Scaling to
// zero ACUs with automatic pause and resume".
const minAwakeACU = 0.5

func priceAuroraCluster(c *pricing, r *harness.Resource) ([]charge, error) {
	u := c.usage
	storage := "rds.aurora.storage.gbMonth"
	charges := []charge{}
	if str(r.Inputs, "storageType") == "aurora-iopt1" {
		storage = "rds.aurora.iopt1.storage.gbMonth"
	} else {
		charges = append(charges, charge{dim: "rds.aurora.io.1m", qty: u.DBIOMillionsPerMonth,
			basis: "Aurora Standard bills I/O requests", assumption: fmt.Sprintf("dbIOMillionsPerMonth=%g", u.DBIOMillionsPerMonth)})
	}
	charges = append(charges,
		charge{dim: storage, qty: u.DBStorageGB, basis: "cluster volume", assumption: fmt.Sprintf("dbStorageGB=%g", u.DBStorageGB)},
		charge{dim: "rds.aurora.backup.gbMonth", qty: u.DBBackupGBBeyondFree,
			basis:      fmt.Sprintf("backups beyond the free 100%% of the volume (retention %g days)", numOr(r.Inputs, "backupRetentionPeriod", 1)),
			assumption: fmt.Sprintf("dbBackupGBBeyondFree=%g", u.DBBackupGBBeyondFree)},
	)
	if boolean(r.Inputs, "manageMasterUserPassword") {
		charges = append(charges, charge{dim: "secretsmanager.secret.month", qty: 1,
			basis: "the RDS-managed master user secret (created by RDS, not by the program)"})
	}
	if exports := array(r.Inputs, "enabledCloudwatchLogsExports"); len(exports) > 0 {
		n := float64(len(exports))
		gb := n * u.RDSLogExportGBPerMonth
		charges = append(charges,
			charge{dim: "cloudwatch.logs.ingest.gb", qty: gb,
				basis:      fmt.Sprintf("%s to the log group RDS creates", plural(n, "log export", "log exports")),
				assumption: fmt.Sprintf("rdsLogExportGBPerMonth=%g", u.RDSLogExportGBPerMonth)},
			charge{dim: "cloudwatch.logs.storage.gbMonth", qty: gb * 12,
				basis:      "RDS's log group never expires: a year of exports kept (uncompressed, an upper bound)",
				assumption: fmt.Sprintf("rdsLogExportGBPerMonth=%g", u.RDSLogExportGBPerMonth)},
		)
	}
	return charges, nil
}

func priceAuroraInstance(c *pricing, r *harness.Resource) ([]charge, error) {
	u := c.usage
	class := str(r.Inputs, "instanceClass")
	var charges []charge
	if class == "db.serverless" {
		cluster := c.findBy("aws:rds/cluster:Cluster", "id", str(r.Inputs, "clusterIdentifier"))
		if cluster == nil {
			return nil, fmt.Errorf("serverless instance whose cluster %q is not in the graph", str(r.Inputs, "clusterIdentifier"))
		}
		minACU, ok := num(cluster.Inputs, "serverlessv2ScalingConfiguration.minCapacity")
		maxACU, ok2 := num(cluster.Inputs, "serverlessv2ScalingConfiguration.maxCapacity")
		if !ok || !ok2 {
			return nil, fmt.Errorf("db.serverless instance but cluster %s has no serverlessv2ScalingConfiguration", cluster.Name)
		}
		acu, hrs, basis, assumption := serverlessACUHours(minACU, maxACU, u)
		charges = append(charges, charge{dim: "rds.aurora.serverlessV2.acuHour", qty: acu * hrs, basis: basis, assumption: assumption})
	} else {
		if class == "" {
			return nil, fmt.Errorf("no instanceClass")
		}
		charges = append(charges, hours(1, class+" instance").as("rds.aurora.instance."+class+".hour"))
	}
	if interval, _ := num(r.Inputs, "monitoringInterval"); interval > 0 {
		charges = append(charges, charge{dim: "cloudwatch.logs.ingest.gb", qty: u.EnhancedMonitoringGBPerInstance,
			basis:      fmt.Sprintf("Enhanced Monitoring every %gs writes RDSOSMetrics to CloudWatch Logs", interval),
			assumption: fmt.Sprintf("enhancedMonitoringGBPerInstance=%g", u.EnhancedMonitoringGBPerInstance)})
	}
	if boolean(r.Inputs, "performanceInsightsEnabled") {
		if days := numOr(r.Inputs, "performanceInsightsRetentionPeriod", 7); days > 7 {
			return nil, fmt.Errorf("Performance Insights retention of %g days is billed beyond the free 7 days and has no price in cost/prices.yaml", days)
		}
	}
	return charges, nil
}

// serverlessACUHours: an instance whose minimum is above 0 never pauses and
// runs all month; one with minimum 0 runs dbActiveHoursPerMonth. While
// awake it averages dbAverageACU, clamped to [max(min, 0.5), max]; 0 means
// at that floor.
func serverlessACUHours(minACU, maxACU float64, u Usage) (acu, hrs float64, basis, assumption string) {
	floor := math.Max(minACU, minAwakeACU)
	acu = floor
	var assumptions []string
	if u.DBAverageACU > 0 {
		acu = math.Min(math.Max(u.DBAverageACU, floor), maxACU)
		assumptions = append(assumptions, fmt.Sprintf("dbAverageACU=%g", u.DBAverageACU))
	} else {
		assumptions = append(assumptions, "dbAverageACU=0 (at the minimum)")
	}
	hrs = HoursPerMonth
	awake := "never pauses (minCapacity > 0)"
	if minACU == 0 {
		hrs = u.DBActiveHoursPerMonth
		awake = "auto-pauses at minCapacity 0"
		assumptions = append(assumptions, fmt.Sprintf("dbActiveHoursPerMonth=%g", hrs))
	}
	basis = fmt.Sprintf("%g ACU × %g h awake (scaling %g–%g ACU, %s)", acu, hrs, minACU, maxACU, awake)
	return acu, hrs, basis, strings.Join(assumptions, ", ")
}

// priceReplicationGroup: node-hours by engine and node type; one snapshot
// per cluster is free, each further day of retention stores another.
func priceReplicationGroup(c *pricing, r *harness.Resource) ([]charge, error) {
	engine := str(r.Inputs, "engine")
	if engine == "" {
		engine = "redis" // the provider's default
	}
	nodeType := str(r.Inputs, "nodeType")
	if nodeType == "" {
		return nil, fmt.Errorf("no nodeType")
	}
	nodes, ok := num(r.Inputs, "numCacheClusters")
	if !ok {
		groups := numOr(r.Inputs, "numNodeGroups", 1)
		nodes = groups * (numOr(r.Inputs, "replicasPerNodeGroup", 0) + 1)
	}
	charges := []charge{hours(nodes, plural(nodes, nodeType+" node", nodeType+" nodes")).as(fmt.Sprintf("elasticache.%s.%s.hour", strings.ToLower(engine), nodeType))}
	if days := numOr(r.Inputs, "snapshotRetentionLimit", 0); days > 1 {
		u := c.usage
		charges = append(charges, charge{dim: "elasticache.backup.gbMonth", qty: u.CacheSnapshotGB * (days - 1),
			basis:      fmt.Sprintf("%g daily snapshots kept, the first free", days),
			assumption: fmt.Sprintf("cacheSnapshotGB=%g", u.CacheSnapshotGB)})
	}
	return charges, nil
}

func priceSecret(c *pricing, r *harness.Resource) ([]charge, error) {
	calls := c.usage.SecretAPICallsPerSecret
	return []charge{
		{dim: "secretsmanager.secret.month", qty: 1, basis: "1 secret"},
		{dim: "secretsmanager.api.10k", qty: calls / 10_000, basis: "API calls to this secret",
			assumption: fmt.Sprintf("secretAPICallsPerSecret=%g", calls)},
	}, nil
}

// priceKmsKey: $1 a month per key; each automatic (yearly) rotation adds a
// billed key version for the first two rotations (KMS pricing page).
func priceKmsKey(c *pricing, r *harness.Resource) ([]charge, error) {
	u := c.usage
	months, basis := 1.0, "1 customer managed key"
	assumption := ""
	if boolean(r.Inputs, "enableKeyRotation") {
		rotations := math.Min(math.Floor(u.KMSKeyAgeYears), 2)
		months += rotations
		basis = fmt.Sprintf("1 key + %g billed rotations (yearly rotation)", rotations)
		assumption = fmt.Sprintf("kmsKeyAgeYears=%g", u.KMSKeyAgeYears)
	}
	return []charge{
		{dim: "kms.key.month", qty: months, basis: basis, assumption: assumption},
		{dim: "kms.requests.10k", qty: u.KMSRequestsPerKey / 10_000, basis: "requests using this key",
			assumption: fmt.Sprintf("kmsRequestsPerKey=%g", u.KMSRequestsPerKey)},
	}, nil
}
