package tests

// Transforms under the harness's mocks (tests/harness/transforms.go): a
// user's ctx.RegisterResourceTransform, pulumi.Transforms on a resource or a
// component, and ctx.RegisterInvokeTransform change the mocked graph as they
// change what the engine sends to providers. Before the harness ran them,
// every assertion below on a transformed value failed: the SDK's mock monitor
// drops stack transforms and never runs resource transforms.

import (
	"context"
	"strings"
	"testing"

	"github.com/books-platform/books/policy/rules"
	"github.com/books-platform/books/tests/harness"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// onType returns a transform that edits the properties of one resource type.
func onType(typ string, edit func(p pulumi.Map)) pulumi.ResourceTransform {
	return func(_ context.Context, a *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
		if a.Type != typ {
			return nil
		}
		edit(a.Props)
		return &pulumi.ResourceTransformResult{Props: a.Props, Opts: a.Opts}
	}
}

func TestTransformChangesTheRealProgramsGraph(t *testing.T) {
	base := stackGraph(t, "dev")
	lbs := base.ByType(rules.TypeLB)
	if len(lbs) == 0 {
		t.Fatal("the program creates no load balancer")
	}
	for _, lb := range lbs {
		if v := lb.Inputs["internal"]; !v.IsBool() || !v.BoolValue() {
			t.Fatalf("%s: internal is %v before the transform", lb.URN, v)
		}
	}
	g, err := harness.Run("dev", harness.WithTransforms(
		onType(rules.TypeLB, func(p pulumi.Map) { p["internal"] = pulumi.Bool(false) }),
		onType(rules.TypeLogGroup, func(p pulumi.Map) { delete(p, "retentionInDays") }),
	))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Resources) != len(base.Resources) {
		t.Fatalf("transformed run registered %d resources, plain run %d", len(g.Resources), len(base.Resources))
	}
	for _, lb := range g.ByType(rules.TypeLB) {
		for what, pm := range map[string]resource.PropertyMap{"inputs": lb.Inputs, "outputs": lb.Outputs} {
			if v := pm["internal"]; !v.IsBool() || v.BoolValue() {
				t.Errorf("%s: %s internal is %v, the transform set false", lb.URN, what, v)
			}
		}
		// Untouched properties keep their values.
		orig := base.Find(lb.Type, lb.Name)
		if !lb.Inputs["subnets"].DeepEquals(orig.Inputs["subnets"]) {
			t.Errorf("%s: subnets changed: %v → %v", lb.URN, orig.Inputs["subnets"], lb.Inputs["subnets"])
		}
	}
	groups := g.ByType(rules.TypeLogGroup)
	for _, lg := range groups {
		if _, ok := lg.Inputs["retentionInDays"]; ok {
			t.Errorf("%s: retentionInDays still set", lg.URN)
		}
	}
	fired := map[string]int{}
	for _, v := range rules.MandatoryOnly(rules.Evaluate("dev", g.PolicyResources(), rules.Config{})) {
		fired[v.Rule]++
	}
	if fired["lb-internal"] != len(lbs) || fired["log-group-retention"] != len(groups) {
		t.Errorf("policy on the transformed graph: %v; want lb-internal ×%d and log-group-retention ×%d", fired, len(lbs), len(groups))
	}
}

type testComponent struct{ pulumi.ResourceState }

// tag appends name to a topic's displayName, so the order transforms ran in shows.
func tag(name string) pulumi.ResourceTransform {
	return onType("aws:sns/topic:Topic", func(p pulumi.Map) {
		prev := ""
		if s, ok := p["displayName"].(pulumi.String); ok {
			prev = string(s)
		}
		p["displayName"] = pulumi.String(prev + "/" + name)
	})
}

func TestTransformOrderScopeAndValues(t *testing.T) {
	g, err := harness.RunProgram("books", "dev", func(ctx *pulumi.Context) error {
		if err := ctx.RegisterResourceTransform(tag("stack")); err != nil {
			return err
		}
		// A transform that changes nothing, and one that edits values.
		if err := ctx.RegisterResourceTransform(func(context.Context, *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
			return nil
		}); err != nil {
			return err
		}
		if err := ctx.RegisterResourceTransform(onType("aws:sns/topic:Topic", func(p pulumi.Map) {
			delete(p, "fifoTopic")
			p["policy"] = pulumi.ToSecret(pulumi.String(`{"Statement":[]}`))
		})); err != nil {
			return err
		}
		comp := &testComponent{}
		if err := ctx.RegisterComponentResource("test:index:Component", "comp", comp,
			pulumi.Transforms([]pulumi.ResourceTransform{tag("parent")})); err != nil {
			return err
		}
		protect := func(_ context.Context, a *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
			a.Opts.Protect = true
			return &pulumi.ResourceTransformResult{Props: a.Props, Opts: a.Opts}
		}
		if _, err := sns.NewTopic(ctx, "child", &sns.TopicArgs{
			DisplayName:    pulumi.String("t"),
			KmsMasterKeyId: pulumi.ToSecret(pulumi.String("alias/key")).(pulumi.StringOutput),
			FifoTopic:      pulumi.Bool(false),
		}, pulumi.Parent(comp), pulumi.Transforms([]pulumi.ResourceTransform{tag("own"), protect})); err != nil {
			return err
		}
		if _, err := sns.NewTopic(ctx, "other", &sns.TopicArgs{DisplayName: pulumi.String("t")}); err != nil {
			return err
		}
		if err := ctx.RegisterInvokeTransform(func(_ context.Context, a *pulumi.InvokeTransformArgs) *pulumi.InvokeTransformResult {
			if a.Token == "aws:index/getRegion:getRegion" {
				a.Args["name"] = pulumi.String("us-east-1")
			}
			return &pulumi.InvokeTransformResult{Args: a.Args, Opts: a.Opts}
		}); err != nil {
			return err
		}
		_, err := aws.GetRegion(ctx, &aws.GetRegionArgs{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	child := g.Find("aws:sns/topic:Topic", "child")
	other := g.Find("aws:sns/topic:Topic", "other")
	if child == nil || other == nil {
		t.Fatalf("topics not registered: %v", g.CountByType())
	}
	// Own transforms first, then the parent's, then the stack's.
	if got := child.Inputs["displayName"].StringValue(); got != "t/own/parent/stack" {
		t.Errorf("child displayName %q, want t/own/parent/stack", got)
	}
	if got := other.Inputs["displayName"].StringValue(); got != "t/stack" {
		t.Errorf("other displayName %q, want t/stack (no parent, no own transforms)", got)
	}
	if !child.Protect || other.Protect {
		t.Errorf("protect: child %v (transform set it), other %v", child.Protect, other.Protect)
	}
	if _, ok := child.Inputs["fifoTopic"]; ok {
		t.Error("fifoTopic was deleted by a transform but is still recorded")
	}
	if p := child.Inputs["policy"]; !p.ContainsSecrets() || !strings.Contains(rules.Resolve(p).V.StringValue(), "Statement") {
		t.Errorf("policy set by a transform as a secret is %v", p)
	}
	if k := child.Inputs["kmsMasterKeyId"]; !k.ContainsSecrets() || rules.Resolve(k).V.StringValue() != "alias/key" {
		t.Errorf("untouched secret kmsMasterKeyId became %v", k)
	}
	var region *harness.Invoke
	for i, inv := range g.Invokes {
		if inv.Token == "aws:index/getRegion:getRegion" {
			region = &g.Invokes[i]
		}
	}
	if region == nil || region.Args["name"].StringValue() != "us-east-1" {
		t.Errorf("invoke transform not applied: %+v", region)
	}
}
