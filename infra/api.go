package infra

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cognito"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ApiArgs configures the public entry point: Cognito, the private path to
// the Service's ALB and the REST API.
type ApiArgs struct {
	// Settings are the validated books:api values.
	Settings ApiConfig
	// VpcId and PrivateSubnetIds place the internal NLB.
	VpcId            pulumi.StringInput
	PrivateSubnetIds pulumi.StringArrayInput
	// AlbArn is the Service's internal ALB, the NLB's only target.
	AlbArn pulumi.StringInput
	// AlbListenerArn (optional) is the ALB's HTTP listener. AWS refuses an
	// `alb` target until the ALB has a listener on the target port, so when
	// set the attachment waits for it.
	AlbListenerArn pulumi.StringInput
	// AlbPort is the ALB listener's port (default 80, the Service's HTTPPort).
	AlbPort int
	// HealthCheckPath is the app's health path the NLB probes through the ALB
	// (default "/healthz").
	HealthCheckPath string
	// BasicAuthUser (default "books", the app's BASIC_AUTH_USER default) and
	// BasicAuthPassword (a secret) are the backend's Basic-auth credentials
	// the integrations send.
	BasicAuthUser     string
	BasicAuthPassword pulumi.StringInput
	// DeletionProtection protects the user pool (ACTIVE) and the NLB.
	DeletionProtection bool
	Env                Environment
}

// Api is the Cognito-protected REST API in front of the Service.
type Api struct {
	pulumi.ResourceState

	RestApiName pulumi.StringOutput `pulumi:"restApiName"`
	RestApiId   pulumi.StringOutput `pulumi:"restApiId"`
	StageName   pulumi.StringOutput `pulumi:"stageName"`
	// ApiUrl is the stage's invoke URL (https://id.execute-api.region.amazonaws.com/stage).
	ApiUrl pulumi.StringOutput `pulumi:"apiUrl"`
	// CustomDomainUrl is https://<domainName>/ when a custom domain is configured, else "".
	CustomDomainUrl  pulumi.StringOutput `pulumi:"customDomainUrl"`
	UserPoolId       pulumi.StringOutput `pulumi:"userPoolId"`
	UserPoolArn      pulumi.StringOutput `pulumi:"userPoolArn"`
	UserPoolClientId pulumi.StringOutput `pulumi:"userPoolClientId"`
	NlbArn           pulumi.StringOutput `pulumi:"nlbArn"`
	VpcLinkId        pulumi.StringOutput `pulumi:"vpcLinkId"`
	// WebAclName and WebAclArn are "" when WAF is off.
	WebAclName pulumi.StringOutput `pulumi:"webAclName"`
	WebAclArn  pulumi.StringOutput `pulumi:"webAclArn"`
	// WebAclMetricName is the web ACL's CloudWatch metric name (the WebACL
	// dimension of AWS/WAFV2), "" when WAF is off.
	WebAclMetricName pulumi.StringOutput `pulumi:"webAclMetricName"`
	// LimitsFunctionName and PayloadBucketName are "" when the demo is off.
	LimitsFunctionName pulumi.StringOutput `pulumi:"limitsFunctionName"`
	PayloadBucketName  pulumi.StringOutput `pulumi:"payloadBucketName"`
}

// CacheTTLSeconds is the stage cache's time to live.
const CacheTTLSeconds = 60

// IntegrationTimeoutMs is API Gateway's maximum integration timeout for a
// REST API (29 s); the limits demo's Lambda sleeps past it.
const IntegrationTimeoutMs = 29000

// Route is one method of the REST API as the deployment hash sees it.
type Route struct {
	// Path is the resource path, e.g. "/book/{bookId}".
	Path   string `json:"path"`
	Method string `json:"method"`
	// Authorized methods use the Cognito authorizer; the others are public.
	Authorized bool `json:"authorized"`
	// PathParams are required path parameters, QueryParams optional query
	// string parameters the method declares (cache keys need them declared).
	PathParams  []string `json:"pathParams,omitempty"`
	QueryParams []string `json:"queryParams,omitempty"`
	// Body requests validate the JSON body against the book model.
	Body bool `json:"body,omitempty"`
	// Cached methods are served from the stage cache, keyed by every path
	// and query parameter.
	Cached bool `json:"cached,omitempty"`
}

// CacheKeys are the method request parameters a cached route is keyed by.
func (r Route) CacheKeys() []string {
	var keys []string
	for _, p := range r.PathParams {
		keys = append(keys, "method.request.path."+p)
	}
	for _, q := range r.QueryParams {
		keys = append(keys, "method.request.querystring."+q)
	}
	return keys
}

