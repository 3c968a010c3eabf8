package infra

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
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
		BinaryMediaTypes:       pulumi.ToStringArray(b.binaryMediaTypes()),
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
