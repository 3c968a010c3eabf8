package rules

import "strings"

// Cognito rules beyond password policy and deletion protection (api.go):
// MFA, threat protection, identity pools, app clients.

const (
	TypeCognitoClient       = "aws:cognito/userPoolClient:UserPoolClient"
	TypeCognitoIdentityPool = "aws:cognito/identityPool:IdentityPool"
)

func init() {
	register(
		Rule{
			Name: "cognito-mfa", Description: "Cognito user pools offer MFA (OPTIONAL or ON; prod can require ON through prodAllowedMfa).",
			Control: "Cognito MFA (AWS Config cognito-user-pool-mfa-enabled; environment-aware)", Controls: []string{"cognito-user-pool-mfa-enabled"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set mfaConfiguration: \"ON\" (or \"OPTIONAL\") with softwareTokenMfaConfiguration.enabled: true",
			Params:      []Param{{Name: "allowedMfa", Description: "comma-separated mfaConfiguration values allowed", Default: "ON,OPTIONAL", Prod: "ON,OPTIONAL"}},
			Types:       []string{TypeCognitoUserPool},
			CheckEnv: func(r Resource, env Env) []Violation {
				allowed := strings.Split(env.Str("allowedMfa"), ",")
				for i := range allowed {
					allowed[i] = strings.TrimSpace(allowed[i])
				}
				return wantString(r, "OFF", allowed, "set mfaConfiguration to one of "+env.Str("allowedMfa")+" and softwareTokenMfaConfiguration.enabled: true", "mfaConfiguration")
			},
		},
		Rule{
			Name: "cognito-threat-protection", Description: "Cognito user pools have threat protection in full-function (ENFORCED) mode.",
			Control: "Cognito.1 (advisory: needs the Plus feature plan)", Controls: []string{"Cognito.1", "Cognito.4"}, Severity: Medium, DefaultLevel: Advisory,
			Remediation: "set userPoolAddOns.advancedSecurityMode: \"ENFORCED\" (userPoolTier PLUS)",
			Types:       []string{TypeCognitoUserPool},
			Check: func(r Resource) []Violation {
				out := wantString(r, "OFF", []string{"ENFORCED"}, "set userPoolAddOns.advancedSecurityMode: \"ENFORCED\"", "userPoolAddOns", "advancedSecurityMode")
				if Get(r.Props, "userPoolAddOns", "advancedSecurityAdditionalFlows").Known() {
					out = append(out, wantString(r, "AUDIT", []string{"ENFORCED"}, "set userPoolAddOns.advancedSecurityAdditionalFlows.customAuthMode: \"ENFORCED\"", "userPoolAddOns", "advancedSecurityAdditionalFlows", "customAuthMode")...)
				}
				return out
			},
		},
		Rule{
			Name: "cognito-identity-pool-no-unauth", Description: "Cognito identity pools do not allow unauthenticated identities.",
			Control: "Cognito.2", Controls: []string{"Cognito.2"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "set allowUnauthenticatedIdentities: false",
			Types:       []string{TypeCognitoIdentityPool},
			Check: func(r Resource) []Violation {
				return wantBool(r, false, false, "set allowUnauthenticatedIdentities: false", "allowUnauthenticatedIdentities")
			},
		},
		Rule{
			Name: "cognito-client-hardening", Description: "Cognito app clients: no OAuth implicit flow, user-existence errors hidden, token revocation on.",
			Control: "no direct FSBP control (OAuth 2.0 Security BCP: no implicit grant; OWASP account enumeration)", Controls: []string{"BOOKS.COGNITO-CLIENT"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "remove \"implicit\" from allowedOauthFlows, set preventUserExistenceErrors: \"ENABLED\" and enableTokenRevocation: true",
			Types:       []string{TypeCognitoClient},
			Check: func(r Resource) []Violation {
				var out []Violation
				if flows, unknown := strsKnown(Get(r.Props, "allowedOauthFlows")); containsFold(flows, "implicit") {
					out = append(out, fail("allowedOauthFlows includes \"implicit\" (tokens in the URL fragment); use the \"code\" flow with PKCE"))
				} else if unknown {
					out = append(out, cannotTell("allowedOauthFlows"))
				}
				out = append(out, wantString(r, "LEGACY", []string{"ENABLED"}, "set preventUserExistenceErrors: \"ENABLED\" so sign-in does not reveal which users exist", "preventUserExistenceErrors")...)
				return append(out, wantBool(r, true, true, "set enableTokenRevocation: true", "enableTokenRevocation")...)
			},
		},
	)
}
