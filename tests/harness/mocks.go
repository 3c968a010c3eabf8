package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Identity of the mocked AWS environment.
const (
	Account   = "123456789012"
	Partition = "aws"
)

// mocks answers the program's resource registrations and invokes with
// realistic computed values, and records every registration in a Graph.
type mocks struct {
	project, stack, region string
	graph                  *Graph
	tr                     transforms // the program's transforms (transforms.go)
}

var _ pulumi.MockResourceMonitor = (*mocks)(nil)

// shortHash is a stable 8-hex-digit suffix for names and ids.
func shortHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:4])
}

// enricher adds the computed outputs AWS (or a component) would return.
type enricher func(m *mocks, name, id string, in, out resource.PropertyMap)

// Enrichers are keyed by type token. Types without one get the generic
// treatment: inputs echoed, an id, a name (auto-naming) and an ARN.
var enrichers = map[string]enricher{
	"awsx:ec2:Vpc": func(m *mocks, name, id string, in, out resource.PropertyMap) {
		azs := 3
		if v, ok := in["numberOfAvailabilityZones"]; ok && v.IsNumber() {
			azs = int(v.NumberValue())
		}
		out["vpcId"] = resource.NewProperty("vpc-" + shortHash(name))
		for _, tier := range []string{"public", "private", "isolated"} {
			ids := make([]resource.PropertyValue, azs)
			for i := range ids {
				ids[i] = resource.NewProperty(fmt.Sprintf("subnet-%s-%d-%s", tier, i+1, shortHash(name, tier)))
			}
			out[resource.PropertyKey(tier+"SubnetIds")] = resource.NewProperty(ids)
		}
	},
	"aws:ec2/securityGroup:SecurityGroup": func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["arn"] = resource.NewProperty(m.arn("ec2", "security-group/"+id))
	},
	"aws:kms/key:Key": func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["keyId"] = resource.NewProperty(id)
		out["arn"] = resource.NewProperty(m.arn("kms", "key/"+id))
	},
	"aws:cloudwatch/logGroup:LogGroup": func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["arn"] = resource.NewProperty(m.arn("logs", "log-group:"+out["name"].StringValue()))
	},
	"aws:iam/role:Role": func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["arn"] = resource.NewProperty(fmt.Sprintf("arn:%s:iam::%s:role/%s", Partition, Account, out["name"].StringValue()))
	},
	"aws:secretsmanager/secret:Secret": func(m *mocks, name, id string, in, out resource.PropertyMap) {
		arn := m.arn("secretsmanager", "secret:"+out["name"].StringValue()+"-AbCdEf")
		out["arn"] = resource.NewProperty(arn)
	},
	"aws:rds/cluster:Cluster": func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["clusterIdentifier"] = resource.NewProperty(id)
		out["arn"] = resource.NewProperty(m.arn("rds", "cluster:"+id))
		out["endpoint"] = resource.NewProperty(id + ".cluster-c9akciq32.eu-west-1.rds.amazonaws.com")
		out["readerEndpoint"] = resource.NewProperty(id + ".cluster-ro-c9akciq32.eu-west-1.rds.amazonaws.com")
		if _, ok := out["port"]; !ok {
			out["port"] = resource.NewProperty(5432.0)
		}
		if v, ok := in["manageMasterUserPassword"]; ok && v.IsBool() && v.BoolValue() {
			out["masterUserSecrets"] = resource.NewProperty([]resource.PropertyValue{resource.NewProperty(resource.PropertyMap{
				"secretArn":    resource.NewProperty(m.arn("secretsmanager", "secret:rds!cluster-"+shortHash(id)+"-AbCdEf")),
				"secretStatus": resource.NewProperty("active"),
				"kmsKeyId":     in["masterUserSecretKmsKeyId"],
			})})
		}
	},
	"aws:rds/clusterInstance:ClusterInstance": func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["identifier"] = resource.NewProperty(id)
		out["arn"] = resource.NewProperty(m.arn("rds", "db:"+id))
	},
	"aws:elasticache/replicationGroup:ReplicationGroup": func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["replicationGroupId"] = resource.NewProperty(id)
		out["arn"] = resource.NewProperty(m.arn("elasticache", "replicationgroup:"+id))
		out["primaryEndpointAddress"] = resource.NewProperty("master." + id + ".x1y2z3.euw1.cache.amazonaws.com")
		out["readerEndpointAddress"] = resource.NewProperty("replica." + id + ".x1y2z3.euw1.cache.amazonaws.com")
		n := 1
		if v, ok := in["numCacheClusters"]; ok && v.IsNumber() {
			n = int(v.NumberValue())
		}
		members := make([]resource.PropertyValue, n)
		for i := range members {
			members[i] = resource.NewProperty(fmt.Sprintf("%s-%03d", id, i+1))
		}
		out["memberClusters"] = resource.NewProperty(members)
	},
}

