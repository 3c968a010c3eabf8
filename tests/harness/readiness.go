package harness

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Unready is a resource that uses another at run time without depending on
// it (directly or transitively): on a first `pulumi up` the engine may
// create it first, and it fails or times out.
type Unready struct {
	User, Needed *Resource
	// Why names the "uses" relation that found it.
	Why string
}

func (u Unready) String() string {
	return fmt.Sprintf("%s %s uses %s %s (%s) but does not depend on it", u.User.Type, u.User.Name, u.Needed.Type, u.Needed.Name, u.Why)
}

// UsesRelation derives, from the graph alone (types, inputs and outputs —
// never logical names), the resources a resource needs at run time.
type UsesRelation struct {
	Name string
	// Needs returns, for each user, what it needs.
	Needs func(g *Graph) map[*Resource][]*Resource
}

// UsesRelations is the table the readiness check applies.
var UsesRelations = []UsesRelation{
	{"an ECS service's tasks read each Secrets Manager secret their task definition names: the secret needs a version (AWSCURRENT)", ecsSecretVersions},
	{"an ECS service's tasks connect to each Aurora cluster whose endpoint or managed secret they are given: the cluster answers once its instances are up", ecsDatabaseInstances},
	{"an ECS service's tasks connect to each ElastiCache replication group whose endpoint they are given (directly or in a secret)", ecsCacheGroups},
	{"whatever is handed an IAM role ARN acts with the role's permissions: it needs the role's inline and attached policies", rolePolicies},
	{"whatever publishes to a KMS-encrypted SNS topic needs the topic's key", topicKeys},
	{"API Gateway execution logging needs the region's CloudWatch role (apigateway.Account) when the stack manages it", gatewayAccount},
}

// Readiness applies every UsesRelation to g.
func Readiness(g *Graph) []Unready {
	closure := newDependencyClosure(g)
	var out []Unready
	for _, rel := range UsesRelations {
		needs := rel.Needs(g)
		users := make([]*Resource, 0, len(needs))
		for u := range needs {
			users = append(users, u)
		}
		sort.Slice(users, func(i, j int) bool { return users[i].URN < users[j].URN })
		for _, u := range users {
			for _, n := range needs[u] {
				if n != u && !closure.dependsOn(u, n) {
					out = append(out, Unready{User: u, Needed: n, Why: rel.Name})
				}
			}
		}
	}
	return out
}

// dependencyClosure answers "does a (transitively) depend on b": through
// explicit and property dependencies, a custom parent (registered only once
// it exists), and a component dependency standing for all its descendants.
type dependencyClosure struct {
	g        *Graph
	children map[string][]string
	memo     map[string]map[string]bool
}

func newDependencyClosure(g *Graph) *dependencyClosure {
	c := &dependencyClosure{g: g, children: map[string][]string{}, memo: map[string]map[string]bool{}}
	for _, r := range g.Resources {
		if r.Parent != "" {
			c.children[r.Parent] = append(c.children[r.Parent], r.URN)
		}
	}
	return c
}

func (c *dependencyClosure) direct(r *Resource) []string {
	deps := append([]string(nil), r.Dependencies...)
	for _, ds := range r.PropertyDependencies {
		deps = append(deps, ds...)
	}
	if p := c.g.ByURN(r.Parent); p != nil && p.Custom {
		deps = append(deps, p.URN)
	}
	var out []string
	for _, d := range deps {
		out = append(out, d)
		if dr := c.g.ByURN(d); dr != nil && !dr.Custom {
			out = append(out, c.descendants(d)...)
		}
	}
	return out
}

func (c *dependencyClosure) descendants(urn string) []string {
	var out []string
	for _, ch := range c.children[urn] {
		out = append(out, ch)
		out = append(out, c.descendants(ch)...)
	}
	return out
}

func (c *dependencyClosure) all(r *Resource) map[string]bool {
	if m, ok := c.memo[r.URN]; ok {
		return m
	}
	seen := map[string]bool{}
	c.memo[r.URN] = seen // cycles end here
	stack := c.direct(r)
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[d] {
			continue
		}
		seen[d] = true
		if dr := c.g.ByURN(d); dr != nil {
			stack = append(stack, c.direct(dr)...)
		}
	}
	return seen
}

func (c *dependencyClosure) dependsOn(a, b *Resource) bool { return c.all(a)[b.URN] }

