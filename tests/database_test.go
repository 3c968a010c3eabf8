package tests

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/books-platform/books/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// A user's transform (or an edit) that turns off the RDS-managed master
// password leaves the cluster without masterUserSecrets: the run fails with
// an error that says what to keep, instead of the program panicking on
// masterUserSecrets[0] (which took the whole process down before).
func TestDatabaseWithoutManagedPasswordFailsClearly(t *testing.T) {
	for _, stack := range stacks(t) {
		_, err := harness.Run(stack, harness.WithTransforms(func(_ context.Context, a *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
			if a.Type != "aws:rds/cluster:Cluster" {
				return nil
			}
			a.Props["manageMasterUserPassword"] = pulumi.Bool(false)
			return &pulumi.ResourceTransformResult{Props: a.Props, Opts: a.Opts}
		}))
		if err == nil || !strings.Contains(err.Error(), "keep manageMasterUserPassword true") {
			t.Errorf("%s: err = %v, want the database's error naming manageMasterUserPassword", stack, err)
		}
	}
}

func TestDatabaseEncryptionAndManagedPassword(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		c := only(t, g, "aws:rds/cluster:Cluster")
		key := g.Find("aws:kms/key:Key", "database")
		if key == nil {
			t.Fatal("no database KMS key")
		}
		keyArn := key.Outputs["arn"].StringValue()
		if !propBool(c, "storageEncrypted") || propString(c, "kmsKeyId") != keyArn {
			t.Errorf("storage not encrypted with the customer key: storageEncrypted=%v kmsKeyId=%q", propBool(c, "storageEncrypted"), propString(c, "kmsKeyId"))
		}
		if !propBool(c, "manageMasterUserPassword") || propString(c, "masterUserSecretKmsKeyId") != keyArn {
			t.Errorf("master password is not RDS-managed under the customer key")
		}
		if !prop(c, "masterPassword").IsNull() {
			t.Errorf("a plaintext masterPassword is set")
		}
		if !propBool(key, "enableKeyRotation") {
			t.Errorf("database key does not rotate")
		}
		if !slices.Contains(propStrings(c, "enabledCloudwatchLogsExports"), "postgresql") {
			t.Errorf("postgresql log is not exported")
		}
		if !propBool(c, "iamDatabaseAuthenticationEnabled") {
			t.Errorf("IAM database authentication is off")
		}
	})
}

func TestDatabaseUsesIsolatedSubnetsAndItsSecurityGroup(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		sng := only(t, g, "aws:rds/subnetGroup:SubnetGroup")
		if got, want := propStrings(sng, "subnetIds"), subnetIDs(t, g, "isolated"); !slices.Equal(got, want) {
			t.Errorf("DB subnet group subnets = %v, want the isolated ones %v", got, want)
		}
		c := only(t, g, "aws:rds/cluster:Cluster")
		if propString(c, "dbSubnetGroupName") != sng.Outputs["name"].StringValue() {
			t.Errorf("cluster does not use the isolated subnet group")
		}
		if got := propStrings(c, "vpcSecurityGroupIds"); !slices.Equal(got, []string{sgByTier(t, g)["database"]}) {
			t.Errorf("cluster security groups = %v, want only the database tier", got)
		}
		for _, inst := range g.ByType("aws:rds/clusterInstance:ClusterInstance") {
			if v := prop(inst, "publiclyAccessible"); !v.IsBool() || v.BoolValue() {
				t.Errorf("%s: publiclyAccessible must be explicitly false", inst.Name)
			}
		}
	})
}

func TestDatabaseParameterGroup(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		pg := only(t, g, "aws:rds/clusterParameterGroup:ClusterParameterGroup")
		cfg := stackConfig(t, stack)
		if propString(pg, "family") != cfg.Database.ParameterGroupFamily() {
			t.Errorf("family %q, want %q", propString(pg, "family"), cfg.Database.ParameterGroupFamily())
		}
		got := map[string]string{}
		for _, p := range prop(pg, "parameters").ArrayValue() {
			o := p.ObjectValue()
			got[o["name"].StringValue()] = o["value"].StringValue()
		}
		for name, want := range map[string]string{"rds.force_ssl": "1", "shared_preload_libraries": "pg_stat_statements", "log_lock_waits": "1"} {
			if got[name] != want {
				t.Errorf("parameter %s = %q, want %q", name, got[name], want)
			}
		}
		if got["log_min_duration_statement"] == "" {
			t.Errorf("slow statements are not logged")
		}
		if propString(only(t, g, "aws:rds/cluster:Cluster"), "dbClusterParameterGroupName") != pg.Outputs["name"].StringValue() {
			t.Errorf("cluster does not use the parameter group")
		}
	})
}

