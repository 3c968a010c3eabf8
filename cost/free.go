package cost

// freeTypes are resource types that cost nothing themselves, with the
// reason. A type in a stack's graph that is neither here nor in pricers
// fails the estimate (and TestEveryBillableTypeHasAPrice), so a new
// resource cannot slip into a stack unpriced.
var freeTypes = map[string]string{
	// Network
	"aws:ec2/securityGroup:SecurityGroup":                       "security groups are free",
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":         "security groups are free",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "security group rules are free",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   "security group rules are free",
	"aws:ec2/securityGroupRule:SecurityGroupRule":               "security group rules are free",
	"aws:ec2/flowLog:FlowLog":                                   "the flow log's data is priced on its destination log group (vended-logs rate)",
	// Load balancers
	"aws:lb/listener:Listener":                           "listeners are part of the load balancer's hourly and LCU charges",
	"aws:lb/listenerRule:ListenerRule":                   "rules are part of the ALB's LCU charge",
	"aws:lb/targetGroup:TargetGroup":                     "target groups are free",
	"aws:lb/targetGroupAttachment:TargetGroupAttachment": "attachments are free",
	// Data
	"aws:rds/subnetGroup:SubnetGroup":                     "DB subnet groups are free",
	"aws:rds/clusterParameterGroup:ClusterParameterGroup": "parameter groups are free",
	"aws:rds/parameterGroup:ParameterGroup":               "parameter groups are free",
	"aws:rds/eventSubscription:EventSubscription":         "RDS event notifications are free; SNS deliveries are priced on the topic and its subscriptions",
	"aws:elasticache/subnetGroup:SubnetGroup":             "cache subnet groups are free",
	"aws:elasticache/parameterGroup:ParameterGroup":       "parameter groups are free",
	"aws:secretsmanager/secretVersion:SecretVersion":      "versions are part of the secret's monthly charge",
	"aws:kms/alias:Alias":                                 "aliases are free",
	// Compute
	"aws:ecs/taskDefinition:TaskDefinition":                     "task definitions are free; the service's tasks are priced",
	"aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": "capacity provider associations are free",
	"aws:ecr/lifecyclePolicy:LifecyclePolicy":                   "free; it sets how many images the repository stores",
	"aws:appautoscaling/target:Target":                          "Application Auto Scaling is free",
	"aws:appautoscaling/policy:Policy":                          "Application Auto Scaling is free (its alarms are created by AWS and not billed)",
	"docker:index/image:Image":                                  "built where the program runs; its storage is priced on the ECR repository",
	"aws:lambda/permission:Permission":                          "permissions are free",
	// Edge
	"aws:apigateway/restApi:RestApi":                                  "requests are priced on the stage",
	"aws:apigateway/resource:Resource":                                "part of the REST API",
	"aws:apigateway/method:Method":                                    "part of the REST API (detailed metrics are priced on method settings)",
	"aws:apigateway/integration:Integration":                          "part of the REST API",
	"aws:apigateway/methodResponse:MethodResponse":                    "part of the REST API",
	"aws:apigateway/integrationResponse:IntegrationResponse":          "part of the REST API",
	"aws:apigateway/gatewayResponse:Response":                         "part of the REST API",
	"aws:apigateway/response:Response":                                "part of the REST API",
	"aws:apigateway/requestValidator:RequestValidator":                "part of the REST API",
	"aws:apigateway/model:Model":                                      "part of the REST API",
	"aws:apigateway/authorizer:Authorizer":                            "Cognito authorizers are free (the user pool's MAUs are priced)",
	"aws:apigateway/deployment:Deployment":                            "deployments are free",
	"aws:apigateway/vpcLink:VpcLink":                                  "REST API VPC links are free; the NLB they target is priced",
	"aws:apigateway/account:Account":                                  "account settings are free",
	"aws:apigateway/domainName:DomainName":                            "custom domain names are free",
	"aws:apigateway/basePathMapping:BasePathMapping":                  "free",
	"aws:cognito/userPoolClient:UserPoolClient":                       "app clients are free",
	"aws:cognito/userPoolDomain:UserPoolDomain":                       "free",
	"aws:wafv2/webAclAssociation:WebAclAssociation":                   "free; the web ACL is priced",
	"aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "free; the destination's ingestion is priced there",
	// IAM
	"aws:iam/role:Role":                                 "IAM is free",
	"aws:iam/rolePolicy:RolePolicy":                     "IAM is free",
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM is free",
	"aws:iam/policy:Policy":                             "IAM is free",
	// Observability
	"aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "free",
	"aws:sns/topicPolicy:TopicPolicy":                    "free",
	// S3 bucket settings
	"aws:s3/bucketPolicy:BucketPolicy":                                                           "free",
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     "free",
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     "free",
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       "free",
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": "free (SSE-KMS requests are priced on the key)",
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               "free (versions are storage, priced on the bucket)",
	// Providers
	"pulumi:providers:aws":    "provider",
	"pulumi:providers:awsx":   "provider",
	"pulumi:providers:docker": "provider",
}
