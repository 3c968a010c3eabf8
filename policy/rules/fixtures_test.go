package rules

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Test fixtures: a fully compliant stack in plain Go data, mutated per rule.

type M = map[string]any
type L = []any

// pv converts plain Go test data (M, L, scalars, resource.PropertyValue) into
// a PropertyValue.
func pv(x any) resource.PropertyValue {
	switch t := x.(type) {
	case resource.PropertyValue:
		return t
	case M:
		return resource.NewObjectProperty(pm(t))
	case L:
		arr := make([]resource.PropertyValue, len(t))
		for i, e := range t {
			arr[i] = pv(e)
		}
		return resource.NewArrayProperty(arr)
	case []string:
		arr := make([]resource.PropertyValue, len(t))
		for i, e := range t {
			arr[i] = resource.NewStringProperty(e)
		}
		return resource.NewArrayProperty(arr)
	default:
		return resource.NewPropertyValue(t)
	}
}

func pm(m M) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range m {
		out[resource.PropertyKey(k)] = pv(v)
	}
	return out
}

func unknown() resource.PropertyValue { return resource.MakeComputed(resource.NewStringProperty("")) }
func unknownOutput() resource.PropertyValue {
	return resource.NewOutputProperty(resource.Output{Known: false})
}
func secret(s string) resource.PropertyValue {
	return resource.MakeSecret(resource.NewStringProperty(s))
}

