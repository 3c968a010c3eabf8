package harness

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Computed outputs of the Monitoring component's resources, in the shapes
// AWS returns: a topic's id is its ARN (arn:aws:sns:region:account:name), an
// alarm's ARN is …:alarm:<name>, a dashboard's …:dashboard/<name>.
func init() {
	enrichers["aws:sns/topic:Topic"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["arn"] = resource.NewProperty(m.arn("sns", out["name"].StringValue()))
	}
	enrichers["aws:sns/topicSubscription:TopicSubscription"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		topic := ""
		if v, ok := in["topic"]; ok && v.IsString() {
			topic = v.StringValue()
		}
		out["arn"] = resource.NewProperty(topic + ":" + shortHash(name, topic) + "-0000-4000-8000-000000000000")
	}
	enrichers["aws:cloudwatch/metricAlarm:MetricAlarm"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["arn"] = resource.NewProperty(m.arn("cloudwatch", "alarm:"+out["name"].StringValue()))
	}
	enrichers["aws:cloudwatch/dashboard:Dashboard"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		delete(out, "name") // a dashboard has dashboardName and dashboardArn only
		delete(out, "arn")
		dn := ""
		if v, ok := in["dashboardName"]; ok && v.IsString() {
			dn = v.StringValue()
		}
		out["dashboardArn"] = resource.NewProperty(m.arn("cloudwatch", "dashboard/"+dn))
	}
	enrichers["aws:rds/eventSubscription:EventSubscription"] = func(m *mocks, name, id string, in, out resource.PropertyMap) {
		out["arn"] = resource.NewProperty(m.arn("rds", "es:"+out["name"].StringValue()))
	}
}
