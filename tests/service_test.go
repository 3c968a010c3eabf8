package tests

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// find returns the resource of a type with a logical name, failing otherwise.
func svcFind(t *testing.T, g *harness.Graph, typ, name string) *harness.Resource {
	t.Helper()
	r := g.Find(typ, name)
	if r == nil {
		t.Fatalf("no %s named %q", typ, name)
	}
	return r
}

func svcOut(r *harness.Resource, key string) string {
	v := r.Outputs[resource.PropertyKey(key)]
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

// containerDefinition is what the tests read from containerDefinitions:
// generic maps, so a field the program should not set is still seen.
type containerDefinition struct {
	Name                   string `json:"name"`
	Image                  string `json:"image"`
	User                   string `json:"user"`
	ReadonlyRootFilesystem bool   `json:"readonlyRootFilesystem"`
	Privileged             *bool  `json:"privileged"`
	Environment            []infra.KeyValuePair
	Secrets                []infra.ContainerSecret
	LogConfiguration       infra.LogConfiguration
	HealthCheck            infra.ContainerHealth
	StopTimeout            int                 `json:"stopTimeout"`
	PortMappings           []infra.PortMapping `json:"portMappings"`
	LinuxParameters        map[string]any      `json:"linuxParameters"`
}

func svcContainers(t *testing.T, g *harness.Graph) []containerDefinition {
	t.Helper()
	td := svcFind(t, g, "aws:ecs/taskDefinition:TaskDefinition", "service")
	var defs []containerDefinition
	if err := json.Unmarshal([]byte(propString(td, "containerDefinitions")), &defs); err != nil {
		t.Fatalf("containerDefinitions is not JSON: %v", err)
	}
	if len(defs) != 1 {
		t.Fatalf("want one container, got %d", len(defs))
	}
	return defs
}

// secretArns are the ARNs of the Secrets Manager secrets the stack creates
// (its own secrets and the RDS-managed master secret), by logical name.
func svcSecretArns(t *testing.T, g *harness.Graph) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range g.ByType("aws:secretsmanager/secret:Secret") {
		out[s.Name] = svcOut(s, "arn")
	}
	out["rds-master"] = svcDbSecretArn(t, g)
	return out
}

func svcDbSecretArn(t *testing.T, g *harness.Graph) string {
	t.Helper()
	c := only(t, g, "aws:rds/cluster:Cluster")
	secrets := c.Outputs["masterUserSecrets"]
	if !secrets.IsArray() || len(secrets.ArrayValue()) == 0 {
		t.Fatal("the cluster has no managed master secret")
	}
	return secrets.ArrayValue()[0].ObjectValue()["secretArn"].StringValue()
}

func svcKeyArn(t *testing.T, g *harness.Graph, name string) string {
	t.Helper()
	return svcOut(svcFind(t, g, "aws:kms/key:Key", name), "arn")
}

