package rules

// Compliant fixtures for the rules of ec2.go, elb.go, rds.go, services.go,
// iam_access.go, s3.go, lambda.go, apigw.go, waf.go, cognito.go and ecs.go,
// and one violating mutation per rule (merged into violations).

const acct = "123456789012"

func trust(principal any, cond M) string {
	st := M{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
	if cond != nil {
		st["Condition"] = cond
	}
	return iamDoc(st)
}

func moreCompliant() []*fixture {
	return []*fixture{
		{Type: TypeDefaultSecurityGroup, Name: "vpc-default-sg", Props: M{"vpcId": "vpc-1"}},
		{Type: TypeDefaultSecurityGroup, Name: "network-default-sg", Props: M{"vpcId": "vpc-2", "ingress": L{}, "egress": L{}}},
		{Type: TypeSGEgressRule, Name: "svc-to-db", Props: M{"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "referencedSecurityGroupId": "sg-db", "securityGroupId": "sg-service"}},
		{Type: TypeSubnet, Name: "private-a", Props: M{"vpcId": "vpc-1", "cidrBlock": "10.0.1.0/24", "mapPublicIpOnLaunch": false}},
		{Type: TypeNetworkACL, Name: "nacl", Props: M{"vpcId": "vpc-1", "ingress": L{M{"protocol": "tcp", "ruleNo": 100, "action": "allow", "cidrBlock": "0.0.0.0/0", "fromPort": 443, "toPort": 443}}}},
		{Type: TypeNetworkACLRule, Name: "nacl-ssh", Props: M{"networkAclId": "acl-1", "ruleNumber": 200, "egress": false, "protocol": "tcp", "ruleAction": "allow", "cidrBlock": "10.0.0.0/16", "fromPort": 22, "toPort": 22}},
		{Type: TypeInstance, Name: "bastion", Props: M{"ami": "ami-1", "instanceType": "t4g.micro", "metadataOptions": M{"httpTokens": "required"}, "associatePublicIpAddress": false,
			"rootBlockDevice": M{"encrypted": true}, "ebsBlockDevices": L{M{"deviceName": "/dev/sdf", "encrypted": true}}}},
		{Type: TypeLaunchTemplate, Name: "lt", Props: M{"metadataOptions": M{"httpTokens": "required"}, "networkInterfaces": L{M{"associatePublicIpAddress": "false"}},
			"blockDeviceMappings": L{M{"deviceName": "/dev/xvda", "ebs": M{"encrypted": "true"}}}}},
		{Type: TypeEBSVolume, Name: "data", Props: M{"availabilityZone": "eu-west-1a", "size": 10, "encrypted": true}},
		{Type: TypeEBSDefaultEncryption, Name: "ebs-default", Props: M{"enabled": true}},
		{Type: TypeEBSSnapshotBPA, Name: "snapshot-bpa", Props: M{"state": "block-all-sharing"}},
		{Type: TypeTransitGateway, Name: "tgw", Props: M{"autoAcceptSharedAttachments": "disable"}},
		{Type: TypeClientVPNEndpoint, Name: "cvpn", Props: M{"connectionLogOptions": M{"enabled": true, "cloudwatchLogGroup": "cvpn"}}},
		{Type: TypeVPNConnection, Name: "vpn", Props: M{"tunnel1LogOptions": M{"cloudwatchLogOptions": M{"logEnabled": true}}, "tunnel2LogOptions": M{"cloudwatchLogOptions": M{"logEnabled": true}}}},
		{Type: TypeNetworkInterface, Name: "eni", Props: M{"subnetId": "subnet-a"}},
		{Type: TypeLBListener, Name: "alb-https", Props: M{"loadBalancerArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/alb/1", "protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}},
		{Type: TypeCLB, Name: "clb", Props: M{"internal": true, "subnets": L{"subnet-a", "subnet-b"}, "connectionDraining": true, "accessLogs": M{"enabled": true, "bucket": "logs"},
			"listeners": L{M{"lbProtocol": "https", "lbPort": 443, "instanceProtocol": "http", "instancePort": 80, "sslCertificateId": "arn:aws:acm:eu-west-1:123456789012:certificate/1"}}}},
		{Type: TypeRDSInstance, Name: "legacy-db", Props: M{"engine": "postgres", "storageEncrypted": true, "iamDatabaseAuthenticationEnabled": true, "copyTagsToSnapshot": true,
			"username": "app_admin", "manageMasterUserPassword": true, "port": 15432, "enabledCloudwatchLogsExports": L{"postgresql"}, "parameterGroupName": "legacy-pg",
			"multiAz": true, "deletionProtection": true, "backupRetentionPeriod": 7, "monitoringInterval": 60, "publiclyAccessible": false}},
		{Type: TypeRDSParameterGroup, Name: "legacy-pg", Props: M{"name": "legacy-pg", "family": "postgres16", "parameters": L{M{"name": "rds.force_ssl", "value": "1"}}}},
		{Type: TypeRDSClusterParamGroup, Name: "books-pg", Props: M{"name": "books-pg", "family": "aurora-postgresql16", "parameters": L{M{"name": "rds.force_ssl", "value": "1"}}}},
		{Type: TypeRDSEventSubscription, Name: "db-events", Props: M{"snsTopic": "arn:aws:sns:eu-west-1:123456789012:alarms", "sourceType": "db-cluster", "eventCategories": L{"failure", "maintenance", "failover"}}},
		{Type: TypeRDSProxy, Name: "proxy", Props: M{"requireTls": true}},
		{Type: TypeRDSSnapshot, Name: "snap", Props: M{"sharedAccounts": L{"210987654321"}}},
		{Type: TypeCacheCluster, Name: "memcached", Props: M{"engine": "memcached", "subnetGroupName": "books-cache"}},
		{Type: TypeKMSKeyPolicy, Name: "key-policy", Props: M{"keyId": "key-1", "policy": iamDoc(M{"Effect": "Allow", "Principal": M{"AWS": "arn:aws:iam::" + acct + ":root"}, "Action": "kms:*", "Resource": "*"},
			M{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": M{"StringEquals": M{"kms:CallerAccount": acct}}})}},
		{Type: TypeSecret, Name: "api-key", ID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-key", Props: M{"kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/s", "recoveryWindowInDays": 7}},
		{Type: TypeSecretRotation, Name: "api-key-rotation", Props: M{"secretId": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-key", "rotationRules": M{"automaticallyAfterDays": 30}}},
		{Type: TypeSecretPolicy, Name: "api-key-policy", Props: M{"secretArn": "x", "policy": iamDoc(M{"Effect": "Allow", "Principal": M{"AWS": "arn:aws:iam::" + acct + ":role/app"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"})}},
		{Type: TypeSNSTopicPolicy, Name: "alarms-policy", Props: M{"arn": "x", "policy": iamDoc(M{"Effect": "Allow", "Principal": M{"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish", "Resource": "*", "Condition": M{"StringEquals": M{"aws:SourceAccount": acct}}})}},
		{Type: TypeSNSSubscription, Name: "oncall", Props: M{"protocol": "email", "endpoint": "oncall@example.com"}},
		{Type: TypeMetricAlarm, Name: "cpu", Props: M{"alarmActions": L{"arn:aws:sns:eu-west-1:123456789012:alarms"}, "actionsEnabled": true}},
		{Type: TypeIAMRolePolicyAttachment, Name: "monitoring", Props: M{"role": "mon", "policyArn": "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"}},
		{Type: TypeIAMPolicyAttachment, Name: "group-attach", Props: M{"policyArn": "arn:aws:iam::123456789012:policy/app", "groups": L{"devs"}}},
		{Type: TypeIAMPasswordPolicy, Name: "passwords", Props: M{"minimumPasswordLength": 14, "requireSymbols": true, "requireNumbers": true, "requireUppercaseCharacters": true,
			"requireLowercaseCharacters": true, "passwordReusePrevention": 24, "maxPasswordAge": 90}},
		{Type: TypeS3Ownership, Name: "payload-ownership", Props: M{"bucket": "books-payload", "rule": M{"objectOwnership": "BucketOwnerEnforced"}}},
		{Type: TypeS3LoggingV2, Name: "payload-logging", Props: M{"bucket": "books-payload", "targetBucket": "logs", "targetPrefix": "payload/"}},
		{Type: TypeS3LifecycleV2, Name: "payload-lifecycle", Props: M{"bucket": "books-payload", "rules": L{M{"id": "expire", "status": "Enabled", "expiration": M{"days": 1}}}}},
		{Type: TypeS3BucketACLV2, Name: "payload-acl", Props: M{"bucket": "books-payload", "acl": "private"}},
		{Type: TypeS3AccountPAB, Name: "account-pab", Props: M{"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}},
		{Type: TypeS3AccessPoint, Name: "ap", Props: M{"bucket": "books-payload"}},
		{Type: TypeLambdaFunction, Name: "fn", Props: M{"runtime": "python3.13", "tracingConfig": M{"mode": "Active"}, "environment": M{"variables": M{"TABLE": "books", "SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}},
			"vpcConfig": M{"subnetIds": L{"subnet-a", "subnet-b"}, "securityGroupIds": L{"sg-1"}}}},
		{Type: TypeLambdaPermission, Name: "fn-apigw", Props: M{"action": "lambda:InvokeFunction", "function": "fn", "principal": "apigateway.amazonaws.com", "sourceArn": "arn:aws:execute-api:eu-west-1:123456789012:abc/*/GET/x"}},
		{Type: TypeLambdaURL, Name: "fn-url", Props: M{"functionName": "fn", "authorizationType": "AWS_IAM"}},
		{Type: TypeAPIV2Route, Name: "post-route", Props: M{"apiId": "v2", "routeKey": "POST /items", "authorizationType": "JWT", "authorizerId": "jwt"}},
		{Type: TypeAPIV2Route, Name: "get-route", Props: M{"apiId": "v2", "routeKey": "GET /items"}},
		{Type: TypeAPIV2Stage, Name: "v2-stage", Props: M{"apiId": "v2", "accessLogSettings": M{"destinationArn": "arn:aws:logs:eu-west-1:123456789012:log-group:v2", "format": "{}"}}},
		{Type: TypeAPIDomainName, Name: "domain", Props: M{"domainName": "api.example.com", "securityPolicy": "TLS_1_2"}},
		{Type: TypeAPIIntegration, Name: "vpc-link-integration", Props: M{"type": "HTTP_PROXY", "connectionType": "VPC_LINK"}},
		{Type: TypeWAFWebACL, Name: "acl", ID: "acl-1", Props: M{"arn": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/books/1", "defaultAction": M{"allow": M{}},
			"visibilityConfig": M{"cloudwatchMetricsEnabled": true, "metricName": "acl", "sampledRequestsEnabled": true},
			"rules": L{
				M{"name": "bad-inputs", "priority": 0, "overrideAction": M{"none": M{}}, "statement": M{"managedRuleGroupStatement": M{"vendorName": "AWS", "name": "AWSManagedRulesKnownBadInputsRuleSet"}},
					"visibilityConfig": M{"cloudwatchMetricsEnabled": true, "metricName": "bad", "sampledRequestsEnabled": true}},
				M{"name": "rate", "priority": 1, "action": M{"block": M{}}, "statement": M{"rateBasedStatement": M{"limit": 1000, "aggregateKeyType": "IP"}},
					"visibilityConfig": M{"cloudwatchMetricsEnabled": true, "metricName": "rate", "sampledRequestsEnabled": true}},
			}}},
		{Type: TypeWAFLogging, Name: "acl-logging", Props: M{"resourceArn": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/books/1", "logDestinationConfigs": L{"arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-books"}}},
		{Type: TypeCognitoClient, Name: "client", Props: M{"userPoolId": "pool", "preventUserExistenceErrors": "ENABLED", "allowedOauthFlows": L{"code"}}},
		{Type: TypeCognitoIdentityPool, Name: "identities", Props: M{"allowUnauthenticatedIdentities": false}},
		{Type: TypeECSTaskSet, Name: "taskset", Props: M{"networkConfiguration": M{"assignPublicIp": false, "subnets": L{"subnet-a"}}}},
		{Type: TypeECSCapacityProvider, Name: "ec2-capacity", Props: M{"autoScalingGroupProvider": M{"autoScalingGroupArn": "arn:asg", "managedTerminationProtection": "ENABLED"}}},
		{Type: TypeECRLifecyclePolicy, Name: "repo-lifecycle", Props: M{"repository": "books", "policy": "{}"}},
		{Type: TypeECRRepositoryPolicy, Name: "repo-policy", Props: M{"repository": "books", "policy": iamDoc(M{"Effect": "Allow", "Principal": M{"AWS": "arn:aws:iam::210987654321:root"}, "Action": "ecr:BatchGetImage"})}},
	}
}

// set replaces a fixture property (path of keys / indices).
func setF(fs []*fixture, name string, v any, path ...any) []*fixture {
	f := find(fs, name)
	var cur any = f.Props
	for i, p := range path {
		last := i == len(path)-1
		switch k := p.(type) {
		case string:
			m := cur.(M)
			if last {
				m[k] = v
				return fs
			}
			if _, ok := m[k]; !ok {
				m[k] = M{}
			}
			cur = m[k]
		case int:
			l := cur.(L)
			if last {
				l[k] = v
				return fs
			}
			cur = l[k]
		}
	}
	return fs
}

func add(fs []*fixture, f ...*fixture) []*fixture { return append(fs, f...) }

var moreViolations = map[string]func(fs []*fixture) []*fixture{
	"sg-no-unrestricted-egress": func(fs []*fixture) []*fixture {
		return setF(fs, "service-sg", L{M{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": L{"0.0.0.0/0"}}}, "egress")
	},
	"vpc-default-sg-closed":    func(fs []*fixture) []*fixture { return without(fs, "vpc-default-sg") },
	"subnet-no-auto-public-ip": func(fs []*fixture) []*fixture { return setF(fs, "private-a", true, "mapPublicIpOnLaunch") },
	"nacl-no-open-admin-ports": func(fs []*fixture) []*fixture { return setF(fs, "nacl-ssh", "0.0.0.0/0", "cidrBlock") },
	"ec2-imdsv2": func(fs []*fixture) []*fixture {
		return setF(fs, "bastion", "optional", "metadataOptions", "httpTokens")
	},
	"ec2-no-public-ip": func(fs []*fixture) []*fixture { return setF(fs, "bastion", true, "associatePublicIpAddress") },
	"ebs-encrypted":    func(fs []*fixture) []*fixture { return setF(fs, "data", false, "encrypted") },
	"ebs-snapshot-block-public-access": func(fs []*fixture) []*fixture {
		return setF(fs, "snapshot-bpa", "unblocked", "state")
	},
	"ec2-single-eni": func(fs []*fixture) []*fixture {
		return setF(fs, "bastion", L{M{"networkInterfaceId": "eni-1"}, M{"networkInterfaceId": "eni-2"}}, "networkInterfaces")
	},
	"eni-source-dest-check":     func(fs []*fixture) []*fixture { return setF(fs, "eni", false, "sourceDestCheck") },
	"tgw-no-auto-accept":        func(fs []*fixture) []*fixture { return setF(fs, "tgw", "enable", "autoAcceptSharedAttachments") },
	"clientvpn-connection-logs": func(fs []*fixture) []*fixture { return setF(fs, "cvpn", false, "connectionLogOptions", "enabled") },
	"vpn-tunnel-logging": func(fs []*fixture) []*fixture {
		return setF(fs, "vpn", false, "tunnel2LogOptions", "cloudwatchLogOptions", "logEnabled")
	},
	"lb-access-logs":       func(fs []*fixture) []*fixture { return setF(fs, "alb", false, "accessLogs", "enabled") },
	"lb-desync-mitigation": func(fs []*fixture) []*fixture { return setF(fs, "alb", "monitor", "desyncMitigationMode") },
	"lb-multi-az":          func(fs []*fixture) []*fixture { return setF(fs, "nlb", L{"subnet-a"}, "subnets") },
	"clb-connection-draining": func(fs []*fixture) []*fixture {
		return setF(fs, "clb", false, "connectionDraining")
	},
	"lb-https-listeners": func(fs []*fixture) []*fixture {
		fs = setF(fs, "alb", false, "internal")
		fs = setF(fs, "alb-https", "HTTP", "protocol")
		return fs
	},
	"lb-tls12-policy": func(fs []*fixture) []*fixture {
		return setF(fs, "alb-https", "ELBSecurityPolicy-2016-08", "sslPolicy")
	},
	"rds-instance-encrypted":           func(fs []*fixture) []*fixture { return setF(fs, "legacy-db", false, "storageEncrypted") },
	"rds-instance-hardening":           func(fs []*fixture) []*fixture { return setF(fs, "legacy-db", "postgres", "username") },
	"rds-instance-not-public-instance": func(fs []*fixture) []*fixture { return setF(fs, "legacy-db", true, "publiclyAccessible") },
	"rds-instance-prod-resilience":     func(fs []*fixture) []*fixture { return setF(fs, "legacy-db", false, "multiAz") },
	"rds-enhanced-monitoring":          func(fs []*fixture) []*fixture { return setF(fs, "legacy-db", 0, "monitoringInterval") },
	"rds-auto-minor-version-upgrade": func(fs []*fixture) []*fixture {
		return setF(fs, "db-writer", false, "autoMinorVersionUpgrade")
	},
	"rds-cluster-iam-auth": func(fs []*fixture) []*fixture { return setF(fs, "db", false, "iamDatabaseAuthenticationEnabled") },
	"rds-aurora-mysql-backtracking": func(fs []*fixture) []*fixture {
		return add(fs, &fixture{Type: TypeRDSCluster, Name: "mysql", Props: M{"engine": "aurora-mysql", "storageEncrypted": true, "kmsKeyId": "k", "manageMasterUserPassword": true,
			"masterUsername": "app_admin", "enabledCloudwatchLogsExports": L{"audit"}, "deletionProtection": true, "backupRetentionPeriod": 7, "iamDatabaseAuthenticationEnabled": true,
			"copyTagsToSnapshot": true, "dbClusterParameterGroupName": "mysql-pg"}},
			&fixture{Type: TypeRDSClusterParamGroup, Name: "mysql-pg", Props: M{"name": "mysql-pg", "parameters": L{M{"name": "require_secure_transport", "value": "ON"}}}},
			&fixture{Type: TypeRDSClusterInstance, Name: "mysql-1", Props: M{"clusterIdentifier": "mysql", "monitoringInterval": 60}},
			&fixture{Type: TypeRDSClusterInstance, Name: "mysql-2", Props: M{"clusterIdentifier": "mysql", "monitoringInterval": 60}})
	},
	"rds-force-tls": func(fs []*fixture) []*fixture {
		return setF(fs, "books-pg", L{M{"name": "log_lock_waits", "value": "1"}}, "parameters")
	},
	"rds-event-subscription": func(fs []*fixture) []*fixture { return setF(fs, "db-events", L{"notification"}, "eventCategories") },
	"rds-proxy-tls":          func(fs []*fixture) []*fixture { return setF(fs, "proxy", false, "requireTls") },
	"rds-snapshot-not-public": func(fs []*fixture) []*fixture {
		return setF(fs, "snap", L{"all"}, "sharedAccounts")
	},
	"cache-backups":                    func(fs []*fixture) []*fixture { return setF(fs, "cache", 0, "snapshotRetentionLimit") },
	"cache-auto-minor-version-upgrade": func(fs []*fixture) []*fixture { return setF(fs, "cache", false, "autoMinorVersionUpgrade") },
	"cache-at-rest-cmk": func(fs []*fixture) []*fixture {
		delete(find(fs, "cache").Props, "kmsKeyId")
		return fs
	},
	"cache-cluster-subnet-group": func(fs []*fixture) []*fixture { return setF(fs, "memcached", "default", "subnetGroupName") },
	"kms-key-not-public": func(fs []*fixture) []*fixture {
		return setF(fs, "key-policy", iamDoc(M{"Effect": "Allow", "Principal": M{"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}), "policy")
	},
	"kms-key-deletion-window": func(fs []*fixture) []*fixture { return setF(fs, "key", 7, "deletionWindowInDays") },
	"secret-not-public": func(fs []*fixture) []*fixture {
		return setF(fs, "api-key-policy", iamDoc(M{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}), "policy")
	},
	"secret-cmk": func(fs []*fixture) []*fixture {
		delete(find(fs, "api-key").Props, "kmsKeyId")
		return fs
	},
	"secret-recovery-window": func(fs []*fixture) []*fixture { return setF(fs, "api-key", 0, "recoveryWindowInDays") },
	"secret-rotation":        func(fs []*fixture) []*fixture { return without(fs, "api-key-rotation") },
	"sns-topic-not-public": func(fs []*fixture) []*fixture {
		return setF(fs, "alarms-policy", iamDoc(M{"Effect": "Allow", "Principal": M{"AWS": L{"*"}}, "Action": "sns:Publish", "Resource": "*"}), "policy")
	},
	"sns-subscription-encrypted-transport": func(fs []*fixture) []*fixture { return setF(fs, "oncall", "http", "protocol") },
	"cloudwatch-alarm-actions":             func(fs []*fixture) []*fixture { return setF(fs, "cpu", L{}, "alarmActions") },
	"log-group-retention-minimum":          func(fs []*fixture) []*fixture { return setF(fs, "logs", 90, "retentionInDays") },
	"log-group-kms": func(fs []*fixture) []*fixture {
		delete(find(fs, "logs").Props, "kmsKeyId")
		return fs
	},
	"iam-trust-policy-restricted": func(fs []*fixture) []*fixture {
		return setF(fs, "role", trust(M{"AWS": "*"}, nil), "assumeRolePolicy")
	},
	"iam-no-broad-managed-policies": func(fs []*fixture) []*fixture {
		return setF(fs, "monitoring", "arn:aws:iam::aws:policy/AdministratorAccess", "policyArn")
	},
	"iam-no-user-policies": func(fs []*fixture) []*fixture { return setF(fs, "group-attach", L{"alice"}, "users") },
	"iam-password-policy":  func(fs []*fixture) []*fixture { return setF(fs, "passwords", 8, "minimumPasswordLength") },
	"s3-bucket-policy-not-public": func(fs []*fixture) []*fixture {
		return add(fs, &fixture{Type: TypeS3BucketPolicy, Name: "public-read", Props: M{"bucket": "books-payload",
			"policy": iamDoc(M{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::books-payload/*"})}})
	},
	"s3-no-public-acl": func(fs []*fixture) []*fixture { return setF(fs, "payload-acl", "public-read", "acl") },
	"s3-ownership-enforced": func(fs []*fixture) []*fixture {
		return setF(fs, "payload-ownership", "ObjectWriter", "rule", "objectOwnership")
	},
	"s3-no-cross-account-admin": func(fs []*fixture) []*fixture {
		return add(fs, &fixture{Type: TypeS3BucketPolicy, Name: "partner", Props: M{"bucket": "books-payload",
			"policy": iamDoc(M{"Effect": "Allow", "Principal": M{"AWS": "arn:aws:iam::210987654321:root"}, "Action": "s3:PutBucketPolicy", "Resource": "arn:aws:s3:::books-payload"})}})
	},
	"s3-account-public-access-block": func(fs []*fixture) []*fixture { return setF(fs, "account-pab", false, "blockPublicPolicy") },
	"s3-access-point-block-public": func(fs []*fixture) []*fixture {
		return setF(fs, "ap", false, "publicAccessBlockConfiguration", "blockPublicPolicy")
	},
	"s3-access-logging": func(fs []*fixture) []*fixture { return without(fs, "payload-logging") },
	"s3-lifecycle":      func(fs []*fixture) []*fixture { return without(fs, "payload-lifecycle") },
	"lambda-permission-not-public": func(fs []*fixture) []*fixture {
		delete(find(fs, "fn-apigw").Props, "sourceArn")
		return setF(fs, "fn-apigw", "*", "principal")
	},
	"lambda-url-auth":          func(fs []*fixture) []*fixture { return setF(fs, "fn-url", "NONE", "authorizationType") },
	"lambda-supported-runtime": func(fs []*fixture) []*fixture { return setF(fs, "fn", "python3.8", "runtime") },
	"lambda-env-no-secrets": func(fs []*fixture) []*fixture {
		return setF(fs, "fn", "hunter2", "environment", "variables", "DB_PASSWORD")
	},
	"lambda-xray":             func(fs []*fixture) []*fixture { return setF(fs, "fn", "PassThrough", "tracingConfig", "mode") },
	"lambda-vpc-multi-az":     func(fs []*fixture) []*fixture { return setF(fs, "fn", L{"subnet-a"}, "vpcConfig", "subnetIds") },
	"apigw-execution-logging": func(fs []*fixture) []*fixture { return setF(fs, "settings", "OFF", "settings", "loggingLevel") },
	"apigw-backend-client-certificate": func(fs []*fixture) []*fixture {
		return setF(fs, "vpc-link-integration", "INTERNET", "connectionType")
	},
	"apigwv2-route-auth":        func(fs []*fixture) []*fixture { return setF(fs, "post-route", "NONE", "authorizationType") },
	"apigwv2-stage-access-logs": func(fs []*fixture) []*fixture { return setF(fs, "v2-stage", M{}, "accessLogSettings") },
	"apigw-domain-tls12":        func(fs []*fixture) []*fixture { return setF(fs, "domain", "TLS_1_0", "securityPolicy") },
	"waf-web-acl-rules":         func(fs []*fixture) []*fixture { return setF(fs, "acl", M{"count": M{}}, "rules", 0, "overrideAction") },
	"waf-known-bad-inputs": func(fs []*fixture) []*fixture {
		return setF(fs, "acl", "AWSManagedRulesCommonRuleSet", "rules", 0, "statement", "managedRuleGroupStatement", "name")
	},
	"waf-logging": func(fs []*fixture) []*fixture { return without(fs, "acl-logging") },
	"cognito-mfa": func(fs []*fixture) []*fixture { return setF(fs, "users", "OFF", "mfaConfiguration") },
	"cognito-threat-protection": func(fs []*fixture) []*fixture {
		return setF(fs, "users", "AUDIT", "userPoolAddOns", "advancedSecurityMode")
	},
	"cognito-identity-pool-no-unauth": func(fs []*fixture) []*fixture { return setF(fs, "identities", true, "allowUnauthenticatedIdentities") },
	"cognito-client-hardening":        func(fs []*fixture) []*fixture { return setF(fs, "client", L{"implicit"}, "allowedOauthFlows") },
	"ecs-task-host-namespaces":        func(fs []*fixture) []*fixture { return setF(fs, "task", "host", "pidMode") },
	"ecs-task-no-added-capabilities": func(fs []*fixture) []*fixture {
		return setF(fs, "task", containerDefs(func(c M) { c["linuxParameters"] = M{"capabilities": M{"add": L{"SYS_ADMIN"}}} }), "containerDefinitions")
	},
	"ecs-task-efs-transit-encryption": func(fs []*fixture) []*fixture {
		return setF(fs, "task", L{M{"name": "efs", "efsVolumeConfiguration": M{"fileSystemId": "fs-1"}}}, "volumes")
	},
	"ecs-fargate-latest-platform": func(fs []*fixture) []*fixture { return setF(fs, "service", "1.3.0", "platformVersion") },
	"ecs-taskset-no-public-ip": func(fs []*fixture) []*fixture {
		return setF(fs, "taskset", true, "networkConfiguration", "assignPublicIp")
	},
	"ecs-capacity-provider-termination-protection": func(fs []*fixture) []*fixture {
		return setF(fs, "ec2-capacity", "DISABLED", "autoScalingGroupProvider", "managedTerminationProtection")
	},
	"ecr-lifecycle-policy": func(fs []*fixture) []*fixture { return without(fs, "repo-lifecycle") },
	"ecr-repository-not-public": func(fs []*fixture) []*fixture {
		return setF(fs, "repo-policy", iamDoc(M{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}), "policy")
	},
}

func init() {
	for k, v := range moreViolations {
		violations[k] = v
	}
}
