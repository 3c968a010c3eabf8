package tests

// The policy pack's rules (policy/rules) over the mocked graph of the real
// program, for every stack file:
//
//   - TestPolicyStacksCompliant: every stack passes every mandatory rule;
//     advisory findings and "cannot tell yet" notes are logged.
//   - TestPolicyMutations: for every rule, one security property of the real
//     graph is broken (a property changed, a companion resource removed) and
//     exactly that rule must fire. The table is keyed by the resource type a
//     mutation needs: a case whose type the program does not create yet does
//     not run, and starts running by itself when a component adds the type.
//   - TestPolicyMutationCoverage: every rule in rules.All() has a mutation
//     case that ran, or is listed in notApplicable with a reason — and a
//     listed rule fails the test as soon as the program creates a resource
//     the rule applies to, so the list only ever shrinks.

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/books-platform/books/policy/rules"
	"github.com/books-platform/books/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// notApplicable lists the rules no mutation case can exercise yet, with the
// reason. TestPolicyMutationCoverage fails when a rule listed here becomes
// applicable (the program creates one of its resource types): delete the
// entry then — its mutation case below is already written and starts running.
var notApplicable = map[string]string{
	// Empty since the Api component was wired into infra.Deploy: every rule
	// applies to a resource the program creates. Add "rule": "reason" only
	// for a new rule whose resource type the program does not create yet.
}

// stackRuleTypes are the resource types a stack rule is about (stack rules
// have no Types of their own). Every stack rule must be listed.
var stackRuleTypes = map[string][]string{
	"vpc-flow-logs":                    {rules.TypeVPC, rules.TypeAwsxVPC},
	"s3-public-access-block":           {rules.TypeS3Bucket, rules.TypeS3BucketV2},
	"s3-default-encryption":            {rules.TypeS3Bucket, rules.TypeS3BucketV2},
	"s3-tls-only":                      {rules.TypeS3Bucket, rules.TypeS3BucketV2},
	"apigw-waf":                        {rules.TypeAPIStage},
	"rds-cluster-multi-instance":       {rules.TypeRDSCluster},
	"vpc-default-sg-closed":            {rules.TypeVPC, rules.TypeAwsxVPC, rules.TypeDefaultSecurityGroup},
	"lb-https-listeners":               {rules.TypeLBListener, rules.TypeALBListener, rules.TypeCLB},
	"rds-force-tls":                    {rules.TypeRDSCluster, rules.TypeRDSInstance},
	"secret-rotation":                  {rules.TypeSecret},
	"s3-access-logging":                {rules.TypeS3Bucket, rules.TypeS3BucketV2},
	"s3-lifecycle":                     {rules.TypeS3Bucket, rules.TypeS3BucketV2},
	"apigw-execution-logging":          {rules.TypeAPIStage},
	"apigw-backend-client-certificate": {rules.TypeAPIIntegration},
	"waf-logging":                      {rules.TypeWAFWebACL},
	"ecr-lifecycle-policy":             {rules.TypeECRRepository},
	"cloudwatch-alarm-actions":         {rules.TypeMetricAlarm, rules.TypeCompositeAlarm},
}

// mutation breaks one security property of one resource of type typ (every
// resource of that type that where accepts, one at a time) and expects
// exactly rule to fire.
type mutation struct {
	rule string
	// what is broken, for the subtest name.
	what string
	typ  string
	// where selects the resources of typ the mutation makes sense on (nil: all).
	where func(r rules.Resource) bool
	// apply changes target (a deep copy) and returns the new resource list.
	// Most cases change a property: use edit(...). remove drops the target.
	apply func(t *testing.T, rs []rules.Resource, target int) []rules.Resource
	// prodOnly runs the case on prod stacks only (an environment-aware
	// threshold that the mutated value still meets on other stacks).
	prodOnly bool
	// also are rules that necessarily fire too (by design, e.g. an
	// internet-facing load balancer breaks lb-internal as well).
	also []string
}

