package tests

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	typRestApi    = "aws:apigateway/restApi:RestApi"
	typResource   = "aws:apigateway/resource:Resource"
	typMethod     = "aws:apigateway/method:Method"
	typInteg      = "aws:apigateway/integration:Integration"
	typAuthorizer = "aws:apigateway/authorizer:Authorizer"
	typDeployment = "aws:apigateway/deployment:Deployment"
	typStage      = "aws:apigateway/stage:Stage"
	typSettings   = "aws:apigateway/methodSettings:MethodSettings"
	typVpcLink    = "aws:apigateway/vpcLink:VpcLink"
	typLB         = "aws:lb/loadBalancer:LoadBalancer"
	typTG         = "aws:lb/targetGroup:TargetGroup"
	typWebAcl     = "aws:wafv2/webAcl:WebAcl"
	typLambda     = "aws:lambda/function:Function"
	typBucket     = "aws:s3/bucketV2:BucketV2"
)

// testAlbArn is the ALB the Api component is given in the direct runs.
const testAlbArn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/service-alb/0123456789abcdef"

// apiRun is the Api component of one stack: g holds only the resources
// under the books:infra:Api component of the real program's graph (full is
// the whole graph), outputs are the component's output values from a direct
// run of NewApi with the same settings.
type apiRun struct {
	g, full *harness.Graph
	cfg     *infra.Config
	outputs map[string]string
}

var apiOutputs sync.Map

// runApi returns the stack's Api resources and outputs.
func runApi(t *testing.T, stack string) apiRun {
	t.Helper()
	full := stackGraph(t, stack)
	cfg := stackConfig(t, stack)
	return apiRun{g: apiScope(t, full), full: full, cfg: cfg, outputs: directApiOutputs(t, stack, cfg)}
}

// apiScope returns the resources descending from the Api component.
func apiScope(t *testing.T, g *harness.Graph) *harness.Graph {
	t.Helper()
	comps := g.ByType("books:infra:Api")
	if len(comps) != 1 {
		t.Fatalf("want one books:infra:Api component in the program, got %d", len(comps))
	}
	in := map[string]bool{comps[0].URN: true}
	var within func(r *harness.Resource) bool
	within = func(r *harness.Resource) bool {
		if v, ok := in[r.URN]; ok {
			return v
		}
		p := g.ByURN(r.Parent)
		v := p != nil && within(p)
		in[r.URN] = v
		return v
	}
	scoped := &harness.Graph{Project: g.Project, Stack: g.Stack}
	for _, r := range g.Resources {
		if r.URN != comps[0].URN && within(r) {
			scoped.Resources = append(scoped.Resources, r)
		}
	}
	return scoped
}

