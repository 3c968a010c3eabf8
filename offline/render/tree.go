package render

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/books-platform/books/offline/standin"
)

// Settings are the inputs a reviewer looks at first, per type token. Types
// not listed show none; every resource still appears in the tree.
var Settings = map[string][]string{
	"awsx:ec2:Vpc":                                              {"cidrBlock", "numberOfAvailabilityZones", "natGateways", "subnetStrategy"},
	"aws:ec2/flowLog:FlowLog":                                   {"trafficType", "logDestinationType"},
	"aws:cloudwatch/logGroup:LogGroup":                          {"retentionInDays", "kmsKeyId"},
	"aws:kms/key:Key":                                           {"enableKeyRotation", "deletionWindowInDays"},
	"aws:rds/cluster:Cluster":                                   {"engine", "engineVersion", "serverlessv2ScalingConfiguration", "storageEncrypted", "deletionProtection", "backupRetentionPeriod", "manageMasterUserPassword", "iamDatabaseAuthenticationEnabled"},
	"aws:rds/clusterInstance:ClusterInstance":                   {"instanceClass", "publiclyAccessible", "performanceInsightsEnabled", "monitoringInterval"},
	"aws:elasticache/replicationGroup:ReplicationGroup":         {"engine", "engineVersion", "nodeType", "numCacheClusters", "automaticFailoverEnabled", "multiAzEnabled", "transitEncryptionEnabled", "atRestEncryptionEnabled", "authToken"},
	"aws:ecr/repository:Repository":                             {"imageTagMutability", "imageScanningConfiguration", "encryptionConfigurations"},
	"aws:ecs/cluster:Cluster":                                   {"settings"},
	"aws:ecs/service:Service":                                   {"desiredCount", "launchType", "capacityProviderStrategies", "networkConfiguration.assignPublicIp", "deploymentCircuitBreaker", "healthCheckGracePeriodSeconds"},
	"aws:ecs/taskDefinition:TaskDefinition":                     {"cpu", "memory", "runtimePlatform", "networkMode"},
	"aws:lb/loadBalancer:LoadBalancer":                          {"loadBalancerType", "internal", "deletionProtection", "dropInvalidHeaderFields"},
	"aws:lb/targetGroup:TargetGroup":                            {"targetType", "port", "protocol", "healthCheck.path", "deregistrationDelay"},
	"aws:lb/listener:Listener":                                  {"port", "protocol"},
	"aws:apigateway/stage:Stage":                                {"stageName", "cacheClusterEnabled", "cacheClusterSize", "xrayTracingEnabled"},
	"aws:apigateway/methodSettings:MethodSettings":              {"methodPath", "settings"},
	"aws:apigateway/method:Method":                              {"httpMethod", "authorization"},
	"aws:cognito/userPool:UserPool":                             {"deletionProtection", "mfaConfiguration", "passwordPolicy.minimumLength"},
	"aws:wafv2/webAcl:WebAcl":                                   {"scope"},
	"aws:sns/topic:Topic":                                       {"kmsMasterKeyId"},
	"aws:cloudwatch/metricAlarm:MetricAlarm":                    {"metricName", "threshold", "comparisonOperator"},
	"aws:lambda/function:Function":                              {"runtime", "timeout", "memorySize"},
	"aws:s3/bucketV2:BucketV2":                                  {"forceDestroy"},
	"aws:appautoscaling/target:Target":                          {"minCapacity", "maxCapacity"},
	"docker:index/image:Image":                                  {"imageName", "build.platform"},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {"ipProtocol", "fromPort", "toPort", "cidrIpv4"},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   {"ipProtocol", "fromPort", "toPort", "cidrIpv4"},
}