func mustJSON(x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// fixture is a resource described with plain data so tests can mutate it.
type fixture struct {
	Type, Name, ID, Parent string
	Props                  M
	Deps                   map[string][]string
}

func urnFor(stack, typ, name string) string {
	return fmt.Sprintf("urn:pulumi:%s::books::%s::%s", stack, typ, name)
}

func build(stack string, fs []*fixture) []Resource {
	out := make([]Resource, 0, len(fs))
	for _, f := range fs {
		r := Resource{URN: urnFor(stack, f.Type, f.Name), Type: f.Type, Name: f.Name, ID: f.ID, Props: pm(f.Props), PropertyDependencies: f.Deps}
		if f.Parent != "" {
			r.Parent = f.Parent
		}
		out = append(out, r)
	}
	return out
}

func containerDefs(mut func(c M)) string {
	c := M{
		"name":                   "app",
		"image":                  "123456789012.dkr.ecr.eu-west-1.amazonaws.com/books@sha256:abc",
		"user":                   "65532:65532",
		"readonlyRootFilesystem": true,
		"essential":              true,
		"logConfiguration": M{"logDriver": "awslogs", "options": M{
			"awslogs-group": "/books/app", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "app"}},
		"environment": L{
			M{"name": "PGHOST", "value": "db.cluster.internal"},
			M{"name": "PGUSER", "value": "books_admin"},
			M{"name": "DB_SECRET_ARN", "value": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-abc"},
			M{"name": "BASIC_AUTH_USER", "value": "books"},
			M{"name": "CACHE_KEY_PREFIX", "value": "books:"},
		},
		"secrets": L{
			M{"name": "REDIS_URL", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis-url"},
			M{"name": "BASIC_AUTH_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:basic"},
		},
	}
	if mut != nil {
		mut(c)
	}
	return mustJSON(L{c})
}

func iamDoc(stmts ...M) string {
	l := L{}
	for _, s := range stmts {
		l = append(l, s)
	}
	return mustJSON(M{"Version": "2012-10-17", "Statement": l})
}

var goodStatements = []M{
	{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
	{"Effect": "Allow", "Action": L{"s3:GetObject", "s3:PutObject"}, "Resource": "arn:aws:s3:::books-payload/*"},
	{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": M{"Bool": M{"aws:SecureTransport": "false"}}},
}

func tlsPolicy(bucketArn string) string {
	return mustJSON(M{"Version": "2012-10-17", "Statement": L{M{
		"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
		"Resource":  L{bucketArn, bucketArn + "/*"},
		"Condition": M{"Bool": M{"aws:SecureTransport": "false"}},
	}}})
}

// compliantStack returns one compliant resource of every checked type.
func compliantStack() []*fixture {
	return append(baseCompliant(), moreCompliant()...)
}

func baseCompliant() []*fixture {
	return []*fixture{
		{Type: TypeRDSCluster, Name: "db", ID: "books-db", Props: M{
			"engine": "aurora-postgresql", "engineVersion": "16.4",
			"storageEncrypted": true, "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/db",
			"manageMasterUserPassword": true, "masterUsername": "books_admin",
			"enabledCloudwatchLogsExports": L{"postgresql"},
			"deletionProtection":           true, "backupRetentionPeriod": 14,
			"iamDatabaseAuthenticationEnabled": true, "copyTagsToSnapshot": true, "dbClusterParameterGroupName": "books-pg",
		}},
		{Type: TypeRDSClusterInstance, Name: "db-writer", Props: M{"clusterIdentifier": "books-db", "instanceClass": "db.serverless", "publiclyAccessible": false, "monitoringInterval": 60}},
		{Type: TypeRDSClusterInstance, Name: "db-reader-1", Props: M{"clusterIdentifier": "books-db", "instanceClass": "db.serverless", "monitoringInterval": 60}},
		{Type: TypeReplicationGroup, Name: "cache", Props: M{
			"engine": "valkey", "atRestEncryptionEnabled": true, "transitEncryptionEnabled": true,
			"authToken": secret("s3cr3t-token-0123456789"), "subnetGroupName": "books-cache",
			"automaticFailoverEnabled": true, "multiAzEnabled": true, "numCacheClusters": 2,
			"kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/cache", "snapshotRetentionLimit": 7,
		}},
		{Type: TypeSecurityGroup, Name: "service-sg", Props: M{
			"vpcId":   "vpc-1",
			"ingress": L{M{"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "securityGroups": L{"sg-alb"}}},
			"egress":  L{M{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": L{"0.0.0.0/0"}}},
		}},
		{Type: TypeSecurityGroupRule, Name: "alb-from-vpc", Props: M{"type": "ingress", "protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": L{"10.0.0.0/16"}, "securityGroupId": "sg-alb"}},
		{Type: TypeSecurityGroupRule, Name: "alb-egress", Props: M{"type": "egress", "protocol": "tcp", "fromPort": 8080, "toPort": 8080, "sourceSecurityGroupId": "sg-service", "securityGroupId": "sg-alb"}},
		{Type: TypeSGIngressRule, Name: "db-from-service", Props: M{"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "referencedSecurityGroupId": "sg-service", "securityGroupId": "sg-db"}},
		{Type: TypeECRRepository, Name: "repo", Props: M{"name": "books",
			"imageScanningConfiguration": M{"scanOnPush": true}, "imageTagMutability": "IMMUTABLE",
			"encryptionConfigurations": L{M{"encryptionType": "KMS", "kmsKey": "arn:aws:kms:eu-west-1:123456789012:key/ecr"}},
		}},
		{Type: TypeECSCluster, Name: "cluster", Props: M{"settings": L{M{"name": "containerInsights", "value": "enabled"}}}},
		{Type: TypeECSTaskDefinition, Name: "task", Props: M{"family": "books", "cpu": "256", "memory": "512", "networkMode": "awsvpc", "containerDefinitions": containerDefs(nil)}},
		{Type: TypeECSService, Name: "service", Props: M{"networkConfiguration": M{"assignPublicIp": false, "subnets": L{"subnet-private-a"}}}},
		{Type: TypeLB, Name: "alb", Props: M{"arn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/alb/1", "internal": true, "loadBalancerType": "application", "dropInvalidHeaderFields": true, "enableDeletionProtection": true,
			"subnets": L{"subnet-a", "subnet-b"}, "accessLogs": M{"enabled": true, "bucket": "logs"}}},
		{Type: TypeLB, Name: "nlb", Props: M{"internal": true, "loadBalancerType": "network", "enableDeletionProtection": true, "subnets": L{"subnet-a", "subnet-b"}}},
		{Type: TypeAPIStage, Name: "stage", ID: "ags-abc-v1", Props: M{
			"stageName": "v1", "restApi": "abc", "deployment": "dep",
			"accessLogSettings":  M{"destinationArn": "arn:aws:logs:eu-west-1:123456789012:log-group:/books/api", "format": "{}"},
			"xrayTracingEnabled": true,
		}},
		{Type: TypeWAFAssociation, Name: "waf-assoc", Props: M{"resourceArn": "arn:aws:apigateway:eu-west-1::/restapis/abc/stages/v1", "webAclArn": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/books/1"}},
		{Type: TypeAPIMethodSettings, Name: "settings", Props: M{"methodPath": "*/*", "stageName": "v1", "settings": M{
			"cachingEnabled": true, "cacheDataEncrypted": true, "dataTraceEnabled": false, "loggingLevel": "INFO", "metricsEnabled": true}}},
		{Type: TypeAPIMethod, Name: "post-book", Props: M{"httpMethod": "POST", "authorization": "COGNITO_USER_POOLS", "authorizerId": "auth"}},
		{Type: TypeAPIMethod, Name: "get-book", Props: M{"httpMethod": "GET", "authorization": "NONE"}},
		{Type: TypeCognitoUserPool, Name: "users", Props: M{
			"passwordPolicy":     M{"minimumLength": 12, "requireLowercase": true, "requireUppercase": true, "requireNumbers": true, "requireSymbols": true},
			"deletionProtection": "ACTIVE", "mfaConfiguration": "OPTIONAL", "userPoolAddOns": M{"advancedSecurityMode": "ENFORCED"},
		}},
		{Type: TypeS3BucketV2, Name: "payload", ID: "books-payload", Props: M{"forceDestroy": true}},
		{Type: TypeS3PublicAccessBlock, Name: "payload-pab", Props: M{"bucket": "books-payload", "blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}},
		{Type: TypeS3SSEConfigV2, Name: "payload-sse", Props: M{"bucket": "books-payload", "rules": L{M{"applyServerSideEncryptionByDefault": M{"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:eu-west-1:123456789012:key/s3"}, "bucketKeyEnabled": true}}}},
		{Type: TypeS3BucketPolicy, Name: "payload-policy", Props: M{"bucket": "books-payload", "policy": tlsPolicy("arn:aws:s3:::books-payload")}},
		{Type: TypeSNSTopic, Name: "alarms", Props: M{"kmsMasterKeyId": "arn:aws:kms:eu-west-1:123456789012:key/sns"}},
		{Type: TypeKMSKey, Name: "key", Props: M{"enableKeyRotation": true, "deletionWindowInDays": 30}},
		{Type: TypeKMSKey, Name: "signing-key", Props: M{"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"}},
		{Type: TypeLogGroup, Name: "logs", Props: M{"retentionInDays": 365, "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/logs"}},
		{Type: TypeIAMPolicy, Name: "policy", Props: M{"policy": iamDoc(goodStatements...)}},
		{Type: TypeIAMRolePolicy, Name: "role-policy", Props: M{"role": "task-role", "policy": iamDoc(goodStatements...)}},
		{Type: TypeIAMRole, Name: "role", Props: M{
			"assumeRolePolicy": mustJSON(M{"Version": "2012-10-17", "Statement": L{M{"Effect": "Allow", "Principal": M{"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}}}),
			"inlinePolicies":   L{M{"name": "inline", "policy": iamDoc(goodStatements...)}},
		}},
		{Type: TypeVPC, Name: "vpc", ID: "vpc-1", Props: M{"cidrBlock": "10.0.0.0/16"}},
		{Type: TypeAwsxVPC, Name: "network", Props: M{"vpcId": "vpc-2"}},
		{Type: TypeFlowLog, Name: "vpc-flow", Props: M{"vpcId": "vpc-1", "trafficType": "ALL"}},
		{Type: TypeFlowLog, Name: "network-flow", Props: M{"vpcId": "vpc-2", "trafficType": "ALL"}},
	}
}

func find(fs []*fixture, name string) *fixture {
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	panic("no fixture " + name)
}

func without(fs []*fixture, name string) []*fixture {
	var out []*fixture
	for _, f := range fs {
		if f.Name != name {
			out = append(out, f)
		}
	}
	return out
}

// firing returns the sorted names of rules with non-note violations.
func firing(vs []Violation) []string {
	set := map[string]bool{}
	for _, v := range vs {
		if !v.Note {
			set[v.Rule] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
