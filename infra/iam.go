package infra

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PolicyDocument is an IAM policy document. Policies are built from these
// typed values and marshalled, never written as JSON strings by hand.
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// PolicyStatement is one statement of a PolicyDocument.
type PolicyStatement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource,omitempty"`
	// Condition maps an operator (StringEquals, ArnLike, Bool, …) to key/value pairs.
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// Allow is an Allow statement of actions on resources.
func Allow(sid string, actions []string, resources ...string) PolicyStatement {
	return PolicyStatement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
}

// NewPolicyDocument wraps statements in a 2012-10-17 document.
func NewPolicyDocument(statements ...PolicyStatement) PolicyDocument {
	return PolicyDocument{Version: "2012-10-17", Statement: statements}
}

// JSON renders the document.
func (d PolicyDocument) JSON() (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("marshal policy document: %w", err)
	}
	return string(b), nil
}

// policyFromOutputs builds a policy document once every value it references
// (ARNs, names) is known. build receives the resolved values in order. The
// result stays secret if any input is secret.
func policyFromOutputs(build func(v []string) PolicyDocument, values ...pulumi.StringInput) pulumi.StringOutput {
	inputs := make([]any, len(values))
	for i, v := range values {
		inputs[i] = v
	}
	return pulumi.All(inputs...).ApplyT(func(resolved []any) (string, error) {
		vs := make([]string, len(resolved))
		for i, r := range resolved {
			vs[i] = r.(string)
		}
		return build(vs).JSON()
	}).(pulumi.StringOutput)
}

// SourceAccountServices are the service principals for which AWS documents
// the aws:SourceAccount condition key in the trust policy of a role the
// service assumes (the confused-deputy guard), with the page that says so.
// Other services (Lambda for execution roles, API Gateway for its
// CloudWatch and integration roles) are not documented to send the key: a
// condition on it could make every AssumeRole fail, so they get none.
var SourceAccountServices = map[string]string{
	"ecs-tasks.amazonaws.com":      "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
	"monitoring.rds.amazonaws.com": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html#USER_Monitoring.OS.confused-deputy",
	"vpc-flow-logs.amazonaws.com":  "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html",
}

// serviceTrustPolicy lets an AWS service principal assume a role, limited to
// this account (aws:SourceAccount) when account is set and AWS documents the
// key for the service (SourceAccountServices).
func serviceTrustPolicy(service, account string) (string, error) {
	st := PolicyStatement{
		Effect:    "Allow",
		Principal: map[string]any{"Service": service},
		Action:    []string{"sts:AssumeRole"},
	}
	if _, documented := SourceAccountServices[service]; account != "" && documented {
		st.Condition = map[string]map[string]any{"StringEquals": {"aws:SourceAccount": account}}
	}
	return NewPolicyDocument(st).JSON()
}

// newServiceRole creates a role that service assumes, with one inline policy
// (none when policy is nil). It returns the role and its ARN as a consumer
// should take it: resolved once the policy exists too, so whatever is handed
// the role waits for its permissions (an ECS task pulling its image, a
// Lambda invoked right after creation), not only for the role.
func newServiceRole(ctx *pulumi.Context, name, service, account string, policy pulumi.StringInput, parent pulumi.Resource, opts ...pulumi.ResourceOption) (*iam.Role, pulumi.StringOutput, error) {
	trust, err := serviceTrustPolicy(service, account)
	if err != nil {
		return nil, pulumi.StringOutput{}, err
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
	}, append([]pulumi.ResourceOption{pulumi.Parent(parent)}, opts...)...)
	if err != nil {
		return nil, pulumi.StringOutput{}, err
	}
	if policy == nil {
		return role, role.Arn, nil
	}
	p, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role:   role.ID(),
		Policy: policy,
	}, append([]pulumi.ResourceOption{pulumi.Parent(role)}, opts...)...)
	if err != nil {
		return nil, pulumi.StringOutput{}, err
	}
	return role, waitFor(role.Arn, p), nil
}

// waitFor is value once the given resources exist: an input taken from it
// makes its resource depend on them (Pulumi tracks an output's resources).
func waitFor(value pulumi.StringOutput, resources ...pulumi.CustomResource) pulumi.StringOutput {
	all := []any{value}
	for _, r := range resources {
		all = append(all, r.ID())
	}
	return pulumi.All(all...).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput)
}

// Environment is where the stack deploys: resolved once by Deploy from the
// provider (caller identity, partition, region) and handed to components.
type Environment struct {
	Region, Account, Partition string
}

// Arn builds an ARN in this environment's partition.
func (e Environment) Arn(service, region, account, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", e.Partition, service, region, account, resource)
}

// newKmsKey creates a symmetric customer-managed key with yearly automatic
// rotation and an alias. policy may be nil for the default key policy (the
// account's IAM policies decide); keys are protected with the stateful
// resources they encrypt.
func newKmsKey(ctx *pulumi.Context, name, description string, policy pulumi.StringInput, protect bool, parent pulumi.Resource) (*kms.Key, error) {
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.String(description),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               policy,
	}, pulumi.Parent(parent), pulumi.Protect(protect))
	if err != nil {
		return nil, err
	}
	return key, nil
}
