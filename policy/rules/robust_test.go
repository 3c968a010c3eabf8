package rules

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// leafPaths enumerates the paths to every leaf of plain fixture data.
func leafPaths(x any, prefix []any, out *[][]any) {
	switch t := x.(type) {
	case M:
		for k, v := range t {
			leafPaths(v, append(append([]any{}, prefix...), k), out)
		}
	case L:
		for i, v := range t {
			leafPaths(v, append(append([]any{}, prefix...), i), out)
		}
	default:
		*out = append(*out, prefix)
	}
}

// setAt replaces the value at path (in place) and returns the old value.
func setAt(x any, path []any, v any) {
	for i, p := range path {
		last := i == len(path)-1
		switch k := p.(type) {
		case string:
			m := x.(M)
			if last {
				m[k] = v
				return
			}
			x = m[k]
		case int:
			l := x.(L)
			if last {
				l[k] = v
				return
			}
			x = l[k]
		}
	}
}

// everyPath yields (fixture index, path) for every leaf and every interior
// node of every fixture, including each whole top-level property.
func everyPath(t *testing.T, f func(fs []*fixture, idx int, path []any)) {
	base := compliantStack()
	for idx, fx := range base {
		var paths [][]any
		leafPaths(fx.Props, nil, &paths)
		seen := map[string]bool{}
		for _, p := range paths {
			for n := 1; n <= len(p); n++ { // every prefix: interior nodes too
				key := fmt.Sprint(p[:n])
				if seen[key] {
					continue
				}
				seen[key] = true
				f(compliantStack(), idx, append([]any{}, p[:n]...))
			}
		}
	}
}

// relevantTo returns a config that runs only the rules that can see a change
// to a resource of typ: the resource rules of that type and every stack rule
// (the other resources are unchanged, and the compliant stack passes).
var relevantCache sync.Map

func relevantTo(typ string) Config {
	if c, ok := relevantCache.Load(typ); ok {
		return c.(Config)
	}
	levels := map[string]Level{}
	for _, r := range All() {
		if r.IsResourceRule() && !r.AppliesTo(typ) {
			levels[r.Name] = Disabled
		}
	}
	c := Config{Levels: levels}
	relevantCache.Store(typ, c)
	return c
}

func TestUnknownValuesNeverMandatory(t *testing.T) {
	makers := map[string]func() resource.PropertyValue{
		"computed":       unknown,
		"unknown-output": unknownOutput,
		"unknown-secret-output": func() resource.PropertyValue {
			return resource.NewOutputProperty(resource.Output{Known: false, Secret: true})
		},
	}
	n := 0
	for kind, mk := range makers {
		everyPath(t, func(fs []*fixture, idx int, path []any) {
			setAt(fs[idx].Props, path, mk())
			for _, stack := range []string{devStack, prodStack} {
				vs := Evaluate("", build(stack, fs), relevantTo(fs[idx].Type))
				n++
				if m := MandatoryOnly(vs); len(m) > 0 {
					t.Errorf("%s %s.%v on %s: unknown value produced mandatory violations: %v", kind, fs[idx].Name, path, stack, m)
				}
				for _, v := range vs {
					if strings.Contains(v.Message, "internal error") {
						t.Errorf("%s %s.%v: rule panicked: %v", kind, fs[idx].Name, path, v)
					}
				}
			}
		})
	}
	// The whole property map unknown-valued.
	fs := compliantStack()
	for _, f := range fs {
		for k := range f.Props {
			f.Props[k] = unknown()
		}
	}
	if m := MandatoryOnly(Evaluate("", build(prodStack, fs), Config{})); len(m) > 0 {
		t.Errorf("all-unknown stack: %v", m)
	}
	t.Logf("%d evaluations with one unknown value", n)
}

