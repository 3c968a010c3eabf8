package tests

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/tests/harness"
)

// TestServiceDeployment: private subnets without public IP behind the
// service security group, rolling deployments that roll back, the digest's
// task definition.
func TestServiceDeployment(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		cfg := stackConfig(t, stack)
		s := svcFind(t, g, "aws:ecs/service:Service", "service")
		subnets := propStrings(s, "networkConfiguration", "subnets")
		if len(subnets) == 0 || !slices.Equal(subnets, subnetIDs(t, g, "private")) {
			t.Errorf("service subnets = %v, want the private ones", subnets)
		}
		for _, id := range subnets {
			if !strings.HasPrefix(id, "subnet-private-") {
				t.Errorf("service subnet %s is not private", id)
			}
		}
		if v := prop(s, "networkConfiguration", "assignPublicIp"); !v.IsBool() || v.BoolValue() {
			t.Errorf("assignPublicIp = %v, want false", v)
		}
		if sgs := propStrings(s, "networkConfiguration", "securityGroups"); !slices.Equal(sgs, []string{sgByTier(t, g)["service"]}) {
			t.Errorf("service security groups = %v", sgs)
		}
		if !propBool(s, "deploymentCircuitBreaker", "enable") || !propBool(s, "deploymentCircuitBreaker", "rollback") {
			t.Error("circuit breaker with rollback is off")
		}
		minP, _ := propNumber(s, "deploymentMinimumHealthyPercent")
		maxP, _ := propNumber(s, "deploymentMaximumPercent")
		grace, _ := propNumber(s, "healthCheckGracePeriodSeconds")
		desired, _ := propNumber(s, "desiredCount")
		if minP != 100 || maxP != 200 || grace <= 0 || int(desired) != cfg.Service.DesiredCount {
			t.Errorf("deployment: min %v max %v grace %v desired %v", minP, maxP, grace, desired)
		}
		if !propBool(s, "waitForSteadyState") {
			t.Error("waitForSteadyState is off: a failed rollout would pass")
		}
		td := svcFind(t, g, "aws:ecs/taskDefinition:TaskDefinition", "service")
		if propString(s, "taskDefinition") != svcOut(td, "arn") || propString(s, "cluster") != svcOut(svcFind(t, g, "aws:ecs/cluster:Cluster", "service"), "arn") {
			t.Errorf("service runs %q in %q", propString(s, "taskDefinition"), propString(s, "cluster"))
		}
		lbs := prop(s, "loadBalancers")
		if !lbs.IsArray() || len(lbs.ArrayValue()) != 1 ||
			lbs.ArrayValue()[0].ObjectValue()["containerName"].StringValue() != infra.ContainerName ||
			lbs.ArrayValue()[0].ObjectValue()["targetGroupArn"].StringValue() != svcOut(svcFind(t, g, "aws:lb/targetGroup:TargetGroup", "service"), "arn") {
			t.Errorf("service load balancers = %v, want the books container in the target group", lbs)
		}
		arch := map[string]string{"arm64": "ARM64", "x86_64": "X86_64"}[cfg.Service.Architecture]
		if propString(td, "runtimePlatform", "cpuArchitecture") != arch || propString(td, "networkMode") != "awsvpc" {
			t.Errorf("task definition platform %q network %q", propString(td, "runtimePlatform", "cpuArchitecture"), propString(td, "networkMode"))
		}
		if propString(td, "cpu") != strconv.Itoa(cfg.Service.Cpu) || propString(td, "memory") != strconv.Itoa(cfg.Service.Memory) {
			t.Errorf("task size %s/%s, want %d/%d", propString(td, "cpu"), propString(td, "memory"), cfg.Service.Cpu, cfg.Service.Memory)
		}
	})
}

// TestServiceDeploymentAlarmsRollBack: besides the circuit breaker (tasks
// that never get healthy), the service's deployment alarms roll back a
// deployment whose tasks run but fail requests or health checks: target
// 5XX and unhealthy hosts on its own target group. The service waits for
// the alarms it names, and spreads tasks over AZs again after an AZ event.
func TestServiceDeploymentAlarmsRollBack(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		cfg := stackConfig(t, stack)
		s := svcFind(t, g, "aws:ecs/service:Service", "service")
		if !propBool(s, "alarms", "enable") || !propBool(s, "alarms", "rollback") {
			t.Fatalf("deployment alarms %v, want enabled with rollback", prop(s, "alarms"))
		}
		tg := svcFind(t, g, "aws:lb/targetGroup:TargetGroup", "service")
		metrics := map[string]bool{}
		for _, name := range propStrings(s, "alarms", "alarmNames") {
			var alarm *harness.Resource
			for _, a := range g.ByType("aws:cloudwatch/metricAlarm:MetricAlarm") {
				if svcOut(a, "name") == name {
					alarm = a
				}
			}
			if alarm == nil {
				t.Errorf("deployment alarm %q is not an alarm of the stack", name)
				continue
			}
			if propString(alarm, "namespace") != "AWS/ApplicationELB" || propString(alarm, "dimensions", "TargetGroup") != svcOut(tg, "arnSuffix") {
				t.Errorf("deployment alarm %s watches %s %v, not the service's target group", name, propString(alarm, "namespace"), prop(alarm, "dimensions"))
			}
			metrics[propString(alarm, "metricName")] = true
			if !slices.Contains(s.Dependencies, alarm.URN) && !slices.Contains(s.PropertyDependencies["alarms"], alarm.URN) {
				t.Errorf("service does not depend on its deployment alarm %s", name)
			}
		}
		for _, m := range []string{"HTTPCode_Target_5XX_Count", "UnHealthyHostCount"} {
			if !metrics[m] {
				t.Errorf("no deployment alarm on %s (alarms %v)", m, propStrings(s, "alarms", "alarmNames"))
			}
		}
		want := "DISABLED"
		if cfg.Service.MaxCount > 1 {
			want = "ENABLED"
		}
		if got := propString(s, "availabilityZoneRebalancing"); got != want {
			t.Errorf("availabilityZoneRebalancing %q, want %q (max %d tasks)", got, want, cfg.Service.MaxCount)
		}
	})
}