// edit returns an apply function that changes the target's properties.
func edit(f func(t *testing.T, r *rules.Resource)) func(*testing.T, []rules.Resource, int) []rules.Resource {
	return func(t *testing.T, rs []rules.Resource, i int) []rules.Resource {
		f(t, &rs[i])
		return rs
	}
}

// set changes (or adds) a property; path elements are object keys or array
// indices, missing objects on the way are created.
func set(value any, path ...any) func(*testing.T, []rules.Resource, int) []rules.Resource {
	return edit(func(t *testing.T, r *rules.Resource) {
		r.Props = setPath(t, r.Props, resource.NewPropertyValue(value), path)
	})
}

// del removes a top-level property (the provider default applies).
func del(keys ...string) func(*testing.T, []rules.Resource, int) []rules.Resource {
	return edit(func(t *testing.T, r *rules.Resource) {
		for _, k := range keys {
			delete(r.Props, resource.PropertyKey(k))
			delete(r.PropertyDependencies, k)
		}
	})
}

// remove drops the target resource from the stack (a companion resource the
// program forgot, e.g. the flow log or the bucket's public access block).
func remove(_ *testing.T, rs []rules.Resource, i int) []rules.Resource {
	return append(rs[:i:i], rs[i+1:]...)
}

func setPath(t *testing.T, pm resource.PropertyMap, v resource.PropertyValue, path []any) resource.PropertyMap {
	t.Helper()
	if pm == nil {
		pm = resource.PropertyMap{}
	}
	key, ok := path[0].(string)
	if !ok {
		t.Fatalf("property path %v must start with a key", path)
	}
	k := resource.PropertyKey(key)
	if len(path) == 1 {
		pm[k] = v
		return pm
	}
	cur := unwrap(pm[k])
	pm[k] = setIn(t, cur, v, path[1:])
	return pm
}

func setIn(t *testing.T, cur, v resource.PropertyValue, path []any) resource.PropertyValue {
	t.Helper()
	if len(path) == 0 {
		return v
	}
	switch p := path[0].(type) {
	case string:
		var m resource.PropertyMap
		if cur.IsObject() {
			m = cur.ObjectValue()
		}
		return resource.NewObjectProperty(setPath(t, m, v, path))
	case int:
		var arr []resource.PropertyValue
		if cur.IsArray() {
			arr = cur.ArrayValue()
		}
		for len(arr) <= p {
			arr = append(arr, resource.NewObjectProperty(resource.PropertyMap{}))
		}
		arr[p] = setIn(t, unwrap(arr[p]), v, path[1:])
		return resource.NewArrayProperty(arr)
	}
	t.Fatalf("bad property path element %v", path[0])
	return cur
}

// unwrap strips secret and output wrappers (a mutation writes plain values).
func unwrap(v resource.PropertyValue) resource.PropertyValue {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsOutput() && v.OutputValue().Known:
			v = v.OutputValue().Element
		default:
			return v
		}
	}
}

// jsonProp edits a property holding a JSON document (a task definition's
// containerDefinitions, an IAM policy) and writes it back as a string,
// secret if it was.
func jsonProp(key string, f func(t *testing.T, doc any) any) func(*testing.T, []rules.Resource, int) []rules.Resource {
	return edit(func(t *testing.T, r *rules.Resource) {
		pv, ok := r.Props[resource.PropertyKey(key)]
		if !ok {
			t.Fatalf("%s has no %s", r.URN, key)
		}
		secret := pv.ContainsSecrets()
		pv = unwrap(pv)
		var doc any
		switch {
		case pv.IsString():
			if err := json.Unmarshal([]byte(pv.StringValue()), &doc); err != nil {
				t.Fatalf("%s.%s is not JSON: %v", r.URN, key, err)
			}
		default:
			doc = pv.Mappable()
		}
		b, err := json.Marshal(f(t, doc))
		if err != nil {
			t.Fatal(err)
		}
		nv := resource.NewProperty(string(b))
		if secret {
			nv = resource.MakeSecret(nv)
		}
		r.Props[resource.PropertyKey(key)] = nv
	})
}