// directApiOutputs runs NewApi alone under mocks with the stack file's
// books:api settings and literal inputs, and returns the component's output
// values (the mocks record inputs, not outputs of components).
func directApiOutputs(t *testing.T, stack string, cfg *infra.Config) map[string]string {
	t.Helper()
	type result struct {
		out map[string]string
		err error
	}
	v, _ := apiOutputs.LoadOrStore(stack, sync.OnceValue(func() result {
		outputs := map[string]string{}
		var mu sync.Mutex
		_, err := harness.RunProgram("books", stack, func(ctx *pulumi.Context) error {
			api, err := infra.NewApi(ctx, "api", &infra.ApiArgs{
				Settings:           cfg.Api,
				VpcId:              pulumi.String("vpc-0123"),
				PrivateSubnetIds:   pulumi.ToStringArray([]string{"subnet-private-1", "subnet-private-2"}),
				AlbArn:             pulumi.String(testAlbArn),
				BasicAuthPassword:  pulumi.ToSecret(pulumi.String(harness.TestSecrets[infra.KeyBasicAuthPassword])).(pulumi.StringOutput),
				DeletionProtection: cfg.Protect,
				Env:                infra.Environment{Region: "eu-west-1", Account: harness.Account, Partition: harness.Partition},
			})
			if err != nil {
				return err
			}
			fields := map[string]pulumi.StringOutput{
				"RestApiName": api.RestApiName, "RestApiId": api.RestApiId, "StageName": api.StageName,
				"ApiUrl": api.ApiUrl, "UserPoolId": api.UserPoolId, "UserPoolClientId": api.UserPoolClientId,
				"WebAclName": api.WebAclName, "WebAclArn": api.WebAclArn, "WebAclMetricName": api.WebAclMetricName,
				"LimitsFunctionName": api.LimitsFunctionName, "PayloadBucketName": api.PayloadBucketName,
				"NlbArn": api.NlbArn, "VpcLinkId": api.VpcLinkId, "CustomDomainUrl": api.CustomDomainUrl,
				"UserPoolArn": api.UserPoolArn,
			}
			for k, o := range fields {
				o.ApplyT(func(s string) string {
					mu.Lock()
					outputs[k] = s
					mu.Unlock()
					return s
				})
			}
			return nil
		})
		return result{outputs, err}
	}))
	r := v.(func() result)()
	if r.err != nil {
		t.Fatalf("stack %s: NewApi: %v", stack, r.err)
	}
	return r.out
}

func forEachApiStack(t *testing.T, f func(t *testing.T, stack string, run apiRun)) {
	for _, stack := range stacks(t) {
		t.Run(stack, func(t *testing.T) { f(t, stack, runApi(t, stack)) })
	}
}

// resourcePaths maps each API Gateway resource id to its path ("/book/{bookId}").
func resourcePaths(t *testing.T, g *harness.Graph) map[string]string {
	t.Helper()
	rest := only(t, g, typRestApi)
	root := rest.Outputs["rootResourceId"].StringValue()
	byID := map[string]*harness.Resource{}
	for _, r := range g.ByType(typResource) {
		byID[r.ID] = r
	}
	paths := map[string]string{root: ""}
	var path func(id string) string
	path = func(id string) string {
		if p, ok := paths[id]; ok {
			return p
		}
		r := byID[id]
		if r == nil {
			t.Fatalf("resource id %q is neither the root nor a registered resource", id)
		}
		p := path(propString(r, "parentId")) + "/" + propString(r, "pathPart")
		paths[id] = p
		return p
	}
	out := map[string]string{}
	for id := range byID {
		out[id] = path(id)
	}
	out[root] = "/"
	return out
}

// routeKey is "GET /book/{bookId}".
func routeKey(method, path string) string { return method + " " + path }

// methodsByRoute returns the methods and integrations keyed by route.
func methodsByRoute(t *testing.T, g *harness.Graph) (map[string]*harness.Resource, map[string]*harness.Resource) {
	t.Helper()
	paths := resourcePaths(t, g)
	methods, integs := map[string]*harness.Resource{}, map[string]*harness.Resource{}
	for _, m := range g.ByType(typMethod) {
		k := routeKey(propString(m, "httpMethod"), paths[propString(m, "resourceId")])
		if methods[k] != nil {
			t.Errorf("two methods for %s", k)
		}
		methods[k] = m
	}
	for _, i := range g.ByType(typInteg) {
		integs[routeKey(propString(i, "httpMethod"), paths[propString(i, "resourceId")])] = i
	}
	return methods, integs
}

// bookRouteMatrix is the design's method/authorization matrix.
var bookRouteMatrix = map[string]bool{ // route → authorized
	"GET /book":             false,
	"POST /book":            true,
	"GET /book/{bookId}":    true,
	"PUT /book/{bookId}":    true,
	"DELETE /book/{bookId}": true,
}

