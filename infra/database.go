package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DatabaseArgs configures the Aurora PostgreSQL cluster.
type DatabaseArgs struct {
	// Settings are the validated books:database values.
	Settings DatabaseConfig
	// SubnetIds are the isolated subnets; SecurityGroupId admits the service.
	SubnetIds       pulumi.StringArrayInput
	SecurityGroupId pulumi.StringInput
	// FinalSnapshotIdentifier names the snapshot taken when the cluster is
	// deleted with DeletionProtection settings (ignored otherwise).
	FinalSnapshotIdentifier string
	// Protect marks the cluster, its instances and its key with pulumi.Protect.
	Protect bool
	Env     Environment
}

// Database is an encrypted Aurora PostgreSQL cluster with an RDS-managed
// master password.
type Database struct {
	pulumi.ResourceState

	ClusterIdentifier pulumi.StringOutput `pulumi:"clusterIdentifier"`
	Endpoint          pulumi.StringOutput `pulumi:"endpoint"`
	ReaderEndpoint    pulumi.StringOutput `pulumi:"readerEndpoint"`
	Port              pulumi.IntOutput    `pulumi:"port"`
	DatabaseName      pulumi.StringOutput `pulumi:"databaseName"`
	MasterUsername    pulumi.StringOutput `pulumi:"masterUsername"`
	// MasterSecretArn is the RDS-managed secret holding the master password
	// (JSON with username and password), encrypted with KmsKeyArn.
	MasterSecretArn pulumi.StringOutput `pulumi:"masterSecretArn"`
	KmsKeyArn       pulumi.StringOutput `pulumi:"kmsKeyArn"`
	// InstanceIdentifiers lists the writer first, then the readers.
	InstanceIdentifiers pulumi.StringArrayOutput `pulumi:"instanceIdentifiers"`
}

// AuroraEngine is the engine of the cluster.
const AuroraEngine = "aurora-postgresql"

// ClusterParameters are the cluster parameter group's settings: statement
// statistics, slow-statement and lock-wait logging, TLS only.
var ClusterParameters = []struct{ Name, Value, ApplyMethod string }{
	{"shared_preload_libraries", "pg_stat_statements", "pending-reboot"},
	{"log_min_duration_statement", "500", "immediate"},
	{"log_lock_waits", "1", "immediate"},
	{"rds.force_ssl", "1", "immediate"},
}