// MethodPath is the stage method-settings path, e.g. "book/{bookId}/GET".
func (r Route) MethodPath() string {
	return strings.TrimPrefix(r.Path, "/") + "/" + r.Method
}

// BookListQueryParams are GET /book's query parameters (app/openapi.yaml).
var BookListQueryParams = []string{"limit", "cursor", "author"}

// BookRoutes are the books API's methods, proxied to the same paths on the service.
var BookRoutes = []Route{
	{Path: "/book", Method: "GET", QueryParams: BookListQueryParams, Cached: true},
	{Path: "/book", Method: "POST", Authorized: true, Body: true},
	{Path: "/book/{bookId}", Method: "GET", Authorized: true, PathParams: []string{"bookId"}, Cached: true},
	{Path: "/book/{bookId}", Method: "PUT", Authorized: true, PathParams: []string{"bookId"}, Body: true},
	{Path: "/book/{bookId}", Method: "DELETE", Authorized: true, PathParams: []string{"bookId"}},
}

// LimitsRoutes are the limits demo's methods (books:api.limitsDemo).
var LimitsRoutes = []Route{
	{Path: "/limits/time/exceed", Method: "GET", Authorized: true},
	{Path: "/limits/payload/{key}", Method: "PUT", Authorized: true, PathParams: []string{"key"}},
}

