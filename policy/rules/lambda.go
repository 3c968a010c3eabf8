package rules

import (
	"fmt"
	"strings"
)

// Lambda rules: who may invoke a function, function URLs, runtimes,
// environment secrets, tracing, VPC zones.

const (
	TypeLambdaFunction   = "aws:lambda/function:Function"
	TypeLambdaPermission = "aws:lambda/permission:Permission"
	TypeLambdaURL        = "aws:lambda/functionUrl:FunctionUrl"
)

// deprecatedRuntimes are runtimes past their Lambda deprecation date
// (AWS Lambda "Runtime deprecation policy" table).
var deprecatedRuntimes = []string{
	"nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x",
	"python2.7", "python3.6", "python3.7", "python3.8",
	"ruby2.5", "ruby2.7", "ruby3.2",
	"java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet5.0", "dotnet6", "dotnet7",
	"go1.x", "provided",
}

func init() {
	register(
		Rule{
			Name: "lambda-permission-not-public", Description: "Lambda permissions name a principal and, for AWS services, the source (sourceArn or sourceAccount).",
			Control: "Lambda.1", Controls: []string{"Lambda.1"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "set principal to the account or service that invokes the function, and sourceArn (or sourceAccount) for a service principal",
			Types:       []string{TypeLambdaPermission},
			Check:       checkLambdaPermission,
		},
		Rule{
			Name: "lambda-url-auth", Description: "Lambda function URLs require IAM authentication.",
			Control: "Checkov CKV_AWS_258", Controls: []string{"CKV_AWS_258"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "set authorizationType: \"AWS_IAM\"",
			Types:       []string{TypeLambdaURL},
			Check: func(r Resource) []Violation {
				return wantString(r, "", []string{"AWS_IAM"}, "set authorizationType: \"AWS_IAM\" (front it with API Gateway or CloudFront for public access)", "authorizationType")
			},
		},
		Rule{
			Name: "lambda-supported-runtime", Description: "Lambda functions use a runtime AWS still supports.",
			Control: "Lambda.2", Controls: []string{"Lambda.2"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set runtime to a supported version (e.g. python3.13, nodejs22.x, provided.al2023)",
			Types:       []string{TypeLambdaFunction},
			Check: func(r Resource) []Violation {
				return wantNotIn(r, "", deprecatedRuntimes, "set runtime to a supported version (python3.13, nodejs22.x, java21, provided.al2023, …)", "runtime")
			},
		},
		Rule{
			Name: "lambda-env-no-secrets", Description: "Lambda environment variables hold no secret-looking names or values.",
			Control: "Checkov CKV_AWS_45", Controls: []string{"CKV_AWS_45"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "move the value to Secrets Manager and pass its ARN in environment.variables",
			Types:       []string{TypeLambdaFunction},
			Check: func(r Resource) []Violation {
				v := Get(r.Props, "environment", "variables")
				if v.Unknown {
					return []Violation{cannotTell("environment.variables")}
				}
				m, _ := v.Map()
				var out []Violation
				for k, pv := range m {
					s, _ := Resolve(pv).Str()
					if SecretLookingName(string(k)) {
						out = append(out, fail("environment.variables.%s looks like a secret; store it in Secrets Manager and pass %s_ARN instead", k, k))
					} else if why := SecretLookingValue(s); why != "" {
						out = append(out, fail("environment.variables.%s holds %s; store it in Secrets Manager", k, why))
					}
				}
				return out
			},
		},
		Rule{
			Name: "lambda-xray", Description: "Lambda functions have active X-Ray tracing.",
			Control: "Lambda.7 / Checkov CKV_AWS_50", Controls: []string{"Lambda.7", "CKV_AWS_50"}, Severity: Low, DefaultLevel: Advisory,
			Remediation: "set tracingConfig.mode: \"Active\"",
			Types:       []string{TypeLambdaFunction},
			Check: func(r Resource) []Violation {
				return wantString(r, "PassThrough", []string{"Active"}, "set tracingConfig.mode: \"Active\"", "tracingConfig", "mode")
			},
		},
		Rule{
			Name: "lambda-vpc-multi-az", Description: "VPC-attached Lambda functions use subnets in at least two Availability Zones.",
			Control: "Lambda.5", Controls: []string{"Lambda.5"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set vpcConfig.subnetIds to subnets in at least two AZs",
			Types:       []string{TypeLambdaFunction},
			Check: func(r Resource) []Violation {
				v := Get(r.Props, "vpcConfig", "subnetIds")
				if v.Missing {
					return nil
				}
				if n, unknown := listLen(v); !unknown && n < 2 {
					return []Violation{fail("vpcConfig.subnetIds has %d subnet(s); use subnets in at least two Availability Zones", n)}
				}
				return nil
			},
		},
	)
}

func checkLambdaPermission(r Resource) []Violation {
	pv := Get(r.Props, "principal")
	if pv.Unknown {
		return []Violation{cannotTell("principal")}
	}
	p, _ := pv.Str()
	p = strings.TrimSpace(p)
	restricted := func() (bool, bool) {
		unknown := false
		for _, k := range []string{"sourceArn", "sourceAccount", "principalOrgId"} {
			v := Get(r.Props, k)
			if v.Unknown {
				unknown = true
			}
			if v.NonEmpty() {
				return true, false
			}
		}
		return false, unknown
	}
	switch {
	case p == "*":
		if url, _ := Get(r.Props, "functionUrlAuthType").Str(); strings.EqualFold(url, "AWS_IAM") {
			return nil
		}
		if ok, unknown := restricted(); ok || unknown {
			return nil
		}
		return []Violation{fail("principal is \"*\" with no sourceArn, sourceAccount or principalOrgId, so anyone can invoke the function; name the invoking account or service")}
	case strings.HasSuffix(p, ".amazonaws.com") || strings.HasSuffix(p, ".amazonaws.com.cn"):
		if ok, unknown := restricted(); ok || unknown {
			return nil
		}
		return []Violation{fail("%s", fmt.Sprintf("service principal %s has no sourceArn or sourceAccount, so any %s resource of any account can invoke the function; set sourceArn to the invoking resource's ARN", p, p))}
	}
	return nil
}
