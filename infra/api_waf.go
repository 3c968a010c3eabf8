package infra

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// WafManagedRuleGroups are the AWS managed rule groups of the web ACL, in
// priority order. Note that the common rule set blocks bodies over 8 KB
// (SizeRestrictions_BODY), which no book needs.
var WafManagedRuleGroups = []string{
	"AWSManagedRulesAmazonIpReputationList",
	"AWSManagedRulesCommonRuleSet",
	"AWSManagedRulesKnownBadInputsRuleSet",
}

func wafVisibility(metric string) wafv2.WebAclRuleVisibilityConfigArgs {
	return wafv2.WebAclRuleVisibilityConfigArgs{
		CloudwatchMetricsEnabled: pulumi.Bool(true),
		SampledRequestsEnabled:   pulumi.Bool(true),
		MetricName:               pulumi.String(metric),
	}
}

// waf creates a regional web ACL (managed rule groups, then a per-IP rate
// limit over 5 minutes) and associates it with the stage, when enabled.
func (b *apiBuilder) waf() error {
	if !b.s.Waf {
		return nil
	}
	rules := wafv2.WebAclRuleArray{}
	for i, group := range WafManagedRuleGroups {
		rules = append(rules, wafv2.WebAclRuleArgs{
			Name:           pulumi.String(group),
			Priority:       pulumi.Int(i),
			OverrideAction: &wafv2.WebAclRuleOverrideActionArgs{None: &wafv2.WebAclRuleOverrideActionNoneArgs{}},
			Statement: &wafv2.WebAclRuleStatementArgs{
				ManagedRuleGroupStatement: &wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
					VendorName: pulumi.String("AWS"),
					Name:       pulumi.String(group),
				},
			},
			VisibilityConfig: wafVisibility(group),
		})
	}
	rules = append(rules, wafv2.WebAclRuleArgs{
		Name:     pulumi.String("rate-limit-per-ip"),
		Priority: pulumi.Int(len(WafManagedRuleGroups)),
		Action:   &wafv2.WebAclRuleActionArgs{Block: &wafv2.WebAclRuleActionBlockArgs{}},
		Statement: &wafv2.WebAclRuleStatementArgs{
			RateBasedStatement: &wafv2.WebAclRuleStatementRateBasedStatementArgs{
				Limit:            pulumi.Int(b.s.WafRateLimit),
				AggregateKeyType: pulumi.String("IP"),
			},
		},
		VisibilityConfig: wafVisibility("rate-limit-per-ip"),
	})
	acl, err := wafv2.NewWebAcl(b.ctx, b.child("waf"), &wafv2.WebAclArgs{
		Description:   pulumi.String("Books API: AWS managed rules and a per-IP rate limit"),
		Scope:         pulumi.String("REGIONAL"),
		DefaultAction: &wafv2.WebAclDefaultActionArgs{Allow: &wafv2.WebAclDefaultActionAllowArgs{}},
		Rules:         rules,
		VisibilityConfig: &wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			SampledRequestsEnabled:   pulumi.Bool(true),
			MetricName:               pulumi.String(b.wafMetricName()),
		},
	}, b.parent)
	if err != nil {
		return err
	}
	if _, err := wafv2.NewWebAclAssociation(b.ctx, b.child("waf"), &wafv2.WebAclAssociationArgs{
		ResourceArn: b.stg.Arn,
		WebAclArn:   acl.Arn,
	}, pulumi.Parent(acl)); err != nil {
		return err
	}
	b.api.WebAclName = acl.Name
	b.api.WebAclArn = acl.Arn
	b.api.WebAclMetricName = acl.VisibilityConfig.MetricName()
	return nil
}

// customDomain maps a regional custom domain (ACM certificate in the
// stack's region) to the stage, when books:api.domainName is set.
func (b *apiBuilder) customDomain() error {
	if b.s.DomainName == "" {
		return nil
	}
	domain, err := apigateway.NewDomainName(b.ctx, b.child("domain"), &apigateway.DomainNameArgs{
		DomainName:             pulumi.String(b.s.DomainName),
		RegionalCertificateArn: pulumi.String(b.s.CertificateArn),
		EndpointConfiguration:  &apigateway.DomainNameEndpointConfigurationArgs{Types: pulumi.String("REGIONAL")},
		SecurityPolicy:         pulumi.String("TLS_1_2"),
	}, b.parent)
	if err != nil {
		return err
	}
	if _, err := apigateway.NewBasePathMapping(b.ctx, b.child("domain"), &apigateway.BasePathMappingArgs{
		DomainName: domain.DomainName,
		RestApi:    b.rest.ID(),
		StageName:  b.stg.StageName,
	}, pulumi.Parent(domain)); err != nil {
		return err
	}
	b.api.CustomDomainUrl = pulumi.Sprintf("https://%s/", domain.DomainName)
	return nil
}

// wafMetricName is the web ACL's own metric name.
func (b *apiBuilder) wafMetricName() string { return b.name + "-waf" }