// BookModelSchema is the JSON schema (draft 4, API Gateway's dialect) of
// POST/PUT bodies, app/openapi.yaml's BookInput.
const BookModelSchema = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "BookInput",
  "type": "object",
  "additionalProperties": false,
  "required": ["title", "author", "year"],
  "properties": {
    "title": {"type": "string", "minLength": 1, "maxLength": 500},
    "author": {"type": "string", "minLength": 1, "maxLength": 200},
    "year": {"type": "integer", "minimum": -3000, "maximum": 2100}
  }
}`

// GatewayResponse is an error API Gateway answers itself, as JSON in the
// app's error shape ({"error": {"code", "message"}}).
type GatewayResponse struct {
	Type   string `json:"type"`
	Status string `json:"status,omitempty"`
	Code   string `json:"code"`
}

// GatewayResponses are the errors answered by the gateway, not the service.
var GatewayResponses = []GatewayResponse{
	{"UNAUTHORIZED", "401", "unauthorized"},
	{"ACCESS_DENIED", "403", "forbidden"},
	{"WAF_FILTERED", "403", "forbidden"},
	{"BAD_REQUEST_BODY", "400", "invalid"},
	{"BAD_REQUEST_PARAMETERS", "400", "invalid"},
	{"REQUEST_TOO_LARGE", "413", "payload_too_large"},
	{"THROTTLED", "429", "throttled"},
	{"INTEGRATION_TIMEOUT", "504", "timeout"},
	{"DEFAULT_4XX", "", "client_error"},
	{"DEFAULT_5XX", "", "internal"},
}

func (g GatewayResponse) template() string {
	return fmt.Sprintf(`{"error":{"code":%q,"message":$context.error.messageString},"requestId":"$context.requestId"}`, g.Code)
}

// ApiDefinition is everything that shapes the deployed API. Its hash is the
// deployment's trigger: any change re-creates the deployment, so a change to
// a method, integration, model or response always goes live.
type ApiDefinition struct {
	Routes           []Route           `json:"routes"`
	BookModel        string            `json:"bookModel"`
	GatewayResponses []GatewayResponse `json:"gatewayResponses"`
	CorsAllowOrigins []string          `json:"corsAllowOrigins"`
	// Targets are the integrations' endpoints (backend host, VPC Link id,
	// Lambda, bucket, role) by name.
	Targets map[string]string `json:"targets"`
	// BackendAuthDigest is a SHA-256 of the Basic-auth header, so a new
	// password redeploys (the digest stays a secret output).
	BackendAuthDigest string `json:"backendAuthDigest"`
}

// DeploymentHash is the SHA-256 of an ApiDefinition's JSON (maps marshal
// with sorted keys, so it is deterministic).
func DeploymentHash(d ApiDefinition) string {
	b, err := json.Marshal(d)
	if err != nil { // only plain strings, bools and slices: cannot fail
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// basicAuthHeader renders the backend's Authorization header as a static
// integration request parameter ('Basic <base64>', quotes included).
func basicAuthHeader(user, password string) string {
	return "'Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)) + "'"
}

// accessLogFormat is the stage's JSON access-log line.
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
	"cacheStatus":        "$context.integration.responseCacheStatus",
	"xrayTraceId":        "$context.xrayTraceId",
})

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// NewApi creates the user pool and client, the NLB and VPC Link, the REST
// API with its authorizer, methods and integrations, the deployment and
// stage, the account's CloudWatch role, and (per config) WAF, custom domain
// and the limits demo.
func NewApi(ctx *pulumi.Context, name string, args *ApiArgs, opts ...pulumi.ResourceOption) (*Api, error) {
	if args == nil {
		return nil, fmt.Errorf("api %s: args are required", name)
	}
	if args.AlbArn == nil || args.VpcId == nil || args.PrivateSubnetIds == nil || args.BasicAuthPassword == nil {
		return nil, fmt.Errorf("api %s: AlbArn, VpcId, PrivateSubnetIds and BasicAuthPassword are required", name)
	}
	a := &Api{}
	if err := ctx.RegisterComponentResource("books:infra:Api", name, a, opts...); err != nil {
		return nil, err
	}
	b := &apiBuilder{ctx: ctx, name: name, args: args, api: a, parent: pulumi.Parent(a), s: args.Settings}
	b.applyDefaults()
	steps := []func() error{
		b.userPool, b.privatePath, b.restApi, b.bookMethods, b.cors, b.gatewayResponses,
		b.limitsDemo, b.deployment, b.stage, b.waf, b.customDomain,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("api %s: %w", name, err)
		}
	}
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{
		"restApiName":        a.RestApiName,
		"restApiId":          a.RestApiId,
		"stageName":          a.StageName,
		"apiUrl":             a.ApiUrl,
		"customDomainUrl":    a.CustomDomainUrl,
		"userPoolId":         a.UserPoolId,
		"userPoolArn":        a.UserPoolArn,
		"userPoolClientId":   a.UserPoolClientId,
		"nlbArn":             a.NlbArn,
		"vpcLinkId":          a.VpcLinkId,
		"webAclName":         a.WebAclName,
		"webAclArn":          a.WebAclArn,
		"webAclMetricName":   a.WebAclMetricName,
		"limitsFunctionName": a.LimitsFunctionName,
		"payloadBucketName":  a.PayloadBucketName,
	})
}

// apiBuilder carries the resources one step creates to the next.
type apiBuilder struct {
	ctx    *pulumi.Context
	name   string
	args   *ApiArgs
	s      ApiConfig
	api    *Api
	parent pulumi.ResourceOption

	authHeader pulumi.StringOutput // secret

	pool       *cognito.UserPool
	nlb        *lb.LoadBalancer
	vpcLink    *apigateway.VpcLink
	rest       *apigateway.RestApi
	authorizer *apigateway.Authorizer
	validators map[string]*apigateway.RequestValidator
	model      *apigateway.Model
	resources  map[string]*apigateway.Resource
	routes     []Route
	// members are the methods, integrations and responses the deployment
	// must follow.
	members []pulumi.Resource
	targets map[string]pulumi.StringOutput
	dep     *apigateway.Deployment
	stg     *apigateway.Stage
}

func (b *apiBuilder) applyDefaults() {
	if b.args.AlbPort == 0 {
		b.args.AlbPort = 80
	}
	if b.args.HealthCheckPath == "" {
		b.args.HealthCheckPath = "/healthz"
	}
	if b.args.BasicAuthUser == "" {
		b.args.BasicAuthUser = "books"
	}
	user := b.args.BasicAuthUser
	b.authHeader = pulumi.ToSecret(b.args.BasicAuthPassword.ToStringOutput().ApplyT(func(p string) string {
		return basicAuthHeader(user, p)
	})).(pulumi.StringOutput)
	b.targets = map[string]pulumi.StringOutput{}
	b.resources = map[string]*apigateway.Resource{}
	b.api.WebAclName = pulumi.String("").ToStringOutput()
	b.api.WebAclArn = pulumi.String("").ToStringOutput()
	b.api.WebAclMetricName = pulumi.String("").ToStringOutput()
	b.api.LimitsFunctionName = pulumi.String("").ToStringOutput()
	b.api.PayloadBucketName = pulumi.String("").ToStringOutput()
	b.api.CustomDomainUrl = pulumi.String("").ToStringOutput()
}

func (b *apiBuilder) child(suffix string) string { return b.name + "-" + suffix }

// userPool creates the Cognito user pool (e-mail sign-in) and the public
// client the CLI uses (USER_PASSWORD_AUTH, SRP, refresh; no secret).
func (b *apiBuilder) userPool() error {
	deletion := "INACTIVE"
	if b.args.DeletionProtection {
		deletion = "ACTIVE"
	}
	poolArgs := &cognito.UserPoolArgs{
		UsernameAttributes:     pulumi.StringArray{pulumi.String("email")},
		AutoVerifiedAttributes: pulumi.StringArray{pulumi.String("email")},
		UsernameConfiguration:  &cognito.UserPoolUsernameConfigurationArgs{CaseSensitive: pulumi.Bool(false)},
		PasswordPolicy: &cognito.UserPoolPasswordPolicyArgs{
			MinimumLength:                 pulumi.Int(12),
			RequireLowercase:              pulumi.Bool(true),
			RequireUppercase:              pulumi.Bool(true),
			RequireNumbers:                pulumi.Bool(true),
			RequireSymbols:                pulumi.Bool(true),
			TemporaryPasswordValidityDays: pulumi.Int(3),
		},
		AccountRecoverySetting: &cognito.UserPoolAccountRecoverySettingArgs{
			RecoveryMechanisms: cognito.UserPoolAccountRecoverySettingRecoveryMechanismArray{
				cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs{Name: pulumi.String("verified_email"), Priority: pulumi.Int(1)},
			},
		},
		// Users are invited by an administrator: a books catalogue anyone
		// could sign up to write to would need moderation first.
		AdminCreateUserConfig: &cognito.UserPoolAdminCreateUserConfigArgs{AllowAdminCreateUserOnly: pulumi.Bool(true)},
		VerificationMessageTemplate: &cognito.UserPoolVerificationMessageTemplateArgs{
			DefaultEmailOption: pulumi.String("CONFIRM_WITH_CODE"),
		},
		MfaConfiguration:   pulumi.String(b.s.Mfa),
		DeletionProtection: pulumi.String(deletion),
	}
	if b.s.Mfa != "OFF" {
		poolArgs.SoftwareTokenMfaConfiguration = &cognito.UserPoolSoftwareTokenMfaConfigurationArgs{Enabled: pulumi.Bool(true)}
	}
	pool, err := cognito.NewUserPool(b.ctx, b.child("users"), poolArgs, b.parent, pulumi.Protect(b.args.DeletionProtection))
	if err != nil {
		return err
	}
	client, err := cognito.NewUserPoolClient(b.ctx, b.child("cli"), &cognito.UserPoolClientArgs{
		UserPoolId:     pool.ID().ToStringOutput(),
		GenerateSecret: pulumi.Bool(false),
		ExplicitAuthFlows: pulumi.StringArray{
			pulumi.String("ALLOW_USER_PASSWORD_AUTH"),
			pulumi.String("ALLOW_USER_SRP_AUTH"),
			pulumi.String("ALLOW_REFRESH_TOKEN_AUTH"),
		},
		AccessTokenValidity:  pulumi.Int(60),
		IdTokenValidity:      pulumi.Int(60),
		RefreshTokenValidity: pulumi.Int(b.s.RefreshTokenDays),
		TokenValidityUnits: &cognito.UserPoolClientTokenValidityUnitsArgs{
			AccessToken:  pulumi.String("minutes"),
			IdToken:      pulumi.String("minutes"),
			RefreshToken: pulumi.String("days"),
		},
		EnableTokenRevocation:      pulumi.Bool(true),
		PreventUserExistenceErrors: pulumi.String("ENABLED"),
	}, pulumi.Parent(pool))
	if err != nil {
		return err
	}
	b.pool = pool
	b.api.UserPoolId = pool.ID().ToStringOutput()
	b.api.UserPoolArn = pool.Arn
	b.api.UserPoolClientId = client.ID().ToStringOutput()
	return nil
}

// privatePath creates the internal NLB whose only target is the ALB, and the
// VPC Link to it (REST APIs reach a VPC only through an NLB in pulumi-aws v6).
func (b *apiBuilder) privatePath() error {
	nlb, err := lb.NewLoadBalancer(b.ctx, b.child("nlb"), &lb.LoadBalancerArgs{
		LoadBalancerType:             pulumi.String("network"),
		Internal:                     pulumi.Bool(true),
		Subnets:                      b.args.PrivateSubnetIds,
		EnableCrossZoneLoadBalancing: pulumi.Bool(true),
		EnableDeletionProtection:     pulumi.Bool(b.args.DeletionProtection),
	}, b.parent)
	if err != nil {
		return err
	}
	port := b.args.AlbPort
	tg, err := lb.NewTargetGroup(b.ctx, b.child("alb"), &lb.TargetGroupArgs{
		TargetType: pulumi.String("alb"),
		Protocol:   pulumi.String("TCP"),
		Port:       pulumi.Int(port),
		VpcId:      b.args.VpcId,
		HealthCheck: &lb.TargetGroupHealthCheckArgs{
			Enabled:  pulumi.Bool(true),
			Protocol: pulumi.String("HTTP"),
			Path:     pulumi.String(b.args.HealthCheckPath),
			Port:     pulumi.String("traffic-port"),
			Matcher:  pulumi.String("200"),
		},
	}, pulumi.Parent(nlb))
	if err != nil {
		return err
	}
	albArn := b.args.AlbArn.ToStringOutput()
	if b.args.AlbListenerArn != nil {
		albArn = pulumi.All(b.args.AlbArn, b.args.AlbListenerArn).ApplyT(func(v []any) string {
			return v[0].(string)
		}).(pulumi.StringOutput)
	}
	if _, err := lb.NewTargetGroupAttachment(b.ctx, b.child("alb"), &lb.TargetGroupAttachmentArgs{
		TargetGroupArn: tg.Arn,
		TargetId:       albArn,
		Port:           pulumi.Int(port),
	}, pulumi.Parent(tg)); err != nil {
		return err
	}
	if _, err := lb.NewListener(b.ctx, b.child("nlb"), &lb.ListenerArgs{
		LoadBalancerArn: nlb.Arn,
		Port:            pulumi.Int(port),
		Protocol:        pulumi.String("TCP"),
		DefaultActions: lb.ListenerDefaultActionArray{
			lb.ListenerDefaultActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tg.Arn},
		},
	}, pulumi.Parent(nlb)); err != nil {
		return err
	}
	link, err := apigateway.NewVpcLink(b.ctx, b.child("link"), &apigateway.VpcLinkArgs{
		Description: pulumi.String("REST API " + b.name + " to the internal NLB in front of the service's ALB"),
		TargetArn:   nlb.Arn,
	}, b.parent)
	if err != nil {
		return err
	}
	b.nlb, b.vpcLink = nlb, link
	b.api.NlbArn = nlb.Arn
	b.api.VpcLinkId = link.ID().ToStringOutput()
	b.targets["backendHost"] = nlb.DnsName
	b.targets["vpcLink"] = link.ID().ToStringOutput()
	return nil
}

// restApi creates the regional REST API, the Cognito authorizer, the
// request validators and the book model.
func (b *apiBuilder) restApi() error {
	rest, err := apigateway.NewRestApi(b.ctx, b.name, &apigateway.RestApiArgs{
		Description:            pulumi.String("Books API"),
		EndpointConfiguration:  &apigateway.RestApiEndpointConfigurationArgs{Types: pulumi.String("REGIONAL")},
		MinimumCompressionSize: pulumi.String("1024"),
	}, b.parent)
	if err != nil {
		return err
	}
	b.rest = rest
	b.api.RestApiName = rest.Name
	b.api.RestApiId = rest.ID().ToStringOutput()
	child := pulumi.Parent(rest)

	b.authorizer, err = apigateway.NewAuthorizer(b.ctx, b.child("cognito"), &apigateway.AuthorizerArgs{
		RestApi:        rest.ID(),
		Type:           pulumi.String("COGNITO_USER_POOLS"),
		ProviderArns:   pulumi.StringArray{b.pool.Arn},
		IdentitySource: pulumi.String("method.request.header.Authorization"),
	}, child)
	if err != nil {
		return err
	}
	b.validators = map[string]*apigateway.RequestValidator{}
	for _, v := range []struct {
		key          string
		body, params bool
	}{{"body", true, true}, {"params", false, true}} {
		rv, err := apigateway.NewRequestValidator(b.ctx, b.child("validate-"+v.key), &apigateway.RequestValidatorArgs{
			RestApi:                   rest.ID(),
			ValidateRequestBody:       pulumi.Bool(v.body),
			ValidateRequestParameters: pulumi.Bool(v.params),
		}, child)
		if err != nil {
			return err
		}
		b.validators[v.key] = rv
		b.members = append(b.members, rv)
	}
	b.model, err = apigateway.NewModel(b.ctx, b.child("book-model"), &apigateway.ModelArgs{
		RestApi:     rest.ID(),
		Name:        pulumi.String("BookInput"), // model names are alphanumeric: no auto-naming
		ContentType: pulumi.String("application/json"),
		Description: pulumi.String("POST /book and PUT /book/{bookId} bodies"),
		Schema:      pulumi.String(BookModelSchema),
	}, child)
	if err != nil {
		return err
	}
	b.members = append(b.members, b.model)
	return nil
}

// resource returns (creating it and its ancestors once) the API resource of
// a path such as "/book/{bookId}".
func (b *apiBuilder) resource(path string) (*apigateway.Resource, error) {
	if r, ok := b.resources[path]; ok {
		return r, nil
	}
	i := strings.LastIndex(path, "/")
	parentPath, part := path[:i], path[i+1:]
	parentId := b.rest.RootResourceId
	if parentPath != "" {
		p, err := b.resource(parentPath)
		if err != nil {
			return nil, err
		}
		parentId = p.ID().ToStringOutput()
	}
	r, err := apigateway.NewResource(b.ctx, b.child(resourceSlug(path)), &apigateway.ResourceArgs{
		RestApi:  b.rest.ID(),
		ParentId: parentId,
		PathPart: pulumi.String(part),
	}, pulumi.Parent(b.rest))
	if err != nil {
		return nil, err
	}
	b.resources[path] = r
	b.members = append(b.members, r)
	return r, nil
}

// resourceSlug turns "/book/{bookId}" into "book-bookId" for logical names.
func resourceSlug(path string) string {
	r := strings.NewReplacer("/", "-", "{", "", "}", "")
	return strings.Trim(r.Replace(path), "-")
}

// method creates a route's method (authorizer, validator, declared
// parameters) and returns it with its resource.
func (b *apiBuilder) method(rt Route) (*apigateway.Method, *apigateway.Resource, error) {
	res, err := b.resource(rt.Path)
	if err != nil {
		return nil, nil, err
	}
	params := pulumi.BoolMap{}
	for _, p := range rt.PathParams {
		params["method.request.path."+p] = pulumi.Bool(true)
	}
	for _, q := range rt.QueryParams {
		params["method.request.querystring."+q] = pulumi.Bool(false)
	}
	margs := &apigateway.MethodArgs{
		RestApi:           b.rest.ID(),
		ResourceId:        res.ID(),
		HttpMethod:        pulumi.String(rt.Method),
		Authorization:     pulumi.String("NONE"),
		RequestParameters: params,
	}
	if rt.Authorized {
		margs.Authorization = pulumi.String("COGNITO_USER_POOLS")
		margs.AuthorizerId = b.authorizer.ID()
	}
	switch {
	case rt.Body:
		margs.RequestValidatorId = b.validators["body"].ID()
		margs.RequestModels = pulumi.StringMap{"application/json": b.model.Name}
	case len(params) > 0:
		margs.RequestValidatorId = b.validators["params"].ID()
	}
	m, err := apigateway.NewMethod(b.ctx, b.child(resourceSlug(rt.Path)+"-"+strings.ToLower(rt.Method)), margs, pulumi.Parent(res))
	if err != nil {
		return nil, nil, err
	}
	b.routes = append(b.routes, rt)
	b.members = append(b.members, m)
	return m, res, nil
}

// bookMethods creates the book routes, each an HTTP_PROXY integration over
// the VPC Link to the same path on the service. The integration sends the
// backend's Basic-auth header (replacing the caller's bearer token), the
// caller's Cognito sub as X-User-Sub (authorized routes only: the public
// list has no claims) and API Gateway's request id as X-Request-Id.
//
// The Basic-auth header is a static request parameter, so it is part of the
// API's configuration: anyone allowed apigateway:GET on this API can read
// it. The alternative (a Lambda authorizer or a signing proxy fetching it
// from Secrets Manager per request) costs latency and a moving part; the
// password only guards a service that is reachable from inside the VPC
// anyway. In Pulumi state the value stays a secret, and it is never a stack
// output.
func (b *apiBuilder) bookMethods() error {
	for _, rt := range BookRoutes {
		m, res, err := b.method(rt)
		if err != nil {
			return err
		}
		reqParams := pulumi.StringMap{
			"integration.request.header.Authorization": b.authHeader,
			"integration.request.header.X-Request-Id":  pulumi.String("context.requestId"),
		}
		if rt.Authorized {
			reqParams["integration.request.header.X-User-Sub"] = pulumi.String("context.authorizer.claims.sub")
		}
		for _, p := range rt.PathParams {
			reqParams["integration.request.path."+p] = pulumi.String("method.request.path." + p)
		}
		iargs := &apigateway.IntegrationArgs{
			RestApi:               b.rest.ID(),
			ResourceId:            res.ID(),
			HttpMethod:            m.HttpMethod,
			Type:                  pulumi.String("HTTP_PROXY"),
			IntegrationHttpMethod: pulumi.String(rt.Method),
			ConnectionType:        pulumi.String("VPC_LINK"),
			ConnectionId:          b.vpcLink.ID(),
			Uri:                   pulumi.Sprintf("http://%s%s", b.nlb.DnsName, rt.Path),
			RequestParameters:     reqParams,
			TimeoutMilliseconds:   pulumi.Int(IntegrationTimeoutMs),
		}
		if rt.Cached {
			keys := pulumi.StringArray{}
			for _, k := range rt.CacheKeys() {
				keys = append(keys, pulumi.String(k))
			}
			iargs.CacheKeyParameters = keys
			iargs.CacheNamespace = res.ID()
		}
		integ, err := apigateway.NewIntegration(b.ctx, b.child(resourceSlug(rt.Path)+"-"+strings.ToLower(rt.Method)), iargs, pulumi.Parent(m))
		if err != nil {
			return err
		}
		b.members = append(b.members, integ)
	}
	return nil
}

// corsAllowHeaders are the request headers browsers may send.
const corsAllowHeaders = "Authorization,Content-Type,If-Match,If-None-Match"

// corsTemplate echoes the request's Origin when it is an allowed one (a
// preflight can answer only one origin, and the list may have several).
func corsTemplate(origins []string) string {
	quoted := make([]string, len(origins))
	for i, o := range origins {
		quoted[i] = fmt.Sprintf("%q", o)
	}
	return `#set($origin = $input.params().header.get("Origin"))