// Tree writes the reviewer's view: the resources as a tree by parent with
// their key settings, totals per type, the stack outputs, and every input
// that is unknown until apply.
func Tree(w io.Writer, p *Preview) error {
	rs := p.Resources()
	stack, project := p.Stack()
	bw := &errWriter{w: w}
	if p.Offline() {
		bw.printf("%s\n\n", standin.Banner)
	}
	bw.printf("stack %s (project %s): %s\n\n", stack, project, summary(p.ChangeSummary))

	children := map[string][]Resource{}
	byURN := map[string]bool{}
	for _, r := range rs {
		byURN[r.URN] = true
	}
	for _, r := range rs {
		parent := r.Parent
		if !byURN[parent] {
			parent = ""
		}
		children[parent] = append(children[parent], r)
	}
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		kids := children[parent]
		sort.SliceStable(kids, func(i, j int) bool {
			if kids[i].Custom != kids[j].Custom {
				return !kids[i].Custom // components first
			}
			if kids[i].Type != kids[j].Type {
				return kids[i].Type < kids[j].Type
			}
			return kids[i].Name < kids[j].Name
		})
		for _, r := range kids {
			indent := strings.Repeat("  ", depth)
			bw.printf("%s%s %s %s%s\n", indent, opSymbol(r.Op), r.Type, r.Name, flags(r))
			for _, s := range settingsOf(r) {
				bw.printf("%s    %s\n", indent, s)
			}
			walk(r.URN, depth+1)
		}
	}
	walk("", 0)

	bw.printf("\nTotals per type (%d resources):\n", len(rs))
	counts := CountByType(rs)
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		bw.printf("  %4d  %s\n", counts[t], t)
	}

	if outs := p.StackOutputs(); len(outs) > 0 {
		bw.printf("\nStack outputs:\n")
		for _, k := range sortedKeys(outs) {
			bw.printf("  %-24s %s\n", k, show(outs[k]))
		}
	} else {
		bw.printf("\nStack outputs: not in the document (`pulumi preview --json` omits them; the offline preview's events.jsonl beside it has them)\n")
	}

	bw.printf("\nUnknown until apply (inputs computed from resources not created yet):\n")
	n := 0
	sorted := slices.Clone(rs)
	sort.SliceStable(sorted, func(i, j int) bool { return Key(sorted[i].URN) < Key(sorted[j].URN) })
	for _, r := range sorted {
		if paths := UnknownPaths(r.Inputs); len(paths) > 0 {
			n++
			bw.printf("  %s %s: %s\n", r.Type, r.Name, strings.Join(collapse(paths), ", "))
		}
	}
	if n == 0 {
		bw.printf("  (none)\n")
	}
	return bw.err
}

// collapse shortens "subnetIds[0]", "subnetIds[1]" to "subnetIds[*]".
func collapse(paths []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		q := indexRE(p)
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	return out
}

func indexRE(p string) string {
	var b strings.Builder
	in := false
	for _, c := range p {
		switch {
		case c == '[':
			in = true
			b.WriteString("[*]")
		case c == ']':
			in = false
		case !in:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func summary(cs map[string]int) string {
	if len(cs) == 0 {
		return "no changes"
	}
	var parts []string
	for _, op := range sortedKeys(cs) {
		parts = append(parts, fmt.Sprintf("%d to %s", cs[op], op))
	}
	return strings.Join(parts, ", ")
}

func opSymbol(op string) string {
	switch op {
	case "create":
		return "+"
	case "update":
		return "~"
	case "delete":
		return "-"
	case "replace", "create-replacement", "delete-replaced":
		return "+-"
	case "same":
		return " "
	}
	return "?"
}

func flags(r Resource) string {
	var f []string
	if r.Protect {
		f = append(f, "protected")
	}
	if r.Type == "awsx:ec2:Vpc" {
		f = append(f, "remote component: its VPC, subnets, route tables and NAT gateways are created by awsx")
	}
	if len(f) == 0 {
		return ""
	}
	return "  [" + strings.Join(f, "; ") + "]"
}

func settingsOf(r Resource) []string {
	var out []string
	for _, path := range Settings[r.Type] {
		v, ok := lookup(r.Inputs, path)
		if !ok {
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s", path, show(v)))
	}
	return out
}

// lookup follows a dotted path through objects.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// show renders a value on one line: unknown values as "(known after
// apply)", secrets as "[secret]", long values shortened.
func show(v any) string {
	if IsUnknown(v) {
		return "(known after apply)"
	}
	var s string
	switch t := v.(type) {
	case string:
		s = fmt.Sprintf("%q", t)
	default:
		b, err := json.Marshal(replaceUnknowns(v))
		if err != nil {
			s = fmt.Sprint(v)
		} else {
			s = string(b)
		}
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func replaceUnknowns(v any) any {
	switch t := v.(type) {
	case string:
		if t == Unknown {
			return "(known after apply)"
		}
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = replaceUnknowns(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = replaceUnknowns(e)
		}
		return out
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