// TestDatabaseEnvironmentShape: prod pays for availability and safety, dev
// does not.
func TestDatabaseEnvironmentShape(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		cfg := stackConfig(t, stack).Database
		c := only(t, g, "aws:rds/cluster:Cluster")
		instances := g.ByType("aws:rds/clusterInstance:ClusterInstance")
		if len(instances) != 1+cfg.Readers {
			t.Errorf("%d instances, want writer + %d readers", len(instances), cfg.Readers)
		}
		if propBool(c, "deletionProtection") != cfg.DeletionProtection {
			t.Errorf("deletionProtection = %v, config says %v", propBool(c, "deletionProtection"), cfg.DeletionProtection)
		}
		if cfg.DeletionProtection {
			if propBool(c, "skipFinalSnapshot") || propString(c, "finalSnapshotIdentifier") == "" {
				t.Errorf("deletion-protected cluster would be deleted without a final snapshot")
			}
		} else if !propBool(c, "skipFinalSnapshot") {
			t.Errorf("unprotected cluster would need a final snapshot identifier")
		}
		backup, _ := propNumber(c, "backupRetentionPeriod")
		for _, inst := range instances {
			if propBool(inst, "performanceInsightsEnabled") != cfg.PerformanceInsights {
				t.Errorf("%s performance insights = %v", inst.Name, propBool(inst, "performanceInsightsEnabled"))
			}
			interval, _ := propNumber(inst, "monitoringInterval")
			if int(interval) != cfg.MonitoringInterval || (cfg.MonitoringInterval > 0) != (propString(inst, "monitoringRoleArn") != "") {
				t.Errorf("%s enhanced monitoring interval %v role %q", inst.Name, interval, propString(inst, "monitoringRoleArn"))
			}
			if cfg.Serverless && propString(inst, "instanceClass") != "db.serverless" {
				t.Errorf("%s class %q, want db.serverless", inst.Name, propString(inst, "instanceClass"))
			}
		}
		switch stack {
		case "prod":
			if len(instances) < 2 || !propBool(c, "deletionProtection") || backup < 7 || !cfg.PerformanceInsights || cfg.MonitoringInterval == 0 {
				t.Errorf("prod must have a reader, deletion protection, ≥ 7 days of backups, Performance Insights and enhanced monitoring")
			}
			for _, r := range []*harness.Resource{c, g.Find("aws:kms/key:Key", "database")} {
				if !r.Protect {
					t.Errorf("prod %s %s is not protected", r.Type, r.Name)
				}
			}
		case "dev":
			min, _ := propNumber(c, "serverlessv2ScalingConfiguration", "minCapacity")
			pause, _ := propNumber(c, "serverlessv2ScalingConfiguration", "secondsUntilAutoPause")
			if len(instances) != 1 || min != 0 || pause == 0 || c.Protect {
				t.Errorf("dev should be one auto-pausing serverless instance, unprotected (instances=%d min=%v pause=%v)", len(instances), min, pause)
			}
		}
	})
}

func TestDatabaseMonitoringRoleIsScoped(t *testing.T) {
	g := stackGraph(t, "prod")
	var role *harness.Resource
	for _, r := range g.ByType("aws:iam/role:Role") {
		if r.Name == "database-monitoring" {
			role = r
		}
	}
	if role == nil {
		t.Fatal("prod has enhanced monitoring but no monitoring role")
	}
	doc := propString(role, "assumeRolePolicy")
	for _, want := range []string{`"Service":"monitoring.rds.amazonaws.com"`, `"aws:SourceAccount":"` + harness.Account + `"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("trust policy lacks %s: %s", want, doc)
		}
	}
	att := g.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "database-monitoring")
	if att == nil {
		t.Fatal("monitoring role has no policy attachment")
	}
	if propString(att, "policyArn") != "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole" {
		t.Errorf("monitoring role policy %q", propString(att, "policyArn"))
	}
}
