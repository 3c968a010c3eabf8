package infra

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

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

// MethodPath is the stage method-settings key of the route: the resource
// path with every "/" escaped as "~1" (the leading one included), then the
// verb, e.g. "~1book~1{bookId}/GET". The provider passes it to UpdateStage
// unchanged (terraform-provider-aws internal/service/apigateway/
// method_settings.go; issue #9738), and an unescaped "book/{bookId}/GET"
// matches no method, so its settings never apply.
func (r Route) MethodPath() string {
	return strings.ReplaceAll(r.Path, "/", "~1") + "/" + r.Method
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
	// BinaryMediaTypes take effect with a deployment.
	BinaryMediaTypes []string `json:"binaryMediaTypes,omitempty"`
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
	binary := b.binaryMediaTypes()
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
			BinaryMediaTypes:  binary,
			Targets:           targets,
			BackendAuthDigest: hex.EncodeToString(header[:]),
		})
	}).(pulumi.StringOutput)
}
