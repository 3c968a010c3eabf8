package rules

import (
	"fmt"
	"strings"
)

// Type tokens (pulumi-aws v6, verified against sdk/v6@v6.83.4 RegisterResource calls).
const (
	TypeRDSCluster          = "aws:rds/cluster:Cluster"
	TypeRDSClusterInstance  = "aws:rds/clusterInstance:ClusterInstance"
	TypeReplicationGroup    = "aws:elasticache/replicationGroup:ReplicationGroup"
	TypeSecurityGroup       = "aws:ec2/securityGroup:SecurityGroup"
	TypeSecurityGroupRule   = "aws:ec2/securityGroupRule:SecurityGroupRule"
	TypeSGIngressRule       = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	TypeECRRepository       = "aws:ecr/repository:Repository"
	TypeECSCluster          = "aws:ecs/cluster:Cluster"
	TypeECSTaskDefinition   = "aws:ecs/taskDefinition:TaskDefinition"
	TypeECSService          = "aws:ecs/service:Service"
	TypeLB                  = "aws:lb/loadBalancer:LoadBalancer"
	TypeALB                 = "aws:alb/loadBalancer:LoadBalancer"
	TypeAPIStage            = "aws:apigateway/stage:Stage"
	TypeAPIMethodSettings   = "aws:apigateway/methodSettings:MethodSettings"
	TypeAPIMethod           = "aws:apigateway/method:Method"
	TypeCognitoUserPool     = "aws:cognito/userPool:UserPool"
	TypeS3Bucket            = "aws:s3/bucket:Bucket"
	TypeS3BucketV2          = "aws:s3/bucketV2:BucketV2"
	TypeS3PublicAccessBlock = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	TypeS3SSEConfigV2       = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	TypeS3BucketPolicy      = "aws:s3/bucketPolicy:BucketPolicy"
	TypeSNSTopic            = "aws:sns/topic:Topic"
	TypeKMSKey              = "aws:kms/key:Key"
	TypeLogGroup            = "aws:cloudwatch/logGroup:LogGroup"
	TypeIAMPolicy           = "aws:iam/policy:Policy"
	TypeIAMRolePolicy       = "aws:iam/rolePolicy:RolePolicy"
	TypeIAMUserPolicy       = "aws:iam/userPolicy:UserPolicy"
	TypeIAMGroupPolicy      = "aws:iam/groupPolicy:GroupPolicy"
	TypeIAMRole             = "aws:iam/role:Role"
	TypeVPC                 = "aws:ec2/vpc:Vpc"
	TypeAwsxVPC             = "awsx:ec2:Vpc"
	TypeFlowLog             = "aws:ec2/flowLog:FlowLog"
	TypeWAFAssociation      = "aws:wafv2/webAclAssociation:WebAclAssociation"
)

func pathString(path []any) string {
	parts := make([]string, 0, len(path))
	for _, p := range path {
		switch k := p.(type) {
		case string:
			parts = append(parts, k)
		case int:
			parts = append(parts, fmt.Sprintf("[%d]", k))
		}
	}
	return strings.ReplaceAll(strings.Join(parts, "."), ".[", "[")
}

// describe renders a value for a message (secrets are never shown).
func describe(v Value) string {
	switch {
	case v.Missing:
		return "not set"
	case v.Unknown:
		return "unknown"
	case v.Secret:
		return "set (secret)"
	}
	if s, ok := v.Str(); ok {
		return fmt.Sprintf("%q", s)
	}
	if p, ok := Plain(v.V); ok {
		return fmt.Sprintf("%v", p)
	}
	return "set"
}

// wantBool requires a boolean property to equal want. def is the provider
// default used when the property is missing. A wrongly typed value counts as
// not compliant.
func wantBool(r Resource, want, def bool, fix string, path ...any) []Violation {
	v := Get(r.Props, path...)
	if v.Unknown {
		return []Violation{cannotTell(pathString(path))}
	}
	b, ok := v.Bool()
	if v.Missing {
		b, ok = def, true
	}
	if ok && b == want {
		return nil
	}
	shown := describe(v)
	if v.Missing {
		shown = fmt.Sprintf("not set (provider default %v)", def)
	}
	return []Violation{fail("%s is %s; %s", pathString(path), shown, fix)}
}