var (
	digestRef      = regexp.MustCompile(`^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$`)
	secretLooking  = regexp.MustCompile(`(?i)pass|secret|token|key|credential|auth|redis_url|database_url`)
	secretsManager = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+$`)
)

// TestServiceContainerDefinition: the task's container keeps the app's
// contract (app/README.md) and the platform's hardening rules.
func TestServiceContainerDefinition(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		c := svcContainers(t, g)[0]
		image := svcFind(t, g, "docker:index/image:Image", "service")
		if !digestRef.MatchString(c.Image) || c.Image != svcOut(image, "repoDigest") {
			t.Errorf("image = %q, want the pushed image's repoDigest %q (by digest, not tag)", c.Image, svcOut(image, "repoDigest"))
		}
		if !c.ReadonlyRootFilesystem {
			t.Error("root filesystem is writable")
		}
		if uid, _, _ := strings.Cut(c.User, ":"); uid == "" || uid == "0" || uid == "root" {
			t.Errorf("user = %q, want a non-root uid", c.User)
		}
		if c.Privileged != nil && *c.Privileged {
			t.Error("container is privileged")
		}
		if caps, _ := c.LinuxParameters["capabilities"].(map[string]any); caps == nil || !slices.Contains(svcStrings(caps["drop"]), "ALL") {
			t.Errorf("linuxParameters do not drop ALL capabilities: %v", c.LinuxParameters)
		}
		if c.StopTimeout != 30 {
			t.Errorf("stopTimeout = %d, want 30 (the app drains within 25 s)", c.StopTimeout)
		}
		if got := c.HealthCheck.Command; !slices.Equal(got, []string{"CMD", "/books", "healthcheck"}) {
			t.Errorf("health check = %v, want the app's healthcheck subcommand", got)
		}
		if len(c.PortMappings) != 1 || c.PortMappings[0].ContainerPort != 8080 {
			t.Errorf("port mappings = %+v, want 8080", c.PortMappings)
		}
		logGroup := svcFind(t, g, "aws:cloudwatch/logGroup:LogGroup", "service")
		lc := c.LogConfiguration
		if lc.LogDriver != "awslogs" || lc.Options["awslogs-group"] != svcOut(logGroup, "name") || lc.Options["awslogs-region"] == "" || lc.Options["awslogs-stream-prefix"] == "" {
			t.Errorf("log configuration = %+v, want awslogs to the service log group", lc)
		}
	})
}

// TestServiceEnvironmentHasNoSecrets: environment holds only plain values;
// every secret comes through `secrets:` from a secret this stack creates.
func TestServiceEnvironmentHasNoSecrets(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		c := svcContainers(t, g)[0]
		env := map[string]string{}
		for _, kv := range c.Environment {
			env[kv.Name] = kv.Value
			// A name ending in _ARN carries a reference, never the value.
			if secretLooking.MatchString(kv.Name) && !(strings.HasSuffix(kv.Name, "_ARN") && secretsManager.MatchString(kv.Value)) {
				t.Errorf("environment variable %s looks like a secret: use secrets:", kv.Name)
			}
			for key, secret := range harness.TestSecrets {
				if strings.Contains(kv.Value, secret) {
					t.Errorf("environment variable %s holds the value of %s", kv.Name, key)
				}
			}
			// The one reference in plain environment is the database's
			// rotating secret, which the app reads itself.
			if secretsManager.MatchString(kv.Value) && kv.Name != "DB_SECRET_ARN" {
				t.Errorf("environment variable %s names a secret (%s): pass it through secrets:", kv.Name, kv.Value)
			}
			if strings.Contains(kv.Value, "://") && strings.Contains(kv.Value, "@") {
				t.Errorf("environment variable %s holds a URL with credentials", kv.Name)
			}
		}
		db := only(t, g, "aws:rds/cluster:Cluster")
		want := map[string]string{
			"PGHOST":        svcOut(db, "endpoint"),
			"PGDATABASE":    propString(db, "databaseName"),
			"PGSSLMODE":     "require",
			"DB_SECRET_ARN": svcDbSecretArn(t, g),
			"AWS_REGION":    "eu-west-1",
			"PORT":          "8080",
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("environment %s = %q, want %q", k, env[k], v)
			}
		}

		created := svcSecretArns(t, g)
		wantSecrets := map[string]string{"BASIC_AUTH_PASSWORD": created["service-basic-auth"], "REDIS_URL": created["cache-url"]}
		got := map[string]string{}
		for _, s := range c.Secrets {
			got[s.Name] = s.ValueFrom
			arn, _, _ := strings.Cut(strings.TrimPrefix(s.ValueFrom, "arn:"), "::") // ARN:json-key:: form
			arn = "arn:" + arn
			if !secretsManager.MatchString(arn) || !slices.Contains(svcValues(created), arn) {
				t.Errorf("secret %s valueFrom %q is not a Secrets Manager secret of this stack", s.Name, s.ValueFrom)
			}
		}
		for k, v := range wantSecrets {
			if got[k] != v {
				t.Errorf("secret %s valueFrom = %q, want %q", k, got[k], v)
			}
		}
		if len(got) != len(wantSecrets) {
			t.Errorf("secrets = %v, want exactly %v", got, wantSecrets)
		}

		// The Basic-auth secret holds the stack secret, and stays secret.
		version := svcFind(t, g, "aws:secretsmanager/secretVersion:SecretVersion", "service-basic-auth")
		v := version.Inputs["secretString"]
		if !v.IsSecret() || v.SecretValue().Element.StringValue() != harness.TestSecrets[infra.KeyBasicAuthPassword] {
			t.Errorf("Basic-auth secret version is not the secret books:basicAuthPassword (secret=%v)", v.IsSecret())
		}
		if p := findPlain(svcFind(t, g, "aws:ecs/taskDefinition:TaskDefinition", "service").Inputs, harness.TestSecrets[infra.KeyBasicAuthPassword]); p != "" {
			t.Errorf("the task definition holds the Basic-auth password at %s", p)
		}
	})
}

// svcRolePolicy parses a role's inline policy.
func svcRolePolicy(t *testing.T, g *harness.Graph, name string) infra.PolicyDocument {
	t.Helper()
	var doc infra.PolicyDocument
	if err := json.Unmarshal([]byte(propString(svcFind(t, g, "aws:iam/rolePolicy:RolePolicy", name), "policy")), &doc); err != nil {
		t.Fatalf("policy of %s: %v", name, err)
	}
	return doc
}

// grants maps each action of a policy to its resources (sorted).
func svcGrants(t *testing.T, doc infra.PolicyDocument) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		for _, a := range st.Action {
			if strings.Contains(a, "*") {
				t.Errorf("wildcard action %q", a)
			}
			out[a] = append(out[a], st.Resource...)
			sort.Strings(out[a])
		}
	}
	return out
}

func svcSorted(s ...string) []string { sort.Strings(s); return s }

// TestServiceRolesAreLeastPrivilege: the execution role pulls, logs and
// reads exactly the container's secrets; the task role reads exactly the
// database secret. No wildcard actions; "*" only where AWS has no resource.
func TestServiceRolesAreLeastPrivilege(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		secrets := svcSecretArns(t, g)
		repo := svcFind(t, g, "aws:ecr/repository:Repository", "service")
		logGroup := svcFind(t, g, "aws:cloudwatch/logGroup:LogGroup", "service")
		want := map[string]map[string][]string{
			"service-execution": {
				"ecr:GetAuthorizationToken":       {"*"},
				"ecr:BatchCheckLayerAvailability": {svcOut(repo, "arn")},
				"ecr:GetDownloadUrlForLayer":      {svcOut(repo, "arn")},
				"ecr:BatchGetImage":               {svcOut(repo, "arn")},
				"logs:CreateLogStream":            {svcOut(logGroup, "arn") + ":log-stream:*"},
				"logs:PutLogEvents":               {svcOut(logGroup, "arn") + ":log-stream:*"},
				"secretsmanager:GetSecretValue":   svcSorted(secrets["service-basic-auth"], secrets["cache-url"]),
				"kms:Decrypt":                     svcSorted(svcKeyArn(t, g, "service"), svcKeyArn(t, g, "cache")),
			},
			"service-task": {
				"secretsmanager:GetSecretValue": {secrets["rds-master"]},
				"kms:Decrypt":                   {svcKeyArn(t, g, "database")},
			},
		}
		for role, wantGrants := range want {
			got := svcGrants(t, svcRolePolicy(t, g, role))
			for action, resources := range got {
				for _, r := range resources {
					if r == "" || (strings.HasSuffix(r, "*") && action != "ecr:GetAuthorizationToken" && !strings.HasSuffix(r, ":log-stream:*")) {
						t.Errorf("%s: %s on wildcard or empty resource %q", role, action, r)
					}
				}
			}
			if !svcGrantsEqual(got, wantGrants) {
				t.Errorf("%s grants:\n got %v\nwant %v", role, got, wantGrants)
			}
			r := svcFind(t, g, "aws:iam/role:Role", role)
			if !strings.Contains(propString(r, "assumeRolePolicy"), `"ecs-tasks.amazonaws.com"`) {
				t.Errorf("%s is not assumed by ECS tasks", role)
			}
		}
		td := svcFind(t, g, "aws:ecs/taskDefinition:TaskDefinition", "service")
		if propString(td, "executionRoleArn") != svcOut(svcFind(t, g, "aws:iam/role:Role", "service-execution"), "arn") ||
			propString(td, "taskRoleArn") != svcOut(svcFind(t, g, "aws:iam/role:Role", "service-task"), "arn") {
			t.Errorf("task definition roles: execution %q, task %q", propString(td, "executionRoleArn"), propString(td, "taskRoleArn"))
		}
	})
}

// TestServiceEncryption: repository, log group and Basic-auth secret use
// the service's customer key, whose policy lets CloudWatch Logs in this
// region use it for this account's log groups.
func TestServiceEncryption(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		key := svcFind(t, g, "aws:kms/key:Key", "service")
		arn := svcOut(key, "arn")
		repo := svcFind(t, g, "aws:ecr/repository:Repository", "service")
		if svcRepoKey(repo) != arn {
			t.Errorf("ECR repository not encrypted with the service key")
		}
		if propString(repo, "imageTagMutability") != "IMMUTABLE" || !propBool(repo, "imageScanningConfiguration", "scanOnPush") {
			t.Errorf("ECR repository: mutability %q, scanOnPush %v", propString(repo, "imageTagMutability"), propBool(repo, "imageScanningConfiguration", "scanOnPush"))
		}
		for _, r := range []*harness.Resource{svcFind(t, g, "aws:cloudwatch/logGroup:LogGroup", "service"), svcFind(t, g, "aws:secretsmanager/secret:Secret", "service-basic-auth")} {
			if propString(r, "kmsKeyId") != arn {
				t.Errorf("%s %s: kmsKeyId = %q, want the service key", r.Type, r.Name, propString(r, "kmsKeyId"))
			}
		}
		var doc infra.PolicyDocument
		if err := json.Unmarshal([]byte(propString(key, "policy")), &doc); err != nil {
			t.Fatalf("service key policy: %v", err)
		}
		logsOK := false
		for _, st := range doc.Statement {
			if st.Principal["Service"] == "logs.eu-west-1.amazonaws.com" {
				cond := st.Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
				logsOK = slices.Contains(st.Action, "kms:GenerateDataKey") && slices.Contains(st.Action, "kms:Decrypt") &&
					cond == "arn:aws:logs:eu-west-1:"+harness.Account+":log-group:*"
			}
		}
		if !logsOK {
			t.Errorf("service key policy does not let CloudWatch Logs use the key for this account's log groups:\n%s", propString(key, "policy"))
		}
		var lifecycle infra.LifecyclePolicy
		if err := json.Unmarshal([]byte(propString(svcFind(t, g, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "service"), "policy")), &lifecycle); err != nil || len(lifecycle.Rules) != 2 {
			t.Errorf("lifecycle policy: %v %+v", err, lifecycle)
		}
	})
}

func svcRepoKey(repo *harness.Resource) string {
	v := prop(repo, "encryptionConfigurations")
	if !v.IsArray() || len(v.ArrayValue()) == 0 {
		return ""
	}
	e := v.ArrayValue()[0]
	if !e.IsObject() || !e.ObjectValue()["kmsKey"].IsString() {
		return ""
	}
	return e.ObjectValue()["kmsKey"].StringValue()
}

// TestServiceLoadBalancer: an internal ALB in the private subnets, dropping
// invalid headers, deletion-protected in prod only, forwarding port 80 to
// an ip target group checked on /healthz. Logical names leave room for
// auto-naming's 8 characters within AWS's 32.
func TestServiceLoadBalancer(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		alb := svcFind(t, g, "aws:lb/loadBalancer:LoadBalancer", "service")
		if !propBool(alb, "internal") || propString(alb, "loadBalancerType") != "application" {
			t.Error("ALB is not an internal application load balancer")
		}
		if !propBool(alb, "dropInvalidHeaderFields") {
			t.Error("ALB does not drop invalid header fields")
		}
		if got := propBool(alb, "enableDeletionProtection"); got != (stack == "prod") {
			t.Errorf("deletion protection = %v in %s, want it only in prod", got, stack)
		}
		if !slices.Equal(propStrings(alb, "subnets"), subnetIDs(t, g, "private")) {
			t.Errorf("ALB subnets = %v, want the private ones", propStrings(alb, "subnets"))
		}
		if sgs := propStrings(alb, "securityGroups"); !slices.Equal(sgs, []string{sgByTier(t, g)["alb"]}) {
			t.Errorf("ALB security groups = %v, want the alb tier's", sgs)
		}
		tg := svcFind(t, g, "aws:lb/targetGroup:TargetGroup", "service")
		port, _ := propNumber(tg, "port")
		if propString(tg, "targetType") != "ip" || port != 8080 || propString(tg, "protocol") != "HTTP" {
			t.Errorf("target group: type %q port %v protocol %q", propString(tg, "targetType"), port, propString(tg, "protocol"))
		}
		if propString(tg, "healthCheck", "path") != "/healthz" || propString(tg, "healthCheck", "matcher") != "200" {
			t.Errorf("target group health check = %v", prop(tg, "healthCheck"))
		}
		if d, _ := propNumber(tg, "deregistrationDelay"); d <= 0 || d > 60 {
			t.Errorf("deregistration delay = %v, want short (≤ 60 s)", d)
		}
		checkStopTimings(t, svcContainers(t, g)[0], tg)
		l := svcFind(t, g, "aws:lb/listener:Listener", "service")
		lport, _ := propNumber(l, "port")
		if lport != 80 || propString(l, "protocol") != "HTTP" || propString(l, "loadBalancerArn") != svcOut(alb, "arn") {
			t.Errorf("listener is not HTTP port 80 of the ALB")
		}
		if !svcForwardsTo(l, svcOut(tg, "arn")) {
			t.Errorf("listener does not forward to the target group")
		}
		for _, r := range []*harness.Resource{alb, tg} {
			if len(r.Name) > 24 || len(svcOut(r, "name")) > 32 {
				t.Errorf("%s logical name %q too long for AWS's 32 characters after auto-naming", r.Type, r.Name)
			}
		}
		if !regexp.MustCompile(`^app/[^/]+/[0-9a-f]{16}$`).MatchString(svcOut(alb, "arnSuffix")) {
			t.Errorf("mock ALB arnSuffix %q is not realistic", svcOut(alb, "arnSuffix"))
		}
	})
}

func svcForwardsTo(l *harness.Resource, tgArn string) bool {
	v := prop(l, "defaultActions")
	if !v.IsArray() {
		return false
	}
	for _, a := range v.ArrayValue() {
		o := a.ObjectValue()
		if o["type"].IsString() && o["type"].StringValue() == "forward" && o["targetGroupArn"].IsString() && o["targetGroupArn"].StringValue() == tgArn {
			return true
		}
	}
	return false
}

// TestServiceCapacityProviders: dev runs on Fargate Spot, prod on demand.
func TestServiceCapacityProviders(t *testing.T) {
	want := map[string][]string{"dev": {"FARGATE_SPOT"}, "prod": {"FARGATE"}}
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		s := svcFind(t, g, "aws:ecs/service:Service", "service")
		var got []string
		for _, st := range prop(s, "capacityProviderStrategies").ArrayValue() {
			if w := st.ObjectValue()["weight"]; w.IsNumber() && w.NumberValue() > 0 {
				got = append(got, st.ObjectValue()["capacityProvider"].StringValue())
			}
		}
		if w, ok := want[stack]; ok && !slices.Equal(got, w) {
			t.Errorf("%s capacity providers = %v, want %v", stack, got, w)
		}
		if !prop(s, "launchType").IsNull() {
			t.Error("launchType set together with a capacity provider strategy")
		}
		cp := svcFind(t, g, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "service")
		if !slices.Equal(propStrings(cp, "capacityProviders"), []string{"FARGATE", "FARGATE_SPOT"}) {
			t.Errorf("cluster capacity providers = %v", propStrings(cp, "capacityProviders"))
		}
		cluster := svcFind(t, g, "aws:ecs/cluster:Cluster", "service")
		if !strings.Contains(prop(cluster, "settings").String(), "containerInsights") {
			t.Error("Container Insights is off")
		}
	})
	mixed := infra.CapacityStrategy(30)
	if len(mixed) != 2 || mixed[0].Provider != "FARGATE" || mixed[0].Weight != 70 || mixed[0].Base != 1 || mixed[1].Weight != 30 {
		t.Errorf("CapacityStrategy(30) = %+v, want 70 on demand (base 1) / 30 Spot", mixed)
	}
}

// TestServiceAutoscaling: bounds from config; CPU and requests per target,
// the latter labelled app/…/targetgroup/… from the ALB and target group.
func TestServiceAutoscaling(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		cfg := stackConfig(t, stack)
		target := svcFind(t, g, "aws:appautoscaling/target:Target", "service")
		lo, _ := propNumber(target, "minCapacity")
		hi, _ := propNumber(target, "maxCapacity")
		if int(lo) != cfg.Service.MinCount || int(hi) != cfg.Service.MaxCount {
			t.Errorf("autoscaling %v–%v, want %d–%d", lo, hi, cfg.Service.MinCount, cfg.Service.MaxCount)
		}
		cluster := svcOut(svcFind(t, g, "aws:ecs/cluster:Cluster", "service"), "name")
		service := svcOut(svcFind(t, g, "aws:ecs/service:Service", "service"), "name")
		if got := propString(target, "resourceId"); got != "service/"+cluster+"/"+service || propString(target, "scalableDimension") != "ecs:service:DesiredCount" {
			t.Errorf("scalable target %q %q", got, propString(target, "scalableDimension"))
		}
		label := svcOut(svcFind(t, g, "aws:lb/loadBalancer:LoadBalancer", "service"), "arnSuffix") + "/" +
			svcOut(svcFind(t, g, "aws:lb/targetGroup:TargetGroup", "service"), "arnSuffix")
		metrics := map[string]string{}
		for _, name := range []string{"service-cpu", "service-requests"} {
			p := svcFind(t, g, "aws:appautoscaling/policy:Policy", name)
			m := propString(p, "targetTrackingScalingPolicyConfiguration", "predefinedMetricSpecification", "predefinedMetricType")
			metrics[m] = propString(p, "targetTrackingScalingPolicyConfiguration", "predefinedMetricSpecification", "resourceLabel")
			if propString(p, "resourceId") != propString(target, "resourceId") || propString(p, "policyType") != "TargetTrackingScaling" {
				t.Errorf("policy %s does not track the service's target", p.Name)
			}
		}
		if _, ok := metrics["ECSServiceAverageCPUUtilization"]; !ok {
			t.Error("no CPU target tracking")
		}
		if got := metrics["ALBRequestCountPerTarget"]; got != label || !regexp.MustCompile(`^app/[^/]+/[0-9a-f]+/targetgroup/[^/]+/[0-9a-f]+$`).MatchString(got) {
			t.Errorf("requests-per-target label = %q, want %q", got, label)
		}
	})
}

// TestServiceImage: built for the configured platform, not on preview,
// tagged with the content hash of app/, pushed with the ECR token.
func TestServiceImage(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		cfg := stackConfig(t, stack)
		platform := infra.DockerPlatform(cfg.Service.Architecture)
		tag, err := infra.ImageTag(filepath.Join(root, "app"), platform)
		if err != nil {
			t.Fatal(err)
		}
		img := svcFind(t, g, "docker:index/image:Image", "service")
		if !strings.HasSuffix(propString(img, "imageName"), ":"+tag) || !strings.HasPrefix(propString(img, "imageName"), svcOut(svcFind(t, g, "aws:ecr/repository:Repository", "service"), "repositoryUrl")+":") {
			t.Errorf("imageName = %q, want the repository with tag %s", propString(img, "imageName"), tag)
		}
		if v := prop(img, "buildOnPreview"); !v.IsBool() || v.BoolValue() {
			t.Errorf("buildOnPreview = %v, want false (previews run without a Docker daemon)", v)
		}
		if propString(img, "build", "platform") != platform || propString(img, "build", "context") != "app" {
			t.Errorf("build platform %q context %q", propString(img, "build", "platform"), propString(img, "build", "context"))
		}
		if pw := prop(img, "registry"); !pw.IsObject() || !pw.ObjectValue()["password"].IsSecret() && !img.Inputs["registry"].IsSecret() {
			t.Errorf("registry password is not secret")
		}
	})
}

// TestServiceStatefulURNsArePinned: the repository (images), key, secret
// and log group keep their URNs.
func TestServiceStatefulURNsArePinned(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		for _, suffix := range []string{
			"books:infra:Service$aws:kms/key:Key::service",
			"books:infra:Service$aws:ecr/repository:Repository::service",
			"books:infra:Service$aws:secretsmanager/secret:Secret::service-basic-auth",
			"books:infra:Service$aws:cloudwatch/logGroup:LogGroup::service",
		} {
			if g.ByURN("urn:pulumi:"+stack+"::books::"+suffix) == nil {
				t.Errorf("service resource moved or renamed: %s (add pulumi.Aliases)", suffix)
			}
		}
	})
}

func svcStrings(v any) []string {
	var out []string
	if a, ok := v.([]any); ok {
		for _, e := range a {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func svcValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func svcGrantsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// checkStopTimings: the app's shutdown (app/README.md "Shutdown") fits the
// platform's: grace + the 10 s request timeout within SHUTDOWN_TIMEOUT, which
// is below the container's stopTimeout (else SIGKILL cuts the drain), which
// is at most the target group's deregistration delay (else the ALB cuts
// connections the app is still finishing).
func checkStopTimings(t *testing.T, c containerDefinition, tg *harness.Resource) {
	t.Helper()
	env := map[string]time.Duration{}
	for _, kv := range c.Environment {
		if kv.Name == "SHUTDOWN_GRACE" || kv.Name == "SHUTDOWN_TIMEOUT" {
			d, err := time.ParseDuration(kv.Value)
			if err != nil {
				t.Errorf("%s=%q is not a duration", kv.Name, kv.Value)
			}
			env[kv.Name] = d
		}
	}
	grace, timeout := env["SHUTDOWN_GRACE"], env["SHUTDOWN_TIMEOUT"]
	stop := time.Duration(c.StopTimeout) * time.Second
	dereg, _ := propNumber(tg, "deregistrationDelay")
	const requestTimeout = 10 * time.Second // the app's REQUEST_TIMEOUT default
	if grace <= 0 || grace+requestTimeout > timeout || timeout >= stop || stop > time.Duration(dereg)*time.Second {
		t.Errorf("stop timings: SHUTDOWN_GRACE %v + request timeout %v ≤ SHUTDOWN_TIMEOUT %v < stopTimeout %v ≤ deregistration delay %vs does not hold",
			grace, requestTimeout, timeout, stop, dereg)
	}
}