#if($origin == "")#set($origin = $input.params().header.get("origin"))#end
#if([` + strings.Join(quoted, ",") + `].contains($origin))
#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)
#end
{}`
}

// cors answers preflight requests on the book resources with a MOCK
// integration; nothing when no origin is allowed.
func (b *apiBuilder) cors() error {
	if len(b.s.CorsAllowOrigins) == 0 {
		return nil
	}
	methods := map[string][]string{}
	var paths []string
	for _, rt := range BookRoutes {
		if _, ok := methods[rt.Path]; !ok {
			paths = append(paths, rt.Path)
		}
		methods[rt.Path] = append(methods[rt.Path], rt.Method)
	}
	for _, path := range paths {
		rt := Route{Path: path, Method: "OPTIONS"}
		m, res, err := b.method(rt)
		if err != nil {
			return err
		}
		slug := b.child(resourceSlug(path) + "-options")
		integ, err := apigateway.NewIntegration(b.ctx, slug, &apigateway.IntegrationArgs{
			RestApi:          b.rest.ID(),
			ResourceId:       res.ID(),
			HttpMethod:       m.HttpMethod,
			Type:             pulumi.String("MOCK"),
			RequestTemplates: pulumi.StringMap{"application/json": pulumi.String(`{"statusCode": 200}`)},
		}, pulumi.Parent(m))
		if err != nil {
			return err
		}
		header := func(h string) string { return "method.response.header." + h }
		mr, err := apigateway.NewMethodResponse(b.ctx, slug, &apigateway.MethodResponseArgs{
			RestApi:    b.rest.ID(),
			ResourceId: res.ID(),
			HttpMethod: m.HttpMethod,
			StatusCode: pulumi.String("200"),
			ResponseParameters: pulumi.BoolMap{
				header("Access-Control-Allow-Origin"):  pulumi.Bool(false),
				header("Access-Control-Allow-Methods"): pulumi.Bool(true),
				header("Access-Control-Allow-Headers"): pulumi.Bool(true),
				header("Access-Control-Max-Age"):       pulumi.Bool(true),
				header("Vary"):                         pulumi.Bool(true),
			},
		}, pulumi.Parent(m))
		if err != nil {
			return err
		}
		ir, err := apigateway.NewIntegrationResponse(b.ctx, slug, &apigateway.IntegrationResponseArgs{
			RestApi:    b.rest.ID(),
			ResourceId: res.ID(),
			HttpMethod: m.HttpMethod,
			StatusCode: mr.StatusCode,
			ResponseParameters: pulumi.StringMap{
				header("Access-Control-Allow-Methods"): pulumi.String("'" + strings.Join(append(methods[path], "OPTIONS"), ",") + "'"),
				header("Access-Control-Allow-Headers"): pulumi.String("'" + corsAllowHeaders + "'"),
				header("Access-Control-Max-Age"):       pulumi.String("'600'"),
				header("Vary"):                         pulumi.String("'Origin'"),
			},
			ResponseTemplates: pulumi.StringMap{"application/json": pulumi.String(corsTemplate(b.s.CorsAllowOrigins))},
		}, pulumi.Parent(m), pulumi.DependsOn([]pulumi.Resource{integ}))
		if err != nil {
			return err
		}
		b.members = append(b.members, integ, mr, ir)
	}
	return nil
}

// gatewayResponses makes the gateway's own errors JSON in the app's shape.
func (b *apiBuilder) gatewayResponses() error {
	for _, g := range GatewayResponses {
		args := &apigateway.ResponseArgs{
			RestApiId:         b.rest.ID(),
			ResponseType:      pulumi.String(g.Type),
			ResponseTemplates: pulumi.StringMap{"application/json": pulumi.String(g.template())},
		}
		if g.Status != "" {
			args.StatusCode = pulumi.String(g.Status)
		}
		r, err := apigateway.NewResponse(b.ctx, b.child(strings.ToLower(strings.ReplaceAll(g.Type, "_", "-"))), args, pulumi.Parent(b.rest))
		if err != nil {
			return err
		}
		b.members = append(b.members, r)
	}
	return nil
}

// definition is the API's shape with every target resolved.
func (b *apiBuilder) definitionHash() pulumi.StringOutput {
	names := make([]string, 0, len(b.targets))
	values := []any{b.authHeader}
	for k, v := range b.targets {
		names = append(names, k)
		values = append(values, v)
	}
	routes := append([]Route(nil), b.routes...)
	origins := append([]string{}, b.s.CorsAllowOrigins...)
	return pulumi.All(values...).ApplyT(func(v []any) string {
		header := sha256.Sum256([]byte(v[0].(string)))
		targets := map[string]string{}
		for i, n := range names {
			targets[n] = v[i+1].(string)
		}
		return DeploymentHash(ApiDefinition{
			Routes:            routes,
			BookModel:         BookModelSchema,
			GatewayResponses:  GatewayResponses,
			CorsAllowOrigins:  origins,
			Targets:           targets,
			BackendAuthDigest: hex.EncodeToString(header[:]),
		})
	}).(pulumi.StringOutput)
}

// deployment snapshots the API; its trigger re-creates it whenever the
// definition changes (a deployment is otherwise never updated).
func (b *apiBuilder) deployment() error {
	dep, err := apigateway.NewDeployment(b.ctx, b.name, &apigateway.DeploymentArgs{
		RestApi:     b.rest.ID(),
		Description: pulumi.String("Books API (replaced when the definition hash changes)"),
		Triggers:    pulumi.StringMap{"definition": b.definitionHash()},
	}, pulumi.Parent(b.rest), pulumi.DependsOn(b.members))
	if err != nil {
		return err
	}
	b.dep = dep
	return nil
}

// stage creates the account's CloudWatch role, the log groups, the stage
// (access logs, X-Ray, cache cluster) and its method settings.
func (b *apiBuilder) stage() error {
	// The managed AmazonAPIGatewayPushToCloudWatchLogs policy's actions,
	// scoped to this account's log groups in this region (API Gateway
	// writes execution and access logs of every API in the region with it).
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
		return err
	}
	role, err := newServiceRole(b.ctx, b.child("cloudwatch"), "apigateway.amazonaws.com", "", pulumi.String(policy), b.api)
	if err != nil {
		return err
	}
	// The CloudWatch role is a per-account, per-region setting: every REST
	// API in the region uses it. Deleting this resource leaves it in place.
	account, err := apigateway.NewAccount(b.ctx, b.child("account"), &apigateway.AccountArgs{
		CloudwatchRoleArn: role.Arn,
	}, b.parent, pulumi.DependsOn([]pulumi.Resource{role}))
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
	}, pulumi.Parent(b.rest), pulumi.DependsOn([]pulumi.Resource{account, execution}))
	if err != nil {
		return err
	}
	b.stg = stg
	b.api.StageName = stg.StageName
	b.api.ApiUrl = stg.InvokeUrl

	// Stage-wide settings cache every method; each uncached route overrides
	// them with the same settings minus the cache.
	if err := b.methodSettings("all", "*/*", true); err != nil {
		return err
	}
	for _, rt := range b.routes {
		if rt.Cached {
			continue
		}
		if err := b.methodSettings(resourceSlug(rt.Path)+"-"+strings.ToLower(rt.Method), rt.MethodPath(), false); err != nil {
			return err
		}
	}
	return nil
}

func (b *apiBuilder) methodSettings(suffix, path string, cached bool) error {
	settings := &apigateway.MethodSettingsSettingsArgs{
		MetricsEnabled:       pulumi.Bool(true),
		LoggingLevel:         pulumi.String("INFO"),
		DataTraceEnabled:     pulumi.Bool(false),
		ThrottlingRateLimit:  pulumi.Float64(b.s.ThrottleRateLimit),
		ThrottlingBurstLimit: pulumi.Int(b.s.ThrottleBurst),
		CachingEnabled:       pulumi.Bool(cached),
	}
	if cached {
		settings.CacheTtlInSeconds = pulumi.Int(CacheTTLSeconds)
		settings.CacheDataEncrypted = pulumi.Bool(true)
		// Clients may not bypass the cache (Cache-Control: max-age=0)
		// unless authorized to invalidate it.
		settings.RequireAuthorizationForCacheControl = pulumi.Bool(true)
		settings.UnauthorizedCacheControlHeaderStrategy = pulumi.String("SUCCEED_WITH_RESPONSE_HEADER")
	}
	_, err := apigateway.NewMethodSettings(b.ctx, b.child("settings-"+suffix), &apigateway.MethodSettingsArgs{
		RestApi:    b.rest.ID(),
		StageName:  b.stg.StageName,
		MethodPath: pulumi.String(path),
		Settings:   settings,
	}, pulumi.Parent(b.stg))
	return err
}