// leafStrings returns every string leaf of a property value (secrets unwrapped);
// with parseJSON, strings holding JSON contribute their leaves too.
func leafStrings(v resource.PropertyValue, parseJSON bool) []string {
	switch {
	case v.IsSecret():
		return leafStrings(v.SecretValue().Element, parseJSON)
	case v.IsString():
		s := v.StringValue()
		out := []string{s}
		if t := strings.TrimSpace(s); parseJSON && (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) {
			var doc any
			if json.Unmarshal([]byte(t), &doc) == nil {
				out = append(out, leafStrings(resource.NewPropertyValue(doc), true)...)
			}
		}
		return out
	case v.IsArray():
		var out []string
		for _, e := range v.ArrayValue() {
			out = append(out, leafStrings(e, parseJSON)...)
		}
		return out
	case v.IsObject():
		var out []string
		for _, e := range v.ObjectValue() {
			out = append(out, leafStrings(e, parseJSON)...)
		}
		return out
	}
	return nil
}

func outString(r *Resource, key string) string {
	v := r.Outputs[resource.PropertyKey(key)]
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func inString(r *Resource, key string) string {
	v := r.Inputs[resource.PropertyKey(key)]
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

// byOutput finds the resource of typ whose output key (or id) equals value.
func (g *Graph) byOutput(typ, key, value string) *Resource {
	if value == "" {
		return nil
	}
	for _, r := range g.Resources {
		if r.Type == typ && (outString(r, key) == value || r.ID == value) {
			return r
		}
	}
	return nil
}

const (
	typEcsService       = "aws:ecs/service:Service"
	typTaskDefinition   = "aws:ecs/taskDefinition:TaskDefinition"
	typSecret           = "aws:secretsmanager/secret:Secret"
	typSecretVersion    = "aws:secretsmanager/secretVersion:SecretVersion"
	typRdsCluster       = "aws:rds/cluster:Cluster"
	typRdsInstance      = "aws:rds/clusterInstance:ClusterInstance"
	typReplicationGroup = "aws:elasticache/replicationGroup:ReplicationGroup"
	typRole             = "aws:iam/role:Role"
	typRolePolicy       = "aws:iam/rolePolicy:RolePolicy"
	typRolePolicyAttach = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	typTopic            = "aws:sns/topic:Topic"
	typKmsKey           = "aws:kms/key:Key"
	typGatewayAccount   = "aws:apigateway/account:Account"
)

// taskValues are the strings an ECS service's tasks are given: everything
// in its task definition (container definitions parsed) and the values of
// the secrets those name.
func taskValues(g *Graph, svc *Resource) (values []string, secrets []*Resource) {
	td := g.byOutput(typTaskDefinition, "arn", inString(svc, "taskDefinition"))
	if td == nil {
		return nil, nil
	}
	values = leafStrings(resource.NewObjectProperty(td.Inputs), true)
	for _, v := range values {
		for _, s := range g.ByType(typSecret) {
			arn := outString(s, "arn")
			if arn != "" && (v == arn || strings.HasPrefix(v, arn+":")) {
				secrets = append(secrets, s)
			}
		}
	}
	for _, s := range secrets {
		for _, sv := range secretVersions(g, s) {
			values = append(values, leafStrings(sv.Inputs["secretString"], false)...)
		}
	}
	return values, secrets
}

func secretVersions(g *Graph, s *Resource) []*Resource {
	var out []*Resource
	for _, v := range g.ByType(typSecretVersion) {
		if id := inString(v, "secretId"); id != "" && (id == s.ID || id == outString(s, "arn")) {
			out = append(out, v)
		}
	}
	return out
}

func ecsSecretVersions(g *Graph) map[*Resource][]*Resource {
	out := map[*Resource][]*Resource{}
	for _, svc := range g.ByType(typEcsService) {
		_, secrets := taskValues(g, svc)
		for _, s := range secrets {
			out[svc] = append(out[svc], s)
			out[svc] = append(out[svc], secretVersions(g, s)...)
		}
	}
	return out
}

func clusterInstances(g *Graph, cluster *Resource) []*Resource {
	var out []*Resource
	for _, i := range g.ByType(typRdsInstance) {
		if id := inString(i, "clusterIdentifier"); id != "" && (id == cluster.ID || id == outString(cluster, "clusterIdentifier")) {
			out = append(out, i)
		}
	}
	return out
}

// managedSecretArns are the ARNs of an RDS cluster's managed master secrets.
func managedSecretArns(cluster *Resource) []string {
	var out []string
	v := cluster.Outputs["masterUserSecrets"]
	if !v.IsArray() {
		return nil
	}
	for _, e := range v.ArrayValue() {
		if e.IsObject() {
			if a := e.ObjectValue()["secretArn"]; a.IsString() {
				out = append(out, a.StringValue())
			}
		}
	}
	return out
}

func mentions(values []string, needles ...string) bool {
	for _, n := range needles {
		if n == "" {
			continue
		}
		for _, v := range values {
			if strings.Contains(v, n) {
				return true
			}
		}
	}
	return false
}

func ecsDatabaseInstances(g *Graph) map[*Resource][]*Resource {
	out := map[*Resource][]*Resource{}
	for _, svc := range g.ByType(typEcsService) {
		values, _ := taskValues(g, svc)
		for _, c := range g.ByType(typRdsCluster) {
			needles := append([]string{outString(c, "endpoint"), outString(c, "readerEndpoint")}, managedSecretArns(c)...)
			if mentions(values, needles...) {
				out[svc] = append(out[svc], c)
				out[svc] = append(out[svc], clusterInstances(g, c)...)
			}
		}
	}
	return out
}

func ecsCacheGroups(g *Graph) map[*Resource][]*Resource {
	out := map[*Resource][]*Resource{}
	for _, svc := range g.ByType(typEcsService) {
		values, _ := taskValues(g, svc)
		for _, rg := range g.ByType(typReplicationGroup) {
			if mentions(values, outString(rg, "primaryEndpointAddress"), outString(rg, "readerEndpointAddress"), outString(rg, "configurationEndpointAddress")) {
				out[svc] = append(out[svc], rg)
			}
		}
	}
	return out
}

// rolePolicies: a resource whose own inputs (not a policy document inside
// them) hold a role's ARN is handed that role.
func rolePolicies(g *Graph) map[*Resource][]*Resource {
	out := map[*Resource][]*Resource{}
	for _, role := range g.ByType(typRole) {
		arn := outString(role, "arn")
		if arn == "" {
			continue
		}
		var policies []*Resource
		for _, p := range g.Resources {
			if p.Type != typRolePolicy && p.Type != typRolePolicyAttach {
				continue
			}
			if r := inString(p, "role"); r == role.ID || r == outString(role, "name") || r == arn {
				policies = append(policies, p)
			}
		}
		if len(policies) == 0 {
			continue
		}
		for _, r := range g.Resources {
			if !r.Custom || r.Type == typRole || r.Type == typRolePolicy || r.Type == typRolePolicyAttach {
				continue
			}
			for _, v := range leafStrings(resource.NewObjectProperty(r.Inputs), false) {
				if v == arn {
					out[r] = append(out[r], policies...)
					break
				}
			}
		}
	}
	return out
}

func topicKeys(g *Graph) map[*Resource][]*Resource {
	out := map[*Resource][]*Resource{}
	for _, topic := range g.ByType(typTopic) {
		keyRef := inString(topic, "kmsMasterKeyId")
		if keyRef == "" {
			continue
		}
		var key *Resource
		for _, k := range g.ByType(typKmsKey) {
			if keyRef == k.ID || keyRef == outString(k, "arn") || keyRef == outString(k, "keyId") {
				key = k
			}
		}
		arn := outString(topic, "arn")
		if key == nil || arn == "" {
			continue
		}
		for _, r := range g.Resources {
			if r == topic || !r.Custom {
				continue
			}
			for _, v := range leafStrings(resource.NewObjectProperty(r.Inputs), false) {
				if v == arn {
					out[r] = append(out[r], key)
					break
				}
			}
		}
	}
	return out
}

func gatewayAccount(g *Graph) map[*Resource][]*Resource {
	out := map[*Resource][]*Resource{}
	accounts := g.ByType(typGatewayAccount)
	if len(accounts) == 0 {
		return out
	}
	for _, s := range g.ByType("aws:apigateway/methodSettings:MethodSettings") {
		v := s.Inputs["settings"]
		if v.IsObject() {
			if lvl := v.ObjectValue()["loggingLevel"]; lvl.IsString() && lvl.StringValue() != "OFF" {
				out[s] = append(out[s], accounts...)
			}
		}
	}
	return out
}
