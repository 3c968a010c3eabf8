package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func invoke(t *testing.T, p *Provider, tok string, args resource.PropertyMap) (resource.PropertyMap, error) {
	t.Helper()
	st, err := plugin.MarshalProperties(args, plugin.MarshalOptions{KeepSecrets: true, KeepUnknowns: true})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: tok, Args: st})
	if err != nil {
		return nil, err
	}
	return plugin.UnmarshalProperties(resp.GetReturn(), plugin.MarshalOptions{KeepSecrets: true, KeepUnknowns: true})
}

func statement(fields map[string]any) resource.PropertyValue {
	return resource.NewProperty(resource.NewPropertyMapFromMap(fields))
}

func TestPolicyDocumentRendersLikeTheProvider(t *testing.T) {
	args := resource.PropertyMap{"statements": resource.NewProperty([]resource.PropertyValue{
		statement(map[string]any{
			"sid":       "Read",
			"actions":   []any{"s3:GetObject", "s3:ListBucket", "s3:GetObject"},
			"resources": []any{"arn:aws:s3:::b/*"},
			"principals": []any{map[string]any{
				"type": "Service", "identifiers": []any{"ecs-tasks.amazonaws.com"},
			}},
			"conditions": []any{map[string]any{
				"test": "StringEquals", "variable": "aws:SourceAccount", "values": []any{"123456789012"},
			}},
		}),
		statement(map[string]any{"effect": "Deny", "actions": []any{"*"}, "notResources": []any{"x", "y"}}),
	})}
	out, err := invoke(t, NewAWS(), "aws:iam/getPolicyDocument:getPolicyDocument", args)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"Read","Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":"arn:aws:s3:::b/*",` +
		`"Principal":{"Service":"ecs-tasks.amazonaws.com"},"Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}},` +
		`{"Effect":"Deny","Action":"*","NotResource":["y","x"]}]}`
	if got := out["minifiedJson"].StringValue(); got != want {
		t.Errorf("minifiedJson:\n got %s\nwant %s", got, want)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(out["json"].StringValue())); err != nil || compact.String() != want {
		t.Errorf("json and minifiedJson differ (%v): %s", err, out["json"].StringValue())
	}
	if !strings.Contains(out["json"].StringValue(), "\n  ") {
		t.Error("json is not indented")
	}
}

