package infra

import (
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// CacheArgs configures the ElastiCache replication group.
type CacheArgs struct {
	// Settings are the validated books:cache values.
	Settings CacheConfig
	// SubnetIds are the isolated subnets; SecurityGroupId admits the service.
	SubnetIds       pulumi.StringArrayInput
	SecurityGroupId pulumi.StringInput
	// AuthToken is the AUTH token (a secret stack value).
	AuthToken pulumi.StringInput
	// Protect marks the replication group, its key and the URL secret with pulumi.Protect.
	Protect bool
}

// Cache is a TLS + AUTH Valkey/Redis replication group whose connection URL
// is kept in Secrets Manager for the service.
type Cache struct {
	pulumi.ResourceState

	ReplicationGroupId pulumi.StringOutput `pulumi:"replicationGroupId"`
	// MemberClusters are the node (cache cluster) ids, the CacheClusterId
	// dimension of per-node metrics.
	MemberClusters  pulumi.StringArrayOutput `pulumi:"memberClusters"`
	PrimaryEndpoint pulumi.StringOutput      `pulumi:"primaryEndpoint"`
	Port            pulumi.IntOutput         `pulumi:"port"`
	// UrlSecretArn is the Secrets Manager secret holding
	// rediss://:TOKEN@host:port, the service's REDIS_URL.
	UrlSecretArn pulumi.StringOutput `pulumi:"urlSecretArn"`
	KmsKeyArn    pulumi.StringOutput `pulumi:"kmsKeyArn"`
}

// CacheParameters are the parameter group's settings.
var CacheParameters = []struct{ Name, Value string }{
	// A cache, not a store: evict the least recently used key when full.
	{"maxmemory-policy", "allkeys-lru"},
}

// NewCache creates the KMS key, subnet group, parameter group, log groups,
// replication group and the URL secret.
func NewCache(ctx *pulumi.Context, name string, args *CacheArgs, opts ...pulumi.ResourceOption) (*Cache, error) {
	if args == nil {
		return nil, fmt.Errorf("cache %s: args are required", name)
	}
	s := args.Settings
	c := &Cache{}
	if err := ctx.RegisterComponentResource("books:infra:Cache", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	key, err := newKmsKey(ctx, name, "ElastiCache data at rest and the cache URL secret of "+name, nil, args.Protect, c)
	if err != nil {
		return nil, err
	}
	subnets, err := elasticache.NewSubnetGroup(ctx, name, &elasticache.SubnetGroupArgs{
		Description: pulumi.String("Isolated subnets of " + name),
		SubnetIds:   args.SubnetIds,
	}, parent)
	if err != nil {
		return nil, err
	}
	params := elasticache.ParameterGroupParameterArray{}
	for _, p := range CacheParameters {
		params = append(params, elasticache.ParameterGroupParameterArgs{Name: pulumi.String(p.Name), Value: pulumi.String(p.Value)})
	}
	paramGroup, err := elasticache.NewParameterGroup(ctx, name, &elasticache.ParameterGroupArgs{
		Family:      pulumi.String(s.ParameterGroupFamily()),
		Description: pulumi.String("Books cache settings"),
		Parameters:  params,
	}, parent)
	if err != nil {
		return nil, err
	}

	logs := elasticache.ReplicationGroupLogDeliveryConfigurationArray{}
	for _, logType := range []string{"slow-log", "engine-log"} {
		group, err := cloudwatch.NewLogGroup(ctx, name+"-"+logType, &cloudwatch.LogGroupArgs{
			RetentionInDays: pulumi.Int(s.LogRetentionDays),
		}, parent)
		if err != nil {
			return nil, err
		}
		logs = append(logs, elasticache.ReplicationGroupLogDeliveryConfigurationArgs{
			Destination:     group.Name,
			DestinationType: pulumi.String("cloudwatch-logs"),
			LogFormat:       pulumi.String("json"),
			LogType:         pulumi.String(logType),
		})
	}

	multiNode := s.NodeCount > 1
	rg, err := elasticache.NewReplicationGroup(ctx, name, &elasticache.ReplicationGroupArgs{
		Description:               pulumi.String("Books read cache"),
		Engine:                    pulumi.String(s.Engine),
		EngineVersion:             pulumi.String(s.EngineVersion),
		NodeType:                  pulumi.String(s.NodeType),
		NumCacheClusters:          pulumi.Int(s.NodeCount),
		AutomaticFailoverEnabled:  pulumi.Bool(s.Failover && multiNode),
		MultiAzEnabled:            pulumi.Bool(s.Failover && multiNode),
		Port:                      pulumi.Int(RedisPort),
		SubnetGroupName:           subnets.Name,
		SecurityGroupIds:          pulumi.StringArray{args.SecurityGroupId},
		ParameterGroupName:        paramGroup.Name,
		AtRestEncryptionEnabled:   pulumi.Bool(true),
		KmsKeyId:                  key.Arn,
		TransitEncryptionEnabled:  pulumi.Bool(true),
		TransitEncryptionMode:     pulumi.String("required"),
		AuthToken:                 args.AuthToken,
		AutoMinorVersionUpgrade:   pulumi.Bool(true),
		SnapshotRetentionLimit:    pulumi.Int(s.SnapshotRetentionDays),
		SnapshotWindow:            pulumi.String(s.SnapshotWindow),
		MaintenanceWindow:         pulumi.String(s.MaintenanceWindow),
		LogDeliveryConfigurations: logs,
	}, parent, pulumi.Protect(args.Protect), pulumi.AdditionalSecretOutputs([]string{"authToken"}))
	if err != nil {
		return nil, err
	}

	secret, err := secretsmanager.NewSecret(ctx, name+"-url", &secretsmanager.SecretArgs{
		Description: pulumi.String("REDIS_URL of the books service (rediss:// with the AUTH token)"),
		KmsKeyId:    key.Arn,
	}, parent, pulumi.Protect(args.Protect))
	if err != nil {
		return nil, err
	}
	redisURL := pulumi.All(args.AuthToken, rg.PrimaryEndpointAddress).ApplyT(func(v []any) string {
		return RedisURL(v[1].(string), RedisPort, v[0].(string))
	}).(pulumi.StringOutput)
	version, err := secretsmanager.NewSecretVersion(ctx, name+"-url", &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(redisURL).(pulumi.StringOutput),
	}, pulumi.Parent(secret))
	if err != nil {
		return nil, err
	}

	c.ReplicationGroupId = rg.ID().ToStringOutput()
	c.MemberClusters = rg.MemberClusters
	c.PrimaryEndpoint = rg.PrimaryEndpointAddress
	c.Port = pulumi.Int(RedisPort).ToIntOutput()
	// A secret without a version has no AWSCURRENT value: a task reading
	// it fails (ResourceInitializationError). Consumers get the ARN once
	// the version exists, and the version holds the group's endpoint, so
	// they wait for the replication group too.
	c.UrlSecretArn = waitFor(secret.Arn, version)
	c.KmsKeyArn = key.Arn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"replicationGroupId": c.ReplicationGroupId,
		"memberClusters":     c.MemberClusters,
		"primaryEndpoint":    c.PrimaryEndpoint,
		"port":               c.Port,
		"urlSecretArn":       c.UrlSecretArn,
		"kmsKeyArn":          c.KmsKeyArn,
	})
}

// RedisURL is the TLS connection URL with the AUTH token as password:
// rediss://:TOKEN@host:port (the token is escaped for a URL).
func RedisURL(host string, port int, token string) string {
	u := url.URL{Scheme: "rediss", User: url.UserPassword("", token), Host: net.JoinHostPort(host, strconv.Itoa(port))}
	return u.String()
}