func TestApiMethodAuthorization(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		g := run.g
		auth := only(t, g, typAuthorizer)
		pool := only(t, g, "aws:cognito/userPool:UserPool")
		if propString(auth, "type") != "COGNITO_USER_POOLS" || !slices.Equal(propStrings(auth, "providerArns"), []string{pool.Outputs["arn"].StringValue()}) {
			t.Errorf("authorizer is not the user pool's: %v", auth.Inputs)
		}
		if propString(auth, "identitySource") != "method.request.header.Authorization" {
			t.Errorf("authorizer token source %q", propString(auth, "identitySource"))
		}
		methods, _ := methodsByRoute(t, g)
		for route, authorized := range bookRouteMatrix {
			m := methods[route]
			if m == nil {
				t.Errorf("%s: no method", route)
				continue
			}
			switch {
			case authorized && (propString(m, "authorization") != "COGNITO_USER_POOLS" || propString(m, "authorizerId") != auth.ID):
				t.Errorf("%s: authorization %q authorizer %q, want the Cognito authorizer %s", route, propString(m, "authorization"), propString(m, "authorizerId"), auth.ID)
			case !authorized && propString(m, "authorization") != "NONE":
				t.Errorf("%s: authorization %q, want public (NONE)", route, propString(m, "authorization"))
			}
		}
		// Every write method, demo included, is behind the authorizer; only
		// the public list and CORS preflights are NONE.
		for route, m := range methods {
			verb, _, _ := strings.Cut(route, " ")
			if slices.Contains([]string{"POST", "PUT", "PATCH", "DELETE", "ANY"}, verb) && propString(m, "authorizerId") != auth.ID {
				t.Errorf("%s: write method without the Cognito authorizer (%q)", route, propString(m, "authorization"))
			}
			if propString(m, "authorization") == "NONE" && route != "GET /book" && verb != "OPTIONS" {
				t.Errorf("%s: public method outside the design's matrix", route)
			}
		}
	})
}

func TestApiIntegrationsProxyOverVpcLink(t *testing.T) {
	password := harness.TestSecrets[infra.KeyBasicAuthPassword]
	wantAuth := "'Basic " + base64.StdEncoding.EncodeToString([]byte("books:"+password)) + "'"
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		g := run.g
		link := only(t, g, typVpcLink)
		nlb := only(t, g, typLB)
		host := nlb.Outputs["dnsName"].StringValue()
		_, integs := methodsByRoute(t, g)
		for route, authorized := range bookRouteMatrix {
			i := integs[route]
			if i == nil {
				t.Errorf("%s: no integration", route)
				continue
			}
			verb, path, _ := strings.Cut(route, " ")
			if propString(i, "type") != "HTTP_PROXY" || propString(i, "connectionType") != "VPC_LINK" || propString(i, "connectionId") != link.ID {
				t.Errorf("%s: integration %s/%s/%s, want HTTP_PROXY over VPC link %s", route, propString(i, "type"), propString(i, "connectionType"), propString(i, "connectionId"), link.ID)
			}
			if want := "http://" + host + path; propString(i, "uri") != want || propString(i, "integrationHttpMethod") != verb {
				t.Errorf("%s: proxies to %s %s, want %s %s", route, propString(i, "integrationHttpMethod"), propString(i, "uri"), verb, want)
			}
			if n, _ := propNumber(i, "timeoutMilliseconds"); n != 29000 {
				t.Errorf("%s: timeout %v ms", route, n)
			}
			params := prop(i, "requestParameters")
			get := func(k string) resource.PropertyValue { return params.ObjectValue()[resource.PropertyKey(k)] }
			if strings.Contains(path, "{bookId}") && propString(i, "requestParameters", "integration.request.path.bookId") != "method.request.path.bookId" {
				t.Errorf("%s: bookId not mapped", route)
			}
			if v := get("integration.request.header.Authorization"); !v.IsSecret() || v.SecretValue().Element.StringValue() != wantAuth {
				t.Errorf("%s: Authorization header is not the secret Basic credential: %v", route, v)
			}
			if propString(i, "requestParameters", "integration.request.header.X-Request-Id") != "context.requestId" {
				t.Errorf("%s: X-Request-Id not passed", route)
			}
			sub := propString(i, "requestParameters", "integration.request.header.X-User-Sub")
			if authorized && sub != "context.authorizer.claims.sub" {
				t.Errorf("%s: X-User-Sub %q, want the caller's sub claim", route, sub)
			}
			if !authorized && sub != "" {
				t.Errorf("%s: public route maps X-User-Sub (%q) from claims it has not got", route, sub)
			}
		}
	})
}