// NewDatabase creates the KMS key, subnet group, parameter group, cluster,
// its writer and readers, and (when enabled) the enhanced-monitoring role.
func NewDatabase(ctx *pulumi.Context, name string, args *DatabaseArgs, opts ...pulumi.ResourceOption) (*Database, error) {
	if args == nil {
		return nil, fmt.Errorf("database %s: args are required", name)
	}
	s := args.Settings
	d := &Database{}
	if err := ctx.RegisterComponentResource("books:infra:Database", name, d, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(d)

	key, err := newKmsKey(ctx, name, "Aurora storage, master secret and Performance Insights of "+name, nil, args.Protect, d)
	if err != nil {
		return nil, err
	}
	subnets, err := rds.NewSubnetGroup(ctx, name, &rds.SubnetGroupArgs{
		Description: pulumi.String("Isolated subnets of " + name),
		SubnetIds:   args.SubnetIds,
	}, parent)
	if err != nil {
		return nil, err
	}
	params := rds.ClusterParameterGroupParameterArray{}
	for _, p := range ClusterParameters {
		params = append(params, rds.ClusterParameterGroupParameterArgs{
			Name: pulumi.String(p.Name), Value: pulumi.String(p.Value), ApplyMethod: pulumi.String(p.ApplyMethod),
		})
	}
	paramGroup, err := rds.NewClusterParameterGroup(ctx, name, &rds.ClusterParameterGroupArgs{
		Family:      pulumi.String(s.ParameterGroupFamily()),
		Description: pulumi.String("Books Aurora PostgreSQL settings"),
		Parameters:  params,
	}, parent)
	if err != nil {
		return nil, err
	}

	var scaling rds.ClusterServerlessv2ScalingConfigurationPtrInput
	instanceClass := s.InstanceClass
	if s.Serverless {
		instanceClass = "db.serverless"
		cfg := rds.ClusterServerlessv2ScalingConfigurationArgs{
			MinCapacity: pulumi.Float64(s.MinCapacity),
			MaxCapacity: pulumi.Float64(s.MaxCapacity),
		}
		if s.MinCapacity == 0 {
			cfg.SecondsUntilAutoPause = pulumi.Int(s.AutoPauseSeconds)
		}
		scaling = cfg
	}
	clusterArgs := &rds.ClusterArgs{
		Engine:                           pulumi.String(AuroraEngine),
		EngineMode:                       pulumi.String("provisioned"),
		EngineVersion:                    pulumi.String(s.EngineVersion),
		DatabaseName:                     pulumi.String(s.DatabaseName),
		MasterUsername:                   pulumi.String(s.MasterUsername),
		ManageMasterUserPassword:         pulumi.Bool(true),
		MasterUserSecretKmsKeyId:         key.Arn,
		StorageEncrypted:                 pulumi.Bool(true),
		KmsKeyId:                         key.Arn,
		Port:                             pulumi.Int(PostgresPort),
		DbSubnetGroupName:                subnets.Name,
		VpcSecurityGroupIds:              pulumi.StringArray{args.SecurityGroupId},
		DbClusterParameterGroupName:      paramGroup.Name,
		Serverlessv2ScalingConfiguration: scaling,
		BackupRetentionPeriod:            pulumi.Int(s.BackupRetentionDays),
		PreferredBackupWindow:            pulumi.String(s.PreferredBackupWindow),
		PreferredMaintenanceWindow:       pulumi.String(s.PreferredMaintenanceWindow),
		EnabledCloudwatchLogsExports:     pulumi.StringArray{pulumi.String("postgresql")},
		IamDatabaseAuthenticationEnabled: pulumi.Bool(true),
		CopyTagsToSnapshot:               pulumi.Bool(true),
		DeletionProtection:               pulumi.Bool(s.DeletionProtection),
	}
	if s.EngineUpgrade {
		// The documented upgrade path (README "Engine upgrades"): apply the
		// configured version now, major versions included.
		clusterArgs.AllowMajorVersionUpgrade = pulumi.Bool(true)
		clusterArgs.ApplyImmediately = pulumi.Bool(true)
	}
	if s.DeletionProtection {
		clusterArgs.SkipFinalSnapshot = pulumi.Bool(false)
		clusterArgs.FinalSnapshotIdentifier = pulumi.String(args.FinalSnapshotIdentifier)
	} else {
		clusterArgs.SkipFinalSnapshot = pulumi.Bool(true)
	}
	cluster, err := rds.NewCluster(ctx, name, clusterArgs, parent, pulumi.Protect(args.Protect), engineVersionOption(s))
	if err != nil {
		return nil, err
	}

	// monitoringRoleArn is the enhanced-monitoring role once its managed
	// policy is attached ("" when enhanced monitoring is off).
	var monitoringRoleArn pulumi.StringOutput
	if s.MonitoringInterval > 0 {
		role, _, err := newServiceRole(ctx, name+"-monitoring", "monitoring.rds.amazonaws.com", args.Env.Account, nil, d)
		if err != nil {
			return nil, err
		}
		att, err := iam.NewRolePolicyAttachment(ctx, name+"-monitoring", &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.Sprintf("arn:%s:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole", args.Env.Partition),
		}, pulumi.Parent(role))
		if err != nil {
			return nil, err
		}
		monitoringRoleArn = waitFor(role.Arn, att)
	}

	ids := pulumi.StringArray{}
	var instances []pulumi.CustomResource
	for i := 0; i <= s.Readers; i++ {
		instName := fmt.Sprintf("%s-%d", name, i+1)
		inst := &rds.ClusterInstanceArgs{
			// No engineVersion: an Aurora instance runs its cluster's
			// version, and AWS upgrades both together.
			ClusterIdentifier:       cluster.ID().ToStringOutput(),
			Engine:                  pulumi.String(AuroraEngine),
			InstanceClass:           pulumi.String(instanceClass),
			DbSubnetGroupName:       subnets.Name,
			PubliclyAccessible:      pulumi.Bool(false),
			AutoMinorVersionUpgrade: pulumi.Bool(true),
			// The writer is created first; readers fail over in order.
			PromotionTier:              pulumi.Int(i),
			PerformanceInsightsEnabled: pulumi.Bool(s.PerformanceInsights),
		}
		if s.PerformanceInsights {
			inst.PerformanceInsightsKmsKeyId = key.Arn
			inst.PerformanceInsightsRetentionPeriod = pulumi.Int(7)
		}
		if s.MonitoringInterval > 0 {
			inst.MonitoringInterval = pulumi.Int(s.MonitoringInterval)
			inst.MonitoringRoleArn = monitoringRoleArn
		}
		ci, err := rds.NewClusterInstance(ctx, instName, inst, parent, pulumi.Protect(args.Protect))
		if err != nil {
			return nil, err
		}
		ids = append(ids, ci.Identifier)
		instances = append(instances, ci)
	}

	d.ClusterIdentifier = cluster.ClusterIdentifier
	// The cluster's endpoints and secret exist ~10 minutes before its
	// writer answers: consumers get them once every instance is up, so a
	// service started on a first deploy finds a database (its migrations
	// would time out otherwise).
	d.Endpoint = waitFor(cluster.Endpoint, instances...)
	d.ReaderEndpoint = waitFor(cluster.ReaderEndpoint, instances...)
	d.Port = cluster.Port
	d.DatabaseName = pulumi.String(s.DatabaseName).ToStringOutput()
	d.MasterUsername = pulumi.String(s.MasterUsername).ToStringOutput()
	d.MasterSecretArn = waitFor(masterSecretArn(name, cluster.MasterUserSecrets), instances...)
	d.KmsKeyArn = key.Arn
	d.InstanceIdentifiers = ids.ToStringArrayOutput()
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{
		"clusterIdentifier":   d.ClusterIdentifier,
		"endpoint":            d.Endpoint,
		"readerEndpoint":      d.ReaderEndpoint,
		"port":                d.Port,
		"databaseName":        d.DatabaseName,
		"masterUsername":      d.MasterUsername,
		"masterSecretArn":     d.MasterSecretArn,
		"kmsKeyArn":           d.KmsKeyArn,
		"instanceIdentifiers": d.InstanceIdentifiers,
	})
}

