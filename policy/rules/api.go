package rules

import (
	"fmt"
	"strings"
)

// API Gateway, Cognito and WAF rules.

var writeMethods = []string{"POST", "PUT", "PATCH", "DELETE", "ANY"}

func init() {
	register(
		Rule{
			Name:         "apigw-stage-access-logs",
			Description:  "API Gateway stages write access logs.",
			Control:      "Checkov CKV_AWS_76 (APIGateway.1 covers execution logging)",
			Controls:     []string{"CKV_AWS_76"},
			Severity:     Medium,
			Remediation:  "set accessLogSettings.destinationArn and format",
			DefaultLevel: Mandatory,
			Types:        []string{TypeAPIStage},
			Check: func(r Resource) []Violation {
				return wantSet(r, "set accessLogSettings: {destinationArn: <log group ARN>, format: <JSON format>}", "accessLogSettings", "destinationArn")
			},
		},
		Rule{
			Name:         "apigw-stage-xray",
			Description:  "API Gateway stages have X-Ray tracing.",
			Control:      "APIGateway.3",
			Controls:     []string{"APIGateway.3"},
			Severity:     Low,
			Remediation:  "set xrayTracingEnabled: true",
			DefaultLevel: Mandatory,
			Types:        []string{TypeAPIStage},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, false, "set xrayTracingEnabled: true", "xrayTracingEnabled")
			},
		},
		Rule{
			Name:         "apigw-cache-encrypted",
			Description:  "API Gateway method caches are encrypted when caching is enabled.",
			Control:      "APIGateway.5",
			Controls:     []string{"APIGateway.5"},
			Severity:     Medium,
			Remediation:  "set settings.cacheDataEncrypted: true",
			DefaultLevel: Mandatory,
			Types:        []string{TypeAPIMethodSettings},
			Check: func(r Resource) []Violation {
				cv := Get(r.Props, "settings", "cachingEnabled")
				if cv.Unknown {
					return []Violation{cannotTell("settings.cachingEnabled")}
				}
				if b, _ := cv.Bool(); !b {
					return nil
				}
				return wantBool(r, true, false, "set settings.cacheDataEncrypted: true wherever settings.cachingEnabled is true", "settings", "cacheDataEncrypted")
			},
		},
		Rule{
			Name:         "apigw-no-data-trace",
			Description:  "API Gateway full request/response data tracing is off (it logs bodies and headers, including credentials).",
			Control:      "no direct FSBP control",
			Controls:     []string{"BOOKS.APIGW-DATATRACE"},
			Severity:     High,
			Remediation:  "set settings.dataTraceEnabled: false",
			DefaultLevel: Mandatory,
			Types:        []string{TypeAPIMethodSettings},
			Check: func(r Resource) []Violation {
				return wantBool(r, false, false, "set settings.dataTraceEnabled: false (use loggingLevel ERROR/INFO and access logs instead)", "settings", "dataTraceEnabled")
			},
		},
		Rule{
			Name:         "apigw-write-method-auth",
			Description:  "API Gateway write methods (POST/PUT/PATCH/DELETE/ANY) require authorization.",
			Control:      "Checkov CKV_AWS_59",
			Controls:     []string{"CKV_AWS_59"},
			Severity:     High,
			Remediation:  "set authorization to COGNITO_USER_POOLS, AWS_IAM or CUSTOM",
			DefaultLevel: Mandatory,
			Types:        []string{TypeAPIMethod},
			Check: func(r Resource) []Violation {
				mv := Get(r.Props, "httpMethod")
				if mv.Unknown {
					return []Violation{cannotTell("httpMethod")}
				}
				m, _ := mv.Str()
				if !containsFold(writeMethods, strings.TrimSpace(m)) {
					return nil
				}
				av := Get(r.Props, "authorization")
				if av.Unknown {
					return []Violation{cannotTell("authorization")}
				}
				a, _ := av.Str()
				if strings.TrimSpace(a) == "" || strings.EqualFold(strings.TrimSpace(a), "NONE") {
					return []Violation{fail("%s method has authorization %s; set authorization: \"COGNITO_USER_POOLS\" with authorizerId (or AWS_IAM / CUSTOM)", strings.ToUpper(m), describe(av))}
				}
				return nil
			},
		},
		Rule{
			Name:         "cognito-password-policy",
			Description:  "Cognito user pools require passwords of at least 12 characters with upper, lower, number and symbol.",
			Control:      "Cognito.3",
			Controls:     []string{"Cognito.3"},
			Severity:     Medium,
			Remediation:  "set passwordPolicy.minimumLength >= 12 and the four require* flags true",
			DefaultLevel: Mandatory,
			Types:        []string{TypeCognitoUserPool},
			Check:        checkPasswordPolicy,
		},
		Rule{
			Name:         "cognito-deletion-protection",
			Description:  "Prod Cognito user pools have deletion protection.",
			Control:      "Cognito.6",
			Controls:     []string{"Cognito.6"},
			Severity:     Medium,
			Remediation:  "set deletionProtection: \"ACTIVE\"",
			DefaultLevel: Mandatory,
			ProdOnly:     true,
			Types:        []string{TypeCognitoUserPool},
			Check: func(r Resource) []Violation {
				return wantString(r, "INACTIVE", []string{"ACTIVE"}, "set deletionProtection: \"ACTIVE\" on prod user pools", "deletionProtection")
			},
		},
		Rule{
			Name:         "apigw-waf",
			Description:  "Prod API Gateway stages are associated with a WAF web ACL.",
			Control:      "APIGateway.4",
			Controls:     []string{"APIGateway.4"},
			Severity:     Medium,
			Remediation:  "add an aws.wafv2.WebAclAssociation with resourceArn set to the stage's ARN",
			DefaultLevel: Mandatory,
			ProdOnly:     true,
			StackCheck:   checkStageWAF,
		},
	)
}

