package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/books-platform/books/policy/rules"
)

// stubEngine is the engine's gRPC service the analyzer may call back (Log).
type stubEngine struct {
	pulumirpc.UnimplementedEngineServer
	mu   sync.Mutex
	logs []string
}

func (e *stubEngine) Log(_ context.Context, req *pulumirpc.LogRequest) (*emptypb.Empty, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = append(e.logs, req.GetMessage())
	return &emptypb.Empty{}, nil
}

func startEngine(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pulumirpc.RegisterEngineServer(srv, &stubEngine{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// startPack builds the pack and starts it the way the engine does for a Go
// policy pack: the language host (pulumi-language-go RunPlugin) builds the
// program in the PulumiPolicy.yaml directory and runs it with the engine
// address as its only argument; the pack prints its gRPC port on stdout.
// (The offline preview's launcher, offline.InstallAnalyzers, passes "<engine> ." and runs in
// the pack directory; policyx.Main ignores its arguments, so both work.)
func startPack(t *testing.T, engineAddr string) pulumirpc.AnalyzerClient {
	t.Helper()
	packDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "books-policy")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = packDir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, engineAddr)
	cmd.Dir = packDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("pack stderr:\n%s", stderr.String())
		}
	})

	portc := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		portc <- strings.TrimSpace(line)
	}()
	var port string
	select {
	case port = <-portc:
	case <-time.After(60 * time.Second):
		t.Fatalf("pack did not print its port; stderr:\n%s", stderr.String())
	}
	if _, err := strconv.Atoi(port); err != nil {
		t.Fatalf("first stdout line %q is not a port; stderr:\n%s", port, stderr.String())
	}
	conn, err := grpc.NewClient("127.0.0.1:"+port, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return pulumirpc.NewAnalyzerClient(conn)
}

