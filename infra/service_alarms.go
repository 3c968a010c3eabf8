package infra

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DeploymentAlarmSuffixes are the load-balancer alarms (AlarmSpecs) that
// also guard deployments: a new task set that answers 5XX or fails its
// health checks rolls back, even when its tasks stay running (which the
// circuit breaker does not catch).
var DeploymentAlarmSuffixes = []string{"target-5xx", "unhealthy-hosts"}

// newDeploymentAlarms creates the ECS service's deployment alarms on its own
// target group: the same metrics and thresholds as Monitoring's alarms of
// those names, without actions (ECS reads their state during a deployment
// and rolls back on ALARM; paging is Monitoring's). They are the service's
// children because the service must name them, and Monitoring is created
// after the service. AWS: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
func newDeploymentAlarms(ctx *pulumi.Context, name string, s AlarmsConfig, albSuffix, tgSuffix pulumi.StringOutput, parent pulumi.ResourceOption) ([]*cloudwatch.MetricAlarm, error) {
	specs := AlarmSpecs(&MonitoringArgs{Settings: s, LoadBalancer: &LoadBalancerMonitoring{AlbArnSuffix: albSuffix, TargetGroupArnSuffix: tgSuffix}})
	var out []*cloudwatch.MetricAlarm
	for _, spec := range specs {
		if !slices.Contains(DeploymentAlarmSuffixes, spec.Suffix) {
			continue
		}
		a := metricAlarmArgs(spec, s)
		a.AlarmDescription = pulumi.String("Deployment alarm (ECS rolls back on ALARM): " + spec.Description)
		alarm, err := cloudwatch.NewMetricAlarm(ctx, name+"-deploy-"+spec.Suffix, a, parent)
		if err != nil {
			return nil, err
		}
		out = append(out, alarm)
	}
	if len(out) != len(DeploymentAlarmSuffixes) {
		return nil, fmt.Errorf("service %s: deployment alarms %v not all in AlarmSpecs", name, DeploymentAlarmSuffixes)
	}
	return out, nil
}

// deploymentAlarmsArgs names the alarms on the ECS service, with rollback.
func deploymentAlarmsArgs(alarms []*cloudwatch.MetricAlarm) ecs.ServiceAlarmsArgs {
	names := pulumi.StringArray{}
	for _, a := range alarms {
		names = append(names, a.Name)
	}
	return ecs.ServiceAlarmsArgs{AlarmNames: names, Enable: pulumi.Bool(true), Rollback: pulumi.Bool(true)}
}

// azRebalancing is the service's availabilityZoneRebalancing: ENABLED when
// it may run more than one task (ECS then moves tasks back into an AZ that
// recovered), DISABLED for a single task, where there is nothing to
// rebalance. AWS: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-rebalancing.html
func azRebalancing(s ServiceConfig) string {
	if s.MaxCount > 1 {
		return "ENABLED"
	}
	return "DISABLED"
}