// container edits the first container of a task definition.
func container(f func(c map[string]any)) func(*testing.T, []rules.Resource, int) []rules.Resource {
	return jsonProp("containerDefinitions", func(t *testing.T, doc any) any {
		defs, _ := doc.([]any)
		if len(defs) == 0 {
			t.Fatalf("containerDefinitions has no container: %v", doc)
		}
		c, ok := defs[0].(map[string]any)
		if !ok {
			t.Fatalf("container is not an object: %v", defs[0])
		}
		f(c)
		return defs
	})
}

// addStatement appends an Allow statement to an IAM policy document.
func addStatement(action, res any) func(t *testing.T, doc any) any {
	return func(t *testing.T, doc any) any {
		m, ok := doc.(map[string]any)
		if !ok {
			t.Fatalf("policy is not a JSON object: %v", doc)
		}
		var st []any
		switch x := m["Statement"].(type) {
		case []any:
			st = x
		case map[string]any:
			st = []any{x}
		}
		m["Statement"] = append(st, map[string]any{"Sid": "Mutation", "Effect": "Allow", "Action": action, "Resource": res})
		return m
	}
}

// Mutation arguments for IAM documents.
const (
	someARN      = "arn:aws:s3:::books-mutation-bucket/*"
	scopedAction = "s3:GetObject"
)

func str(r rules.Resource, key string) string {
	s, _ := rules.Get(r.Props, key).Str()
	return s
}

func isApplicationLB(r rules.Resource) bool {
	t := str(r, "loadBalancerType")
	return t == "" || strings.EqualFold(t, "application")
}

func isWriteMethod(r rules.Resource) bool {
	switch strings.ToUpper(str(r, "httpMethod")) {
	case "POST", "PUT", "PATCH", "DELETE", "ANY":
		return true
	}
	return false
}

func isIngressRule(r rules.Resource) bool { return strings.EqualFold(str(r, "type"), "ingress") }

