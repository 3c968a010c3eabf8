package rules

import (
	"fmt"
	"strings"
)

// ElastiCache, KMS, Secrets Manager, SNS, CloudWatch (alarms and logs)
// rules beyond the basics of cache.go and storage.go.

const (
	TypeCacheCluster       = "aws:elasticache/cluster:Cluster"
	TypeKMSKeyPolicy       = "aws:kms/keyPolicy:KeyPolicy"
	TypeKMSReplicaKey      = "aws:kms/replicaKey:ReplicaKey"
	TypeSecret             = "aws:secretsmanager/secret:Secret"
	TypeSecretRotation     = "aws:secretsmanager/secretRotation:SecretRotation"
	TypeSecretPolicy       = "aws:secretsmanager/secretPolicy:SecretPolicy"
	TypeSNSTopicPolicy     = "aws:sns/topicPolicy:TopicPolicy"
	TypeSNSSubscription    = "aws:sns/topicSubscription:TopicSubscription"
	TypeMetricAlarm        = "aws:cloudwatch/metricAlarm:MetricAlarm"
	TypeCompositeAlarm     = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
	publicPolicyFixGeneric = "name the principals (an account, role or service) or add a condition on aws:SourceArn / aws:SourceAccount / aws:PrincipalOrgID"
)

