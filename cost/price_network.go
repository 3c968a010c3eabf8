package cost

import (
	"fmt"

	"github.com/books-platform/books/tests/harness"
)

const awsxVpc = "awsx:ec2:Vpc"

// Network pricers: NAT gateways and their public IPv4 addresses (inside
// awsx's Vpc, invisible under mocks, so derived from its inputs), interface
// endpoints, load balancers.
func init() {
	pricers[awsxVpc] = priceVpc
	pricers["aws:ec2/vpcEndpoint:VpcEndpoint"] = priceVpcEndpoint
	pricers["aws:lb/loadBalancer:LoadBalancer"] = priceLoadBalancer
	pricers["aws:alb/loadBalancer:LoadBalancer"] = priceLoadBalancer
}

// priceVpc: awsx creates one NAT gateway (with an Elastic IP) per AZ for
// OnePerAz, one for Single, none for None; awsx's default strategy is
// OnePerAz and its default AZ count 3 (awsx ec2.Vpc docs).
func priceVpc(c *pricing, r *harness.Resource) ([]charge, error) {
	azs, ok := num(r.Inputs, "numberOfAvailabilityZones")
	if !ok {
		azs = 3
	}
	strategy := str(r.Inputs, "natGateways.strategy")
	if strategy == "" {
		strategy = "OnePerAz"
	}
	var nats float64
	switch strategy {
	case "None":
		return nil, nil
	case "Single":
		nats = 1
	case "OnePerAz":
		nats = azs
	default:
		return nil, fmt.Errorf("natGateways.strategy %q is not None, Single or OnePerAz", strategy)
	}
	what := fmt.Sprintf("%s (natStrategy %s, %g AZs)", plural(nats, "NAT gateway", "NAT gateways"), strategy, azs)
	u := c.usage
	return []charge{
		hours(nats, what).as("ec2.natGateway.hour"),
		{dim: "ec2.natGateway.gb", qty: u.NATGBPerMonth, basis: "all NAT gateways together",
			assumption: fmt.Sprintf("natGBPerMonth=%g", u.NATGBPerMonth)},
		hours(nats, plural(nats, "Elastic IP (one per NAT gateway)", "Elastic IPs (one per NAT gateway)")).as("ec2.publicIPv4.hour"),
	}, nil
}

// priceVpcEndpoint: an interface endpoint bills each AZ (subnet) it is in by
// the hour plus the data it processes; a gateway endpoint (S3, DynamoDB)
// costs nothing.
func priceVpcEndpoint(c *pricing, r *harness.Resource) ([]charge, error) {
	kind := str(r.Inputs, "vpcEndpointType")
	if kind == "" {
		kind = "Gateway" // the provider's default
	}
	switch kind {
	case "Gateway":
		return nil, nil
	case "Interface":
	default:
		return nil, fmt.Errorf("vpcEndpointType %q is not priced (Gateway and Interface are)", kind)
	}
	azs := float64(len(array(r.Inputs, "subnetIds")))
	if azs == 0 {
		return nil, fmt.Errorf("interface endpoint without subnetIds: cannot tell how many AZs it bills")
	}
	return []charge{
		hours(azs, fmt.Sprintf("%s (%s)", plural(azs, "AZ", "AZs"), str(r.Inputs, "serviceName"))).as("ec2.interfaceEndpoint.hour"),
		{dim: "ec2.interfaceEndpoint.gb", qty: c.usage.EndpointGBPerMonth, basis: "this endpoint",
			assumption: fmt.Sprintf("endpointGBPerMonth=%g", c.usage.EndpointGBPerMonth)},
	}, nil
}

// LCU dimensions (Elastic Load Balancing pricing page): an ALB LCU is 25 new
// connections/s or 1 GB/h processed (the larger wins); an NLB NLCU is 800
// new TCP flows/s or 1 GB/h.
const (
	albNewConnPerLCU  = 25.0
	nlbNewFlowsPerLCU = 800.0
	gbPerLCUHour      = 1.0
	kbPerGB           = 1024.0 * 1024.0
)

// priceLoadBalancer: hours plus capacity units from the requests that reach
// the backend (API requests the stage cache does not answer), each counted
// as a new connection (an upper bound: API Gateway reuses connections).
func priceLoadBalancer(c *pricing, r *harness.Resource) ([]charge, error) {
	kind := str(r.Inputs, "loadBalancerType")
	if kind == "" {
		kind = "application"
	}
	u := c.usage
	backend := u.APIRequestsPerMonth * (1 - u.APICacheHitShare)
	perSecond := backend / (HoursPerMonth * 3600)
	gbPerHour := backend * (u.APIResponseKB + 1) / kbPerGB / HoursPerMonth
	assumption := fmt.Sprintf("apiRequestsPerMonth=%g × (1 − apiCacheHitShare=%g), apiResponseKB=%g (+1 KB request)", u.APIRequestsPerMonth, u.APICacheHitShare, u.APIResponseKB)
	var per float64
	var hourDim, unitDim string
	switch kind {
	case "application":
		per, hourDim, unitDim = albNewConnPerLCU, "elb.alb.hour", "elb.alb.lcuHour"
	case "network":
		per, hourDim, unitDim = nlbNewFlowsPerLCU, "elb.nlb.hour", "elb.nlb.nlcuHour"
	default:
		return nil, fmt.Errorf("loadBalancerType %q is not priced (application and network are)", kind)
	}
	units := max(perSecond/per, gbPerHour/gbPerLCUHour)
	return []charge{
		hours(1, kind+" load balancer").as(hourDim),
		{dim: unitDim, qty: units * HoursPerMonth,
			basis:      fmt.Sprintf("max(%.3f new connections/s ÷ %g, %.4f GB/h ÷ 1) = %.4f units × %g h", perSecond, per, gbPerHour, units, HoursPerMonth),
			assumption: assumption},
	}, nil
}
