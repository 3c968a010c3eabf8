package tests

// An auditor's self-check of the policy pack: one-property security
// mutations of the real program, picked control first (FSBP, Checkov, CIS)
// and applied as resource transforms under the harness's mocks (a user's
// change, the way it reaches the engine), on both stacks. A mutation is
// caught when the pack reports something it did not report before. The test
// logs the catch rate and fails below 95%.

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/books-platform/books/policy/rules"
	"github.com/books-platform/books/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type auditCase struct {
	control, typ, what string
	prodOnly           bool
	edit               func(p pulumi.Map)
}

func setKey(path ...any) func(v pulumi.Input) func(p pulumi.Map) {
	return func(v pulumi.Input) func(p pulumi.Map) {
		return func(p pulumi.Map) {
			cur := p
			for i, k := range path {
				key := k.(string)
				if i == len(path)-1 {
					cur[key] = v
					return
				}
				next, ok := cur[key].(pulumi.Map)
				if !ok {
					next = pulumi.Map{}
					cur[key] = next
				}
				cur = next
			}
		}
	}
}

func delKey(key string) func(p pulumi.Map) { return func(p pulumi.Map) { delete(p, key) } }

// jsonEdit rewrites a JSON-string property (plain or secret).
func jsonEdit(key string, f func(doc any) any) func(p pulumi.Map) {
	return func(p pulumi.Map) {
		v, ok := p[key]
		if !ok {
			return
		}
		p[key] = pulumi.ToOutput(v).ApplyT(func(x any) (string, error) {
			var doc any
			if err := json.Unmarshal([]byte(x.(string)), &doc); err != nil {
				return "", err
			}
			b, err := json.Marshal(f(doc))
			return string(b), err
		}).(pulumi.StringOutput)
	}
}

func firstContainer(f func(c map[string]any)) func(p pulumi.Map) {
	return jsonEdit("containerDefinitions", func(doc any) any {
		defs := doc.([]any)
		f(defs[0].(map[string]any))
		return defs
	})
}

func addStmt(stmt map[string]any) func(doc any) any {
	return func(doc any) any {
		m := doc.(map[string]any)
		st, _ := m["Statement"].([]any)
		m["Statement"] = append(st, stmt)
		return m
	}
}

