package render

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// tier groups resource types into one subgraph of the diagram.
type tier struct {
	id, title string
	prefixes  []string
}

// tiers in request-path order; a type belongs to the first tier with a
// matching prefix, else to "other".
var tiers = []tier{
	{"edge", "Edge: API Gateway, Cognito, WAF", []string{"aws:apigateway/", "aws:apigatewayv2/", "aws:wafv2/", "aws:cognito/", "aws:acm/", "aws:route53/"}},
	{"lb", "Load balancers (internal)", []string{"aws:lb/", "aws:alb/"}},
	{"compute", "Compute: ECS Fargate", []string{"aws:ecs/", "aws:ecr/", "aws:appautoscaling/", "docker:"}},
	{"data", "Data: Aurora, ElastiCache, secrets", []string{"aws:rds/", "aws:elasticache/", "aws:secretsmanager/"}},
	{"network", "Network: VPC", []string{"awsx:ec2:", "aws:ec2/", "aws:vpc/"}},
	{"security", "Keys and IAM", []string{"aws:kms/", "aws:iam/"}},
	{"observability", "Observability: logs, alarms, dashboard", []string{"aws:cloudwatch/", "aws:sns/"}},
	{"demo", "Limits demo: Lambda, S3", []string{"aws:lambda/", "aws:s3/"}},
	{"other", "Other", []string{""}},
}

// labels are friendly node names; other types show their last segment.
var labels = map[string]string{
	"aws:apigateway/restApi:RestApi":                    "REST API",
	"aws:apigateway/vpcLink:VpcLink":                    "VPC Link",
	"aws:apigateway/stage:Stage":                        "Stage",
	"aws:wafv2/webAcl:WebAcl":                           "WAF web ACL",
	"aws:cognito/userPool:UserPool":                     "Cognito user pool",
	"aws:ecs/service:Service":                           "ECS service",
	"aws:ecs/cluster:Cluster":                           "ECS cluster",
	"aws:ecs/taskDefinition:TaskDefinition":             "Task definition",
	"aws:ecr/repository:Repository":                     "ECR repository",
	"docker:index/image:Image":                          "Image build",
	"aws:rds/cluster:Cluster":                           "Aurora PostgreSQL cluster",
	"aws:rds/clusterInstance:ClusterInstance":           "Aurora instance",
	"aws:elasticache/replicationGroup:ReplicationGroup": "ElastiCache replication group",
	"aws:secretsmanager/secret:Secret":                  "Secrets Manager secret",
	"awsx:ec2:Vpc":                                      "awsx VPC",
	"aws:lambda/function:Function":                      "Lambda function",
	"aws:s3/bucketV2:BucketV2":                          "S3 bucket",
	"aws:sns/topic:Topic":                               "SNS topic",
	"aws:cloudwatch/metricAlarm:MetricAlarm":            "Alarm",
	"aws:cloudwatch/dashboard:Dashboard":                "Dashboard",
	"aws:cloudwatch/logGroup:LogGroup":                  "Log group",
	"aws:ec2/securityGroup:SecurityGroup":               "Security group",
	"aws:ec2/flowLog:FlowLog":                           "Flow log",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                   "VPC endpoint",
	"aws:kms/key:Key":                                   "KMS key",
	"aws:iam/role:Role":                                 "IAM role",
	"aws:lb/targetGroup:TargetGroup":                    "Target group",
	"aws:lb/listener:Listener":                          "Listener",
	"aws:apigateway/authorizer:Authorizer":              "Authorizer",
	"aws:appautoscaling/policy:Policy":                  "Scaling policy",
}

// node is one box: every resource of a type (load balancers split by kind).
type node struct {
	id, label, tier string
	count           int
}

// path is the request path as edges between node kinds; an edge is drawn
// only when both ends exist.
var path = []struct{ from, to, label string }{
	{"client", "aws:apigateway/restApi:RestApi", "HTTPS"},
	{"aws:wafv2/webAcl:WebAcl", "aws:apigateway/restApi:RestApi", "filters"},
	{"aws:cognito/userPool:UserPool", "aws:apigateway/restApi:RestApi", "authorizes"},
	{"aws:apigateway/restApi:RestApi", "aws:apigateway/vpcLink:VpcLink", ""},
	{"aws:apigateway/vpcLink:VpcLink", "nlb", ""},
	{"nlb", "alb", "TCP 80"},
	{"alb", "aws:ecs/service:Service", "HTTP"},
	{"aws:ecs/service:Service", "aws:rds/cluster:Cluster", "PostgreSQL"},
	{"aws:ecs/service:Service", "aws:elasticache/replicationGroup:ReplicationGroup", "TLS + AUTH"},
	{"aws:ecs/service:Service", "aws:secretsmanager/secret:Secret", "reads"},
	{"aws:ecr/repository:Repository", "aws:ecs/service:Service", "image"},
	{"aws:apigateway/restApi:RestApi", "aws:lambda/function:Function", "limits demo"},
	{"aws:apigateway/restApi:RestApi", "aws:s3/bucketV2:BucketV2", "limits demo"},
}