// mutations: at least one per rule, keyed by the resource type they need.
// Cases for types the program does not create yet are written against the
// provider's schema (not the program's choices) so they hold when the type
// appears.
var mutations = []mutation{
	// --- network ---
	{rule: "sg-no-open-ingress", what: "ingress rule from 0.0.0.0/0", typ: rules.TypeSGIngressRule,
		apply: edit(func(t *testing.T, r *rules.Resource) {
			delete(r.Props, "referencedSecurityGroupId")
			delete(r.PropertyDependencies, "referencedSecurityGroupId")
			r.Props["cidrIpv4"] = resource.NewProperty("0.0.0.0/0")
		})},
	{rule: "sg-no-open-ingress", what: "ingress rule from ::/0", typ: rules.TypeSGIngressRule,
		apply: edit(func(t *testing.T, r *rules.Resource) {
			delete(r.Props, "referencedSecurityGroupId")
			delete(r.Props, "cidrIpv4")
			r.Props["cidrIpv6"] = resource.NewProperty("::/0")
		})},
	{rule: "sg-no-open-ingress", what: "inline ingress from 0.0.0.0/0", typ: rules.TypeSecurityGroup,
		apply: set([]any{map[string]any{"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": []any{"0.0.0.0/0"}}}, "ingress")},
	{rule: "sg-no-open-ingress", what: "security group rule from 0.0.0.0/0", typ: rules.TypeSecurityGroupRule, where: isIngressRule,
		apply: set([]any{"0.0.0.0/0"}, "cidrBlocks")},
	{rule: "vpc-flow-logs", what: "flow log removed", typ: rules.TypeFlowLog, apply: remove},
	{rule: "vpc-flow-logs", what: "flow log attached to another VPC", typ: rules.TypeFlowLog,
		apply: edit(func(t *testing.T, r *rules.Resource) {
			delete(r.PropertyDependencies, "vpcId")
			r.Props["vpcId"] = resource.NewProperty("vpc-0someothervpc")
		})},
	{rule: "lb-internal", what: "internet-facing", typ: rules.TypeLB, also: []string{"lb-https-listeners"}, apply: set(false, "internal")},
	{rule: "lb-internal", what: "internet-facing", typ: rules.TypeALB, also: []string{"lb-https-listeners"}, apply: set(false, "internal")},
	{rule: "alb-drop-invalid-headers", what: "invalid headers forwarded", typ: rules.TypeLB, where: isApplicationLB,
		apply: set(false, "dropInvalidHeaderFields")},
	{rule: "alb-drop-invalid-headers", what: "invalid headers forwarded", typ: rules.TypeALB, where: isApplicationLB,
		apply: set(false, "dropInvalidHeaderFields")},
	{rule: "lb-deletion-protection", what: "deletion protection off", typ: rules.TypeLB, apply: set(false, "enableDeletionProtection")},
	{rule: "lb-deletion-protection", what: "deletion protection off", typ: rules.TypeALB, apply: set(false, "enableDeletionProtection")},

	// --- database ---
	{rule: "rds-cluster-encrypted-cmk", what: "storage not encrypted", typ: rules.TypeRDSCluster, apply: set(false, "storageEncrypted")},
	{rule: "rds-cluster-encrypted-cmk", what: "AWS-managed key", typ: rules.TypeRDSCluster, apply: del("kmsKeyId")},
	{rule: "rds-cluster-managed-master-password", what: "plaintext master password", typ: rules.TypeRDSCluster,
		apply: edit(func(t *testing.T, r *rules.Resource) {
			r.Props["masterPassword"] = resource.MakeSecret(resource.NewProperty("correct-horse-battery"))
		})},
	{rule: "rds-cluster-managed-master-password", what: "password not managed", typ: rules.TypeRDSCluster, apply: set(false, "manageMasterUserPassword")},
	{rule: "rds-cluster-log-export", what: "no postgresql log export", typ: rules.TypeRDSCluster, apply: set([]any{}, "enabledCloudwatchLogsExports")},
	{rule: "rds-cluster-custom-master-username", what: "master user postgres", typ: rules.TypeRDSCluster, apply: set("postgres", "masterUsername")},
	{rule: "rds-instance-not-public", what: "publicly accessible", typ: rules.TypeRDSClusterInstance, apply: set(true, "publiclyAccessible")},
	{rule: "rds-cluster-deletion-protection", what: "deletion protection off", typ: rules.TypeRDSCluster, apply: set(false, "deletionProtection")},
	{rule: "rds-cluster-backup-retention", what: "1 day of backups", typ: rules.TypeRDSCluster, apply: set(1.0, "backupRetentionPeriod")},
	{rule: "rds-cluster-multi-instance", what: "an instance removed", typ: rules.TypeRDSClusterInstance, apply: remove},

	// --- cache ---
	{rule: "cache-at-rest-encryption", what: "not encrypted at rest", typ: rules.TypeReplicationGroup, apply: set(false, "atRestEncryptionEnabled")},
	{rule: "cache-in-transit-encryption", what: "no TLS", typ: rules.TypeReplicationGroup, apply: set(false, "transitEncryptionEnabled")},
	{rule: "cache-in-transit-encryption", what: "TLS preferred only", typ: rules.TypeReplicationGroup, apply: set("preferred", "transitEncryptionMode")},
	{rule: "cache-auth", what: "no AUTH token", typ: rules.TypeReplicationGroup, apply: del("authToken", "userGroupIds")},
	{rule: "cache-subnet-group", what: "default subnet group", typ: rules.TypeReplicationGroup, apply: del("subnetGroupName")},
	{rule: "cache-automatic-failover", what: "no automatic failover", typ: rules.TypeReplicationGroup, apply: set(false, "automaticFailoverEnabled")},
	{rule: "cache-multi-az", what: "single AZ", typ: rules.TypeReplicationGroup, apply: set(false, "multiAzEnabled")},

	// --- containers ---
	{rule: "ecr-scan-on-push", what: "no scan on push", typ: rules.TypeECRRepository, apply: set(false, "imageScanningConfiguration", "scanOnPush")},
	{rule: "ecr-immutable-tags", what: "mutable tags", typ: rules.TypeECRRepository, apply: set("MUTABLE", "imageTagMutability")},
	{rule: "ecr-kms-encryption", what: "AES256", typ: rules.TypeECRRepository,
		apply: set([]any{map[string]any{"encryptionType": "AES256"}}, "encryptionConfigurations")},
	{rule: "ecs-cluster-container-insights", what: "container insights disabled", typ: rules.TypeECSCluster,
		apply: set([]any{map[string]any{"name": "containerInsights", "value": "disabled"}}, "settings")},
	{rule: "ecs-task-not-privileged", what: "privileged container", typ: rules.TypeECSTaskDefinition,
		apply: container(func(c map[string]any) { c["privileged"] = true })},
	{rule: "ecs-task-readonly-root", what: "writable root filesystem", typ: rules.TypeECSTaskDefinition,
		apply: container(func(c map[string]any) { c["readonlyRootFilesystem"] = false })},
	{rule: "ecs-task-non-root-user", what: "user root", typ: rules.TypeECSTaskDefinition,
		apply: container(func(c map[string]any) { c["user"] = "0" })},
	{rule: "ecs-task-non-root-user", what: "no user", typ: rules.TypeECSTaskDefinition,
		apply: container(func(c map[string]any) { delete(c, "user") })},
	{rule: "ecs-task-logging", what: "no log configuration", typ: rules.TypeECSTaskDefinition,
		apply: container(func(c map[string]any) { delete(c, "logConfiguration") })},
	{rule: "ecs-task-no-env-secrets", what: "password in environment", typ: rules.TypeECSTaskDefinition,
		apply: container(func(c map[string]any) {
			env, _ := c["environment"].([]any)
			c["environment"] = append(env, map[string]any{"name": "BASIC_AUTH_PASSWORD", "value": "test-basic-auth-0123456789abcdef"})
		})},
	{rule: "ecs-task-no-env-secrets", what: "cache URL with token in environment", typ: rules.TypeECSTaskDefinition,
		apply: container(func(c map[string]any) {
			env, _ := c["environment"].([]any)
			c["environment"] = append(env, map[string]any{"name": "REDIS_URL", "value": "rediss://:test-cache-token-0123456789abcdef@master.example.cache.amazonaws.com:6379"})
		})},
	{rule: "ecs-service-no-public-ip", what: "public IP", typ: rules.TypeECSService, apply: set(true, "networkConfiguration", "assignPublicIp")},

	// --- API ---
	{rule: "apigw-stage-access-logs", what: "no access logs", typ: rules.TypeAPIStage, apply: del("accessLogSettings")},
	{rule: "apigw-stage-xray", what: "no X-Ray", typ: rules.TypeAPIStage, apply: set(false, "xrayTracingEnabled")},
	{rule: "apigw-cache-encrypted", what: "unencrypted method cache", typ: rules.TypeAPIMethodSettings,
		apply: edit(func(t *testing.T, r *rules.Resource) {
			r.Props = setPath(t, r.Props, resource.NewProperty(true), []any{"settings", "cachingEnabled"})
			r.Props = setPath(t, r.Props, resource.NewProperty(false), []any{"settings", "cacheDataEncrypted"})
		})},
	{rule: "apigw-no-data-trace", what: "data trace on", typ: rules.TypeAPIMethodSettings, apply: set(true, "settings", "dataTraceEnabled")},
	{rule: "apigw-write-method-auth", what: "write method left open", typ: rules.TypeAPIMethod, where: isWriteMethod,
		apply: edit(func(t *testing.T, r *rules.Resource) {
			r.Props["authorization"] = resource.NewProperty("NONE")
			delete(r.Props, "authorizerId")
			delete(r.PropertyDependencies, "authorizerId")
		})},
	{rule: "cognito-password-policy", what: "8-character passwords", typ: rules.TypeCognitoUserPool, apply: set(8.0, "passwordPolicy", "minimumLength")},
	{rule: "cognito-password-policy", what: "no symbols required", typ: rules.TypeCognitoUserPool, apply: set(false, "passwordPolicy", "requireSymbols")},
	{rule: "cognito-deletion-protection", what: "deletion protection off", typ: rules.TypeCognitoUserPool, apply: set("INACTIVE", "deletionProtection")},
	{rule: "apigw-waf", what: "WAF association removed", typ: rules.TypeWAFAssociation, apply: remove},

	// --- storage, keys, logs ---
	{rule: "s3-public-access-block", what: "public access block removed", typ: rules.TypeS3PublicAccessBlock, apply: remove},
	{rule: "s3-public-access-block", what: "public policies allowed", typ: rules.TypeS3PublicAccessBlock, apply: set(false, "blockPublicPolicy")},
	{rule: "s3-default-encryption", what: "encryption configuration removed", typ: rules.TypeS3SSEConfigV2, apply: remove},
	{rule: "s3-tls-only", what: "bucket policy removed", typ: rules.TypeS3BucketPolicy, apply: remove},
	{rule: "sns-topic-kms", what: "not encrypted", typ: rules.TypeSNSTopic, apply: del("kmsMasterKeyId")},
	{rule: "kms-key-rotation", what: "rotation off", typ: rules.TypeKMSKey, apply: set(false, "enableKeyRotation")},
	{rule: "log-group-retention", what: "never expires", typ: rules.TypeLogGroup, apply: del("retentionInDays")},

	// --- IAM ---
	{rule: "iam-no-wildcard-actions", what: "Action *", typ: rules.TypeIAMRolePolicy, apply: jsonProp("policy", addStatement("*", someARN))},
	{rule: "iam-no-wildcard-actions", what: "Action *", typ: rules.TypeIAMPolicy, apply: jsonProp("policy", addStatement("*", someARN))},
	{rule: "iam-no-wildcard-actions", what: "Action s3:* inline", typ: rules.TypeIAMRole,
		apply: set([]any{map[string]any{"name": "mutation", "policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"` + someARN + `"}]}`}}, "inlinePolicies")},
	{rule: "iam-no-wildcard-resources", what: "Resource *", typ: rules.TypeIAMRolePolicy, apply: jsonProp("policy", addStatement(scopedAction, "*"))},
	{rule: "iam-no-wildcard-resources", what: "Resource *", typ: rules.TypeIAMPolicy, apply: jsonProp("policy", addStatement(scopedAction, "*"))},
	{rule: "iam-no-wildcard-resources", what: "Resource * inline", typ: rules.TypeIAMRole,
		apply: set([]any{map[string]any{"name": "mutation", "policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + scopedAction + `","Resource":"*"}]}`}}, "inlinePolicies")},
}

// policyGraph is a stack's graph as rules.Resources (fresh copies).
func policyGraph(t *testing.T, stack string) []rules.Resource {
	t.Helper()
	return stackGraph(t, stack).PolicyResources()
}

func isProd(stack string) bool { return rules.Config{}.IsProd(stack) }

func violationKey(v rules.Violation) string { return v.Rule + "\x00" + v.URN + "\x00" + v.Message }

func TestPolicyStacksCompliant(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		rs := g.PolicyResources()
		vs := rules.Evaluate(stack, rs, rules.Config{})
		ran := 0
		for _, rule := range rules.All() {
			if !rule.ProdOnly || isProd(stack) {
				ran++
			}
		}
		t.Logf("%d resources, %d rules evaluated (prod rules: %v)", len(rs), ran, isProd(stack))
		for _, v := range vs {
			if v.Level == rules.Mandatory && !v.Note {
				t.Errorf("mandatory violation: %s", v)
			} else {
				t.Logf("advisory: %s", v)
			}
		}
	})
}

// run applies m to every matching resource of a stack and checks each
// result; it returns how many mutations ran.
func (m mutation) run(t *testing.T, stack string) int {
	rule, ok := rules.Lookup(m.rule)
	if !ok {
		t.Fatalf("mutation names unknown rule %q", m.rule)
	}
	if (rule.ProdOnly || m.prodOnly) && !isProd(stack) {
		return 0
	}
	base := findings(rules.Evaluate(stack, policyGraph(t, stack), rules.Config{}))
	before := map[string]bool{}
	for _, v := range base {
		before[violationKey(v)] = true
	}
	n := 0
	for i, r := range policyGraph(t, stack) {
		if r.Type != m.typ || (m.where != nil && !m.where(r)) {
			continue
		}
		n++
		t.Run(r.Name, func(t *testing.T) {
			rs := m.apply(t, policyGraph(t, stack), i)
			var fired []rules.Violation
			for _, v := range findings(rules.Evaluate(stack, rs, rules.Config{})) {
				if !before[violationKey(v)] {
					fired = append(fired, v)
				}
			}
			if len(fired) == 0 {
				t.Fatalf("%s on %s: rule %s did not fire", m.what, r.URN, m.rule)
			}
			atTarget := false
			for _, v := range fired {
				if v.Rule != m.rule && !slices.Contains(m.also, v.Rule) {
					t.Errorf("%s on %s: another rule fired too: %s", m.what, r.URN, v)
				}
				atTarget = atTarget || v.URN == r.URN
			}
			if rule.Check != nil && !atTarget {
				t.Errorf("%s on %s: %s fired, but not on the mutated resource: %v", m.what, r.URN, m.rule, fired)
			}
			t.Logf("%s", fired[0])
		})
	}
	return n
}

// findings are the non-note violations at any level (an advisory rule's
// mutation must make it report, too).
func findings(vs []rules.Violation) []rules.Violation {
	var out []rules.Violation
	for _, v := range vs {
		if !v.Note {
			out = append(out, v)
		}
	}
	return out
}

func (m mutation) name() string {
	// aws:lb/loadBalancer:LoadBalancer → lb.loadBalancer (module and type,
	// so aws:lb and aws:alb cases get distinct names)
	short := m.typ
	if parts := strings.Split(short, ":"); len(parts) == 3 {
		short = strings.ReplaceAll(parts[1], "/", ".")
	}
	return m.rule + "/" + short + "/" + m.what
}

func TestPolicyMutations(t *testing.T) {
	for _, m := range mutations {
		t.Run(m.name(), func(t *testing.T) {
			total := 0
			for _, stack := range stacks(t) {
				t.Run(stack, func(t *testing.T) {
					if n := m.run(t, stack); n == 0 {
						t.Skipf("stack %s has no %s the mutation applies to (or the rule is prod-only)", stack, m.typ)
					} else {
						total += n
					}
				})
			}
			if total == 0 {
				t.Skipf("the program creates no %s yet; this case runs when it does", m.typ)
			}
		})
	}
}

// ruleTypes are the resource types whose presence makes a rule applicable.
func ruleTypes(t *testing.T, rule rules.Rule) []string {
	if rule.IsStackRule() {
		types, ok := stackRuleTypes[rule.Name]
		if !ok {
			t.Errorf("stack rule %s: add the resource types it is about to stackRuleTypes", rule.Name)
		}
		return types
	}
	return rule.Types
}

func TestPolicyMutationCoverage(t *testing.T) {
	// Which types exist, per stack.
	present := map[string]map[string]bool{}
	for _, stack := range stacks(t) {
		present[stack] = map[string]bool{}
		for _, typ := range stackGraph(t, stack).PolicyTypes() {
			present[stack][typ] = true
		}
	}
	// Mutations that have a target, per rule (same selection as run).
	covered := map[string][]string{}
	applied := 0 // mutated graphs evaluated: case × matching resource × stack
	cases := 0   // cases that ran on at least one stack
	for _, m := range mutations {
		if _, ok := rules.Lookup(m.rule); !ok {
			t.Errorf("mutation %q names unknown rule", m.name())
			continue
		}
		rule, _ := rules.Lookup(m.rule)
		ran := false
		for _, stack := range stacks(t) {
			if (rule.ProdOnly || m.prodOnly) && !isProd(stack) {
				continue
			}
			n := 0
			for _, r := range policyGraph(t, stack) {
				if r.Type == m.typ && (m.where == nil || m.where(r)) {
					n++
				}
			}
			if n > 0 {
				covered[m.rule] = append(covered[m.rule], stack+":"+m.what)
				applied += n
				ran = true
			}
		}
		if ran {
			cases++
		}
	}
	var mutated, na []string
	for _, rule := range rules.All() {
		reason, listed := notApplicable[rule.Name]
		if why, ok := exempt[rule.Name]; ok {
			na = append(na, rule.Name+" (exempt: "+why+")")
			continue
		}
		var applicable []string
		for _, stack := range stacks(t) {
			if rule.ProdOnly && !isProd(stack) {
				continue
			}
			for _, typ := range ruleTypes(t, rule) {
				if present[stack][typ] {
					applicable = append(applicable, stack+":"+typ)
				}
			}
		}
		switch {
		case len(covered[rule.Name]) > 0:
			mutated = append(mutated, rule.Name)
			if listed {
				t.Errorf("rule %s has mutation cases that run (%v) but is listed in notApplicable (%q): delete the entry", rule.Name, covered[rule.Name], reason)
			}
		case listed && len(applicable) > 0:
			t.Errorf("rule %s is listed as not applicable (%q), but the program now creates %v: delete the entry and make sure a mutation case covers it", rule.Name, reason, applicable)
		case listed:
			na = append(na, rule.Name+" ("+reason+")")
		case len(applicable) > 0:
			t.Errorf("rule %s applies to %v but no mutation case runs: add one to mutations (its where filter or type may not match what the program creates)", rule.Name, applicable)
		default:
			// The program creates none of the rule's types: the rule is
			// covered by its fixtures (policy/rules) and the insecure
			// program (policy/testdata/insecure); it starts needing a
			// mutation here as soon as the program creates such a type.
			na = append(na, rule.Name+" (the program creates none of its types)")
		}
	}
	for name := range notApplicable {
		if _, ok := rules.Lookup(name); !ok {
			t.Errorf("notApplicable lists unknown rule %q", name)
		}
	}
	sort.Strings(na)
	t.Logf("%d rules: %d covered by mutations of the real graph, %d not applicable yet; %d of %d mutation cases ran, %d mutated graphs evaluated",
		len(rules.All()), len(mutated), len(na), cases, len(mutations), applied)
	for _, s := range na {
		t.Logf("  not applicable: %s", s)
	}
}

// TestPolicyResourcesConversion checks what the stack rules' companion
// matching depends on: ids, parents and property dependencies survive the
// conversion, and the result is a deep copy.
func TestPolicyResourcesConversion(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		rs := g.PolicyResources()
		if len(rs) != len(g.Resources) {
			t.Fatalf("%d resources converted, graph has %d", len(rs), len(g.Resources))
		}
		for i, r := range rs {
			src := g.Resources[i]
			if r.URN != src.URN || r.Type != src.Type || r.Name != src.Name || r.ID != src.ID || r.Parent != src.Parent {
				t.Errorf("resource %d converted as %+v, recorded as %+v", i, r, src)
			}
			if src.Custom && r.ID == "" {
				t.Errorf("%s: custom resource without an id", r.URN)
			}
			if rules.StackFromURN(r.URN) != stack {
				t.Errorf("%s: stack from URN is %q", r.URN, rules.StackFromURN(r.URN))
			}
		}
		logs := rules.TypeFlowLog
		for _, fl := range g.ByType(logs) {
			var conv rules.Resource
			for _, r := range rs {
				if r.URN == fl.URN {
					conv = r
				}
			}
			if len(conv.PropertyDependencies["vpcId"]) == 0 {
				t.Errorf("%s: vpcId property dependencies not recorded", fl.URN)
			}
		}
		// Deep copy: mutating the converted props leaves the graph alone.
		for _, r := range rs {
			for k := range r.Props {
				r.Props[k] = resource.NewProperty("mutated")
			}
		}
		for _, r := range g.PolicyResources() {
			for k, v := range r.Props {
				if v.IsString() && v.StringValue() == "mutated" {
					t.Fatalf("%s.%s: PolicyResources shares property maps with the graph", r.URN, k)
				}
			}
		}
	})
}
