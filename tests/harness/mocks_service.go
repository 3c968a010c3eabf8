package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Computed outputs of the Service component's resources, in the shapes AWS
// (and pulumi-docker) return: ALB ARNs ending in app/<name>/<hash> (the
// arnSuffix CloudWatch uses as a dimension), target groups in
// targetgroup/<name>/<hash>, an internal ALB's DNS name, ECR repository
// URLs, an image's repoDigest (repository@sha256:…), task definition ARNs
// with a revision and ECS services whose id is their ARN.
func init() {
	enrichers["aws:lb/loadBalancer:LoadBalancer"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		lbName := out["name"].StringValue()
		kind := "app"
		if v, ok := in["loadBalancerType"]; ok && v.IsString() && v.StringValue() == "network" {
			kind = "net"
		}
		suffix := fmt.Sprintf("%s/%s/%s", kind, lbName, hex16(m.stack, "lb", name))
		out["arnSuffix"] = resource.NewProperty(suffix)
		out["arn"] = resource.NewProperty(m.arn("elasticloadbalancing", "loadbalancer/"+suffix))
		prefix := ""
		if v, ok := in["internal"]; ok && v.IsBool() && v.BoolValue() {
			prefix = "internal-"
		}
		out["dnsName"] = resource.NewProperty(fmt.Sprintf("%s%s-%d.%s.elb.amazonaws.com", prefix, lbName, 1000000+len(lbName)*7919, m.region))
		out["zoneId"] = resource.NewProperty("Z32O12XQLNTSW2")
	}
	enrichers["aws:lb/targetGroup:TargetGroup"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		suffix := fmt.Sprintf("targetgroup/%s/%s", out["name"].StringValue(), hex16(m.stack, "tg", name))
		out["arnSuffix"] = resource.NewProperty(suffix)
		out["arn"] = resource.NewProperty(m.arn("elasticloadbalancing", suffix))
	}
	enrichers["aws:lb/listener:Listener"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		lbArn := stringInput(in, "loadBalancerArn")
		out["arn"] = resource.NewProperty(strings.Replace(lbArn, ":loadbalancer/", ":listener/", 1) + "/" + hex16(m.stack, "listener", name))
	}
	enrichers["aws:ecr/repository:Repository"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		repo := out["name"].StringValue()
		out["registryId"] = resource.NewProperty(Account)
		out["arn"] = resource.NewProperty(m.arn("ecr", "repository/"+repo))
		out["repositoryUrl"] = resource.NewProperty(fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", Account, m.region, repo))
	}
	enrichers["docker:index/image:Image"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		ref := stringInput(in, "imageName")
		repo, _, _ := strings.Cut(ref, ":")
		if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
			repo = ref[:i]
		}
		// The digest follows the reference (the tag is a content hash).
		sum := sha256.Sum256([]byte(ref))
		out["imageName"] = resource.NewProperty(ref)
		out["repoDigest"] = resource.NewProperty(repo + "@sha256:" + hex.EncodeToString(sum[:]))
		out["baseImageName"] = resource.NewProperty(ref)
		out["registryServer"] = resource.NewProperty(strings.SplitN(ref, "/", 2)[0])
	}
	enrichers["aws:ecs/cluster:Cluster"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["arn"] = resource.NewProperty(m.arn("ecs", "cluster/"+out["name"].StringValue()))
	}
	enrichers["aws:ecs/service:Service"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		cluster := stringInput(in, "cluster")
		clusterName := cluster[strings.LastIndex(cluster, "/")+1:]
		out["cluster"] = resource.NewProperty(cluster)
		out["arn"] = resource.NewProperty(m.arn("ecs", "service/"+clusterName+"/"+out["name"].StringValue()))
	}
	enrichers["aws:ecs/taskDefinition:TaskDefinition"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		family := stringInput(in, "family")
		base := m.arn("ecs", "task-definition/"+family)
		out["revision"] = resource.NewProperty(3.0)
		out["arnWithoutRevision"] = resource.NewProperty(base)
		out["arn"] = resource.NewProperty(base + ":3")
		delete(out, "name")
	}
	enrichers["aws:appautoscaling/target:Target"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["arn"] = resource.NewProperty(m.arn("application-autoscaling", "scalable-target/"+hex16(m.stack, "target", name)))
		delete(out, "name")
	}
	enrichers["aws:appautoscaling/policy:Policy"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["arn"] = resource.NewProperty(m.arn("autoscaling", "scalingPolicy:"+hex16(m.stack, "policy", name)+":resource/ecs/"+stringInput(in, "resourceId")+":policyName/"+out["name"].StringValue()))
	}
}

// hex16 is a stable 16-hex-digit id, like the last part of an ELB ARN.
func hex16(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// stringInput is a string input, secret or not ("" when absent or unknown).
func stringInput(in resource.PropertyMap, key string) string {
	v, ok := in[resource.PropertyKey(key)]
	if !ok {
		return ""
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}
