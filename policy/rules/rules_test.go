package rules

import (
	"reflect"
	"strings"
	"testing"
)

const prodStack = "prod"
const devStack = "dev"

// violations maps every rule to a mutation of the compliant stack that breaks
// exactly that rule.
var violations = map[string]func(fs []*fixture) []*fixture{
	"rds-cluster-encrypted-cmk": func(fs []*fixture) []*fixture {
		delete(find(fs, "db").Props, "kmsKeyId")
		return fs
	},
	"rds-cluster-managed-master-password": func(fs []*fixture) []*fixture {
		p := find(fs, "db").Props
		delete(p, "manageMasterUserPassword")
		p["masterPassword"] = secret("hunter2hunter2")
		return fs
	},
	"rds-cluster-log-export": func(fs []*fixture) []*fixture {
		find(fs, "db").Props["enabledCloudwatchLogsExports"] = L{}
		return fs
	},
	"rds-cluster-custom-master-username": func(fs []*fixture) []*fixture {
		find(fs, "db").Props["masterUsername"] = "postgres"
		return fs
	},
	"rds-instance-not-public": func(fs []*fixture) []*fixture {
		find(fs, "db-reader-1").Props["publiclyAccessible"] = true
		return fs
	},
	"rds-cluster-deletion-protection": func(fs []*fixture) []*fixture {
		find(fs, "db").Props["deletionProtection"] = false
		return fs
	},
	"rds-cluster-backup-retention": func(fs []*fixture) []*fixture {
		delete(find(fs, "db").Props, "backupRetentionPeriod") // provider default 1
		return fs
	},
	"rds-cluster-multi-instance": func(fs []*fixture) []*fixture {
		return without(fs, "db-reader-1")
	},
	"cache-at-rest-encryption": func(fs []*fixture) []*fixture {
		delete(find(fs, "cache").Props, "atRestEncryptionEnabled")
		return fs
	},
	"cache-in-transit-encryption": func(fs []*fixture) []*fixture {
		find(fs, "cache").Props["transitEncryptionEnabled"] = false
		return fs
	},
	"cache-auth": func(fs []*fixture) []*fixture {
		delete(find(fs, "cache").Props, "authToken")
		return fs
	},
	"cache-subnet-group": func(fs []*fixture) []*fixture {
		delete(find(fs, "cache").Props, "subnetGroupName")
		return fs
	},
	"cache-automatic-failover": func(fs []*fixture) []*fixture {
		find(fs, "cache").Props["automaticFailoverEnabled"] = false
		return fs
	},
	"cache-multi-az": func(fs []*fixture) []*fixture {
		delete(find(fs, "cache").Props, "multiAzEnabled")
		return fs
	},
	"sg-no-open-ingress": func(fs []*fixture) []*fixture {
		find(fs, "service-sg").Props["ingress"] = L{M{"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": L{"0.0.0.0/0"}}}
		return fs
	},
	"vpc-flow-logs": func(fs []*fixture) []*fixture {
		return without(fs, "vpc-flow")
	},
	"lb-internal": func(fs []*fixture) []*fixture {
		find(fs, "alb").Props["internal"] = false
		return fs
	},
	"alb-drop-invalid-headers": func(fs []*fixture) []*fixture {
		delete(find(fs, "alb").Props, "dropInvalidHeaderFields")
		return fs
	},
	"lb-deletion-protection": func(fs []*fixture) []*fixture {
		delete(find(fs, "nlb").Props, "enableDeletionProtection")
		return fs
	},
	"ecr-scan-on-push": func(fs []*fixture) []*fixture {
		delete(find(fs, "repo").Props, "imageScanningConfiguration")
		return fs
	},
	"ecr-immutable-tags": func(fs []*fixture) []*fixture {
		find(fs, "repo").Props["imageTagMutability"] = "MUTABLE"
		return fs
	},
	"ecr-kms-encryption": func(fs []*fixture) []*fixture {
		delete(find(fs, "repo").Props, "encryptionConfigurations")
		return fs
	},
	"ecs-cluster-container-insights": func(fs []*fixture) []*fixture {
		find(fs, "cluster").Props["settings"] = L{M{"name": "containerInsights", "value": "disabled"}}
		return fs
	},
	"ecs-task-not-privileged": func(fs []*fixture) []*fixture {
		find(fs, "task").Props["containerDefinitions"] = containerDefs(func(c M) { c["privileged"] = true })
		return fs
	},
	"ecs-task-readonly-root": func(fs []*fixture) []*fixture {
		find(fs, "task").Props["containerDefinitions"] = containerDefs(func(c M) { delete(c, "readonlyRootFilesystem") })
		return fs
	},
	"ecs-task-non-root-user": func(fs []*fixture) []*fixture {
		find(fs, "task").Props["containerDefinitions"] = containerDefs(func(c M) { c["user"] = "0:0" })
		return fs
	},
	"ecs-task-logging": func(fs []*fixture) []*fixture {
		find(fs, "task").Props["containerDefinitions"] = containerDefs(func(c M) { delete(c, "logConfiguration") })
		return fs
	},
	"ecs-task-no-env-secrets": func(fs []*fixture) []*fixture {
		find(fs, "task").Props["containerDefinitions"] = containerDefs(func(c M) {
			c["environment"] = append(c["environment"].(L), M{"name": "REDIS_URL", "value": "rediss://:tok3n@cache.internal:6379"})
		})
		return fs
	},
	"ecs-service-no-public-ip": func(fs []*fixture) []*fixture {
		find(fs, "service").Props["networkConfiguration"] = M{"assignPublicIp": true, "subnets": L{"subnet-public-a"}}
		return fs
	},
	"apigw-stage-access-logs": func(fs []*fixture) []*fixture {
		delete(find(fs, "stage").Props, "accessLogSettings")
		return fs
	},
	"apigw-stage-xray": func(fs []*fixture) []*fixture {
		find(fs, "stage").Props["xrayTracingEnabled"] = false
		return fs
	},
	"apigw-cache-encrypted": func(fs []*fixture) []*fixture {
		delete(find(fs, "settings").Props["settings"].(M), "cacheDataEncrypted")
		return fs
	},
	"apigw-no-data-trace": func(fs []*fixture) []*fixture {
		find(fs, "settings").Props["settings"].(M)["dataTraceEnabled"] = true
		return fs
	},
	"apigw-write-method-auth": func(fs []*fixture) []*fixture {
		find(fs, "post-book").Props["authorization"] = "NONE"
		return fs
	},
	"cognito-password-policy": func(fs []*fixture) []*fixture {
		find(fs, "users").Props["passwordPolicy"].(M)["minimumLength"] = 8
		return fs
	},
	"cognito-deletion-protection": func(fs []*fixture) []*fixture {
		delete(find(fs, "users").Props, "deletionProtection")
		return fs
	},
	"apigw-waf": func(fs []*fixture) []*fixture {
		return without(fs, "waf-assoc")
	},
	"s3-public-access-block": func(fs []*fixture) []*fixture {
		find(fs, "payload-pab").Props["restrictPublicBuckets"] = false
		return fs
	},
	"s3-default-encryption": func(fs []*fixture) []*fixture {
		return without(fs, "payload-sse")
	},
	"s3-tls-only": func(fs []*fixture) []*fixture {
		return without(fs, "payload-policy")
	},
	"sns-topic-kms": func(fs []*fixture) []*fixture {
		delete(find(fs, "alarms").Props, "kmsMasterKeyId")
		return fs
	},
	"kms-key-rotation": func(fs []*fixture) []*fixture {
		find(fs, "key").Props["enableKeyRotation"] = false
		return fs
	},
	"log-group-retention": func(fs []*fixture) []*fixture {
		delete(find(fs, "logs").Props, "retentionInDays")
		return fs
	},
	"iam-no-wildcard-actions": func(fs []*fixture) []*fixture {
		find(fs, "role-policy").Props["policy"] = iamDoc(M{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::books-payload/*"})
		return fs
	},
	"iam-no-wildcard-resources": func(fs []*fixture) []*fixture {
		find(fs, "role").Props["inlinePolicies"] = L{M{"name": "inline", "policy": iamDoc(M{"Effect": "Allow", "Action": L{"s3:GetObject", "ecr:GetAuthorizationToken"}, "Resource": "*"})}}
		return fs
	},
}

// alsoDisabled lists rules a mutation necessarily breaks too, by design:
// an internet-facing load balancer is what lb-https-listeners is about, and
// lb-internal refuses it on its own.
var alsoDisabled = map[string]map[string]Level{
	"lb-https-listeners": {"lb-internal": Disabled},
}

func TestEveryRuleHasAMutation(t *testing.T) {
	for _, r := range All() {
		if _, ok := violations[r.Name]; !ok {
			t.Errorf("rule %s has no violating mutation in the test table", r.Name)
		}
	}
	for name := range violations {
		if _, ok := Lookup(name); !ok {
			t.Errorf("test table names unknown rule %s", name)
		}
	}
}

func TestRuleMetadata(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if seen[r.Name] {
			t.Errorf("duplicate rule %s", r.Name)
		}
		seen[r.Name] = true
		if r.Description == "" || r.Control == "" {
			t.Errorf("rule %s lacks a description or control id", r.Name)
		}
		if r.IsResourceRule() == (r.StackCheck != nil) || (r.Check != nil && r.CheckEnv != nil) {
			t.Errorf("rule %s must have exactly one of Check, CheckEnv and StackCheck", r.Name)
		}
		if r.IsResourceRule() && len(r.Types) == 0 {
			t.Errorf("resource rule %s has no Types", r.Name)
		}
		if _, err := ParseLevel(string(r.DefaultLevel)); err != nil || r.DefaultLevel == Disabled {
			t.Errorf("rule %s has default level %q", r.Name, r.DefaultLevel)
		}
	}
	if len(All()) < 40 {
		t.Errorf("expected at least 40 rules, got %d", len(All()))
	}
}

func TestCompliantStackPasses(t *testing.T) {
	for _, stack := range []string{devStack, prodStack} {
		vs := Evaluate("", build(stack, compliantStack()), Config{})
		for _, v := range vs {
			t.Errorf("%s: unexpected %v", stack, v)
		}
	}
}

func TestEachViolationFiresExactlyItsRule(t *testing.T) {
	for _, rule := range All() {
		t.Run(rule.Name, func(t *testing.T) {
			mutate := violations[rule.Name]
			if mutate == nil {
				t.Skip("no mutation")
			}
			cfg := Config{Levels: alsoDisabled[rule.Name]}
			vs := Evaluate("", build(prodStack, mutate(compliantStack())), cfg)
			if got := firing(vs); !reflect.DeepEqual(got, []string{rule.Name}) {
				t.Fatalf("want exactly [%s] to fire, got %v:\n%v", rule.Name, got, vs)
			}
			for _, v := range vs {
				if v.Note {
					continue
				}
				if v.Level != rule.DefaultLevel {
					t.Errorf("level %s, want %s", v.Level, rule.DefaultLevel)
				}
				if !strings.HasPrefix(v.URN, "urn:pulumi:prod::books::") {
					t.Errorf("violation URN %q does not name the resource", v.URN)
				}
				if len(v.Message) < 20 || !strings.ContainsAny(v.Message, ";") && !strings.Contains(v.Message, "add") {
					t.Errorf("message does not say how to fix it: %q", v.Message)
				}
			}
			// Prod-only rules stay quiet on other stacks.
			dev := firing(Evaluate("", build(devStack, mutate(compliantStack())), cfg))
			if rule.ProdOnly && len(dev) != 0 {
				t.Errorf("prod-only rule fired on dev: %v", dev)
			}
			// Environment-aware rules may accept on dev what they refuse on
			// prod (TestEnvironmentAwareThresholds covers both).
			if !rule.ProdOnly && len(rule.Params) == 0 && !reflect.DeepEqual(dev, []string{rule.Name}) {
				t.Errorf("rule did not fire on dev: %v", dev)
			}
		})
	}
}

func TestLevelsOverridable(t *testing.T) {
	fs := violations["sns-topic-kms"](compliantStack())
	res := build(devStack, fs)

	vs := Evaluate("", res, Config{Levels: map[string]Level{"sns-topic-kms": Advisory}})
	if len(vs) != 1 || vs[0].Level != Advisory || vs[0].Rule != "sns-topic-kms" {
		t.Fatalf("advisory override: %v", vs)
	}
	if vs := Evaluate("", res, Config{Levels: map[string]Level{"sns-topic-kms": Disabled}}); len(vs) != 0 {
		t.Fatalf("disabled override: %v", vs)
	}
	if err := (Config{Levels: map[string]Level{"no-such-rule": Advisory}}).Validate(); err == nil {
		t.Error("unknown rule name accepted")
	}
	if err := (Config{Levels: map[string]Level{"sns-topic-kms": "sometimes"}}).Validate(); err == nil {
		t.Error("invalid level accepted")
	}
	if err := (Config{ProdStackPattern: "("}).Validate(); err == nil {
		t.Error("invalid pattern accepted")
	}
	if lvl, err := ParseLevel(" Advisory "); err != nil || lvl != Advisory {
		t.Errorf("ParseLevel: %v %v", lvl, err)
	}
}

func TestProdPattern(t *testing.T) {
	fs := violations["rds-cluster-deletion-protection"](compliantStack())
	cases := []struct {
		stack, pattern string
		fires          bool
	}{
		{"prod", "", true},
		{"books-prod-eu", "", true},
		{"dev", "", false},
		{"staging", "", false},
		{"live", "^(prod|live)$", true},
		{"prod", "^live$", false},
	}
	for _, c := range cases {
		vs := Evaluate("", build(c.stack, fs), Config{ProdStackPattern: c.pattern})
		if got := len(firing(vs)) > 0; got != c.fires {
			t.Errorf("stack %q pattern %q: fired=%v want %v", c.stack, c.pattern, got, c.fires)
		}
	}
	// An explicit stack name wins over the URNs.
	if vs := Evaluate("prod", build("dev", fs), Config{}); len(firing(vs)) == 0 {
		t.Error("explicit stack name ignored")
	}
	if s := StackFromURN("urn:pulumi:prod-eu::books::aws:sns/topic:Topic::t"); s != "prod-eu" {
		t.Errorf("StackFromURN = %q", s)
	}
	if s := StackFromURN("garbage"); s != "" {
		t.Errorf("StackFromURN(garbage) = %q", s)
	}
}

func TestOmitNotes(t *testing.T) {
	fs := compliantStack()
	find(fs, "alarms").Props["kmsMasterKeyId"] = unknown()
	find(fs, "logs").Props["retentionInDays"] = unknown()
	res := build(devStack, fs)
	if vs := Evaluate("", res, Config{}); len(vs) != 1 || !vs[0].Note || vs[0].Level != Advisory {
		t.Fatalf("want one advisory note, got %v", vs)
	}
	if vs := Evaluate("", res, Config{OmitNotes: true}); len(vs) != 0 {
		t.Fatalf("notes not omitted: %v", vs)
	}
}
