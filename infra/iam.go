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

// serviceTrustPolicy lets an AWS service principal assume a role, limited to
// this account (the confused-deputy guard AWS recommends) when account is set.
func serviceTrustPolicy(service, account string) (string, error) {
	st := PolicyStatement{
		Effect:    "Allow",
		Principal: map[string]any{"Service": service},
		Action:    []string{"sts:AssumeRole"},
	}
	if account != "" {
		st.Condition = map[string]map[string]any{"StringEquals": {"aws:SourceAccount": account}}
	}
	return NewPolicyDocument(st).JSON()
}

// newServiceRole creates a role that service assumes, with one inline policy.
func newServiceRole(ctx *pulumi.Context, name, service, account string, policy pulumi.StringInput, parent pulumi.Resource) (*iam.Role, error) {
	trust, err := serviceTrustPolicy(service, account)
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, err
	}
	if policy != nil {
		if _, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
			Role:   role.ID(),
			Policy: policy,
		}, pulumi.Parent(role)); err != nil {
			return nil, err
		}
	}
	return role, nil
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