var auditCases = []auditCase{
	{"EC2.18", rules.TypeSGIngressRule, "ingress from 0.0.0.0/0", false, func(p pulumi.Map) {
		delete(p, "referencedSecurityGroupId")
		p["cidrIpv4"] = pulumi.String("0.0.0.0/0")
	}},
	{"EC2.19", rules.TypeSGIngressRule, "ingress from ::/0", false, func(p pulumi.Map) {
		delete(p, "referencedSecurityGroupId")
		delete(p, "cidrIpv4")
		p["cidrIpv6"] = pulumi.String("::/0")
	}},
	{"CKV_AWS_382", rules.TypeSGEgressRule, "egress all protocols", false, func(p pulumi.Map) {
		delete(p, "referencedSecurityGroupId")
		p["ipProtocol"] = pulumi.String("-1")
		p["cidrIpv4"] = pulumi.String("0.0.0.0/0")
	}},
	{"EC2.2", rules.TypeDefaultSecurityGroup, "default SG allows members", false, setKey("ingress")(pulumi.Array{pulumi.Map{"protocol": pulumi.String("-1"), "fromPort": pulumi.Int(0), "toPort": pulumi.Int(0), "self": pulumi.Bool(true)}})},
	{"EC2.6", rules.TypeFlowLog, "accepted traffic only", false, setKey("trafficType")(pulumi.String("ACCEPT"))},
	{"ELB.4", rules.TypeLB, "invalid headers forwarded", false, func(p pulumi.Map) {
		if _, ok := p["dropInvalidHeaderFields"]; ok {
			p["dropInvalidHeaderFields"] = pulumi.Bool(false)
		}
	}},
	{"ELB.6", rules.TypeLB, "deletion protection off", true, setKey("enableDeletionProtection")(pulumi.Bool(false))},
	{"ELB.12", rules.TypeLB, "desync monitor", false, func(p pulumi.Map) {
		if _, ok := p["dropInvalidHeaderFields"]; ok {
			p["desyncMitigationMode"] = pulumi.String("monitor")
		}
	}},
	{"ELB.13", rules.TypeLB, "one subnet", false, setKey("subnets")(pulumi.StringArray{pulumi.String("subnet-1")})},
	{"design", rules.TypeLB, "internet-facing", false, setKey("internal")(pulumi.Bool(false))},
	{"RDS.27", rules.TypeRDSCluster, "storage unencrypted", false, setKey("storageEncrypted")(pulumi.Bool(false))},
	{"RDS.27", rules.TypeRDSCluster, "AWS-managed key", false, delKey("kmsKeyId")},
	{"RDS.7", rules.TypeRDSCluster, "deletion protection off", true, setKey("deletionProtection")(pulumi.Bool(false))},
	{"RDS.11", rules.TypeRDSCluster, "1-day backups", true, setKey("backupRetentionPeriod")(pulumi.Int(1))},
	{"RDS.24", rules.TypeRDSCluster, "master user postgres", false, setKey("masterUsername")(pulumi.String("postgres"))},
	{"RDS.37", rules.TypeRDSCluster, "no log export", false, setKey("enabledCloudwatchLogsExports")(pulumi.StringArray{})},
	{"RDS.12", rules.TypeRDSCluster, "no IAM auth", false, setKey("iamDatabaseAuthenticationEnabled")(pulumi.Bool(false))},
	{"RDS.16", rules.TypeRDSCluster, "no tags on snapshots", false, setKey("copyTagsToSnapshot")(pulumi.Bool(false))},
	// (manageMasterUserPassword false is not a case: the program itself
	// reads the managed secret and fails without it.)
	{"RDS.2", rules.TypeRDSClusterInstance, "public instance", false, setKey("publiclyAccessible")(pulumi.Bool(true))},
	{"RDS.13", rules.TypeRDSClusterInstance, "no minor upgrades", false, setKey("autoMinorVersionUpgrade")(pulumi.Bool(false))},
	{"RDS.6", rules.TypeRDSClusterInstance, "monitoring off", true, setKey("monitoringInterval")(pulumi.Int(0))},
	{"RDS.38", rules.TypeRDSClusterParamGroup, "force_ssl 0", false, func(p pulumi.Map) {
		ps := pulumi.Array{}
		for _, e := range p["parameters"].(pulumi.Array) {
			m := e.(pulumi.Map)
			if m["name"] == pulumi.String("rds.force_ssl") {
				m["value"] = pulumi.String("0")
			}
			ps = append(ps, m)
		}
		p["parameters"] = ps
	}},
	{"RDS.19", rules.TypeRDSEventSubscription, "failure events dropped", false, setKey("eventCategories")(pulumi.StringArray{pulumi.String("notification")})},
	{"ElastiCache.4", rules.TypeReplicationGroup, "at rest unencrypted", false, setKey("atRestEncryptionEnabled")(pulumi.Bool(false))},
	{"ElastiCache.5", rules.TypeReplicationGroup, "no TLS", false, setKey("transitEncryptionEnabled")(pulumi.Bool(false))},
	{"ElastiCache.5", rules.TypeReplicationGroup, "TLS preferred", false, setKey("transitEncryptionMode")(pulumi.String("preferred"))},
	{"ElastiCache.1", rules.TypeReplicationGroup, "no snapshots", false, setKey("snapshotRetentionLimit")(pulumi.Int(0))},
	{"ElastiCache.2", rules.TypeReplicationGroup, "no minor upgrades", false, setKey("autoMinorVersionUpgrade")(pulumi.Bool(false))},
	{"ElastiCache.3", rules.TypeReplicationGroup, "no failover", true, setKey("automaticFailoverEnabled")(pulumi.Bool(false))},
	{"ElastiCache.7", rules.TypeReplicationGroup, "default subnet group", false, delKey("subnetGroupName")},
	{"ElastiCache.6", rules.TypeReplicationGroup, "no AUTH", false, delKey("authToken")},
	{"CKV_AWS_191", rules.TypeReplicationGroup, "AWS-managed key", false, delKey("kmsKeyId")},
	{"ECR.1", rules.TypeECRRepository, "no scan on push", false, setKey("imageScanningConfiguration", "scanOnPush")(pulumi.Bool(false))},
	{"ECR.2", rules.TypeECRRepository, "mutable tags", false, setKey("imageTagMutability")(pulumi.String("MUTABLE"))},
	{"ECR.5", rules.TypeECRRepository, "AES256", false, setKey("encryptionConfigurations")(pulumi.Array{pulumi.Map{"encryptionType": pulumi.String("AES256")}})},
	{"ECS.12", rules.TypeECSCluster, "insights off", false, setKey("settings")(pulumi.Array{pulumi.Map{"name": pulumi.String("containerInsights"), "value": pulumi.String("disabled")}})},
	{"ECS.2", rules.TypeECSService, "public IP", false, setKey("networkConfiguration", "assignPublicIp")(pulumi.Bool(true))},
	{"ECS.10", rules.TypeECSService, "old platform", false, setKey("platformVersion")(pulumi.String("1.3.0"))},
	{"ECS.4", rules.TypeECSTaskDefinition, "privileged", false, firstContainer(func(c map[string]any) { c["privileged"] = true })},
	{"ECS.5", rules.TypeECSTaskDefinition, "writable root", false, firstContainer(func(c map[string]any) { c["readonlyRootFilesystem"] = false })},
	{"ECS.20", rules.TypeECSTaskDefinition, "root user", false, firstContainer(func(c map[string]any) { c["user"] = "0:0" })},
	{"ECS.8", rules.TypeECSTaskDefinition, "AWS key in env", false, firstContainer(func(c map[string]any) {
		env, _ := c["environment"].([]any)
		c["environment"] = append(env, map[string]any{"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
	})},
	{"ECS.9", rules.TypeECSTaskDefinition, "no logging", false, firstContainer(func(c map[string]any) { delete(c, "logConfiguration") })},
	{"ECS.17", rules.TypeECSTaskDefinition, "host network", false, setKey("networkMode")(pulumi.String("host"))},
	{"APIGateway.3", rules.TypeAPIStage, "no X-Ray", false, setKey("xrayTracingEnabled")(pulumi.Bool(false))},
	{"CKV_AWS_76", rules.TypeAPIStage, "no access logs", false, delKey("accessLogSettings")},
	{"APIGateway.1", rules.TypeAPIMethodSettings, "execution logging off", false, func(p pulumi.Map) {
		if p["methodPath"] == pulumi.String("*/*") {
			p["settings"].(pulumi.Map)["loggingLevel"] = pulumi.String("OFF")
		}
	}},
	{"APIGateway.5", rules.TypeAPIMethodSettings, "cache unencrypted", false, func(p pulumi.Map) {
		if s, ok := p["settings"].(pulumi.Map); ok && s["cachingEnabled"] == pulumi.Bool(true) {
			s["cacheDataEncrypted"] = pulumi.Bool(false)
		}
	}},
	{"data trace", rules.TypeAPIMethodSettings, "full request logging", false, setKey("settings", "dataTraceEnabled")(pulumi.Bool(true))},
	{"CKV_AWS_59", rules.TypeAPIMethod, "write method open", false, func(p pulumi.Map) {
		if m, _ := p["httpMethod"].(pulumi.String); m == "POST" || m == "PUT" || m == "DELETE" {
			p["authorization"] = pulumi.String("NONE")
			delete(p, "authorizerId")
		}
	}},
	{"Cognito.3", rules.TypeCognitoUserPool, "8-character passwords", false, setKey("passwordPolicy", "minimumLength")(pulumi.Int(8))},
	{"Cognito.6", rules.TypeCognitoUserPool, "deletion protection off", true, setKey("deletionProtection")(pulumi.String("INACTIVE"))},
	{"MFA", rules.TypeCognitoUserPool, "MFA off", false, setKey("mfaConfiguration")(pulumi.String("OFF"))},
	{"enumeration", rules.TypeCognitoClient, "user existence errors", false, setKey("preventUserExistenceErrors")(pulumi.String("LEGACY"))},
	{"WAF rule action", rules.TypeWAFWebACL, "managed group counts only", true, func(p pulumi.Map) {
		p["rules"].(pulumi.Array)[0].(pulumi.Map)["overrideAction"] = pulumi.Map{"count": pulumi.Map{}}
	}},
	{"S3.8", rules.TypeS3PublicAccessBlock, "public policies allowed", false, setKey("blockPublicPolicy")(pulumi.Bool(false))},
	{"S3.12", "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ACLs re-enabled", false, setKey("rule", "objectOwnership")(pulumi.String("ObjectWriter"))},
	{"CKV_AWS_19", rules.TypeS3SSEConfigV2, "no default encryption rule", false, setKey("rules")(pulumi.Array{})},
	{"SNS.1", rules.TypeSNSTopic, "unencrypted topic", false, delKey("kmsMasterKeyId")},
	{"KMS.4", rules.TypeKMSKey, "no rotation", false, setKey("enableKeyRotation")(pulumi.Bool(false))},
	{"KMS.3", rules.TypeKMSKey, "7-day deletion window", true, setKey("deletionWindowInDays")(pulumi.Int(7))},
	{"KMS.5", rules.TypeKMSKey, "key open to everyone", false, jsonEdit("policy", addStmt(map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}))},
	{"CKV_AWS_66", rules.TypeLogGroup, "never expires", false, delKey("retentionInDays")},
	{"IAM.1", rules.TypeIAMRolePolicy, "Action *", false, jsonEdit("policy", addStmt(map[string]any{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::x"}))},
	{"CKV_AWS_355", rules.TypeIAMRolePolicy, "Resource *", false, jsonEdit("policy", addStmt(map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))},
	{"CKV_AWS_60", rules.TypeIAMRole, "anyone may assume", false, jsonEdit("assumeRolePolicy", func(doc any) any {
		st := doc.(map[string]any)["Statement"].([]any)[0].(map[string]any)
		st["Principal"] = map[string]any{"AWS": "*"}
		delete(st, "Condition")
		return doc
	})},
	{"CKV_AWS_274", rules.TypeIAMRolePolicyAttachment, "AdministratorAccess", false, setKey("policyArn")(pulumi.String("arn:aws:iam::aws:policy/AdministratorAccess"))},
	{"Lambda.1", "aws:lambda/permission:Permission", "any principal", false, func(p pulumi.Map) {
		p["principal"] = pulumi.String("*")
		delete(p, "sourceArn")
	}},
	{"Lambda.2", "aws:lambda/function:Function", "deprecated runtime", false, setKey("runtime")(pulumi.String("python3.8"))},
	{"CKV_AWS_149", "aws:secretsmanager/secret:Secret", "AWS-managed key", false, delKey("kmsKeyId")},
	{"recovery", "aws:secretsmanager/secret:Secret", "force delete", true, setKey("recoveryWindowInDays")(pulumi.Int(0))},
	{"CloudWatch.15", rules.TypeMetricAlarm, "no alarm actions", false, func(p pulumi.Map) {
		if _, ok := p["alarmActions"]; ok {
			p["alarmActions"] = pulumi.StringArray{}
		}
	}},
	{"CloudWatch.17", rules.TypeMetricAlarm, "actions disabled", false, setKey("actionsEnabled")(pulumi.Bool(false))},
}

func TestPolicyAuditCatchRate(t *testing.T) {
	total, caught := 0, 0
	var missed []string
	for _, stack := range stacks(t) {
		base := map[string]bool{}
		for _, v := range findings(rules.Evaluate(stack, policyGraph(t, stack), rules.Config{})) {
			base[violationKey(v)] = true
		}
		present := map[string]bool{}
		for _, typ := range stackGraph(t, stack).PolicyTypes() {
			present[typ] = true
		}
		for _, c := range auditCases {
			if !present[c.typ] || (c.prodOnly && !isProd(stack)) {
				continue
			}
			edit, typ := c.edit, c.typ
			g, err := harness.Run(stack, harness.WithTransforms(func(_ context.Context, a *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
				if a.Type != typ {
					return nil
				}
				edit(a.Props)
				return &pulumi.ResourceTransformResult{Props: a.Props, Opts: a.Opts}
			}))
			if err != nil {
				t.Errorf("%s %s on %s: %v", c.control, c.what, stack, err)
				continue
			}
			total++
			var by []string
			for _, v := range findings(rules.Evaluate(stack, g.PolicyResources(), rules.Config{})) {
				if !base[violationKey(v)] {
					by = append(by, v.Rule)
				}
			}
			if len(by) > 0 {
				caught++
			} else {
				missed = append(missed, stack+": "+c.control+" "+c.what)
			}
		}
	}
	rate := float64(caught) / float64(total)
	t.Logf("audit: %d of %d one-property mutations caught by the pack (%.1f%%), %d cases × stacks", caught, total, 100*rate, total)
	if len(missed) > 0 {
		t.Logf("missed:\n  %s", strings.Join(missed, "\n  "))
	}
	if total < 60 || rate < 0.95 {
		t.Errorf("catch rate %.1f%% over %d mutations; want >= 95%% over >= 60", 100*rate, total)
	}
}
