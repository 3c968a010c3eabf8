package cost

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/books-platform/books/tests/harness"
)

// Compute pricers: Fargate tasks of ECS services (on-demand and Spot, by
// architecture), Container Insights, ECR storage and Lambda.
func init() {
	pricers["aws:ecs/service:Service"] = priceEcsService
	pricers["aws:ecs/cluster:Cluster"] = priceEcsCluster
	pricers["aws:ecr/repository:Repository"] = priceEcrRepository
	pricers["aws:lambda/function:Function"] = priceLambda
}

// Fargate includes 20 GiB of ephemeral storage per task (Fargate pricing page).
const freeEphemeralGiB = 20

// priceEcsService: averageTasks (default desiredCount) tasks of the task
// definition's size, split between FARGATE and FARGATE_SPOT as ECS places
// them: each provider's base first, the rest by weight.
func priceEcsService(c *pricing, r *harness.Resource) ([]charge, error) {
	td := c.findBy("aws:ecs/taskDefinition:TaskDefinition", "arn", str(r.Inputs, "taskDefinition"))
	if td == nil {
		return nil, fmt.Errorf("its task definition %q is not in the graph", str(r.Inputs, "taskDefinition"))
	}
	cpuUnits, ok1 := num(td.Inputs, "cpu")
	memMiB, ok2 := num(td.Inputs, "memory")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("task definition %s has no task-level cpu and memory", td.Name)
	}
	arch := strings.ToLower(str(td.Inputs, "runtimePlatform.cpuArchitecture"))
	if arch == "" {
		arch = "x86_64" // Fargate's default
	}
	if os := str(td.Inputs, "runtimePlatform.operatingSystemFamily"); os != "" && os != "LINUX" {
		return nil, fmt.Errorf("operating system %s is not priced (Linux is)", os)
	}
	u := c.usage
	tasks := u.AverageTasks
	taskAssumption := fmt.Sprintf("averageTasks=%g", tasks)
	if tasks == 0 {
		tasks = numOr(r.Inputs, "desiredCount", 1)
		taskAssumption = fmt.Sprintf("averageTasks=0: desiredCount %g", tasks)
	}
	onDemand, spot, split, err := fargateSplit(r, tasks)
	if err != nil {
		return nil, err
	}
	vcpu, gb := cpuUnits/1024, memMiB/1024
	size := fmt.Sprintf("%g vCPU / %g GB %s", vcpu, gb, arch)
	var charges []charge
	for _, part := range []struct {
		provider string
		n        float64
		dim      string
	}{{"FARGATE", onDemand, "ecs.fargate"}, {"FARGATE_SPOT", spot, "ecs.fargateSpot"}} {
		if part.n == 0 {
			continue
		}
		basis := fmt.Sprintf("%g tasks on %s (%s) × %s", round(part.n, 4), part.provider, split, size)
		charges = append(charges,
			charge{dim: fmt.Sprintf("%s.%s.vcpuHour", part.dim, arch), qty: part.n * vcpu * HoursPerMonth, basis: basis + fmt.Sprintf(" × %g h", HoursPerMonth), assumption: taskAssumption},
			charge{dim: fmt.Sprintf("%s.%s.gbHour", part.dim, arch), qty: part.n * gb * HoursPerMonth, basis: basis + fmt.Sprintf(" × %g h", HoursPerMonth), assumption: taskAssumption},
		)
	}
	if eph, ok := num(td.Inputs, "ephemeralStorage.sizeInGib"); ok && eph > freeEphemeralGiB {
		charges = append(charges, charge{dim: "ecs.fargate.ephemeral.gbHour", qty: tasks * (eph - freeEphemeralGiB) * HoursPerMonth,
			basis: fmt.Sprintf("%g tasks × %g GiB above the free %d GiB × %g h", tasks, eph-freeEphemeralGiB, freeEphemeralGiB, HoursPerMonth), assumption: taskAssumption})
	}
	if n := u.CustomMetricsPerService; n > 0 {
		charges = append(charges, charge{dim: "cloudwatch.metrics.custom.month", qty: n, basis: "custom metrics the service publishes (embedded metric format)",
			assumption: fmt.Sprintf("customMetricsPerService=%g", n)})
	}
	return charges, nil
}

// fargateSplit places n tasks by the service's capacity provider strategy
// (bases first, in order, then the rest by weight), or all on FARGATE for
// launchType FARGATE.
func fargateSplit(r *harness.Resource, n float64) (onDemand, spot float64, basis string, err error) {
	strategies := array(r.Inputs, "capacityProviderStrategies")
	if len(strategies) == 0 {
		if lt := str(r.Inputs, "launchType"); lt != "" && lt != "FARGATE" {
			return 0, 0, "", fmt.Errorf("launchType %s is not priced (FARGATE and Fargate capacity providers are)", lt)
		}
		return n, 0, "launchType FARGATE", nil
	}
	type share struct {
		provider     string
		weight, base float64
	}
	var shares []share
	var weights float64
	var parts []string
	for _, s := range strategies {
		if !s.IsObject() {
			continue
		}
		m := s.ObjectValue()
		sh := share{provider: str(m, "capacityProvider"), weight: numOr(m, "weight", 0), base: numOr(m, "base", 0)}
		if sh.provider != "FARGATE" && sh.provider != "FARGATE_SPOT" {
			return 0, 0, "", fmt.Errorf("capacity provider %s is not priced (FARGATE and FARGATE_SPOT are)", sh.provider)
		}
		shares = append(shares, sh)
		weights += sh.weight
		parts = append(parts, fmt.Sprintf("%s weight %g base %g", sh.provider, sh.weight, sh.base))
	}
	placed := map[string]float64{}
	left := n
	for _, sh := range shares {
		b := math.Min(sh.base, left)
		placed[sh.provider] += b
		left -= b
	}
	if left > 0 && weights > 0 {
		for _, sh := range shares {
			placed[sh.provider] += left * sh.weight / weights
		}
	}
	return placed["FARGATE"], placed["FARGATE_SPOT"], strings.Join(parts, ", "), nil
}

