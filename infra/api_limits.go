package infra

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// limitsSleepSeconds is how long the demo Lambda sleeps: past API Gateway's
// 29 s integration timeout, so the caller gets 504.
const limitsSleepSeconds = 30

// limitsHandler is the demo Lambda's code, shipped inline with the program.
const limitsHandler = `import json
import time


def handler(event, context):
    time.sleep(30)  # API Gateway gives up at 29 s and answers 504
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps({"slept": 30})}
`

// limitsDemo adds the seed's limits demo when enabled:
// GET /limits/time/exceed invokes a Lambda that outlasts the integration
// timeout (504), and PUT /limits/payload/{key} writes the body to the
// stack's private bucket through an s3:PutObject service integration, so a
// body over API Gateway's 10 MB payload limit gets 413. Both are behind the
// Cognito authorizer: the demo costs Lambda time and S3 storage.
func (b *apiBuilder) limitsDemo() error {
	if !b.s.LimitsDemo {
		return nil
	}
	if err := b.limitsTime(); err != nil {
		return err
	}
	return b.limitsPayload()
}

func (b *apiBuilder) limitsTime() error {
	logs, err := cloudwatch.NewLogGroup(b.ctx, b.child("limits-fn"), &cloudwatch.LogGroupArgs{
		RetentionInDays: pulumi.Int(b.s.LogRetentionDays),
	}, b.parent)
	if err != nil {
		return err
	}
	policy := policyFromOutputs(func(v []string) PolicyDocument {
		return NewPolicyDocument(
			Allow("Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, v[0]+":*"),
			Allow("XRay", []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "*"),
		)
	}, logs.Arn)
	_, roleArn, err := newServiceRole(b.ctx, b.child("limits-fn"), "lambda.amazonaws.com", b.args.Env.Account, policy, b.api)
	if err != nil {
		return err
	}
	fn, err := lambda.NewFunction(b.ctx, b.child("limits"), &lambda.FunctionArgs{
		Description:   pulumi.String("Limits demo: sleeps past API Gateway's 29 s integration timeout"),
		Runtime:       pulumi.String("python3.13"),
		Architectures: pulumi.StringArray{pulumi.String("arm64")},
		Handler:       pulumi.String("index.handler"),
		Code:          pulumi.NewAssetArchive(map[string]any{"index.py": pulumi.NewStringAsset(limitsHandler)}),
		Role:          roleArn,
		Timeout:       pulumi.Int(limitsSleepSeconds + 5),
		MemorySize:    pulumi.Int(128),
		TracingConfig: &lambda.FunctionTracingConfigArgs{Mode: pulumi.String("Active")},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("JSON"), LogGroup: logs.Name},
		// No reserved concurrency: AWS keeps 10 unreserved executions per
		// account, so reserving any on a new account (limit 10) fails; the
		// route is behind Cognito and the stage throttle instead.
	}, b.parent)
	if err != nil {
		return err
	}
	rt := LimitsRoutes[0]
	m, res, err := b.method(rt)
	if err != nil {
		return err
	}
	if _, err := lambda.NewPermission(b.ctx, b.child("limits"), &lambda.PermissionArgs{
		Function:  fn.Name,
		Action:    pulumi.String("lambda:InvokeFunction"),
		Principal: pulumi.String("apigateway.amazonaws.com"),
		SourceArn: pulumi.Sprintf("%s/*/%s%s", b.rest.ExecutionArn, rt.Method, rt.Path),
	}, pulumi.Parent(fn)); err != nil {
		return err
	}
	integ, err := apigateway.NewIntegration(b.ctx, b.child(resourceSlug(rt.Path)+"-get"), &apigateway.IntegrationArgs{
		RestApi:               b.rest.ID(),
		ResourceId:            res.ID(),
		HttpMethod:            m.HttpMethod,
		Type:                  pulumi.String("AWS_PROXY"),
		IntegrationHttpMethod: pulumi.String("POST"),
		Uri:                   fn.InvokeArn,
		TimeoutMilliseconds:   pulumi.Int(IntegrationTimeoutMs),
	}, pulumi.Parent(m))
	if err != nil {
		return err
	}
	b.members = append(b.members, integ)
	b.targets["limitsFunction"] = fn.InvokeArn
	b.api.LimitsFunctionName = fn.Name
	return nil
}

