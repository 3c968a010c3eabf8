package infra

import (
	"encoding/json"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// accessLogFormat is the stage's JSON access-log line. Every variable is one
// AWS documents for REST API access logs (tests/testdata lists them with the
// page). The cache's hit or miss is not among them; the CacheHitCount and
// CacheMissCount metrics report it.
var accessLogFormat = mustJSON(map[string]string{
	"requestId":          "$context.requestId",
	"extendedRequestId":  "$context.extendedRequestId",
	"ip":                 "$context.identity.sourceIp",
	"userAgent":          "$context.identity.userAgent",
	"requestTime":        "$context.requestTime",
	"httpMethod":         "$context.httpMethod",
	"resourcePath":       "$context.resourcePath",
	"path":               "$context.path",
	"status":             "$context.status",
	"protocol":           "$context.protocol",
	"responseLength":     "$context.responseLength",
	"responseLatency":    "$context.responseLatency",
	"integrationLatency": "$context.integration.latency",
	"integrationStatus":  "$context.integration.status",
	"integrationError":   "$context.integration.error",
	"errorMessage":       "$context.error.message",
	"errorType":          "$context.error.responseType",
	"sub":                "$context.authorizer.claims.sub",
	"wafStatus":          "$context.waf.status",
	"xrayTraceId":        "$context.xrayTraceId",
})

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// accountSettings makes this stack own the region's API Gateway account
// settings (books:api.manageAccount): the CloudWatch role execution logs of
// every REST API in the account and region are written with. It returns the
// Account, or nil when another stack owns it.
//
// The role and its policy are retained when the stack is destroyed: the
// provider leaves the account setting in place on delete (resetOnDelete
// defaults to false, pulumi-aws apigateway.Account), so deleting the role
// would break the other stacks' execution logging.
func (b *apiBuilder) accountSettings() (*apigateway.Account, error) {
	if !b.s.ManageAccount {
		return nil, nil
	}
	// The managed AmazonAPIGatewayPushToCloudWatchLogs policy's actions,
	// scoped to this account's log groups in this region.
	env := b.args.Env
	logGroups := env.Arn("logs", env.Region, env.Account, "log-group:*")
	policy, err := NewPolicyDocument(
		Allow("PushLogs", []string{
			"logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
			"logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents",
		}, logGroups),
		Allow("ListLogGroups", []string{"logs:DescribeLogGroups"}, "*"),
	).JSON()
	if err != nil {
		return nil, err
	}
	_, roleArn, err := newServiceRole(b.ctx, b.child("cloudwatch"), "apigateway.amazonaws.com", env.Account, pulumi.String(policy), b.api, pulumi.RetainOnDelete(true))
	if err != nil {
		return nil, err
	}
	return apigateway.NewAccount(b.ctx, b.child("account"), &apigateway.AccountArgs{
		CloudwatchRoleArn: roleArn,
	}, b.parent)
}

// stage creates the account settings (when this stack owns them), the log
// groups, the stage (access logs, X-Ray, cache cluster) and its method
// settings.
func (b *apiBuilder) stage() error {
	account, err := b.accountSettings()
	if err != nil {
		return err
	}
	retention := pulumi.Int(b.s.LogRetentionDays)
	access, err := cloudwatch.NewLogGroup(b.ctx, b.child("access"), &cloudwatch.LogGroupArgs{RetentionInDays: retention}, b.parent)
	if err != nil {
		return err
	}
	// API Gateway would create the execution-log group itself, without
	// retention; creating it first keeps the retention ours.
	execution, err := cloudwatch.NewLogGroup(b.ctx, b.child("execution"), &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("API-Gateway-Execution-Logs_%s/%s", b.rest.ID(), b.s.StageName),
		RetentionInDays: retention,
	}, b.parent)
	if err != nil {
		return err
	}
	// Execution logging needs the account's CloudWatch role.
	waits := []pulumi.Resource{execution}
	if account != nil {
		waits = append(waits, account)
	}
	stg, err := apigateway.NewStage(b.ctx, b.name, &apigateway.StageArgs{
		RestApi:             b.rest.ID(),
		Deployment:          b.dep.ID(),
		StageName:           pulumi.String(b.s.StageName),
		XrayTracingEnabled:  pulumi.Bool(true),
		CacheClusterEnabled: pulumi.Bool(true),
		CacheClusterSize:    pulumi.String(b.s.CacheSize),
		AccessLogSettings: &apigateway.StageAccessLogSettingsArgs{
			DestinationArn: access.Arn,
			Format:         pulumi.String(accessLogFormat),
		},
	}, pulumi.Parent(b.rest), pulumi.DependsOn(waits))
	if err != nil {
		return err
	}
	b.stg = stg
	b.api.StageName = stg.StageName
	b.api.ApiUrl = stg.InvokeUrl
	return b.methodSettings()
}

// methodSettings sets logging, detailed metrics (books:api.detailedMetrics)
// and throttling for every method
// (*/*, no caching) and turns the cache on only for the cached routes, each
// with its own setting under its escaped path (Route.MethodPath). A
// per-method setting replaces */* for its method, so it repeats logging and
// throttling. Each UpdateStage waits for the previous one: concurrent
// updates of one stage conflict, and the provider reads back what won.
func (b *apiBuilder) methodSettings() error {
	prev, err := b.newMethodSettings("all", "*/*", false, nil)
	if err != nil {
		return err
	}
	for _, rt := range b.routes {
		if !rt.Cached {
			continue
		}
		prev, err = b.newMethodSettings(resourceSlug(rt.Path)+"-"+strings.ToLower(rt.Method), rt.MethodPath(), true, prev)
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *apiBuilder) newMethodSettings(suffix, path string, cached bool, after pulumi.Resource) (*apigateway.MethodSettings, error) {
	settings := &apigateway.MethodSettingsSettingsArgs{
		// Optional+Computed in terraform-provider-aws
		// internal/service/apigateway/method_settings.go, patched to
		// /<methodPath>/metrics/enabled only when it changes: false on a
		// new setting keeps the stage's default (no detailed metrics).
		MetricsEnabled:       pulumi.Bool(b.s.DetailedMetrics),
		LoggingLevel:         pulumi.String("INFO"),
		DataTraceEnabled:     pulumi.Bool(false),
		ThrottlingRateLimit:  pulumi.Float64(b.s.ThrottleRateLimit),
		ThrottlingBurstLimit: pulumi.Int(b.s.ThrottleBurst),
		CachingEnabled:       pulumi.Bool(cached),
	}
	if cached {
		settings.CacheTtlInSeconds = pulumi.Int(CacheTTLSeconds)
		settings.CacheDataEncrypted = pulumi.Bool(true)
		// A client that wrote reads its write with Cache-Control:
		// max-age=0. "Require authorization" would demand an IAM-signed
		// request, which no caller of a Cognito-authorized method can send,
		// so the header would be ignored; throttling and WAF bound the
		// cost of clients bypassing the cache (docs/decisions.md).
		settings.RequireAuthorizationForCacheControl = pulumi.Bool(false)
	}
	opts := []pulumi.ResourceOption{pulumi.Parent(b.stg)}
	if after != nil {
		opts = append(opts, pulumi.DependsOn([]pulumi.Resource{after}))
	}
	return apigateway.NewMethodSettings(b.ctx, b.child("settings-"+suffix), &apigateway.MethodSettingsArgs{
		RestApi:    b.rest.ID(),
		StageName:  b.stg.StageName,
		MethodPath: pulumi.String(path),
		Settings:   settings,
	}, opts...)
}