// priceEcsCluster: Container Insights metrics are billed as custom metrics,
// and its performance log events as log ingestion (CloudWatch user guide).
func priceEcsCluster(c *pricing, r *harness.Resource) ([]charge, error) {
	insights := ""
	for _, s := range array(r.Inputs, "settings") {
		if s.IsObject() && str(s.ObjectValue(), "name") == "containerInsights" {
			insights = str(s.ObjectValue(), "value")
		}
	}
	switch insights {
	case "", "disabled":
		return nil, nil
	case "enabled":
	default:
		return nil, fmt.Errorf("containerInsights %q is not priced (enabled and disabled are)", insights)
	}
	u := c.usage
	return []charge{
		{dim: "cloudwatch.metrics.custom.month", qty: u.ContainerInsightsMetrics, basis: "Container Insights metrics (cluster, service and task-family level)",
			assumption: fmt.Sprintf("containerInsightsMetrics=%g", u.ContainerInsightsMetrics)},
		{dim: "cloudwatch.logs.ingest.gb", qty: u.ContainerInsightsLogGB, basis: "Container Insights performance log events",
			assumption: fmt.Sprintf("containerInsightsLogGB=%g", u.ContainerInsightsLogGB)},
	}, nil
}

// priceEcrRepository: stored images × image size; how many are kept comes
// from the repository's lifecycle policy unless the usage says otherwise.
func priceEcrRepository(c *pricing, r *harness.Resource) ([]charge, error) {
	u := c.usage
	images, assumption := u.ImagesStored, fmt.Sprintf("imagesStored=%g, imageMB=%g", u.ImagesStored, u.ImageMB)
	if images == 0 {
		keep := lifecycleKeep(c, str(r.Outputs, "name"))
		if keep == 0 {
			return nil, fmt.Errorf("no lifecycle policy limits the images kept: set imagesStored in the usage file")
		}
		images, assumption = keep, fmt.Sprintf("imagesStored=0: the lifecycle policy keeps %g, imageMB=%g", keep, u.ImageMB)
	}
	return []charge{{dim: "ecr.storage.gbMonth", qty: images * u.ImageMB / 1024, basis: fmt.Sprintf("%g images × %g MB", images, u.ImageMB), assumption: assumption}}, nil
}

// lifecycleKeep is the largest imageCountMoreThan limit of the repository's
// lifecycle policy (0 when there is none).
func lifecycleKeep(c *pricing, repo string) float64 {
	var keep float64
	for _, lp := range c.g.ByType("aws:ecr/lifecyclePolicy:LifecyclePolicy") {
		if str(lp.Inputs, "repository") != repo {
			continue
		}
		var policy struct {
			Rules []struct {
				Selection struct {
					CountType   string  `json:"countType"`
					CountNumber float64 `json:"countNumber"`
				} `json:"selection"`
			} `json:"rules"`
		}
		if err := json.Unmarshal([]byte(str(lp.Inputs, "policy")), &policy); err != nil {
			continue
		}
		for _, rule := range policy.Rules {
			if rule.Selection.CountType == "imageCountMoreThan" {
				keep = math.Max(keep, rule.Selection.CountNumber)
			}
		}
	}
	return keep
}

// priceLambda: requests and GB-seconds by architecture.
func priceLambda(c *pricing, r *harness.Resource) ([]charge, error) {
	u := c.usage
	arch := "x86_64"
	if archs := array(r.Inputs, "architectures"); len(archs) == 1 && archs[0].IsString() {
		arch = archs[0].StringValue()
	}
	memMB := numOr(r.Inputs, "memorySize", 128)
	seconds, secAssumption := u.LambdaAverageSeconds, fmt.Sprintf("lambdaAverageSeconds=%g", u.LambdaAverageSeconds)
	if seconds == 0 {
		seconds = numOr(r.Inputs, "timeout", 3)
		secAssumption = fmt.Sprintf("lambdaAverageSeconds=0: the timeout, %gs", seconds)
	}
	inv := u.LambdaInvocationsPerMonth
	invAssumption := fmt.Sprintf("lambdaInvocationsPerMonth=%g", inv)
	return []charge{
		{dim: "lambda.requests.1m", qty: inv / 1e6, basis: "invocations", assumption: invAssumption},
		{dim: "lambda." + arch + ".gbSecond", qty: inv * seconds * memMB / 1024,
			basis: fmt.Sprintf("invocations × %gs × %g MB", seconds, memMB), assumption: invAssumption + ", " + secAssumption},
	}, nil
}
