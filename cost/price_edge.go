package cost

import (
	"fmt"
	"math"
	"strings"

	"github.com/books-platform/books/tests/harness"
)

// Edge pricers: API Gateway stages (requests, cache cluster, X-Ray, data
// out), detailed per-method metrics, WAF, Cognito.
func init() {
	pricers["aws:apigateway/stage:Stage"] = priceStage
	pricers["aws:apigateway/methodSettings:MethodSettings"] = priceMethodSettings
	pricers["aws:wafv2/webAcl:WebAcl"] = priceWebAcl
	pricers["aws:cognito/userPool:UserPool"] = priceUserPool
}

// xrayReservoirPerSecond: X-Ray's default sampling rule records the first
// request each second and 5 % of the rest (X-Ray developer guide).
const xrayReservoirPerSecond = 1.0

func priceStage(c *pricing, r *harness.Resource) ([]charge, error) {
	u := c.usage
	req := u.APIRequestsPerMonth
	reqAssumption := fmt.Sprintf("apiRequestsPerMonth=%g", req)
	charges := []charge{
		{dim: "apigateway.rest.requests.1m", qty: req / 1e6, basis: "REST API requests (first tier, up to 333M a month)", assumption: reqAssumption},
		{dim: "dataTransfer.internetOut.gb", qty: req * u.APIResponseKB / kbPerGB, basis: "responses to clients on the internet",
			assumption: fmt.Sprintf("%s, apiResponseKB=%g", reqAssumption, u.APIResponseKB)},
	}
	if boolean(r.Inputs, "cacheClusterEnabled") {
		size := str(r.Inputs, "cacheClusterSize")
		if size == "" {
			size = "0.5" // API Gateway's default size
		}
		charges = append(charges, hours(1, size+" GB cache cluster").as("apigateway.cache."+size+"gb.hour"))
	}
	if boolean(r.Inputs, "xrayTracingEnabled") {
		reservoir := math.Min(req, xrayReservoirPerSecond*HoursPerMonth*3600)
		traces := reservoir + u.XRaySampledShare*(req-reservoir)
		charges = append(charges, charge{dim: "xray.traces.1m", qty: traces / 1e6,
			basis:      fmt.Sprintf("%.0f traces: the first request each second (%.0f) + %g of the rest", traces, reservoir, u.XRaySampledShare),
			assumption: fmt.Sprintf("%s, xraySampledShare=%g", reqAssumption, u.XRaySampledShare)})
	}
	return charges, nil
}

// apiGatewayDetailedMetrics: with metricsEnabled, API Gateway publishes
// these per method (ApiName, Method, Resource, Stage dimensions), billed as
// custom metrics (API Gateway developer guide, "API Gateway metrics").
var apiGatewayDetailedMetrics = []string{"4XXError", "5XXError", "CacheHitCount", "CacheMissCount", "Count", "IntegrationLatency", "Latency"}

// priceMethodSettings: detailed metrics of the methods a setting covers:
// every method of the API for "*/*", one for "resource/METHOD". A
// per-method setting under a stage-wide one with metrics on adds nothing.
func priceMethodSettings(c *pricing, r *harness.Resource) ([]charge, error) {
	if !boolean(r.Inputs, "settings.metricsEnabled") {
		return nil, nil
	}
	api, stage, path := str(r.Inputs, "restApi"), str(r.Inputs, "stageName"), str(r.Inputs, "methodPath")
	methods := 1.0
	if path == "*/*" {
		methods = 0
		for _, m := range c.g.ByType("aws:apigateway/method:Method") {
			if str(m.Inputs, "restApi") == api {
				methods++
			}
		}
	} else {
		for _, other := range c.g.ByType("aws:apigateway/methodSettings:MethodSettings") {
			if other != r && str(other.Inputs, "restApi") == api && str(other.Inputs, "stageName") == stage &&
				str(other.Inputs, "methodPath") == "*/*" && boolean(other.Inputs, "settings.metricsEnabled") {
				return nil, nil // counted by the stage-wide setting
			}
		}
	}
	n := methods * float64(len(apiGatewayDetailedMetrics))
	return []charge{{dim: "cloudwatch.metrics.custom.month", qty: n,
		basis: fmt.Sprintf("detailed metrics: %s × %d (%s)", plural(methods, "method", "methods"), len(apiGatewayDetailedMetrics), strings.Join(apiGatewayDetailedMetrics, ", "))}}, nil
}

// priceWebAcl: the ACL, each rule (a managed rule group counts as one
// rule) and the requests it inspects (every API request).
func priceWebAcl(c *pricing, r *harness.Resource) ([]charge, error) {
	rules := float64(len(array(r.Inputs, "rules")))
	for _, rule := range array(r.Inputs, "rules") {
		if rule.IsObject() {
			if name := str(rule.ObjectValue(), "statement.managedRuleGroupStatement.name"); strings.Contains(name, "BotControl") || strings.Contains(name, "ATP") || strings.Contains(name, "ACFP") {
				return nil, fmt.Errorf("managed rule group %s has a subscription fee that is not in cost/prices.yaml", name)
			}
		}
	}
	u := c.usage
	return []charge{
		{dim: "wafv2.webAcl.month", qty: 1, basis: "1 web ACL"},
		{dim: "wafv2.rule.month", qty: rules, basis: plural(rules, "rule", "rules") + " (a managed rule group counts as one)"},
		{dim: "wafv2.requests.1m", qty: u.APIRequestsPerMonth / 1e6, basis: "every API request is inspected",
			assumption: fmt.Sprintf("apiRequestsPerMonth=%g", u.APIRequestsPerMonth)},
	}, nil
}

// cognitoFreeMAU: Cognito's Lite and Essentials tiers include 10,000
// monthly active users at no charge, without expiry (Cognito pricing page).
const cognitoFreeMAU = 10_000

func priceUserPool(c *pricing, r *harness.Resource) ([]charge, error) {
	tier := strings.ToLower(str(r.Inputs, "userPoolTier"))
	if tier == "" {
		tier = "essentials" // AWS's default tier for new pools
	}
	if tier != "lite" && tier != "essentials" && tier != "plus" {
		return nil, fmt.Errorf("userPoolTier %q is not priced (LITE, ESSENTIALS, PLUS are)", tier)
	}
	mau := c.usage.CognitoMAU
	free := float64(cognitoFreeMAU)
	if tier == "plus" {
		free = 0
	}
	return []charge{{dim: "cognito." + tier + ".mau", qty: math.Max(0, mau-free),
		basis:      fmt.Sprintf("MAUs above the %g included (%s tier)", free, tier),
		assumption: fmt.Sprintf("cognitoMAU=%g", mau)}}, nil
}