func init() {
	register(
		Rule{
			Name: "cache-backups", Description: "ElastiCache (Redis/Valkey) keeps automatic snapshots for at least the minimum number of days.",
			Control: "ElastiCache.1", Controls: []string{"ElastiCache.1"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "set snapshotRetentionLimit to at least the minimum",
			Params:      []Param{{Name: "minSnapshotDays", Description: "minimum snapshotRetentionLimit in days", Default: 1.0, Prod: 7.0}},
			Types:       []string{TypeReplicationGroup, TypeCacheCluster},
			CheckEnv: func(r Resource, env Env) []Violation {
				ev := Get(r.Props, "engine")
				if ev.Unknown {
					return []Violation{cannotTell("engine")}
				}
				if e, _ := ev.Str(); strings.EqualFold(e, "memcached") {
					return nil
				}
				return wantMin(r, env.Num("minSnapshotDays"), 0, "set snapshotRetentionLimit (days of automatic snapshots)", "snapshotRetentionLimit")
			},
		},
		Rule{
			Name: "cache-auto-minor-version-upgrade", Description: "ElastiCache upgrades minor engine versions automatically.",
			Control: "ElastiCache.2", Controls: []string{"ElastiCache.2"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "set autoMinorVersionUpgrade: true (or omit it)",
			Types:       []string{TypeReplicationGroup, TypeCacheCluster},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, true, "set autoMinorVersionUpgrade: true", "autoMinorVersionUpgrade")
			},
		},
		Rule{
			Name: "cache-at-rest-cmk", Description: "ElastiCache replication groups encrypt at rest with a customer-managed KMS key.",
			Control: "Checkov CKV_AWS_191", Controls: []string{"CKV_AWS_191"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set kmsKeyId to a customer-managed key",
			Types:       []string{TypeReplicationGroup},
			Check: func(r Resource) []Violation {
				return wantSet(r, "set kmsKeyId to a customer-managed aws.kms.Key", "kmsKeyId")
			},
		},
		Rule{
			Name: "cache-cluster-subnet-group", Description: "Standalone ElastiCache clusters use a dedicated subnet group.",
			Control: "ElastiCache.7", Controls: []string{"ElastiCache.7"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "set subnetGroupName to your own aws.elasticache.SubnetGroup",
			Types:       []string{TypeCacheCluster},
			Check: func(r Resource) []Violation {
				if Get(r.Props, "replicationGroupId").NonEmpty() {
					return nil // a member takes its group's settings
				}
				return wantNotIn(r, "default", []string{"default", ""}, "set subnetGroupName to an aws.elasticache.SubnetGroup on private subnets", "subnetGroupName")
			},
		},
		Rule{
			Name: "kms-key-not-public", Description: "KMS key policies do not allow any principal without a restricting condition.",
			Control: "KMS.5", Controls: []string{"KMS.5"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "set the key policy's Principal to your account or roles, or add a condition on kms:CallerAccount / aws:SourceArn",
			Types:       []string{TypeKMSKey, TypeKMSKeyPolicy, TypeKMSReplicaKey},
			Check:       publicPolicyCheck("name the principals (your account root, roles, a service with aws:SourceArn) or add kms:CallerAccount / kms:ViaService conditions", "policy"),
		},
		Rule{
			Name: "kms-key-deletion-window", Description: "KMS keys wait at least the minimum number of days before deletion (prod: 30).",
			Control: "KMS.3 (prevents unintended deletion; environment-aware)", Controls: []string{"KMS.3"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "set deletionWindowInDays to at least the minimum (or omit it: 30)",
			Params:      []Param{{Name: "minDeletionWindowDays", Description: "minimum deletionWindowInDays", Default: 7.0, Prod: 30.0}},
			Types:       []string{TypeKMSKey, TypeKMSReplicaKey},
			CheckEnv: func(r Resource, env Env) []Violation {
				return wantMin(r, env.Num("minDeletionWindowDays"), 30, "set deletionWindowInDays (7–30)", "deletionWindowInDays")
			},
		},
		Rule{
			Name: "secret-not-public", Description: "Secrets Manager resource policies do not allow any principal without a restricting condition.",
			Control: "no direct FSBP control (Secrets Manager: block public policies)", Controls: []string{"BOOKS.SECRET-PUBLIC"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "set the policy's Principal to the roles that read the secret",
			Types:       []string{TypeSecret, TypeSecretPolicy},
			Check:       publicPolicyCheck(publicPolicyFixGeneric, "policy"),
		},
		Rule{
			Name: "secret-cmk", Description: "Secrets Manager secrets are encrypted with a customer-managed KMS key.",
			Control: "Checkov CKV_AWS_149", Controls: []string{"CKV_AWS_149"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set kmsKeyId to a customer-managed key",
			Types:       []string{TypeSecret},
			Check: func(r Resource) []Violation {
				return wantSet(r, "set kmsKeyId to a customer-managed aws.kms.Key", "kmsKeyId")
			},
		},
		Rule{
			Name: "secret-recovery-window", Description: "Deleted secrets stay recoverable for at least the minimum number of days (prod: 7; 0 deletes at once).",
			Control: "no direct FSBP control (prevents unintended deletion; environment-aware)", Controls: []string{"BOOKS.SECRET-RECOVERY"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set recoveryWindowInDays to at least the minimum (or omit it: 30)",
			Params:      []Param{{Name: "minRecoveryDays", Description: "minimum recoveryWindowInDays", Default: 0.0, Prod: 7.0}},
			Types:       []string{TypeSecret},
			CheckEnv: func(r Resource, env Env) []Violation {
				return wantMin(r, env.Num("minRecoveryDays"), 30, "set recoveryWindowInDays (7–30)", "recoveryWindowInDays")
			},
		},
		Rule{
			Name: "secret-rotation", Description: "Secrets Manager secrets rotate automatically at least every maxRotationDays.",
			Control: "SecretsManager.1 / SecretsManager.4 (advisory: secrets derived from stack config cannot rotate by a Lambda)", Controls: []string{"SecretsManager.1", "SecretsManager.4"}, Severity: Medium, DefaultLevel: Advisory,
			Remediation: "add an aws.secretsmanager.SecretRotation with secretId set to the secret and rotationRules.automaticallyAfterDays <= 90",
			StackCheck:  checkSecretRotation,
		},
		Rule{
			Name: "sns-topic-not-public", Description: "SNS topic policies do not allow any principal without a restricting condition.",
			Control: "SNS.4", Controls: []string{"SNS.4"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "set the topic policy's Principal to the publishing service or account, with aws:SourceArn / aws:SourceAccount",
			Types:       []string{TypeSNSTopic, TypeSNSTopicPolicy},
			Check:       publicPolicyCheck(publicPolicyFixGeneric, "policy"),
		},
		Rule{
			Name: "sns-subscription-encrypted-transport", Description: "SNS subscriptions do not deliver over plain HTTP.",
			Control: "no direct FSBP control (data in transit)", Controls: []string{"BOOKS.SNS-HTTPS"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set protocol: \"https\" and an https:// endpoint",
			Types:       []string{TypeSNSSubscription},
			Check: func(r Resource) []Violation {
				return wantNotIn(r, "", []string{"http"}, "set protocol: \"https\" with an https:// endpoint", "protocol")
			},
		},
		Rule{
			Name: "cloudwatch-alarm-actions", Description: "CloudWatch alarms have their actions enabled and an action for the ALARM state, unless something else watches them (an ECS service's deployment alarms, a composite alarm).",
			Control: "CloudWatch.15 / CloudWatch.17 (an alarm read by an ECS deployment or a composite alarm needs no action of its own)", Controls: []string{"CloudWatch.15", "CloudWatch.17"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "set alarmActions to the alarm topic's ARN and actionsEnabled: true (or omit it)",
			StackCheck:  checkAlarmActions,
		},
		Rule{
			Name: "log-group-retention-minimum", Description: "CloudWatch log groups keep logs for at least the minimum (prod: 365 days).",
			Control: "CloudWatch.16 / Checkov CKV_AWS_338 (environment-aware)", Controls: []string{"CloudWatch.16", "CKV_AWS_338"}, Severity: Medium, DefaultLevel: Advisory,
			Remediation: "set retentionInDays to at least the minimum",
			Params:      []Param{{Name: "minRetentionDays", Description: "minimum retentionInDays", Default: 1.0, Prod: 365.0}},
			Types:       []string{TypeLogGroup},
			CheckEnv: func(r Resource, env Env) []Violation {
				v := Get(r.Props, "retentionInDays")
				if n, ok := v.Num(); v.Missing || v.Unknown || (ok && n == 0) {
					return nil // never expires or not known yet: log-group-retention reports it
				}
				return wantMin(r, env.Num("minRetentionDays"), 0, "set retentionInDays", "retentionInDays")
			},
		},
		Rule{
			Name: "log-group-kms", Description: "CloudWatch log groups are encrypted with a customer-managed KMS key.",
			Control: "Checkov CKV_AWS_158", Controls: []string{"CKV_AWS_158"}, Severity: Low, DefaultLevel: Advisory,
			Remediation: "set kmsKeyId to a key whose policy lets logs.<region>.amazonaws.com use it",
			Types:       []string{TypeLogGroup},
			Check: func(r Resource) []Violation {
				return wantSet(r, "set kmsKeyId to a customer-managed key (its policy must allow logs.<region>.amazonaws.com)", "kmsKeyId")
			},
		},
	)
}

func checkSecretRotation(stack []Resource) []Violation {
	secrets := ofTypes(stack, TypeSecret)
	rots := ofTypes(stack, TypeSecretRotation)
	matches := matchRefs(secrets, rots, "secretId", "arn", "name")
	var out []Violation
	for i, s := range secrets {
		if len(matches[i].sure) == 0 {
			if len(matches[i].maybe) > 0 {
				out = append(out, cannotTellAt(s.URN, "which aws.secretsmanager.SecretRotation belongs to this secret (secretId)"))
				continue
			}
			out = append(out, failAt(s.URN, "secret has no automatic rotation; add an aws.secretsmanager.SecretRotation with secretId: <secret>.id and rotationRules.automaticallyAfterDays <= 90"))
			continue
		}
		for _, rot := range matches[i].sure {
			v := Get(rot.Props, "rotationRules", "automaticallyAfterDays")
			if n, ok := v.Num(); ok && n > 90 {
				out = append(out, failAt(rot.URN, "%s", fmt.Sprintf("rotationRules.automaticallyAfterDays is %g; rotate at least every 90 days", n)))
			}
		}
	}
	return out
}

// checkAlarmActions: an alarm nobody hears is no alarm. An alarm without
// ALARM actions is fine when an ECS service rolls back on it
// (alarms.alarmNames) or a composite alarm's rule reads it.
func checkAlarmActions(stack []Resource) []Violation {
	watched := map[string]bool{} // alarm URNs and names
	for _, svc := range ofTypes(stack, TypeECSService) {
		for _, u := range svc.PropertyDependencies["alarms"] {
			watched[u] = true
		}
		for _, n := range strs(Get(svc.Props, "alarms", "alarmNames")) {
			watched[n] = true
		}
	}
	var rulesText []string
	for _, c := range ofTypes(stack, TypeCompositeAlarm) {
		if s, ok := Get(c.Props, "alarmRule").Str(); ok {
			rulesText = append(rulesText, s)
		}
		for _, u := range c.PropertyDependencies["alarmRule"] {
			watched[u] = true
		}
	}
	isWatched := func(a Resource) bool {
		if watched[a.URN] {
			return true
		}
		name, ok := Get(a.Props, "name").Str()
		if !ok || name == "" {
			return false
		}
		if watched[name] {
			return true
		}
		for _, t := range rulesText {
			if strings.Contains(t, "\""+name+"\"") || strings.Contains(t, "("+name+")") {
				return true
			}
		}
		return false
	}
	var out []Violation
	for _, a := range ofTypes(stack, TypeMetricAlarm, TypeCompositeAlarm) {
		if b, ok := Get(a.Props, "actionsEnabled").Bool(); ok && !b {
			out = append(out, failAt(a.URN, "actionsEnabled is false, so the alarm notifies nobody; set actionsEnabled: true"))
			continue
		}
		v := Get(a.Props, "alarmActions")
		if n, unknown := listLen(v); unknown || n > 0 {
			continue
		}
		if isWatched(a) {
			continue
		}
		out = append(out, failAt(a.URN, "alarmActions is %s and no ECS service or composite alarm reads the alarm; set alarmActions: [<SNS topic ARN>] so someone hears it", describe(v)))
	}
	return out
}