// engineVersionOption ignores the engine version after creation unless
// books:database.engineUpgrade is set. AWS upgrades the minor version in the
// maintenance window (instances have autoMinorVersionUpgrade); after a
// refresh the configured, older version would plan a downgrade, which RDS
// refuses ("Cannot upgrade aurora-postgresql from 16.8 to 16.6").
func engineVersionOption(s DatabaseConfig) pulumi.ResourceOption {
	if s.EngineUpgrade {
		return pulumi.IgnoreChanges(nil)
	}
	return pulumi.IgnoreChanges([]string{"engineVersion"})
}

// masterSecretArn is the ARN of the master user secret RDS manages for the
// cluster (manageMasterUserPassword), which the service reads its
// credentials from. Without one — a transform or an edit turned
// manageMasterUserPassword off — the deployment fails with this error
// instead of the program panicking on masterUserSecrets[0].
func masterSecretArn(name string, secrets rds.ClusterMasterUserSecretArrayOutput) pulumi.StringOutput {
	return secrets.ApplyT(func(ss []rds.ClusterMasterUserSecret) (string, error) {
		if len(ss) == 0 || ss[0].SecretArn == nil || *ss[0].SecretArn == "" {
			return "", fmt.Errorf("database %s: the cluster has no RDS-managed master user secret; keep manageMasterUserPassword true (the service reads the database credentials from that secret)", name)
		}
		return *ss[0].SecretArn, nil
	}).(pulumi.StringOutput)
}