func marshal(t *testing.T, props resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(props, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func urn(stack, typ, name string) string {
	return "urn:pulumi:" + stack + "::books::" + typ + "::" + name
}

type diag struct {
	Policy string
	Level  pulumirpc.EnforcementLevel
	URN    string
}

func diags(ds []*pulumirpc.AnalyzeDiagnostic) []diag {
	out := make([]diag, 0, len(ds))
	for _, d := range ds {
		out = append(out, diag{d.GetPolicyName(), d.GetEnforcementLevel(), d.GetUrn()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Policy != out[j].Policy {
			return out[i].Policy < out[j].Policy
		}
		return out[i].URN < out[j].URN
	})
	return out
}

func TestPolicyPackYAML(t *testing.T) {
	proj, err := workspace.LoadPolicyPack("PulumiPolicy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if proj.Runtime.Name() != "go" || proj.Description == nil || *proj.Description == "" {
		t.Fatalf("PulumiPolicy.yaml: runtime %q, description %v", proj.Runtime.Name(), proj.Description)
	}
	if proj.Version != PackVersion.String() {
		t.Errorf("PulumiPolicy.yaml version %q, pack version %s", proj.Version, PackVersion)
	}
}

func TestAnalyzerProtocol(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the pack binary")
	}
	engineAddr := startEngine(t)
	client := startPack(t, engineAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	dir, _ := filepath.Abs(".")
	if _, err := client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{
		EngineAddress: engineAddr, RootDirectory: &dir, ProgramDirectory: &dir,
	}); err != nil {
		t.Fatalf("Handshake: %v", err)
	}
	if _, err := client.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{
		Stack: "dev", Project: "books", Organization: "books-platform", DryRun: true,
		Config: map[string]string{"books:environment": "dev", ProdPatternConfigKey: "^prod$"},
	}); err != nil {
		t.Fatalf("ConfigureStack: %v", err)
	}

	info, err := client.GetAnalyzerInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatalf("GetAnalyzerInfo: %v", err)
	}
	if info.GetName() != PackName || info.GetVersion() != PackVersion.String() || !info.GetSupportsConfig() {
		t.Errorf("analyzer info: name %q version %q supportsConfig %v", info.GetName(), info.GetVersion(), info.GetSupportsConfig())
	}
	var names []string
	for _, p := range info.GetPolicies() {
		names = append(names, p.GetName())
		want := pulumirpc.EnforcementLevel_ADVISORY
		if r, ok := rules.Lookup(p.GetName()); ok && r.DefaultLevel == rules.Mandatory {
			want = pulumirpc.EnforcementLevel_MANDATORY
		}
		if p.GetEnforcementLevel() != want {
			t.Errorf("policy %s level %v, want %v", p.GetName(), p.GetEnforcementLevel(), want)
		}
		if p.GetDescription() == "" {
			t.Errorf("policy %s has no description", p.GetName())
		}
	}
	sort.Strings(names)
	if !reflect.DeepEqual(names, policyNames()) {
		t.Errorf("policies:\n got %v\nwant %v", names, policyNames())
	}
	if len(names) != len(rules.All())+1 {
		t.Errorf("%d policies for %d rules", len(names), len(rules.All()))
	}
	if pi, err := client.GetPluginInfo(ctx, &emptypb.Empty{}); err != nil || pi.GetVersion() != PackVersion.String() {
		t.Errorf("GetPluginInfo: %v %v", pi, err)
	}

	configure := func(levels map[string]pulumirpc.EnforcementLevel, props map[string]map[string]any) {
		t.Helper()
		req := &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: map[string]*pulumirpc.PolicyConfig{}}
		for _, p := range info.GetPolicies() { // the engine sends every policy's effective config
			s, _ := structpb.NewStruct(props[p.GetName()])
			lvl := p.GetEnforcementLevel()
			if l, ok := levels[p.GetName()]; ok {
				lvl = l
			}
			req.PolicyConfig[p.GetName()] = &pulumirpc.PolicyConfig{EnforcementLevel: lvl, Properties: s}
		}
		if _, err := client.Configure(ctx, req); err != nil {
			t.Fatalf("Configure: %v", err)
		}
	}
	analyze := func(stack, typ, name string, props resource.PropertyMap) []diag {
		t.Helper()
		resp, err := client.Analyze(ctx, &pulumirpc.AnalyzeRequest{
			Type: typ, Name: name, Urn: urn(stack, typ, name), Properties: marshal(t, props),
		})
		if err != nil {
			t.Fatalf("Analyze %s: %v", name, err)
		}
		for _, d := range resp.GetDiagnostics() {
			if d.GetPolicyPackName() != PackName || d.GetPolicyPackVersion() != PackVersion.String() || d.GetMessage() == "" {
				t.Errorf("diagnostic metadata: %+v", d)
			}
		}
		return diags(resp.GetDiagnostics())
	}
	configure(nil, nil)

	// One compliant and one violating SNS topic.
	good := resource.PropertyMap{"kmsMasterKeyId": resource.NewStringProperty("arn:aws:kms:eu-west-1:123456789012:key/sns")}
	if got := analyze("dev", rules.TypeSNSTopic, "good", good); len(got) != 0 {
		t.Errorf("compliant topic: %v", got)
	}
	bad := resource.PropertyMap{"name": resource.NewStringProperty("alarms")}
	want := []diag{{"sns-topic-kms", pulumirpc.EnforcementLevel_MANDATORY, urn("dev", rules.TypeSNSTopic, "bad")}}
	if got := analyze("dev", rules.TypeSNSTopic, "bad", bad); !reflect.DeepEqual(got, want) {
		t.Errorf("unencrypted topic: got %v, want %v", got, want)
	}
	// The message says how to fix it.
	resp, _ := client.Analyze(ctx, &pulumirpc.AnalyzeRequest{Type: rules.TypeSNSTopic, Name: "bad", Urn: urn("dev", rules.TypeSNSTopic, "bad"), Properties: marshal(t, bad)})
	if len(resp.GetDiagnostics()) != 1 || !strings.Contains(resp.GetDiagnostics()[0].GetMessage(), "set kmsMasterKeyId") {
		t.Errorf("message: %v", resp.GetDiagnostics())
	}
	// Unknown (computed) and secret values, as the engine sends them in a preview.
	unknownKey := resource.PropertyMap{"kmsMasterKeyId": resource.MakeComputed(resource.NewStringProperty(""))}
	if got := analyze("dev", rules.TypeSNSTopic, "unknown", unknownKey); len(got) != 0 {
		t.Errorf("unknown key: %v", got)
	}
	secretKey := resource.PropertyMap{"kmsMasterKeyId": resource.MakeSecret(resource.NewStringProperty("arn:aws:kms:eu-west-1:1:key/x"))}
	if got := analyze("dev", rules.TypeSNSTopic, "secret", secretKey); len(got) != 0 {
		t.Errorf("secret key: %v", got)
	}
	// A task definition with a connection URL in plain environment.
	td := resource.PropertyMap{"containerDefinitions": resource.NewStringProperty(`[{"name":"app","user":"65532","readonlyRootFilesystem":true,
		"logConfiguration":{"logDriver":"awslogs"},"environment":[{"name":"REDIS_URL","value":"rediss://:tok@cache:6379"}]}]`)}
	if got := analyze("dev", rules.TypeECSTaskDefinition, "task", td); len(got) != 1 || got[0].Policy != "ecs-task-no-env-secrets" {
		t.Errorf("task definition: %v", got)
	}

	// Prod-only rules follow the stack name in the URN and the configured pattern (^prod$).
	lb := resource.PropertyMap{"internal": resource.NewBoolProperty(true), "loadBalancerType": resource.NewStringProperty("network"),
		"subnets": resource.NewPropertyValue([]any{"subnet-a", "subnet-b"})}
	if got := analyze("dev", rules.TypeLB, "nlb", lb); len(got) != 0 {
		t.Errorf("dev load balancer: %v", got)
	}
	if got := analyze("prod-eu", rules.TypeLB, "nlb", lb); len(got) != 0 {
		t.Errorf("prod-eu does not match ^prod$: %v", got)
	}
	if got := analyze("prod", rules.TypeLB, "nlb", lb); len(got) != 1 || got[0].Policy != "lb-deletion-protection" {
		t.Errorf("prod load balancer: %v", got)
	}
	// Per-policy config property overrides the pattern for a resource policy.
	configure(nil, map[string]map[string]any{"lb-deletion-protection": {ProdPatternProperty: "^prod"}})
	if got := analyze("prod-eu", rules.TypeLB, "nlb", lb); len(got) != 1 || got[0].Policy != "lb-deletion-protection" {
		t.Errorf("prodStackPattern property: %v", got)
	}

	// Enforcement levels come from policy config.
	configure(map[string]pulumirpc.EnforcementLevel{"sns-topic-kms": pulumirpc.EnforcementLevel_ADVISORY}, nil)
	want[0].Level = pulumirpc.EnforcementLevel_ADVISORY
	if got := analyze("dev", rules.TypeSNSTopic, "bad", bad); !reflect.DeepEqual(got, want) {
		t.Errorf("advisory override: got %v, want %v", got, want)
	}
	configure(map[string]pulumirpc.EnforcementLevel{"sns-topic-kms": pulumirpc.EnforcementLevel_DISABLED}, nil)
	if got := analyze("dev", rules.TypeSNSTopic, "bad", bad); len(got) != 0 {
		t.Errorf("disabled: %v", got)
	}
	configure(nil, nil)

	// Stack analysis: a bucket without companions, a VPC whose flow log is
	// matched by property dependencies although its vpcId is unknown, and an
	// awsx VPC whose flow log target cannot be told yet.
	bucketURN := urn("dev", rules.TypeS3BucketV2, "payload")
	vpcURN := urn("dev", rules.TypeVPC, "vpc")
	awsxURN := urn("dev", rules.TypeAwsxVPC, "network")
	unknownStr := resource.MakeComputed(resource.NewStringProperty(""))
	stackReq := &pulumirpc.AnalyzeStackRequest{Resources: []*pulumirpc.AnalyzerResource{
		{Type: rules.TypeS3BucketV2, Name: "payload", Urn: bucketURN, Properties: marshal(t, resource.PropertyMap{"bucket": unknownStr})},
		{Type: rules.TypeVPC, Name: "vpc", Urn: vpcURN, Properties: marshal(t, resource.PropertyMap{"cidrBlock": resource.NewStringProperty("10.0.0.0/16")})},
		{Type: rules.TypeFlowLog, Name: "vpc-flow", Urn: urn("dev", rules.TypeFlowLog, "vpc-flow"),
			Properties:           marshal(t, resource.PropertyMap{"vpcId": unknownStr, "trafficType": resource.NewStringProperty("ALL")}),
			Dependencies:         []string{vpcURN},
			PropertyDependencies: map[string]*pulumirpc.AnalyzerPropertyDependencies{"vpcId": {Urns: []string{vpcURN}}}},
		{Type: rules.TypeAwsxVPC, Name: "network", Urn: awsxURN, Properties: marshal(t, resource.PropertyMap{"vpcId": unknownStr})},
		{Type: rules.TypeFlowLog, Name: "network-flow", Urn: urn("dev", rules.TypeFlowLog, "network-flow"),
			Properties: marshal(t, resource.PropertyMap{"vpcId": unknownStr})},
	}}
	sresp, err := client.AnalyzeStack(ctx, stackReq)
	if err != nil {
		t.Fatalf("AnalyzeStack: %v", err)
	}
	wantStack := []diag{
		{NotesPolicy, pulumirpc.EnforcementLevel_ADVISORY, awsxURN},
		{"s3-access-logging", pulumirpc.EnforcementLevel_ADVISORY, bucketURN},
		{"s3-default-encryption", pulumirpc.EnforcementLevel_MANDATORY, bucketURN},
		{"s3-lifecycle", pulumirpc.EnforcementLevel_ADVISORY, bucketURN},
		{"s3-public-access-block", pulumirpc.EnforcementLevel_MANDATORY, bucketURN},
		{"s3-tls-only", pulumirpc.EnforcementLevel_MANDATORY, bucketURN},
		{"vpc-default-sg-closed", pulumirpc.EnforcementLevel_MANDATORY, vpcURN},
		{"vpc-default-sg-closed", pulumirpc.EnforcementLevel_MANDATORY, awsxURN},
	}
	if got := diags(sresp.GetDiagnostics()); !reflect.DeepEqual(got, wantStack) {
		t.Errorf("AnalyzeStack:\n got %v\nwant %v", got, wantStack)
		for _, d := range sresp.GetDiagnostics() {
			t.Logf("%s: %s", d.GetPolicyName(), d.GetMessage())
		}
	}

	if _, err := client.Cancel(ctx, &emptypb.Empty{}); err != nil {
		t.Errorf("Cancel: %v", err)
	}
}