// Mermaid returns the architecture diagram of a preview: one subgraph per
// tier, one node per resource type with its count, and the request path
// as edges. The output is deterministic (it is committed in the README).
func Mermaid(p *Preview) string {
	stack, _ := p.Stack()
	nodes := map[string]*node{}
	more := map[string][]string{}
	for _, r := range p.Resources() {
		if !r.Custom && r.Type != "awsx:ec2:Vpc" {
			continue // our own components are structure, not infrastructure
		}
		kind, label := r.Type, labelOf(r.Type)
		if r.Type == "aws:lb/loadBalancer:LoadBalancer" || r.Type == "aws:alb/loadBalancer:LoadBalancer" {
			if t, _ := r.Inputs["loadBalancerType"].(string); t == "network" {
				kind, label = "nlb", "Network Load Balancer"
			} else {
				kind, label = "alb", "Application Load Balancer"
			}
		}
		if _, major := labels[r.Type]; !major && kind == r.Type {
			// Supporting resources (subnet groups, rules, attachments, …)
			// share one node per tier.
			kind, label = "more:"+tierOf(r.Type), ""
			more[kind] = append(more[kind], labelOf(r.Type))
		}
		n := nodes[kind]
		if n == nil {
			n = &node{id: nodeID(kind), label: label, tier: tierOf(r.Type)}
			nodes[kind] = n
		}
		n.count++
	}

	var b bytes.Buffer
	source := "an offline preview (stand-in providers, not AWS)"
	if !p.Offline() {
		source = "`pulumi preview --json`"
	}
	fmt.Fprintf(&b, "%%%% stack %s, from %s; regenerate with `make diagram`\n", stack, source)
	b.WriteString("flowchart LR\n")
	b.WriteString("  client((Client))\n")
	for _, t := range tiers {
		var members []*node
		for _, n := range nodes {
			if n.tier == t.id {
				members = append(members, n)
			}
		}
		if len(members) == 0 {
			continue
		}
		sort.Slice(members, func(i, j int) bool { return members[i].id < members[j].id })
		fmt.Fprintf(&b, "  subgraph %s[\"%s\"]\n", t.id, t.title)
		for _, n := range members {
			label := n.label
			if names, ok := more["more:"+t.id]; ok && n.id == nodeID("more:"+t.id) {
				label = fmt.Sprintf("%d supporting: %s", n.count, countList(names))
			} else if n.count > 1 {
				label = fmt.Sprintf("%s ×%d", label, n.count)
			}
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", n.id, label)
		}
		b.WriteString("  end\n")
	}
	for _, e := range path {
		from, to := "client", nodes[e.to]
		if e.from != "client" {
			if nodes[e.from] == nil {
				continue
			}
			from = nodes[e.from].id
		}
		if to == nil {
			continue
		}
		arrow := "-->"
		if e.label == "filters" || e.label == "authorizes" || e.label == "image" || e.label == "reads" {
			arrow = "-.->"
		}
		if e.label != "" {
			fmt.Fprintf(&b, "  %s %s|%s| %s\n", from, arrow, e.label, to.id)
		} else {
			fmt.Fprintf(&b, "  %s %s %s\n", from, arrow, to.id)
		}
	}
	return b.String()
}

// countList is "B ×3, A ×2, C, …": the most frequent names first (ties by
// name), at most four, from a list with repeats.
func countList(names []string) string {
	counts := map[string]int{}
	for _, n := range names {
		counts[n]++
	}
	keys := sortedKeys(counts)
	sort.SliceStable(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	var parts []string
	for i, n := range keys {
		if i == 4 {
			parts = append(parts, "…")
			break
		}
		if counts[n] > 1 {
			parts = append(parts, fmt.Sprintf("%s ×%d", n, counts[n]))
		} else {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ", ")
}

func labelOf(typ string) string {
	if l, ok := labels[typ]; ok {
		return l
	}
	if i := strings.LastIndex(typ, ":"); i >= 0 {
		return typ[i+1:]
	}
	return typ
}

func tierOf(typ string) string {
	for _, t := range tiers {
		for _, p := range t.prefixes {
			if strings.HasPrefix(typ, p) {
				return t.id
			}
		}
	}
	return "other"
}

var nonID = regexp.MustCompile(`[^A-Za-z0-9]+`)

func nodeID(kind string) string {
	// aws:rds/cluster:Cluster → rds_cluster
	s := strings.TrimPrefix(kind, "aws:")
	if i := strings.LastIndex(s, ":"); i > 0 && strings.Contains(s[:i], "/") {
		s = s[:i]
	}
	return strings.Trim(nonID.ReplaceAllString(s, "_"), "_")
}

// README markers around the generated diagram of a stack.
func markers(stack string) (start, end string) {
	return fmt.Sprintf("<!-- diagram:%s start (generated by `make diagram`; do not edit) -->", stack),
		fmt.Sprintf("<!-- diagram:%s end -->", stack)
}

// DiagramBlock is what the README holds between the markers.
func DiagramBlock(diagram string) string {
	return "```mermaid\n" + diagram + "```\n"
}

// ReadmeDiagram returns the diagram block embedded in readme for stack.
func ReadmeDiagram(readme []byte, stack string) (string, error) {
	start, end := markers(stack)
	s := string(readme)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("README has no %q … %q block", start, end)
	}
	return strings.TrimPrefix(s[i+len(start):j], "\n"), nil
}

// ReplaceReadmeDiagram puts diagram between the stack's markers, adding the
// markers at the end of readme when they are missing.
func ReplaceReadmeDiagram(readme []byte, stack, diagram string) []byte {
	start, end := markers(stack)
	s := string(readme)
	block := start + "\n" + DiagramBlock(diagram) + end
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		return []byte(strings.TrimRight(s, "\n") + "\n\n" + block + "\n")
	}
	return []byte(s[:i] + block + s[j+len(end):])
}
