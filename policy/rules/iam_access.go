package rules

import (
	"fmt"
	"strings"
)

// IAM rules beyond policy documents (iam.go): trust policies, managed-policy
// attachments and managedPolicyArns, policies on users, the account password
// policy.

const (
	TypeIAMRolePolicyAttachment  = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	TypeIAMPolicyAttachment      = "aws:iam/policyAttachment:PolicyAttachment"
	TypeIAMUserPolicyAttachment  = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
	TypeIAMGroupPolicyAttachment = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
	TypeIAMPasswordPolicy        = "aws:iam/accountPasswordPolicy:AccountPasswordPolicy"
)

// broadManagedPolicies are AWS-managed policies that grant administrator or
// full-service access (IAM.1's "*:*", IAM.21's "service:*", IAM.27).
var broadManagedPolicies = []string{"AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AWSCloudShellFullAccess"}

func init() {
	register(
		Rule{
			Name: "iam-trust-policy-restricted", Description: "Role trust policies do not let any principal (\"*\", {\"AWS\": \"*\"}, NotPrincipal) or any web identity of a provider assume the role.",
			Control:  "Checkov CKV_AWS_60 / CKV_AWS_61; web identity (e.g. GitHub OIDC) needs a condition on the token's sub/aud",
			Controls: []string{"CKV_AWS_60", "CKV_AWS_61"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "set assumeRolePolicy's Principal to the service, account or role that assumes it; for Federated principals add a condition on <provider>:sub (or :aud)",
			Types:       []string{TypeIAMRole},
			Check:       checkTrustPolicy,
		},
		Rule{
			Name: "iam-no-broad-managed-policies", Description: "No AdministratorAccess, PowerUserAccess, IAMFullAccess, AWSCloudShellFullAccess or other AWS \"…FullAccess\" managed policy is attached (managedPolicyArns or attachment resources).",
			Control:  "IAM.1 / IAM.21 / IAM.27 for AWS-managed policies; Checkov CKV_AWS_274",
			Controls: []string{"IAM.27", "CKV_AWS_274"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "remove the policy ARN from managedPolicyArns / the attachment's policyArn and attach a customer-managed least-privilege policy",
			Types:       []string{TypeIAMRole, TypeIAMRolePolicyAttachment, TypeIAMPolicyAttachment, TypeIAMUserPolicyAttachment, TypeIAMGroupPolicyAttachment},
			Check:       checkManagedPolicies,
		},
		Rule{
			Name: "iam-no-user-policies", Description: "IAM users get permissions through groups or roles, never policies attached to the user.",
			Control: "IAM.2 / Checkov CKV_AWS_40", Controls: []string{"IAM.2", "CKV_AWS_40"}, Severity: Low, DefaultLevel: Mandatory,
			Remediation: "attach the policy to a group (aws.iam.GroupPolicyAttachment) or a role instead of the user",
			Types:       []string{TypeIAMUserPolicy, TypeIAMUserPolicyAttachment, TypeIAMPolicyAttachment},
			Check: func(r Resource) []Violation {
				if r.Type == TypeIAMPolicyAttachment {
					v := Get(r.Props, "users")
					if n, unknown := listLen(v); unknown || n == 0 {
						return nil
					}
					return []Violation{fail("users lists %s; attach the policy to groups or roles instead", describe(v))}
				}
				return []Violation{fail("a policy is attached directly to user %s; attach it to a group or role instead", describe(Get(r.Props, "user")))}
			},
		},
		Rule{
			Name: "iam-password-policy", Description: "The account password policy requires 14+ characters, all character classes, reuse prevention of 24 and expiry within 90 days.",
			Control: "IAM.7 / IAM.10–IAM.17 / CIS 1.8–1.9", Controls: []string{"IAM.7", "IAM.10", "IAM.11", "IAM.12", "IAM.13", "IAM.14", "IAM.15", "IAM.16", "IAM.17", "CIS 1.8", "CIS 1.9"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set minimumPasswordLength >= 14, requireSymbols/Numbers/UppercaseCharacters/LowercaseCharacters true, passwordReusePrevention >= 24, maxPasswordAge <= 90",
			Types:       []string{TypeIAMPasswordPolicy},
			Check:       checkPasswordPolicyAccount,
		},
	)
}

func checkTrustPolicy(r Resource) []Violation {
	stmts, unknown, err := ParsePolicy(Get(r.Props, "assumeRolePolicy"))
	if unknown {
		return []Violation{cannotTell("assumeRolePolicy")}
	}
	if err != nil {
		return []Violation{{Note: true, Message: "cannot check assumeRolePolicy: " + err.Error()}}
	}
	var out []Violation
	for i, st := range stmts {
		if !st.IsAllow() {
			continue
		}
		name := stmtName(fmt.Sprintf("assumeRolePolicy[%d]", i), st)
		if st.AnyPrincipal() && !st.Restricted() {
			out = append(out, fail("%s lets %s assume the role; set Principal to the service or account that needs it, or add an aws:PrincipalOrgID / aws:PrincipalArn / sts:ExternalId condition", name, principalText(st)))
		}
		for _, fed := range st.Principals["Federated"] {
			if strings.HasPrefix(fed, "cognito-identity.amazonaws.com") {
				if !st.HasCondition("cognito-identity.amazonaws.com:aud") {
					out = append(out, fail("%s trusts Cognito identities of every identity pool; add a condition on cognito-identity.amazonaws.com:aud", name))
				}
				continue
			}
			provider := fed
			if i := strings.Index(fed, ":oidc-provider/"); i >= 0 {
				provider = fed[i+len(":oidc-provider/"):]
			}
			if strings.Contains(fed, ":saml-provider/") {
				continue // SAML trusts are scoped by the IdP's assertions (SAML:aud)
			}
			if !st.HasCondition(provider+":sub") && !(st.HasCondition(provider+":aud") && !strings.Contains(provider, "token.actions.githubusercontent.com")) {
				out = append(out, fail("%s trusts every identity of %s; add a condition on %s:sub (for GitHub: repo:<org>/<repo>:ref:…)", name, provider, provider))
			}
		}
	}
	return out
}

func checkManagedPolicies(r Resource) []Violation {
	var arns []Value
	switch r.Type {
	case TypeIAMRole:
		v := Get(r.Props, "managedPolicyArns")
		if v.Unknown {
			return []Violation{cannotTell("managedPolicyArns")}
		}
		arns, _ = v.List()
	default:
		arns = []Value{Get(r.Props, "policyArn")}
	}
	var out []Violation
	for _, a := range arns {
		s, ok := a.Str()
		if !ok || !strings.HasPrefix(s, "arn:") || !strings.Contains(s, ":iam::aws:policy/") {
			continue
		}
		name := s[strings.LastIndex(s, "/")+1:]
		if containsFold(broadManagedPolicies, name) || strings.HasSuffix(name, "FullAccess") {
			out = append(out, fail("AWS-managed policy %s grants administrator or full-service access; attach a least-privilege customer-managed policy instead", name))
		}
	}
	return out
}

func checkPasswordPolicyAccount(r Resource) []Violation {
	out := wantMin(r, 14, 6, "set minimumPasswordLength: 14", "minimumPasswordLength")
	for _, k := range []string{"requireSymbols", "requireNumbers", "requireUppercaseCharacters", "requireLowercaseCharacters"} {
		out = append(out, wantBool(r, true, false, "set "+k+": true", k)...)
	}
	out = append(out, wantMin(r, 24, 0, "set passwordReusePrevention: 24", "passwordReusePrevention")...)
	v := Get(r.Props, "maxPasswordAge")
	if n, ok := v.Num(); v.Missing || (ok && (n == 0 || n > 90)) {
		out = append(out, fail("maxPasswordAge is %s; set maxPasswordAge: 90", describe(v)))
	}
	return out
}