func (b *apiBuilder) limitsPayload() error {
	bucket, err := s3.NewBucketV2(b.ctx, b.child("payload"), &s3.BucketV2Args{
		// Demo uploads only: emptied and deleted with the stack.
		ForceDestroy: pulumi.Bool(true),
	}, b.parent)
	if err != nil {
		return err
	}
	child := pulumi.Parent(bucket)
	if _, err := s3.NewBucketOwnershipControls(b.ctx, b.child("payload"), &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.Bucket,
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, child); err != nil {
		return err
	}
	if _, err := s3.NewBucketPublicAccessBlock(b.ctx, b.child("payload"), &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.Bucket,
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, child); err != nil {
		return err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(b.ctx, b.child("payload"), &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.Bucket,
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{
			s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
					SseAlgorithm: pulumi.String("AES256"),
				},
			},
		},
	}, child); err != nil {
		return err
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(b.ctx, b.child("payload"), &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.Bucket,
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id:         pulumi.String("expire-demo-uploads"),
				Status:     pulumi.String("Enabled"),
				Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(1)},
				AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
					DaysAfterInitiation: pulumi.Int(1),
				},
			},
		},
	}, child); err != nil {
		return err
	}
	tlsOnly := policyFromOutputs(func(v []string) PolicyDocument {
		return NewPolicyDocument(PolicyStatement{
			Sid:       "DenyInsecureTransport",
			Effect:    "Deny",
			Principal: map[string]any{"AWS": "*"},
			Action:    []string{"s3:*"},
			Resource:  []string{v[0], v[0] + "/*"},
			Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
		})
	}, bucket.Arn)
	if _, err := s3.NewBucketPolicy(b.ctx, b.child("payload"), &s3.BucketPolicyArgs{
		Bucket: bucket.Bucket,
		Policy: tlsOnly,
	}, child); err != nil {
		return err
	}
	put := policyFromOutputs(func(v []string) PolicyDocument {
		return NewPolicyDocument(Allow("PutPayload", []string{"s3:PutObject"}, v[0]+"/*"))
	}, bucket.Arn)
	_, roleArn, err := newServiceRole(b.ctx, b.child("payload"), "apigateway.amazonaws.com", b.args.Env.Account, put, b.api)
	if err != nil {
		return err
	}

	rt := LimitsRoutes[1]
	m, res, err := b.method(rt)
	if err != nil {
		return err
	}
	slug := b.child(resourceSlug(rt.Path) + "-put")
	integ, err := apigateway.NewIntegration(b.ctx, slug, &apigateway.IntegrationArgs{
		RestApi:               b.rest.ID(),
		ResourceId:            res.ID(),
		HttpMethod:            m.HttpMethod,
		Type:                  pulumi.String("AWS"),
		IntegrationHttpMethod: pulumi.String("PUT"),
		Uri:                   pulumi.Sprintf("arn:%s:apigateway:%s:s3:path/%s/{key}", b.args.Env.Partition, b.args.Env.Region, bucket.Bucket),
		Credentials:           roleArn,
		RequestParameters:     pulumi.StringMap{"integration.request.path.key": pulumi.String("method.request.path.key")},
		PassthroughBehavior:   pulumi.String("WHEN_NO_MATCH"),
		TimeoutMilliseconds:   pulumi.Int(IntegrationTimeoutMs),
	}, pulumi.Parent(m))
	if err != nil {
		return err
	}
	mr, err := apigateway.NewMethodResponse(b.ctx, slug, &apigateway.MethodResponseArgs{
		RestApi:    b.rest.ID(),
		ResourceId: res.ID(),
		HttpMethod: m.HttpMethod,
		StatusCode: pulumi.String("200"),
	}, pulumi.Parent(m))
	if err != nil {
		return err
	}
	ir, err := apigateway.NewIntegrationResponse(b.ctx, slug, &apigateway.IntegrationResponseArgs{
		RestApi:           b.rest.ID(),
		ResourceId:        res.ID(),
		HttpMethod:        m.HttpMethod,
		StatusCode:        mr.StatusCode,
		ResponseTemplates: pulumi.StringMap{"application/json": pulumi.String(`{"stored":"$input.params('key')"}`)},
	}, pulumi.Parent(m), pulumi.DependsOn([]pulumi.Resource{integ}))
	if err != nil {
		return err
	}
	b.members = append(b.members, integ, mr, ir)
	b.targets["payloadBucket"] = bucket.Bucket
	b.targets["payloadRole"] = roleArn
	b.api.PayloadBucketName = bucket.Bucket
	return nil
}

// PayloadBinaryMediaTypes are the request content types the REST API passes
// through as bytes. Without binaryMediaTypes API Gateway treats every body
// as UTF-8 text, so a binary upload to the payload demo reaches S3 altered
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html).
// JSON is not listed: the book routes' bodies stay text, so the request
// validator still checks them against the model.
var PayloadBinaryMediaTypes = []string{"application/octet-stream", "application/pdf", "application/zip", "application/gzip", "image/*"}

// binaryMediaTypes are the REST API's binary media types: the payload
// demo's when it is on, none otherwise.
func (b *apiBuilder) binaryMediaTypes() []string {
	if !b.s.LimitsDemo {
		return nil
	}
	return append([]string(nil), PayloadBinaryMediaTypes...)
}