func TestPolicyDocumentMergesSourceAndOverrideBySid(t *testing.T) {
	args := resource.PropertyMap{
		"sourcePolicyDocuments":   resource.NewProperty([]resource.PropertyValue{resource.NewProperty(`{"Statement":[{"Sid":"A","Effect":"Allow","Action":"a:1","Resource":"*"},{"Sid":"B","Effect":"Allow","Action":"b:1","Resource":"*"}]}`)}),
		"statements":              resource.NewProperty([]resource.PropertyValue{statement(map[string]any{"sid": "B", "actions": []any{"b:2"}, "resources": []any{"r"}})}),
		"overridePolicyDocuments": resource.NewProperty([]resource.PropertyValue{resource.NewProperty(`{"Statement":{"Sid":"A","Effect":"Deny","Action":"a:2","Resource":"*"}}`)}),
	}
	out, err := invoke(t, NewAWS(), "aws:iam/getPolicyDocument:getPolicyDocument", args)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","Action":"a:2","Resource":"*"},{"Sid":"B","Effect":"Allow","Action":"b:2","Resource":"r"}]}`
	if got := out["minifiedJson"].StringValue(); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestPolicyDocumentWithUnknownInputIsUnknown(t *testing.T) {
	args := resource.PropertyMap{"statements": resource.NewProperty([]resource.PropertyValue{
		statement(map[string]any{"actions": []any{"s3:GetObject"}}),
	})}
	args["statements"].ArrayValue()[0].ObjectValue()["resources"] = resource.NewProperty([]resource.PropertyValue{
		resource.MakeComputed(resource.NewProperty("")),
	})
	out, err := invoke(t, NewAWS(), "aws:iam/getPolicyDocument:getPolicyDocument", args)
	if err != nil {
		t.Fatal(err)
	}
	if !out["json"].IsComputed() {
		t.Errorf("json = %v, want unknown: a statement refers to a value not known yet", out["json"])
	}
}

func TestDataSourcesAreFakeAndRegional(t *testing.T) {
	p := NewAWS()
	p.config = Config{"region": "eu-west-1"}
	id, err := invoke(t, p, "aws:index/getCallerIdentity:getCallerIdentity", nil)
	if err != nil {
		t.Fatal(err)
	}
	if id["accountId"].StringValue() != FakeAccountID {
		t.Errorf("accountId = %v", id["accountId"])
	}
	azs, err := invoke(t, p, "aws:index/getAvailabilityZones:getAvailabilityZones", nil)
	if err != nil {
		t.Fatal(err)
	}
	if names := azs["names"].ArrayValue(); len(names) != 6 || names[0].StringValue() != "eu-west-1a" {
		t.Errorf("names = %v", azs["names"])
	}
	if azs["zoneIds"].ArrayValue()[2].StringValue() != "euw1-az3" {
		t.Errorf("zoneIds = %v", azs["zoneIds"])
	}
	tok, err := invoke(t, p, "aws:ecr/getAuthorizationToken:getAuthorizationToken", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Plain, as the real provider's: a plain invoke rejects secret results.
	if tok["password"].IsSecret() || tok["authorizationToken"].IsSecret() {
		t.Error("invoke results must not be secret-wrapped")
	}
	if got := tok["proxyEndpoint"].StringValue(); got != "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com" {
		t.Errorf("proxyEndpoint = %s", got)
	}
}

func TestSecretArgumentsAreUnwrapped(t *testing.T) {
	args := resource.PropertyMap{"statements": resource.NewProperty([]resource.PropertyValue{
		statement(map[string]any{"actions": []any{"s3:GetObject"}, "resources": []any{"r"}}),
	})}
	args["policyId"] = resource.MakeSecret(resource.NewProperty("hidden-id"))
	out, err := invoke(t, NewAWS(), "aws:iam/getPolicyDocument:getPolicyDocument", args)
	if err != nil {
		t.Fatal(err)
	}
	if out["json"].IsSecret() || !strings.Contains(out["json"].StringValue(), `"Id": "hidden-id"`) {
		t.Errorf("json = %v: want the secret argument's value, plain (the SDK re-wraps output invokes)", out["json"])
	}
}

func TestUnansweredDataSourceFailsLoudly(t *testing.T) {
	_, err := invoke(t, NewAWS(), "aws:ec2/getAmi:getAmi", nil)
	if err == nil || !strings.Contains(err.Error(), "aws:ec2/getAmi:getAmi") || !strings.Contains(err.Error(), "offline/standin") {
		t.Errorf("err = %v, want one naming the token and where to add it", err)
	}
}

func TestOnlyPreviewsAreAllowed(t *testing.T) {
	p := NewAWS()
	props := &resource.PropertyMap{}
	st, _ := plugin.MarshalProperties(*props, plugin.MarshalOptions{})
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Urn: "urn:x", Properties: st, Preview: true})
	if err != nil || resp.GetId() != "" {
		t.Errorf("preview create: id %q, err %v; want no id (outputs unknown)", resp.GetId(), err)
	}
	if _, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Urn: "urn:x", Properties: st}); !errors.Is(err, ErrNotPreview) {
		t.Errorf("create outside a preview: err = %v, want ErrNotPreview", err)
	}
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: "urn:x"}); !errors.Is(err, ErrNotPreview) {
		t.Errorf("delete: err = %v", err)
	}
	if _, err := NewAWSX().Construct(context.Background(), &pulumirpc.ConstructRequest{Type: "awsx:ec2:Vpc", DryRun: false}); !errors.Is(err, ErrNotPreview) {
		t.Errorf("construct outside a preview: err = %v", err)
	}
	if _, err := NewAWSX().Construct(context.Background(), &pulumirpc.ConstructRequest{Type: "awsx:ecs:FargateService", DryRun: true}); err == nil {
		t.Error("construct of an unknown component succeeded")
	}
}

// The stand-ins report the plugin versions of the SDKs the program uses.
func TestVersionsMatchGoMod(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for module, version := range map[string]string{
		"github.com/pulumi/pulumi-aws/sdk/v6":    AWSVersion,
		"github.com/pulumi/pulumi-awsx/sdk/v2":   AWSXVersion,
		"github.com/pulumi/pulumi-docker/sdk/v4": DockerVersion,
	} {
		m := regexp.MustCompile(regexp.QuoteMeta(module) + ` v(\S+)`).FindSubmatch(raw)
		if m == nil {
			t.Errorf("%s not in go.mod", module)
		} else if string(m[1]) != version {
			t.Errorf("%s is v%s in go.mod, the stand-in reports %s", module, m[1], version)
		}
	}
}

// Served over gRPC, the provider answers the engine's first calls.
func TestServeHandshake(t *testing.T) {
	p := NewDocker()
	port, stop, err := Serve(p)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	conn, err := grpc.NewClient("127.0.0.1:"+itoa(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pulumirpc.NewResourceProviderClient(conn)
	hs, err := client.Handshake(context.Background(), &pulumirpc.ProviderHandshakeRequest{})
	if err != nil || !hs.GetAcceptSecrets() {
		t.Fatalf("handshake: %v %v", hs, err)
	}
	info, err := client.GetPluginInfo(context.Background(), nil)
	if err != nil || info.GetVersion() != DockerVersion {
		t.Fatalf("plugin info: %v %v", info, err)
	}
	cfg, err := client.Configure(context.Background(), &pulumirpc.ConfigureRequest{})
	if err != nil || !cfg.GetSupportsPreview() || !cfg.GetAcceptSecrets() {
		t.Fatalf("configure: %v %v", cfg, err)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
