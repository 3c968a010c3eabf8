package tests

// Mutations of the real graph for the rules added with the controls
// catalogue (policy/CONTROLS.md): at least one per rule whose resource types
// the program creates. Rules in exempt cannot be broken further by one
// property on this program, for the reason given.

import (
	"encoding/json"
	"testing"

	"github.com/books-platform/books/policy/rules"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// exempt: advisory rules the real program already reports on every resource
// they apply to (TestPolicyExemptRulesAlreadyReport checks that), and rules
// for an engine the program does not use.
var exempt = map[string]string{
	"lb-access-logs":                "advisory finding on the ALB already (no access-log bucket yet)",
	"cognito-threat-protection":     "advisory finding on the user pool already (needs the Plus feature plan)",
	"secret-rotation":               "advisory finding on both secrets already (derived from stack config)",
	"waf-logging":                   "advisory finding on the web ACL already",
	"s3-access-logging":             "advisory finding on the payload bucket already",
	"rds-aurora-mysql-backtracking": "Aurora MySQL only; the program runs Aurora PostgreSQL",
}

func TestPolicyExemptRulesAlreadyReport(t *testing.T) {
	for name := range exempt {
		if name == "rds-aurora-mysql-backtracking" {
			continue
		}
		seen := false
		for _, stack := range stacks(t) {
			for _, v := range findings(rules.Evaluate(stack, policyGraph(t, stack), rules.Config{})) {
				seen = seen || v.Rule == name
			}
		}
		if !seen {
			t.Errorf("%s is exempt as already reporting, but reports nothing: write a mutation for it and drop the entry", name)
		}
	}
}

func hasKey(key string) func(r rules.Resource) bool {
	return func(r rules.Resource) bool { return rules.Get(r.Props, key).Known() }
}

func strIs(key, want string) func(r rules.Resource) bool {
	return func(r rules.Resource) bool { return str(r, key) == want }
}

// policyDoc replaces a JSON policy property with one statement.
func policyDoc(stmt map[string]any) func(t *testing.T, doc any) any {
	return func(t *testing.T, doc any) any {
		return map[string]any{"Version": "2012-10-17", "Statement": []any{stmt}}
	}
}

// appendStmt appends a statement to a JSON policy document.
func appendStmt(stmt map[string]any) func(t *testing.T, doc any) any {
	return func(t *testing.T, doc any) any {
		m, _ := doc.(map[string]any)
		if m == nil {
			m = map[string]any{"Version": "2012-10-17"}
		}
		st, _ := m["Statement"].([]any)
		if o, ok := m["Statement"].(map[string]any); ok {
			st = []any{o}
		}
		m["Statement"] = append(st, stmt)
		return m
	}
}

var publicStmt = map[string]any{"Sid": "Mutation", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}

func setJSON(key string, stmt map[string]any) func(*testing.T, []rules.Resource, int) []rules.Resource {
	return edit(func(t *testing.T, r *rules.Resource) {
		b := `{"Version":"2012-10-17","Statement":[` + mustMarshal(t, stmt) + `]}`
		r.Props[resource.PropertyKey(key)] = resource.NewProperty(b)
	})
}

func mustMarshal(t *testing.T, x any) string {
	t.Helper()
	return string(must(jsonMarshal(x)))
}

func init() {
	mutations = append(mutations, []mutation{
		// network
		{rule: "sg-no-unrestricted-egress", what: "egress rule to 0.0.0.0/0 on all protocols", typ: rules.TypeSGEgressRule,
			apply: edit(func(t *testing.T, r *rules.Resource) {
				delete(r.Props, "referencedSecurityGroupId")
				delete(r.PropertyDependencies, "referencedSecurityGroupId")
				r.Props["ipProtocol"] = resource.NewProperty("-1")
				r.Props["cidrIpv4"] = resource.NewProperty("0.0.0.0/0")
			})},
		{rule: "sg-no-unrestricted-egress", what: "inline egress allow-all", typ: rules.TypeSecurityGroup,
			apply: set([]any{map[string]any{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": []any{"0.0.0.0/0"}}}, "egress")},
		{rule: "vpc-default-sg-closed", what: "default security group allows its members", typ: rules.TypeDefaultSecurityGroup,
			apply: set([]any{map[string]any{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "self": true}}, "ingress")},
		{rule: "vpc-default-sg-closed", what: "default security group not managed", typ: rules.TypeDefaultSecurityGroup, apply: remove},
		{rule: "lb-desync-mitigation", what: "desync monitor only", typ: rules.TypeLB, where: isApplicationLB, apply: set("monitor", "desyncMitigationMode")},
		{rule: "lb-multi-az", what: "one subnet", typ: rules.TypeLB, apply: set([]any{"subnet-only-one"}, "subnets")},
		{rule: "lb-https-listeners", what: "internet-facing ALB with an HTTP listener", typ: rules.TypeLB, where: isApplicationLB,
			also: []string{"lb-internal"}, apply: set(false, "internal")},
		{rule: "lb-tls12-policy", what: "TLS 1.0 policy", typ: rules.TypeLBListener,
			apply: edit(func(t *testing.T, r *rules.Resource) {
				proto := "HTTPS"
				if str(*r, "protocol") == "TCP" {
					proto = "TLS"
				}
				r.Props["protocol"] = resource.NewProperty(proto)
				r.Props["certificateArn"] = resource.NewProperty("arn:aws:acm:eu-west-1:123456789012:certificate/m")
				r.Props["sslPolicy"] = resource.NewProperty("ELBSecurityPolicy-TLS-1-0-2015-04")
			})},
		// database and cache
		{rule: "rds-auto-minor-version-upgrade", what: "minor upgrades off", typ: rules.TypeRDSClusterInstance, apply: set(false, "autoMinorVersionUpgrade")},
		{rule: "rds-cluster-iam-auth", what: "IAM auth off", typ: rules.TypeRDSCluster, apply: set(false, "iamDatabaseAuthenticationEnabled")},
		{rule: "rds-cluster-iam-auth", what: "snapshots without tags", typ: rules.TypeRDSCluster, apply: set(false, "copyTagsToSnapshot")},
		{rule: "rds-enhanced-monitoring", what: "monitoring off", typ: rules.TypeRDSClusterInstance, where: hasKey("monitoringRoleArn"), apply: set(0.0, "monitoringInterval")},
		{rule: "rds-event-subscription", what: "failure events dropped", typ: rules.TypeRDSEventSubscription, apply: set([]any{"notification"}, "eventCategories")},
		{rule: "rds-event-subscription", what: "subscription disabled", typ: rules.TypeRDSEventSubscription, apply: set(false, "enabled")},
		{rule: "rds-force-tls", what: "rds.force_ssl 0", typ: rules.TypeRDSClusterParamGroup,
			apply: edit(func(t *testing.T, r *rules.Resource) {
				items, _ := rules.Get(r.Props, "parameters").List()
				var ps []resource.PropertyValue
				for _, it := range items {
					m, _ := it.Map()
					if n, _ := rules.Get(m, "name").Str(); n == "rds.force_ssl" {
						continue
					}
					ps = append(ps, it.V)
				}
				r.Props["parameters"] = resource.NewProperty(ps)
			})},
		{rule: "cache-at-rest-cmk", what: "AWS-managed key", typ: rules.TypeReplicationGroup, apply: del("kmsKeyId")},
		{rule: "cache-auto-minor-version-upgrade", what: "minor upgrades off", typ: rules.TypeReplicationGroup, apply: set(false, "autoMinorVersionUpgrade")},
		{rule: "cache-backups", what: "no snapshots", typ: rules.TypeReplicationGroup, apply: set(0.0, "snapshotRetentionLimit")},
		// containers
		{rule: "ecr-lifecycle-policy", what: "lifecycle policy removed", typ: rules.TypeECRLifecyclePolicy, apply: remove},
		{rule: "ecs-fargate-latest-platform", what: "pinned old platform", typ: rules.TypeECSService, apply: set("1.3.0", "platformVersion")},
		{rule: "ecs-task-efs-transit-encryption", what: "EFS volume without TLS", typ: rules.TypeECSTaskDefinition,
			apply: set([]any{map[string]any{"name": "efs", "efsVolumeConfiguration": map[string]any{"fileSystemId": "fs-1"}}}, "volumes")},
		{rule: "ecs-task-host-namespaces", what: "host PID namespace", typ: rules.TypeECSTaskDefinition, apply: set("host", "pidMode")},
		{rule: "ecs-task-host-namespaces", what: "host network", typ: rules.TypeECSTaskDefinition, apply: set("host", "networkMode")},
		{rule: "ecs-task-no-added-capabilities", what: "SYS_ADMIN added", typ: rules.TypeECSTaskDefinition,
			apply: container(func(c map[string]any) {
				c["linuxParameters"] = map[string]any{"capabilities": map[string]any{"add": []any{"SYS_ADMIN"}}}
			})},
		// IAM and keys
		{rule: "iam-no-broad-managed-policies", what: "AdministratorAccess in managedPolicyArns", typ: rules.TypeIAMRole,
			apply: set([]any{"arn:aws:iam::aws:policy/AdministratorAccess"}, "managedPolicyArns")},
		{rule: "iam-no-broad-managed-policies", what: "AmazonS3FullAccess attached", typ: rules.TypeIAMRolePolicyAttachment,
			apply: set("arn:aws:iam::aws:policy/AmazonS3FullAccess", "policyArn")},
		{rule: "iam-trust-policy-restricted", what: "any AWS principal may assume", typ: rules.TypeIAMRole,
			apply: setJSON("assumeRolePolicy", map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "sts:AssumeRole"})},
		{rule: "iam-trust-policy-restricted", what: "GitHub OIDC without sub", typ: rules.TypeIAMRole,
			apply: setJSON("assumeRolePolicy", map[string]any{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
				"Principal": map[string]any{"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
				"Condition": map[string]any{"StringEquals": map[string]any{"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}})},
		{rule: "kms-key-deletion-window", what: "7-day deletion window in prod", typ: rules.TypeKMSKey, prodOnly: true, apply: set(7.0, "deletionWindowInDays")},
		{rule: "kms-key-not-public", what: "key policy open to everyone", typ: rules.TypeKMSKey, where: hasKey("policy"), apply: jsonProp("policy", appendStmt(publicStmt))},
		{rule: "secret-cmk", what: "AWS-managed key", typ: rules.TypeSecret, apply: del("kmsKeyId")},
		{rule: "secret-not-public", what: "resource policy open to everyone", typ: rules.TypeSecret, apply: setJSON("policy", publicStmt)},
		{rule: "secret-recovery-window", what: "force delete in prod", typ: rules.TypeSecret, prodOnly: true, apply: set(0.0, "recoveryWindowInDays")},
		// monitoring, logs, SNS
		{rule: "cloudwatch-alarm-actions", what: "no alarm actions", typ: rules.TypeMetricAlarm, where: hasKey("alarmActions"), apply: set([]any{}, "alarmActions")},
		{rule: "cloudwatch-alarm-actions", what: "actions disabled", typ: rules.TypeMetricAlarm, apply: set(false, "actionsEnabled")},
		{rule: "log-group-kms", what: "key removed", typ: rules.TypeLogGroup, where: hasKey("kmsKeyId"), apply: del("kmsKeyId")},
		{rule: "log-group-retention-minimum", what: "30 days in prod", typ: rules.TypeLogGroup, prodOnly: true,
			where: func(r rules.Resource) bool { n, _ := rules.Get(r.Props, "retentionInDays").Num(); return n >= 365 }, apply: set(30.0, "retentionInDays")},
		{rule: "sns-topic-not-public", what: "topic policy open to everyone", typ: rules.TypeSNSTopic, apply: setJSON("policy", publicStmt)},
		{rule: "sns-subscription-encrypted-transport", what: "HTTP subscription", typ: rules.TypeSNSSubscription,
			apply: edit(func(t *testing.T, r *rules.Resource) {
				r.Props["protocol"] = resource.NewProperty("http")
				r.Props["endpoint"] = resource.NewProperty("http://hooks.example.com/alarm")
			})},
		// Lambda
		{rule: "lambda-env-no-secrets", what: "password in environment", typ: rules.TypeLambdaFunction,
			apply: set("hunter2-hunter2", "environment", "variables", "DB_PASSWORD")},
		{rule: "lambda-permission-not-public", what: "any principal", typ: rules.TypeLambdaPermission,
			apply: edit(func(t *testing.T, r *rules.Resource) {
				r.Props["principal"] = resource.NewProperty("*")
				delete(r.Props, "sourceArn")
				delete(r.PropertyDependencies, "sourceArn")
			})},
		{rule: "lambda-permission-not-public", what: "service principal without source", typ: rules.TypeLambdaPermission,
			apply: del("sourceArn")},
		{rule: "lambda-supported-runtime", what: "python3.8", typ: rules.TypeLambdaFunction, apply: set("python3.8", "runtime")},
		{rule: "lambda-vpc-multi-az", what: "one subnet", typ: rules.TypeLambdaFunction,
			apply: set(map[string]any{"subnetIds": []any{"subnet-a"}, "securityGroupIds": []any{"sg-1"}}, "vpcConfig")},
		{rule: "lambda-xray", what: "tracing off", typ: rules.TypeLambdaFunction, apply: set("PassThrough", "tracingConfig", "mode")},
		// S3
		{rule: "s3-bucket-policy-not-public", what: "public read statement", typ: rules.TypeS3BucketPolicy,
			apply: jsonProp("policy", appendStmt(map[string]any{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}))},
		{rule: "s3-no-cross-account-admin", what: "other account may change the policy", typ: rules.TypeS3BucketPolicy,
			apply: jsonProp("policy", appendStmt(map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::210987654321:root"}, "Action": "s3:PutBucketPolicy", "Resource": "arn:aws:s3:::x"}))},
		{rule: "s3-no-public-acl", what: "public-read ACL", typ: rules.TypeS3BucketV2, apply: set("public-read", "acl")},
		{rule: "s3-ownership-enforced", what: "ACLs re-enabled", typ: rules.TypeS3Ownership, apply: set("ObjectWriter", "rule", "objectOwnership")},
		{rule: "s3-lifecycle", what: "lifecycle removed", typ: rules.TypeS3LifecycleV2, apply: remove},
		// API, Cognito, WAF
		{rule: "apigw-execution-logging", what: "execution logging off", typ: rules.TypeAPIMethodSettings, where: strIs("methodPath", "*/*"),
			apply: set("OFF", "settings", "loggingLevel")},
		{rule: "apigw-backend-client-certificate", what: "public HTTP backend", typ: rules.TypeAPIIntegration, where: strIs("type", "HTTP_PROXY"),
			apply: edit(func(t *testing.T, r *rules.Resource) {
				r.Props["connectionType"] = resource.NewProperty("INTERNET")
				delete(r.Props, "connectionId")
			})},
		{rule: "cognito-mfa", what: "MFA off", typ: rules.TypeCognitoUserPool, apply: set("OFF", "mfaConfiguration")},
		{rule: "cognito-client-hardening", what: "user existence errors", typ: rules.TypeCognitoClient, apply: set("LEGACY", "preventUserExistenceErrors")},
		{rule: "cognito-client-hardening", what: "implicit flow", typ: rules.TypeCognitoClient, apply: set([]any{"implicit"}, "allowedOauthFlows")},
		{rule: "waf-web-acl-rules", what: "managed group in count mode", typ: rules.TypeWAFWebACL,
			apply: edit(func(t *testing.T, r *rules.Resource) {
				r.Props = setPath(t, r.Props, resource.NewProperty(resource.PropertyMap{"count": resource.NewProperty(resource.PropertyMap{})}), []any{"rules", 0, "overrideAction"})
			})},
		{rule: "waf-known-bad-inputs", what: "Known Bad Inputs group removed", typ: rules.TypeWAFWebACL,
			apply: edit(func(t *testing.T, r *rules.Resource) {
				items, _ := rules.Get(r.Props, "rules").List()
				var keep []resource.PropertyValue
				for _, it := range items {
					m, _ := it.Map()
					if n, _ := rules.Get(m, "statement", "managedRuleGroupStatement", "name").Str(); n != "AWSManagedRulesKnownBadInputsRuleSet" {
						keep = append(keep, it.V)
					}
				}
				r.Props["rules"] = resource.NewProperty(keep)
			})},
	}...)
}

func jsonMarshal(x any) ([]byte, error) { return json.Marshal(x) }

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
