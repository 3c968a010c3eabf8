package tests

import (
	"testing"

	"github.com/books-platform/books/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// TestReadiness: in every stack, whatever uses another resource at run time
// depends on it (harness.UsesRelations derives the uses from the graph).
func TestReadiness(t *testing.T) {
	for _, stack := range stacks(t) {
		t.Run(stack, func(t *testing.T) {
			for _, u := range harness.Readiness(stackGraph(t, stack)) {
				t.Error(u)
			}
		})
	}
}

// TestReadinessCheckFindsMissingDependencies runs the check on a graph with
// the defects the review found: a service whose tasks read a secret that
// has a version the service does not wait for, and a database whose
// instance it does not wait for.
func TestReadinessCheckFindsMissingDependencies(t *testing.T) {
	str := func(s string) resource.PropertyValue { return resource.NewProperty(s) }
	secretArn := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf"
	endpoint := "db.cluster-x.eu-west-1.rds.amazonaws.com"
	tdArn := "arn:aws:ecs:eu-west-1:123456789012:task-definition/f:1"
	r := func(typ, name, id string, in, out resource.PropertyMap, deps ...string) *harness.Resource {
		return &harness.Resource{URN: "urn:" + name, Type: typ, Name: name, ID: id, Custom: true, Inputs: in, Outputs: out, Dependencies: deps}
	}
	g := &harness.Graph{Resources: []*harness.Resource{
		r("aws:secretsmanager/secret:Secret", "secret", "s", nil, resource.PropertyMap{"arn": str(secretArn)}),
		r("aws:secretsmanager/secretVersion:SecretVersion", "version", "v", resource.PropertyMap{"secretId": str("s")}, nil, "urn:secret"),
		r("aws:rds/cluster:Cluster", "db", "db", nil, resource.PropertyMap{"endpoint": str(endpoint)}),
		r("aws:rds/clusterInstance:ClusterInstance", "db-1", "db-1", resource.PropertyMap{"clusterIdentifier": str("db")}, nil, "urn:db"),
		r("aws:ecs/taskDefinition:TaskDefinition", "td", "td", resource.PropertyMap{
			"containerDefinitions": str(`[{"secrets":[{"name":"X","valueFrom":"` + secretArn + `"}],"environment":[{"name":"PGHOST","value":"` + endpoint + `"}]}]`),
		}, resource.PropertyMap{"arn": str(tdArn)}, "urn:secret", "urn:db"),
		r("aws:ecs/service:Service", "svc", "svc", resource.PropertyMap{"taskDefinition": str(tdArn)}, nil, "urn:td"),
	}}
	found := map[string]bool{}
	for _, u := range harness.Readiness(g) {
		found[u.User.Name+"->"+u.Needed.Name] = true
	}
	for _, want := range []string{"svc->version", "svc->db-1"} {
		if !found[want] {
			t.Errorf("readiness check missed %s (found %v)", want, found)
		}
	}
	if found["svc->secret"] || found["svc->db"] {
		t.Errorf("flagged a dependency the service has transitively: %v", found)
	}
}