// awsService maps a pulumi-aws module to the service name in its ARNs.
var awsService = map[string]string{
	"cloudwatch": "cloudwatch", "apigateway": "apigateway", "cognito": "cognito-idp",
	"lb": "elasticloadbalancing", "alb": "elasticloadbalancing", "ecs": "ecs", "ecr": "ecr",
	"sns": "sns", "lambda": "lambda", "wafv2": "wafv2", "s3": "s3", "rds": "rds",
	"elasticache": "elasticache", "ec2": "ec2", "secretsmanager": "secretsmanager", "kms": "kms",
	"appautoscaling": "application-autoscaling", "iam": "iam",
}

func (m *mocks) arn(service, resourcePart string) string {
	region := m.region
	if service == "iam" || service == "s3" {
		region = ""
	}
	account := Account
	if service == "s3" {
		account = ""
	}
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", Partition, service, region, account, resourcePart)
}

// NewResource echoes the inputs and adds computed outputs.
func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	tr, err := m.runTransforms(args, m.urn(args))
	if err != nil {
		return "", nil, err
	}
	args.Inputs = tr.inputs
	out := args.Inputs.Copy()
	var id string
	typ := args.TypeToken
	pkg, module, kind := splitType(typ)
	if args.Custom {
		id = strings.ToLower(kind) + "-" + shortHash(m.stack, typ, args.Name)
		if pkg == "aws" {
			// Auto-naming: the logical name plus a random-looking suffix.
			if _, ok := out["name"]; !ok {
				out["name"] = resource.NewProperty(args.Name + "-" + shortHash(args.Name, typ)[:7])
			}
			if _, ok := out["arn"]; !ok {
				if svc, ok := awsService[module]; ok {
					out["arn"] = resource.NewProperty(m.arn(svc, strings.ToLower(kind)+"/"+out["name"].StringValue()))
				}
			}
		}
	}
	if e, ok := enrichers[typ]; ok {
		e(m, args.Name, id, args.Inputs, out)
	}
	r := m.graph.record(m, args, id, out)
	if tr.protect != nil {
		r.Protect = *tr.protect
	}
	r.Dependencies = append(r.Dependencies, tr.deps...)
	return id, out, nil
}

// Call answers the data sources the program reads.
func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	in, err := m.runInvokeTransforms(args.Token, args.Args)
	if err != nil {
		return nil, err
	}
	m.graph.recordInvoke(args.Token, in)
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.PropertyMap{
			"accountId": resource.NewProperty(Account),
			"arn":       resource.NewProperty(fmt.Sprintf("arn:%s:iam::%s:user/ci", Partition, Account)),
			"userId":    resource.NewProperty("AIDAEXAMPLEUSERID"),
			"id":        resource.NewProperty(Account),
		}, nil
	case "aws:index/getPartition:getPartition":
		return resource.PropertyMap{
			"partition":        resource.NewProperty(Partition),
			"dnsSuffix":        resource.NewProperty("amazonaws.com"),
			"reverseDnsPrefix": resource.NewProperty("com.amazonaws"),
			"id":               resource.NewProperty(Partition),
		}, nil
	case "aws:index/getRegion:getRegion":
		return resource.PropertyMap{
			"name":     resource.NewProperty(m.region),
			"endpoint": resource.NewProperty("ec2." + m.region + ".amazonaws.com"),
			"id":       resource.NewProperty(m.region),
		}, nil
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		names := []resource.PropertyValue{}
		for _, s := range []string{"a", "b", "c"} {
			names = append(names, resource.NewProperty(m.region+s))
		}
		return resource.PropertyMap{"names": resource.NewProperty(names), "id": resource.NewProperty(m.region)}, nil
	case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
		return resource.PropertyMap{
			"userName":      resource.NewProperty("AWS"),
			"password":      resource.MakeSecret(resource.NewProperty("mock-ecr-password")),
			"proxyEndpoint": resource.NewProperty(fmt.Sprintf("https://%s.dkr.ecr.%s.amazonaws.com", Account, m.region)),
			"id":            resource.NewProperty(m.region),
		}, nil
	}
	return nil, fmt.Errorf("harness: no mock for invoke %s: add one to tests/harness/mocks.go", args.Token)
}

// splitType splits "aws:rds/cluster:Cluster" into ("aws", "rds", "Cluster").
func splitType(t string) (pkg, module, kind string) {
	parts := strings.Split(t, ":")
	if len(parts) != 3 {
		return t, "", t
	}
	module, _, _ = strings.Cut(parts[1], "/")
	return parts[0], module, parts[2]
}