func TestUnknownValuesYieldNotes(t *testing.T) {
	cases := []struct {
		fixture string
		path    []any
		rule    string
	}{
		{"alarms", nil, ""}, // placeholder to keep the table shape obvious
		{"task", []any{"containerDefinitions"}, "ecs-task-non-root-user"},
		{"role-policy", []any{"policy"}, "iam-no-wildcard-actions"},
		{"db", []any{"storageEncrypted"}, "rds-cluster-encrypted-cmk"},
		{"payload-pab", []any{"bucket"}, "s3-public-access-block"},
		{"network", []any{"vpcId"}, "vpc-flow-logs"},
		{"waf-assoc", []any{"resourceArn"}, "apigw-waf"},
		{"post-book", []any{"authorization"}, "apigw-write-method-auth"},
	}
	for _, c := range cases[1:] {
		fs := compliantStack()
		// An unknown reference is ambiguous on its own: the companion may be
		// this target's or another's, so the rule can only say "cannot tell".
		setAt(find(fs, c.fixture).Props, c.path, unknown())
		vs := Evaluate("", build(prodStack, fs), Config{})
		found := false
		for _, v := range vs {
			if v.Rule == c.rule && v.Note && v.Level == Advisory && strings.Contains(v.Message, "cannot tell yet") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s.%v unknown: want a cannot-tell note from %s, got %v", c.fixture, c.path, c.rule, vs)
		}
	}
}

func TestSecretsAreUnwrapped(t *testing.T) {
	everyPath(t, func(fs []*fixture, idx int, path []any) {
		// wrap the value at path in a secret
		var cur any = fs[idx].Props
		for _, p := range path {
			switch k := p.(type) {
			case string:
				cur = cur.(M)[k]
			case int:
				cur = cur.(L)[k]
			}
		}
		setAt(fs[idx].Props, path, resource.MakeSecret(pv(cur)))
		if vs := Evaluate("", build(prodStack, fs), Config{}); len(vs) > 0 {
			t.Errorf("secret-wrapped %s.%v: %v", fs[idx].Name, path, vs)
		}
		// and as a known secret output
		fs2 := compliantStack()
		setAt(fs2[idx].Props, path, resource.NewOutputProperty(resource.Output{Element: pv(cur), Known: true, Secret: true}))
		if vs := Evaluate("", build(prodStack, fs2), Config{}); len(vs) > 0 {
			t.Errorf("known secret output %s.%v: %v", fs2[idx].Name, path, vs)
		}
	})
}