// wantSet requires a non-blank property.
func wantSet(r Resource, fix string, path ...any) []Violation {
	v := Get(r.Props, path...)
	if v.Unknown {
		return nil // set to something we cannot see yet: that is "set"
	}
	if v.NonEmpty() {
		return nil
	}
	return []Violation{fail("%s is %s; %s", pathString(path), describe(v), fix)}
}

// wantString requires a string property to equal one of allowed
// (case-insensitive). def is used when missing.
func wantString(r Resource, def string, allowed []string, fix string, path ...any) []Violation {
	v := Get(r.Props, path...)
	if v.Unknown {
		return []Violation{cannotTell(pathString(path))}
	}
	s, ok := v.Str()
	if v.Missing {
		s, ok = def, true
	}
	if ok {
		for _, a := range allowed {
			if strings.EqualFold(strings.TrimSpace(s), a) {
				return nil
			}
		}
	}
	shown := describe(v)
	if v.Missing {
		shown = fmt.Sprintf("not set (provider default %q)", def)
	}
	return []Violation{fail("%s is %s; %s", pathString(path), shown, fix)}
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}

func ofTypes(stack []Resource, types ...string) []Resource {
	var out []Resource
	for _, r := range stack {
		if containsFold(types, r.Type) {
			out = append(out, r)
		}
	}
	return out
}

// wantMin requires a numeric property of at least min (def when missing).
func wantMin(r Resource, min, def float64, fix string, path ...any) []Violation {
	v := Get(r.Props, path...)
	if v.Unknown {
		return []Violation{cannotTell(pathString(path))}
	}
	n, ok := v.Num()
	shown := describe(v)
	if v.Missing {
		n, ok = def, true
		shown = fmt.Sprintf("not set (provider default %g)", def)
	}
	if ok && n >= min {
		return nil
	}
	return []Violation{fail("%s is %s, below the minimum %g; %s", pathString(path), shown, min, fix)}
}

// wantNotIn fails when a string property (def when missing) is one of bad.
func wantNotIn(r Resource, def string, bad []string, fix string, path ...any) []Violation {
	v := Get(r.Props, path...)
	if v.Unknown {
		return []Violation{cannotTell(pathString(path))}
	}
	s, _ := v.Str()
	if v.Missing {
		s = def
	}
	if containsFold(bad, strings.TrimSpace(s)) {
		return []Violation{fail("%s is %s; %s", pathString(path), describe(v), fix)}
	}
	return nil
}

// listLen returns the number of elements of a list property; unknown is
// true when the list or an element is computed.
func listLen(v Value) (n int, unknown bool) {
	if v.Unknown {
		return 0, true
	}
	items, _ := v.List()
	for _, it := range items {
		if it.Unknown {
			unknown = true
		}
	}
	return len(items), unknown
}

// eachItem calls f for every known object element of a list property and
// returns cannot-tell notes for unknown elements.
func eachItem(r Resource, prop string, f func(i int, m Resource) []Violation) []Violation {
	v := Get(r.Props, prop)
	if v.Unknown {
		return []Violation{cannotTell(prop)}
	}
	items, _ := v.List()
	var out []Violation
	for i, it := range items {
		if it.Unknown {
			out = append(out, cannotTell(fmt.Sprintf("%s[%d]", prop, i)))
			continue
		}
		if m, ok := it.Map(); ok {
			out = append(out, f(i, Resource{URN: r.URN, Type: r.Type, Name: r.Name, Props: m})...)
		}
	}
	return out
}

// strsKnown returns the strings of a list property and whether the list or
// one of its elements is unknown.
func strsKnown(v Value) ([]string, bool) {
	_, unknown := listLen(v)
	return strs(v), unknown
}

// strs returns the known strings of a list property (or of one string).
func strs(v Value) []string {
	if s, ok := v.Str(); ok {
		return []string{s}
	}
	items, _ := v.List()
	var out []string
	for _, it := range items {
		if s, ok := it.Str(); ok {
			out = append(out, s)
		}
	}
	return out
}