// listQueryParams reads GET /book's query parameters from app/openapi.yaml.
func TestApiDeploymentHash(t *testing.T) {
	base := func() infra.ApiDefinition {
		routes := make([]infra.Route, len(infra.BookRoutes))
		for i, r := range infra.BookRoutes {
			r.QueryParams = slices.Clone(r.QueryParams)
			r.PathParams = slices.Clone(r.PathParams)
			routes[i] = r
		}
		return infra.ApiDefinition{
			Routes:           routes,
			BookModel:        infra.BookModelSchema,
			GatewayResponses: slices.Clone(infra.GatewayResponses),
			CorsAllowOrigins: []string{"https://a.example"},
			Targets:          map[string]string{"backendHost": "nlb.example", "vpcLink": "abc"},
		}
	}
	h := infra.DeploymentHash(base())
	if h != infra.DeploymentHash(base()) {
		t.Fatal("hash of an unchanged definition changed")
	}
	changes := map[string]func(d *infra.ApiDefinition){
		"route added":          func(d *infra.ApiDefinition) { d.Routes = append(d.Routes, infra.Route{Path: "/x", Method: "GET"}) },
		"authorization":        func(d *infra.ApiDefinition) { d.Routes[1].Authorized = false },
		"cache key":            func(d *infra.ApiDefinition) { d.Routes[0].QueryParams = d.Routes[0].QueryParams[1:] },
		"integration target":   func(d *infra.ApiDefinition) { d.Targets["backendHost"] = "other.example" },
		"model":                func(d *infra.ApiDefinition) { d.BookModel += " " },
		"gateway response":     func(d *infra.ApiDefinition) { d.GatewayResponses[0].Code = "x" },
		"CORS origins":         func(d *infra.ApiDefinition) { d.CorsAllowOrigins = nil },
		"backend credential":   func(d *infra.ApiDefinition) { d.BackendAuthDigest = "new" },
		"route method renamed": func(d *infra.ApiDefinition) { d.Routes[4].Method = "PATCH" },
	}
	for name, change := range changes {
		d := base()
		change(&d)
		if infra.DeploymentHash(d) == h {
			t.Errorf("%s: the deployment trigger did not change", name)
		}
	}
	// The stacks' triggers differ (different CORS origins, demo routes).
	var triggers []string
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		triggers = append(triggers, propString(only(t, run.g, typDeployment), "triggers", "definition"))
	})
	if len(triggers) == 2 && triggers[0] == triggers[1] {
		t.Error("dev and prod APIs differ but their deployment triggers are equal")
	}
}