func TestProviderDefaults(t *testing.T) {
	// An empty resource of each type: which rules fire follows the provider
	// defaults (e.g. publiclyAccessible defaults to false, internal to false).
	want := map[string][]string{
		TypeRDSCluster:         {"rds-cluster-backup-retention", "rds-cluster-deletion-protection", "rds-cluster-encrypted-cmk", "rds-cluster-iam-auth", "rds-cluster-log-export", "rds-cluster-managed-master-password", "rds-cluster-multi-instance", "rds-force-tls"},
		TypeRDSClusterInstance: {"rds-enhanced-monitoring"},
		TypeReplicationGroup:   {"cache-at-rest-cmk", "cache-at-rest-encryption", "cache-auth", "cache-automatic-failover", "cache-backups", "cache-in-transit-encryption", "cache-multi-az", "cache-subnet-group"},
		TypeSecurityGroup:      nil,
		TypeSecurityGroupRule:  nil,
		TypeSGIngressRule:      nil,
		TypeECRRepository:      {"ecr-immutable-tags", "ecr-kms-encryption", "ecr-lifecycle-policy", "ecr-scan-on-push"},
		TypeECSCluster:         {"ecs-cluster-container-insights"},
		TypeECSService:         nil,
		TypeLB:                 {"alb-drop-invalid-headers", "lb-access-logs", "lb-deletion-protection", "lb-internal", "lb-multi-az"},
		TypeALB:                {"alb-drop-invalid-headers", "lb-access-logs", "lb-deletion-protection", "lb-internal", "lb-multi-az"},
		TypeAPIStage:           {"apigw-execution-logging", "apigw-stage-access-logs", "apigw-stage-xray", "apigw-waf"},
		TypeAPIMethodSettings:  nil,
		TypeAPIMethod:          nil,
		TypeCognitoUserPool:    {"cognito-deletion-protection", "cognito-mfa", "cognito-password-policy", "cognito-threat-protection"},
		TypeS3BucketV2:         {"s3-access-logging", "s3-default-encryption", "s3-lifecycle", "s3-public-access-block", "s3-tls-only"},
		TypeS3Bucket:           {"s3-access-logging", "s3-default-encryption", "s3-lifecycle", "s3-public-access-block", "s3-tls-only"},
		TypeSNSTopic:           {"sns-topic-kms"},
		TypeKMSKey:             {"kms-key-rotation"},
		TypeLogGroup:           {"log-group-kms", "log-group-retention"},
		TypeIAMPolicy:          nil,
		TypeIAMRole:            nil,
		TypeVPC:                {"vpc-default-sg-closed", "vpc-flow-logs"},
		TypeAwsxVPC:            {"vpc-default-sg-closed", "vpc-flow-logs"},
		TypeFlowLog:            nil,
	}
	for typ, rules := range want {
		rs := []Resource{{URN: urnFor(prodStack, typ, "x"), Type: typ, Name: "x", ID: "x-id", Props: resource.PropertyMap{}}}
		if got := firing(Evaluate("", rs, Config{})); !reflect.DeepEqual(got, rules) {
			t.Errorf("%s with no properties: got %v, want %v", typ, got, rules)
		}
	}
	// Specific defaults inside a present block: an omitted require* in a
	// password policy is false.
	fs := compliantStack()
	delete(find(fs, "users").Props["passwordPolicy"].(M), "requireSymbols")
	if got := firing(Evaluate("", build(devStack, fs), Config{})); !reflect.DeepEqual(got, []string{"cognito-password-policy"}) {
		t.Errorf("requireSymbols omitted: %v", got)
	}
	// Caching off by default: no cache encryption needed.
	fs = compliantStack()
	find(fs, "settings").Props["settings"] = M{"cacheDataEncrypted": false}
	if got := firing(Evaluate("", build(devStack, fs), Config{Levels: disableAllBut("apigw-cache-encrypted")})); len(got) != 0 {
		t.Errorf("caching disabled: %v", got)
	}
}

// garbage values of many shapes.
func garbageValues() map[string]resource.PropertyValue {
	return map[string]resource.PropertyValue{
		"null":          resource.NewNullProperty(),
		"number":        resource.NewNumberProperty(42),
		"negative":      resource.NewNumberProperty(-1),
		"bool":          resource.NewBoolProperty(true),
		"false":         resource.NewBoolProperty(false),
		"string":        resource.NewStringProperty("garbage"),
		"empty-string":  resource.NewStringProperty(""),
		"bad-json":      resource.NewStringProperty("{not json"),
		"json-null":     resource.NewStringProperty("null"),
		"json-array":    resource.NewStringProperty(`[1, "x", null, {"user": 0, "environment": "x", "logConfiguration": "y", "privileged": "true"}]`),
		"json-object":   resource.NewStringProperty(`{"Statement": "nope", "Version": 1}`),
		"json-stmts":    resource.NewStringProperty(`{"Statement": [1, {"Effect": 5, "Action": {"a": 1}, "Resource": [null, 3]}, {"Effect": "Allow", "Action": [1, "*"], "Resource": {"x": "*"}}]}`),
		"json-env":      resource.NewStringProperty(`[{"name": "x", "environment": [1, {"name": 5, "value": ["rediss://:x@h"]}, {"name": "A_TOKEN"}]}]`),
		"deep-json":     resource.NewStringProperty(strings.Repeat("[", 5000) + strings.Repeat("]", 5000)),
		"empty-array":   resource.NewArrayProperty(nil),
		"array-garbage": resource.NewArrayProperty([]resource.PropertyValue{resource.NewNumberProperty(1), resource.NewNullProperty(), resource.NewStringProperty("0.0.0.0/0"), unknown()}),
		"empty-object":  resource.NewObjectProperty(resource.PropertyMap{}),
		"object-garbage": resource.NewObjectProperty(resource.PropertyMap{
			"cidrBlocks": resource.NewStringProperty("0.0.0.0/0"), "name": resource.NewNumberProperty(1),
			"rules": resource.NewStringProperty("x"), "scanOnPush": resource.NewStringProperty("maybe"),
		}),
		"nil-secret":   {V: (*resource.Secret)(nil)},
		"invalid-type": {V: 5}, // not a legal PropertyValue at all
		"invalid-map":  {V: map[string]string{"a": "b"}},
		"asset":        resource.NewAssetProperty(&resource.Asset{Text: "x"}),
		"resource-ref": resource.MakeComponentResourceReference("urn:pulumi:prod::books::x::y", ""),
		"nested-secrets": resource.MakeSecret(resource.MakeSecret(resource.NewOutputProperty(resource.Output{
			Element: resource.NewStringProperty("x"), Known: true}))),
		"computed-in-array": resource.NewArrayProperty([]resource.PropertyValue{unknown(), unknownOutput()}),
	}
}