const minPasswordLength = 12

func checkPasswordPolicy(r Resource) []Violation {
	pv := Get(r.Props, "passwordPolicy")
	if pv.Unknown {
		return []Violation{cannotTell("passwordPolicy")}
	}
	if pv.Missing {
		return []Violation{fail("passwordPolicy is not set (Cognito default: minimum length 8); set passwordPolicy: {minimumLength: %d, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: true}", minPasswordLength)}
	}
	var problems []string
	var notes []Violation
	lv := Get(r.Props, "passwordPolicy", "minimumLength")
	switch n, ok := lv.Num(); {
	case lv.Unknown:
		notes = append(notes, cannotTell("passwordPolicy.minimumLength"))
	case lv.Missing:
		problems = append(problems, "minimumLength is not set (default 8)")
	case !ok || n < minPasswordLength:
		problems = append(problems, fmt.Sprintf("minimumLength is %s", describe(lv)))
	}
	for _, k := range []string{"requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"} {
		v := Get(r.Props, "passwordPolicy", k)
		if v.Unknown {
			notes = append(notes, cannotTell("passwordPolicy."+k))
			continue
		}
		if b, ok := v.Bool(); !ok || !b {
			problems = append(problems, k+" is "+describe(v))
		}
	}
	if len(problems) == 0 {
		return notes
	}
	return append(notes, fail("password policy too weak (%s); set minimumLength >= %d and requireLowercase, requireUppercase, requireNumbers, requireSymbols to true", strings.Join(problems, ", "), minPasswordLength))
}

func checkStageWAF(stack []Resource) []Violation {
	stages := ofTypes(stack, TypeAPIStage)
	assocs := ofTypes(stack, TypeWAFAssociation)
	if len(stages) == 0 {
		return nil
	}
	matches := matchRefs(stages, assocs, "resourceArn", "arn", "stageName")
	var out []Violation
	for i, s := range stages {
		switch {
		case len(matches[i].sure) > 0:
		case len(matches[i].maybe) > 0:
			// An association whose resourceArn is unknown (built from the
			// stage's outputs in a preview) may be this stage's.
			out = append(out, cannotTellAt(s.URN, "which aws.wafv2.WebAclAssociation belongs to this stage (resourceArn)"))
		default:
			out = append(out, failAt(s.URN, "stage has no WAF web ACL; add an aws.wafv2.WebAcl (managed rule groups + rate limit) and an aws.wafv2.WebAclAssociation with resourceArn set to the stage's ARN"))
		}
	}
	return out
}