func TestApiPrivatePath(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		g := run.g
		nlb := only(t, g, typLB)
		if !propBool(nlb, "internal") || propString(nlb, "loadBalancerType") != "network" {
			t.Errorf("NLB internal %v type %q", propBool(nlb, "internal"), propString(nlb, "loadBalancerType"))
		}
		if !reflect.DeepEqual(propStrings(nlb, "subnets"), subnetIDs(t, run.full, "private")) {
			t.Errorf("NLB subnets %v, want the private ones", propStrings(nlb, "subnets"))
		}
		tg := only(t, g, typTG)
		if propString(tg, "targetType") != "alb" || propString(tg, "protocol") != "TCP" {
			t.Errorf("target group type %q protocol %q, want alb/TCP", propString(tg, "targetType"), propString(tg, "protocol"))
		}
		var alb *harness.Resource
		for _, r := range run.full.ByType(typLB) {
			if propString(r, "loadBalancerType") != "network" {
				alb = r
			}
		}
		if alb == nil {
			t.Fatal("no ALB in the program")
		}
		att := only(t, g, "aws:lb/targetGroupAttachment:TargetGroupAttachment")
		if propString(att, "targetId") != alb.Outputs["arn"].StringValue() || propString(att, "targetGroupArn") != tg.Outputs["arn"].StringValue() {
			t.Errorf("attachment %v does not put the ALB in the target group", att.Inputs)
		}
		if port, _ := propNumber(tg, "port"); int(port) != infra.HTTPPort {
			t.Errorf("target group port %v, want the ALB listener's %d", port, infra.HTTPPort)
		}
		// AWS refuses an alb target before the ALB listens on the port: the
		// attachment must wait for the service's listener.
		waits := false
		for _, dep := range att.PropertyDependencies["targetId"] {
			if r := run.full.ByURN(dep); r != nil && r.Type == "aws:lb/listener:Listener" && r.Parent != "" && !strings.Contains(r.Parent, "books:infra:Api") {
				waits = true
			}
		}
		if !waits {
			t.Errorf("attachment targetId depends on %v, not on the ALB's listener", att.PropertyDependencies["targetId"])
		}
		l := only(t, g, "aws:lb/listener:Listener")
		if propString(l, "loadBalancerArn") != nlb.Outputs["arn"].StringValue() || propString(l, "protocol") != "TCP" {
			t.Errorf("listener %v", l.Inputs)
		}
		link := only(t, g, typVpcLink)
		if propString(link, "targetArn") != nlb.Outputs["arn"].StringValue() {
			t.Errorf("VPC link targets %q, not the NLB", propString(link, "targetArn"))
		}
	})
}

func TestApiWafOnlyWhenEnabled(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		g := run.g
		if stack == "prod" && !run.cfg.Api.Waf {
			t.Fatal("prod has books:api.waf off")
		}
		acls := g.ByType(typWebAcl)
		assocs := g.ByType("aws:wafv2/webAclAssociation:WebAclAssociation")
		if !run.cfg.Api.Waf {
			if len(acls)+len(assocs) > 0 || run.outputs["WebAclName"] != "" {
				t.Errorf("WAF off but %d ACLs, %d associations, name %q", len(acls), len(assocs), run.outputs["WebAclName"])
			}
			return
		}
		if len(acls) != 1 || len(assocs) != 1 {
			t.Fatalf("want one web ACL and one association, got %d/%d", len(acls), len(assocs))
		}
		stage := only(t, g, typStage)
		if propString(assocs[0], "resourceArn") != stage.Outputs["arn"].StringValue() || propString(assocs[0], "webAclArn") != acls[0].Outputs["arn"].StringValue() {
			t.Errorf("association %v does not tie the ACL to the stage", assocs[0].Inputs)
		}
		acl := acls[0]
		if propString(acl, "scope") != "REGIONAL" {
			t.Errorf("scope %q", propString(acl, "scope"))
		}
		var groups []string
		rate := false
		for _, r := range prop(acl, "rules").ArrayValue() {
			st := r.ObjectValue()["statement"].ObjectValue()
			if mg, ok := st["managedRuleGroupStatement"]; ok {
				groups = append(groups, mg.ObjectValue()["name"].StringValue())
			}
			if rb, ok := st["rateBasedStatement"]; ok && int(rb.ObjectValue()["limit"].NumberValue()) == run.cfg.Api.WafRateLimit {
				rate = true
			}
		}
		for _, want := range []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList"} {
			if !slices.Contains(groups, want) {
				t.Errorf("web ACL lacks %s (has %v)", want, groups)
			}
		}
		if !rate {
			t.Errorf("no rate-based rule with limit %d", run.cfg.Api.WafRateLimit)
		}
		if run.outputs["WebAclName"] == "" {
			t.Error("WebAclName output empty with WAF on")
		}
	})
}

