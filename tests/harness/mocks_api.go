package harness

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Computed outputs of the Api component's resources (API Gateway, Cognito,
// NLB, Lambda, S3, WAF), as AWS returns them.
func init() {
	str := func(m resource.PropertyMap, k string) string {
		v := m[resource.PropertyKey(k)]
		for v.IsSecret() {
			v = v.SecretValue().Element
		}
		if v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	enrichers["aws:apigateway/restApi:RestApi"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["rootResourceId"] = resource.NewProperty("root" + shortHash(id))
		out["executionArn"] = resource.NewProperty(m.arn("execute-api", id))
		out["arn"] = resource.NewProperty(fmt.Sprintf("arn:%s:apigateway:%s::/restapis/%s", Partition, m.region, id))
	}
	enrichers["aws:apigateway/stage:Stage"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		api, stage := str(in, "restApi"), str(in, "stageName")
		out["invokeUrl"] = resource.NewProperty(fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/%s", api, m.region, stage))
		out["arn"] = resource.NewProperty(fmt.Sprintf("arn:%s:apigateway:%s::/restapis/%s/stages/%s", Partition, m.region, api, stage))
		out["executionArn"] = resource.NewProperty(m.arn("execute-api", api+"/"+stage))
	}
	enrichers["aws:cognito/userPool:UserPool"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		poolID := m.region + "_" + shortHash(id)
		out["arn"] = resource.NewProperty(m.arn("cognito-idp", "userpool/"+poolID))
		out["endpoint"] = resource.NewProperty(fmt.Sprintf("cognito-idp.%s.amazonaws.com/%s", m.region, poolID))
	}
	// Load balancers and target groups: mocks_service.go (the NLB is a
	// network load balancer there: arn "net/…", internal- DNS name).
	enrichers["aws:lambda/function:Function"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		arn := m.arn("lambda", "function:"+str(out, "name"))
		out["arn"] = resource.NewProperty(arn)
		out["invokeArn"] = resource.NewProperty(fmt.Sprintf("arn:%s:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", Partition, m.region, arn))
	}
	enrichers["aws:s3/bucketV2:BucketV2"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		bucket := str(in, "bucket")
		if bucket == "" {
			bucket = name + "-" + shortHash(id)
		}
		out["bucket"] = resource.NewProperty(bucket)
		out["arn"] = resource.NewProperty(m.arn("s3", bucket))
	}
	enrichers["aws:wafv2/webAcl:WebAcl"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["arn"] = resource.NewProperty(m.arn("wafv2", fmt.Sprintf("regional/webacl/%s/%s", str(out, "name"), id)))
	}
}
