package rules

import "strings"

// API Gateway rules beyond stage logging/tracing and method auth (api.go):
// execution logging, client certificates, HTTP/WebSocket APIs (v2), custom
// domain TLS.

const (
	TypeAPIIntegration   = "aws:apigateway/integration:Integration"
	TypeAPIDomainName    = "aws:apigateway/domainName:DomainName"
	TypeAPIV2Route       = "aws:apigatewayv2/route:Route"
	TypeAPIV2Stage       = "aws:apigatewayv2/stage:Stage"
	TypeAPIV2DomainName  = "aws:apigatewayv2/domainName:DomainName"
	apigwLoggingFixStage = "add an aws.apigateway.MethodSettings with restApi and stageName of the stage, methodPath \"*/*\" and settings.loggingLevel \"ERROR\" or \"INFO\""
)

func init() {
	register(
		Rule{
			Name: "apigw-execution-logging", Description: "Every REST API stage has execution logging (method settings \"*/*\" with loggingLevel ERROR or INFO).",
			Control: "APIGateway.1", Controls: []string{"APIGateway.1"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: apigwLoggingFixStage,
			StackCheck:  checkExecutionLogging,
		},
		Rule{
			Name: "apigw-backend-client-certificate", Description: "REST API stages that call HTTP backends over the internet authenticate with a client certificate.",
			Control: "APIGateway.2 (VPC_LINK, AWS and MOCK integrations are exempt: no public backend)", Controls: []string{"APIGateway.2"}, Severity: Medium, DefaultLevel: Advisory,
			Remediation: "set the stage's clientCertificateId to an aws.apigateway.ClientCertificate and verify it in the backend",
			StackCheck:  checkClientCertificate,
		},
		Rule{
			Name: "apigwv2-route-auth", Description: "HTTP/WebSocket API routes that write (POST/PUT/PATCH/DELETE/ANY, $default, $connect) require authorization.",
			Control: "APIGateway.8 (read-only GET routes may stay public, as for REST methods)", Controls: []string{"APIGateway.8"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set authorizationType to JWT, AWS_IAM or CUSTOM with authorizerId",
			Types:       []string{TypeAPIV2Route},
			Check: func(r Resource) []Violation {
				kv := Get(r.Props, "routeKey")
				if kv.Unknown {
					return []Violation{cannotTell("routeKey")}
				}
				key, _ := kv.Str()
				method := strings.ToUpper(strings.Fields(key + " x")[0])
				if !containsFold(writeMethods, method) && key != "$default" && key != "$connect" {
					return nil
				}
				return wantNotIn(r, "NONE", []string{"NONE", ""}, "set authorizationType: \"JWT\" (or AWS_IAM / CUSTOM) with authorizerId", "authorizationType")
			},
		},
		Rule{
			Name: "apigwv2-stage-access-logs", Description: "HTTP/WebSocket API stages write access logs.",
			Control: "APIGateway.9", Controls: []string{"APIGateway.9"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set accessLogSettings.destinationArn and format",
			Types:       []string{TypeAPIV2Stage},
			Check: func(r Resource) []Violation {
				return wantSet(r, "set accessLogSettings: {destinationArn: <log group ARN>, format: <JSON format>}", "accessLogSettings", "destinationArn")
			},
		},
		Rule{
			Name: "apigw-domain-tls12", Description: "API Gateway custom domain names require TLS 1.2.",
			Control: "Checkov CKV_AWS_206", Controls: []string{"CKV_AWS_206"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set securityPolicy: \"TLS_1_2\"",
			Types:       []string{TypeAPIDomainName, TypeAPIV2DomainName},
			Check: func(r Resource) []Violation {
				path := []any{"securityPolicy"}
				if r.Type == TypeAPIV2DomainName {
					path = []any{"domainNameConfiguration", "securityPolicy"}
				}
				return wantNotIn(r, "", []string{"TLS_1_0"}, "set securityPolicy: \"TLS_1_2\"", path...)
			},
		},
	)
}

func checkExecutionLogging(stack []Resource) []Violation {
	var out []Violation
	settings := ofTypes(stack, TypeAPIMethodSettings)
	for _, st := range ofTypes(stack, TypeAPIStage) {
		ok, maybe := false, false
		for _, ms := range settings {
			pv := Get(ms.Props, "methodPath")
			if pv.Unknown {
				maybe = true
				continue
			}
			if path, _ := pv.Str(); path != "*/*" {
				continue
			}
			m := RefersTo(ms, "stageName", st, "stageName")
			if m == NoMatch {
				continue
			}
			if sameRef(ms, st, "restApi") == NoMatch {
				continue
			}
			lv := Get(ms.Props, "settings", "loggingLevel")
			if lv.Unknown || m == MaybeMatch {
				maybe = true
				continue
			}
			if s, _ := lv.Str(); strings.EqualFold(s, "ERROR") || strings.EqualFold(s, "INFO") {
				ok = true
			}
		}
		switch {
		case ok:
		case maybe:
			out = append(out, cannotTellAt(st.URN, "execution logging (method settings */* loggingLevel)"))
		default:
			out = append(out, failAt(st.URN, "stage has no execution logging; %s", apigwLoggingFixStage))
		}
	}
	return out
}

// sameRef decides whether two resources' prop refers to the same thing: by
// the property dependencies both recorded, else by known equal values.
func sameRef(a, b Resource, prop string) Match {
	da, db := a.PropertyDependencies[prop], b.PropertyDependencies[prop]
	if len(da) > 0 && len(db) > 0 {
		for _, x := range da {
			for _, y := range db {
				if x == y {
					return IsMatch
				}
			}
		}
		return NoMatch
	}
	va, vb := Get(a.Props, prop), Get(b.Props, prop)
	sa, oka := va.Str()
	sb, okb := vb.Str()
	switch {
	case oka && okb && sa == sb:
		return IsMatch
	case oka && okb:
		return NoMatch
	}
	return MaybeMatch
}

func checkClientCertificate(stack []Resource) []Violation {
	public := false
	for _, in := range ofTypes(stack, TypeAPIIntegration) {
		t, _ := Get(in.Props, "type").Str()
		c, _ := Get(in.Props, "connectionType").Str()
		if (strings.EqualFold(t, "HTTP") || strings.EqualFold(t, "HTTP_PROXY")) && !strings.EqualFold(c, "VPC_LINK") {
			public = true
		}
	}
	if !public {
		return nil
	}
	var out []Violation
	for _, st := range ofTypes(stack, TypeAPIStage) {
		if v := Get(st.Props, "clientCertificateId"); !v.NonEmpty() && !v.Unknown {
			out = append(out, failAt(st.URN, "stage calls HTTP backends over the internet without a client certificate; set clientCertificateId so the backend can authenticate API Gateway"))
		}
	}
	return out
}