func TestApiLimitsDemoOnlyWhenEnabled(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		g := run.g
		if want := stack == "dev"; run.cfg.Api.LimitsDemo != want {
			t.Fatalf("books:api.limitsDemo is %v in %s", run.cfg.Api.LimitsDemo, stack)
		}
		methods, integs := methodsByRoute(t, g)
		fns, buckets := g.ByType(typLambda), g.ByType(typBucket)
		if !run.cfg.Api.LimitsDemo {
			for route := range methods {
				if strings.Contains(route, "/limits") {
					t.Errorf("demo off but %s exists", route)
				}
			}
			if len(fns)+len(buckets) > 0 || run.outputs["LimitsFunctionName"] != "" {
				t.Errorf("demo off but %d functions, %d buckets", len(fns), len(buckets))
			}
			return
		}
		if len(fns) != 1 || len(buckets) != 1 {
			t.Fatalf("want one function and one bucket, got %d/%d", len(fns), len(buckets))
		}
		fn, bucket := fns[0], buckets[0]
		if timeout, _ := propNumber(fn, "timeout"); timeout <= 29 {
			t.Errorf("Lambda timeout %v s does not outlast the 29 s integration timeout", timeout)
		}
		if propString(fn, "tracingConfig", "mode") != "Active" {
			t.Error("Lambda without X-Ray")
		}
		time := integs["GET /limits/time/exceed"]
		if time == nil || propString(time, "type") != "AWS_PROXY" || propString(time, "uri") != fn.Outputs["invokeArn"].StringValue() {
			t.Errorf("GET /limits/time/exceed does not invoke the Lambda")
		}
		perm := only(t, g, "aws:lambda/permission:Permission")
		wantSrc := only(t, g, typRestApi).Outputs["executionArn"].StringValue() + "/*/GET/limits/time/exceed"
		if propString(perm, "principal") != "apigateway.amazonaws.com" || propString(perm, "sourceArn") != wantSrc || propString(perm, "function") != fn.Outputs["name"].StringValue() {
			t.Errorf("Lambda permission %v, want API Gateway from %s only", perm.Inputs, wantSrc)
		}
		put := integs["PUT /limits/payload/{key}"]
		bucketName := bucket.Outputs["bucket"].StringValue()
		if put == nil || propString(put, "type") != "AWS" || !strings.HasSuffix(propString(put, "uri"), ":s3:path/"+bucketName+"/{key}") || propString(put, "integrationHttpMethod") != "PUT" {
			t.Fatalf("PUT /limits/payload/{key} is not an S3 PutObject into %s", bucketName)
		}
		// The integration's role may put objects into that bucket only.
		var role *harness.Resource
		for _, r := range g.ByType("aws:iam/role:Role") {
			if r.Outputs["arn"].StringValue() == propString(put, "credentials") {
				role = r
			}
		}
		if role == nil {
			t.Fatal("S3 integration has no role of the stack")
		}
		for _, p := range g.ByType("aws:iam/rolePolicy:RolePolicy") {
			if p.Parent != role.URN {
				continue
			}
			var doc infra.PolicyDocument
			if err := json.Unmarshal([]byte(propString(p, "policy")), &doc); err != nil {
				t.Fatal(err)
			}
			for _, st := range doc.Statement {
				if !slices.Equal(st.Action, []string{"s3:PutObject"}) || !slices.Equal(st.Resource, []string{bucket.Outputs["arn"].StringValue() + "/*"}) {
					t.Errorf("S3 integration role allows %v on %v, want s3:PutObject on %s/* only", st.Action, st.Resource, bucket.Outputs["arn"].StringValue())
				}
			}
		}
		// The bucket is private, encrypted and TLS-only.
		for _, typ := range []string{"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"} {
			c := only(t, g, typ)
			if propString(c, "bucket") != bucketName {
				t.Errorf("%s is not on the payload bucket", typ)
			}
		}
		pab := only(t, g, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
		for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
			if !propBool(pab, k) {
				t.Errorf("public access block %s off", k)
			}
		}
		if pol := propString(only(t, g, "aws:s3/bucketPolicy:BucketPolicy"), "policy"); !strings.Contains(pol, "aws:SecureTransport") {
			t.Errorf("bucket policy does not deny plain HTTP: %s", pol)
		}
		if run.outputs["LimitsFunctionName"] != fn.Outputs["name"].StringValue() || run.outputs["PayloadBucketName"] != bucketName {
			t.Errorf("demo outputs %q/%q", run.outputs["LimitsFunctionName"], run.outputs["PayloadBucketName"])
		}
	})
}