// propertyNames is every property name any rule reads, plus the fixture's.
func propertyNames() []string {
	set := map[string]bool{}
	for _, f := range compliantStack() {
		for k := range f.Props {
			set[k] = true
		}
	}
	for _, k := range []string{"masterPassword", "replicationSourceIdentifier", "snapshotIdentifier", "transitEncryptionMode",
		"userGroupIds", "ipv6CidrBlocks", "cidrIpv4", "cidrIpv6", "serverSideEncryptionConfigurations",
		"serverSideEncryptionConfiguration", "id", "vpcId", "arn", "bucket", "stageName", "clusterIdentifier"} {
		set[k] = true
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	return out
}

func TestNoPanicOnGarbage(t *testing.T) {
	types := map[string]bool{}
	for _, r := range All() {
		for _, typ := range r.Types {
			types[typ] = true
		}
	}
	for _, typ := range []string{TypeS3BucketV2, TypeS3Bucket, TypeS3PublicAccessBlock, TypeS3SSEConfigV2, TypeS3BucketPolicy,
		TypeVPC, TypeAwsxVPC, TypeFlowLog, TypeWAFAssociation, TypeRDSClusterInstance} {
		types[typ] = true
	}
	names := propertyNames()
	checks := 0
	for typ := range types {
		for gname, g := range garbageValues() {
			// every property set to the same garbage
			props := resource.PropertyMap{}
			for _, n := range names {
				props[resource.PropertyKey(n)] = g
			}
			rs := []Resource{
				{URN: urnFor(prodStack, typ, "g"), Type: typ, Name: "g", Props: props, PropertyDependencies: map[string][]string{"bucket": {"garbage"}}},
				{URN: urnFor(prodStack, typ, "h"), Type: typ, Name: "h", Props: props},
				{URN: "not-a-urn", Type: typ, Props: nil},
			}
			for _, rule := range All() {
				if rule.IsResourceRule() && !rule.AppliesTo(typ) && typ != TypeS3Bucket {
					continue
				}
				for _, r := range rs {
					for _, v := range rule.CheckResource(r) {
						if strings.Contains(v.Message, "internal error") {
							t.Errorf("%s on %s with %s: %v", rule.Name, typ, gname, v.Message)
						}
					}
					// also call Check directly, bypassing the type filter and
					// recover, on one foreign type (a rule's own types go
					// through CheckResource above)
					if rule.Check != nil && typ == TypeS3Bucket {
						func() {
							defer func() {
								if p := recover(); p != nil {
									t.Errorf("%s.Check panicked on %s with %s: %v", rule.Name, typ, gname, p)
								}
							}()
							rule.Check(r)
						}()
					}
					checks++
				}
				if rule.StackCheck != nil {
					func() {
						defer func() {
							if p := recover(); p != nil {
								t.Errorf("%s.StackCheck panicked on %s with %s: %v", rule.Name, typ, gname, p)
							}
						}()
						rule.StackCheck(rs)
					}()
				}
			}
			_ = Evaluate("", rs, Config{})
			_ = Evaluate("", rs, Config{ProdStackPattern: "(", Levels: map[string]Level{"sns-topic-kms": "bogus"}})
		}
	}
	// per-property garbage on the compliant stack
	everyPath(t, func(fs []*fixture, idx int, path []any) {
		for gname, g := range garbageValues() {
			setAt(fs[idx].Props, path, g)
			for _, v := range Evaluate("", build(prodStack, fs), relevantTo(fs[idx].Type)) {
				if strings.Contains(v.Message, "internal error") {
					t.Errorf("%s.%v = %s: %v", fs[idx].Name, path, gname, v)
				}
			}
		}
	})
	Evaluate("", nil, Config{})
	Evaluate("", []Resource{{}}, Config{})
	t.Logf("%d garbage checks", checks)
}

func TestPanicsAreRecoveredAndNamed(t *testing.T) {
	boom := Rule{Name: "boom", Description: "panics", Control: "test", DefaultLevel: Mandatory,
		Types: []string{TypeSNSTopic}, Check: func(Resource) []Violation { panic("kaboom") }}
	stackBoom := Rule{Name: "stack-boom", Description: "panics", Control: "test", DefaultLevel: Mandatory,
		StackCheck: func([]Resource) []Violation {
			// A runtime error (not a panic(value)) must be recovered too.
			var m map[string]int
			m["x"]++ //nolint:staticcheck // SA5000 on purpose: a nil-map write panics with a runtime.Error
			return nil
		}}
	r := build(devStack, []*fixture{find(compliantStack(), "alarms")})

	vs := boom.CheckResource(r[0])
	if len(vs) != 1 || !vs[0].Note || !strings.Contains(vs[0].Message, `"boom"`) || !strings.Contains(vs[0].Message, "kaboom") || vs[0].URN != r[0].URN {
		t.Fatalf("resource panic not turned into a note: %v", vs)
	}
	vs = stackBoom.CheckStack(r)
	if len(vs) != 1 || !vs[0].Note || !strings.Contains(vs[0].Message, `"stack-boom"`) {
		t.Fatalf("stack panic not turned into a note: %v", vs)
	}

	saved := registry
	registry = append(append([]Rule{}, registry...), boom, stackBoom)
	defer func() { registry = saved }()
	vs = Evaluate("", r, Config{})
	got := map[string]Violation{}
	for _, v := range vs {
		got[v.Rule] = v
	}
	if len(vs) != 2 || got["boom"].Level != Advisory || !got["boom"].Note || got["stack-boom"].Level != Advisory {
		t.Fatalf("Evaluate with panicking rules: %v", vs)
	}
}

func TestReferenceMatching(t *testing.T) {
	// Property dependencies decide even when the value is unknown.
	fs := compliantStack()
	res := build(prodStack, fs)
	byName := map[string]*Resource{}
	for i := range res {
		byName[res[i].Name] = &res[i]
	}
	vpc := byName["vpc"]
	flow := byName["vpc-flow"]
	flow.Props["vpcId"] = unknown()
	flow.PropertyDependencies = map[string][]string{"vpcId": {vpc.URN}}
	if vs := Evaluate("", res, Config{}); len(vs) != 0 {
		t.Errorf("deps should match the unknown vpcId: %v", vs)
	}
	// Dependencies naming another resource: no match, even if the value matches.
	flow.Props["vpcId"] = resource.NewStringProperty("vpc-1")
	flow.PropertyDependencies = map[string][]string{"vpcId": {"urn:pulumi:prod::books::aws:ec2/vpc:Vpc::other"}}
	if got := firing(Evaluate("", res, Config{})); !reflect.DeepEqual(got, []string{"vpc-flow-logs"}) {
		t.Errorf("deps to another VPC: %v", got)
	}

	// awsx: the child aws:ec2/vpc:Vpc of an awsx component is covered by a
	// flow log on the component's vpcId output (which is unknown in preview,
	// but the dependency names the component).
	awsx := Resource{URN: urnFor(prodStack, TypeAwsxVPC, "net"), Type: TypeAwsxVPC, Name: "net", Props: resource.PropertyMap{"vpcId": unknownOutput()}}
	child := Resource{URN: "urn:pulumi:prod::books::awsx:ec2:Vpc$aws:ec2/vpc:Vpc::net", Type: TypeVPC, Name: "net", Parent: awsx.URN, Props: resource.PropertyMap{}}
	fl := Resource{URN: urnFor(prodStack, TypeFlowLog, "net-flow"), Type: TypeFlowLog, Name: "net-flow",
		Props: resource.PropertyMap{"vpcId": unknownOutput()}, PropertyDependencies: map[string][]string{"vpcId": {awsx.URN}}}
	flowOnly := Config{Levels: disableAllBut("vpc-flow-logs")}
	if vs := Evaluate("", []Resource{awsx, child, fl}, flowOnly); len(vs) != 0 {
		t.Errorf("awsx child VPC: %v", vs)
	}
	// Without dependencies and with the component's output unknown: cannot tell.
	fl.PropertyDependencies = nil
	vs := Evaluate("", []Resource{awsx, fl}, flowOnly)
	if len(vs) != 1 || !vs[0].Note {
		t.Errorf("unknown awsx vpcId: want one note, got %v", vs)
	}
	// No flow log at all: violation for the component.
	if got := firing(Evaluate("", []Resource{awsx}, flowOnly)); !reflect.DeepEqual(got, []string{"vpc-flow-logs"}) {
		t.Errorf("awsx without flow log: %v", got)
	}
	// A flow log for a different, known VPC does not cover this one.
	other := Resource{URN: urnFor(prodStack, TypeVPC, "v"), Type: TypeVPC, Name: "v", ID: "vpc-9", Props: resource.PropertyMap{}}
	fl2 := Resource{URN: urnFor(prodStack, TypeFlowLog, "f"), Type: TypeFlowLog, Name: "f", Props: resource.PropertyMap{"vpcId": resource.NewStringProperty("vpc-8")}}
	if got := firing(Evaluate("", []Resource{other, fl2}, flowOnly)); !reflect.DeepEqual(got, []string{"vpc-flow-logs"}) {
		t.Errorf("flow log for another VPC: %v", got)
	}
	// Bucket matched by its explicit name when no ID was recorded, or by ARN.
	fs = compliantStack()
	b := find(fs, "payload")
	b.ID = ""
	b.Props["bucket"] = "books-payload"
	find(fs, "payload-policy").Props["bucket"] = "arn:aws:s3:::books-payload"
	if vs := Evaluate("", build(devStack, fs), Config{}); len(vs) != 0 {
		t.Errorf("bucket by name/ARN: %v", vs)
	}
	// A bucket whose identity was not recorded at all: cannot tell, no violation.
	delete(b.Props, "bucket")
	vs = Evaluate("", build(devStack, fs), Config{})
	if m := MandatoryOnly(vs); len(m) != 0 || len(vs) == 0 {
		t.Errorf("bucket without identity: want notes only, got %v", vs)
	}
	// Two buckets: the companions of one do not cover the other.
	fs = compliantStack()
	fs = append(fs, &fixture{Type: TypeS3BucketV2, Name: "logs-bucket", ID: "books-logs"})
	got := map[string]bool{}
	for _, v := range Evaluate("", build(devStack, fs), Config{}) {
		if !strings.HasSuffix(v.URN, "::logs-bucket") || v.Note {
			t.Errorf("unexpected %v", v)
		}
		got[v.Rule] = true
	}
	if len(got) != 5 {
		t.Errorf("second bucket: want the 5 bucket rules (3 mandatory, logging and lifecycle advisory), got %v", got)
	}
}

func TestSecurityGroupVariants(t *testing.T) {
	cases := []struct {
		typ   string
		props M
		fires bool
	}{
		{TypeSecurityGroup, M{"ingress": L{M{"ipv6CidrBlocks": L{"::/0"}}}}, true},
		{TypeSecurityGroup, M{"ingress": L{M{"cidrBlocks": L{"10.0.0.0/8", "0.0.0.0/0"}}}}, true},
		{TypeSecurityGroup, M{"egress": L{M{"cidrBlocks": L{"0.0.0.0/0"}}}}, false},
		{TypeSecurityGroupRule, M{"type": "ingress", "ipv6CidrBlocks": L{"::/0"}}, true},
		{TypeSecurityGroupRule, M{"type": "egress", "cidrBlocks": L{"0.0.0.0/0"}}, false},
		{TypeSGIngressRule, M{"cidrIpv4": "0.0.0.0/0"}, true},
		{TypeSGIngressRule, M{"cidrIpv6": "::/0"}, true},
		{TypeSGIngressRule, M{"cidrIpv4": "10.0.0.0/16"}, false},
	}
	for _, c := range cases {
		rs := build(devStack, []*fixture{{Type: c.typ, Name: "sg", Props: c.props}})
		got := firing(Evaluate("", rs, Config{}))
		if (len(got) > 0) != c.fires || (c.fires && got[0] != "sg-no-open-ingress") {
			t.Errorf("%s %v: got %v", c.typ, c.props, got)
		}
	}
}

func TestSecretHeuristics(t *testing.T) {
	names := map[string]bool{
		"PGPASSWORD": true, "DB_PASSWORD": true, "API_KEY": true, "STRIPE_SECRET_KEY": true, "AUTH_TOKEN": true,
		"REDIS_AUTH": true, "client_secret": true, "AWS_SECRET_ACCESS_KEY": true, "PRIVATE_KEY": true, "CREDENTIALS": true,
		"PGHOST": false, "PGUSER": false, "DB_SECRET_ARN": false, "KMS_KEY_ID": false, "CACHE_KEY_PREFIX": false,
		"BASIC_AUTH_USER": false, "TOKEN_TTL": false, "LOG_LEVEL": false, "": false, "SECRET_NAME": false,
	}
	for n, want := range names {
		if got := SecretLookingName(n); got != want {
			t.Errorf("SecretLookingName(%q) = %v, want %v", n, got, want)
		}
	}
	values := map[string]bool{
		"rediss://:x@cache:6379":                      true,
		"postgres://u:p@db:5432/books":                true,
		"-----BEGIN RSA PRIVATE KEY-----\nabc":        true,
		"AKIAIOSFODNN7EXAMPLE":                        true,
		"rediss://cache:6379":                         false,
		"postgres://db:5432/books?sslmode=require":    false,
		"https://example.com/path@v1":                 false,
		"arn:aws:secretsmanager:eu-west-1:1:secret:x": false,
	}
	for v, want := range values {
		if got := SecretLookingValue(v) != ""; got != want {
			t.Errorf("SecretLookingValue(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestIAMDetails(t *testing.T) {
	cases := []struct {
		doc  any
		want []string
	}{
		{iamDoc(M{"Effect": "Allow", "Action": "*", "Resource": "*"}), []string{"iam-no-wildcard-actions", "iam-no-wildcard-resources"}},
		{iamDoc(M{"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}), []string{"iam-no-wildcard-actions"}},
		{iamDoc(M{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b"}), []string{"iam-no-wildcard-resources"}},
		{iamDoc(M{"Effect": "Allow", "Action": L{"xray:PutTraceSegments", "XRAY:PutTelemetryRecords"}, "Resource": "*"}), nil},
		{iamDoc(M{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}), nil},
		{iamDoc(M{"Effect": "Deny", "Action": "*", "Resource": "*"}), nil},
		{mustJSON(M{"Statement": M{"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:eu-west-1:1:q"}}), []string{"iam-no-wildcard-actions"}},
		// policy given as an object rather than a JSON string
		{M{"Version": "2012-10-17", "Statement": L{M{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}}}, []string{"iam-no-wildcard-resources"}},
	}
	for i, c := range cases {
		rs := build(devStack, []*fixture{{Type: TypeIAMPolicy, Name: "p", Props: M{"policy": c.doc}}})
		if got := firing(Evaluate("", rs, Config{})); !reflect.DeepEqual(got, c.want) {
			t.Errorf("case %d: got %v, want %v", i, got, c.want)
		}
	}
}

func TestHelpers(t *testing.T) {
	p := pm(M{"a": M{"b": L{M{"c": true}}}, "s": secret("x"), "n": "12"})
	if b, ok := Get(p, "a", "b", 0, "c").Bool(); !ok || !b {
		t.Error("nested bool")
	}
	if v := Get(p, "a", "b", 5, "c"); !v.Missing {
		t.Error("out of range index should be missing")
	}
	if v := Get(p, "s"); !v.Secret || v.V.StringValue() != "x" {
		t.Error("secret not unwrapped")
	}
	if n, ok := Get(p, "n").Num(); !ok || n != 12 {
		t.Error("numeric string")
	}
	if v := Get(p, "a", 1.5); !v.Missing {
		t.Error("bad path element")
	}
	if v := Get(nil, "x"); !v.Missing {
		t.Error("nil map")
	}
	if !ContainsUnknown(pv(M{"x": L{unknown()}})) || ContainsUnknown(pv(M{"x": L{"y"}})) {
		t.Error("ContainsUnknown")
	}
}

// disableAllBut returns level overrides that disable every rule but names.
func disableAllBut(names ...string) map[string]Level {
	out := map[string]Level{}
	for _, r := range All() {
		if !containsFold(names, r.Name) {
			out[r.Name] = Disabled
		}
	}
	return out
}

// TestUnknownDoesNotHideOtherViolations: an unknown property is "cannot tell
// yet" for that property only; a known bad property of the same resource
// still fails the rule.
func TestUnknownDoesNotHideOtherViolations(t *testing.T) {
	cases := []struct {
		rule, fixture  string
		bad, unknownAt []any
		badValue       any
	}{
		{"cognito-password-policy", "users", []any{"passwordPolicy", "minimumLength"}, []any{"passwordPolicy", "requireSymbols"}, 8},
		{"rds-cluster-encrypted-cmk", "db", []any{"storageEncrypted"}, []any{"kmsKeyId"}, false},
		{"cache-in-transit-encryption", "cache", []any{"transitEncryptionEnabled"}, []any{"transitEncryptionMode"}, false},
		{"cognito-client-hardening", "client", []any{"preventUserExistenceErrors"}, []any{"allowedOauthFlows"}, "LEGACY"},
		{"ecs-task-host-namespaces", "task", []any{"pidMode"}, []any{"networkMode"}, "host"},
		{"rds-instance-hardening", "legacy-db", []any{"username"}, []any{"enabledCloudwatchLogsExports"}, "postgres"},
		{"waf-web-acl-rules", "acl", []any{"visibilityConfig", "cloudwatchMetricsEnabled"}, []any{"rules", 1, "action"}, false},
	}
	for _, c := range cases {
		fs := compliantStack()
		f := find(fs, c.fixture)
		setAt(f.Props, c.bad, c.badValue)
		setAt(f.Props, c.unknownAt, unknown())
		vs := Evaluate("", build(prodStack, fs), Config{Levels: disableAllBut(c.rule)})
		fired := false
		for _, v := range vs {
			fired = fired || !v.Note
		}
		if !fired {
			t.Errorf("%s: %v unknown hid the violation of %v: %v", c.rule, c.unknownAt, c.bad, vs)
		}
	}
}