func TestApiBasicAuthPasswordNeverPlain(t *testing.T) {
	password := harness.TestSecrets[infra.KeyBasicAuthPassword]
	needles := []string{password, base64.StdEncoding.EncodeToString([]byte("books:" + password))}
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		for _, r := range run.g.Resources {
			for _, n := range needles {
				if leak := findPlain(r.Inputs, n); leak != "" {
					t.Errorf("%s %s: the Basic-auth credential is plain in input %s", r.Type, r.Name, leak)
				}
			}
		}
		for k, v := range run.outputs {
			for _, n := range needles {
				if strings.Contains(v, n) {
					t.Errorf("output %s holds the Basic-auth credential", k)
				}
			}
		}
	})
}

func TestApiGatewayResponsesAreJSON(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		got := map[string]string{}
		for _, r := range run.g.ByType("aws:apigateway/response:Response") {
			got[propString(r, "responseType")] = propString(r, "statusCode")
			if !strings.Contains(propString(r, "responseTemplates", "application/json"), `"error"`) {
				t.Errorf("%s: template is not the JSON error shape", propString(r, "responseType"))
			}
		}
		for typ, status := range map[string]string{"UNAUTHORIZED": "401", "ACCESS_DENIED": "403", "REQUEST_TOO_LARGE": "413", "THROTTLED": "429", "INTEGRATION_TIMEOUT": "504"} {
			if got[typ] != status {
				t.Errorf("%s: status %q, want %s", typ, got[typ], status)
			}
		}
	})
}

func TestApiCustomDomainOnlyWhenConfigured(t *testing.T) {
	run := func(domain string) *harness.Graph {
		cfg := infra.DefaultConfig().Api
		cfg.DomainName, cfg.CertificateArn = domain, "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
		g, err := harness.RunProgram("books", "domain", func(ctx *pulumi.Context) error {
			_, err := infra.NewApi(ctx, "api", &infra.ApiArgs{
				Settings:          cfg,
				VpcId:             pulumi.String("vpc-0123"),
				PrivateSubnetIds:  pulumi.ToStringArray([]string{"subnet-private-1"}),
				AlbArn:            pulumi.String(testAlbArn),
				BasicAuthPassword: pulumi.ToSecret(pulumi.String("x")).(pulumi.StringOutput),
				Env:               infra.Environment{Region: "eu-west-1", Account: harness.Account, Partition: harness.Partition},
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	if n := len(run("").ByType("aws:apigateway/domainName:DomainName")); n != 0 {
		t.Errorf("no domain configured but %d custom domains", n)
	}
	g := run("books.example.com")
	d := only(t, g, "aws:apigateway/domainName:DomainName")
	if propString(d, "domainName") != "books.example.com" || propString(d, "regionalCertificateArn") == "" || propString(d, "endpointConfiguration", "types") != "REGIONAL" {
		t.Errorf("custom domain %v", d.Inputs)
	}
	m := only(t, g, "aws:apigateway/basePathMapping:BasePathMapping")
	if propString(m, "restApi") != only(t, g, typRestApi).ID || propString(m, "stageName") != "v1" {
		t.Errorf("base path mapping %v", m.Inputs)
	}
}
