package cost

import (
	"fmt"
	"math"

	"github.com/books-platform/books/tests/harness"
)

// Observability and storage pricers: log groups (ingestion, vended for VPC
// flow logs, and storage), alarms, dashboards, SNS, S3.
func init() {
	pricers["aws:cloudwatch/logGroup:LogGroup"] = priceLogGroup
	pricers["aws:cloudwatch/metricAlarm:MetricAlarm"] = priceAlarm
	pricers["aws:cloudwatch/dashboard:Dashboard"] = priceDashboard
	pricers["aws:sns/topic:Topic"] = priceTopic
	pricers["aws:sns/topicSubscription:TopicSubscription"] = priceSubscription
	pricers["aws:s3/bucketV2:BucketV2"] = priceBucket
	pricers["aws:s3/bucket:Bucket"] = priceBucket
}

// logGroupNeverExpiresMonths is how much a group without retention is
// assumed to hold: a year of ingestion.
const logGroupNeverExpiresMonths = 12

// priceLogGroup: ingestion at the vended-logs rate when a VPC flow log
// delivers to the group, the standard rate otherwise; storage is the
// steady state under the retention (ingestion × retention months,
// uncompressed — AWS bills compressed bytes, so this is an upper bound).
func priceLogGroup(c *pricing, r *harness.Resource) ([]charge, error) {
	gb, key := c.usage.logGB(r.Name)
	assumption := fmt.Sprintf("%s=%g", key, gb)
	ingest, basis := "cloudwatch.logs.ingest.gb", "standard logs"
	arn := str(r.Outputs, "arn")
	for _, fl := range c.g.ByType("aws:ec2/flowLog:FlowLog") {
		if dest := str(fl.Inputs, "logDestination"); dest != "" && dest == arn {
			ingest, basis = "cloudwatch.logs.vended.gb", "VPC flow logs (vended logs)"
		}
	}
	months := float64(logGroupNeverExpiresMonths)
	retention := "never expires: a year kept"
	if days, ok := num(r.Inputs, "retentionInDays"); ok && days > 0 {
		months = days / 30
		retention = fmt.Sprintf("%g days retention", days)
	}
	return []charge{
		{dim: ingest, qty: gb, basis: basis, assumption: assumption},
		{dim: "cloudwatch.logs.storage.gbMonth", qty: gb * months, basis: fmt.Sprintf("%s ≈ %.2f months of ingestion (uncompressed, an upper bound)", retention, months), assumption: assumption},
	}, nil
}

// priceAlarm: alarms are billed per metric they evaluate, by resolution
// (a period under 60 s is high resolution); an anomaly-detection alarm
// counts three (CloudWatch pricing page).
func priceAlarm(c *pricing, r *harness.Resource) ([]charge, error) {
	metrics := 1.0
	period := numOr(r.Inputs, "period", 60)
	if queries := array(r.Inputs, "metricQueries"); len(queries) > 0 {
		metrics = 0
		for _, q := range queries {
			if !q.IsObject() {
				continue
			}
			if m := prop(q.ObjectValue(), "metric"); m.IsObject() {
				metrics++
				period = math.Min(period, numOr(q.ObjectValue(), "metric.period", 60))
			}
		}
		if str(r.Inputs, "thresholdMetricId") != "" {
			metrics *= 3 // anomaly detection: the metric and the band's two bounds
		}
	}
	dim := "cloudwatch.alarm.standard.month"
	res := "standard resolution"
	if period < 60 {
		dim, res = "cloudwatch.alarm.highResolution.month", "high resolution"
	}
	return []charge{{dim: dim, qty: metrics, basis: fmt.Sprintf("%s (%s, period %gs)", plural(metrics, "alarm metric", "alarm metrics"), res, period)}}, nil
}

func priceDashboard(c *pricing, r *harness.Resource) ([]charge, error) {
	return []charge{{dim: "cloudwatch.dashboard.month", qty: 1, basis: "1 custom dashboard"}}, nil
}

func priceTopic(c *pricing, r *harness.Resource) ([]charge, error) {
	n := c.usage.AlarmNotificationsPerMonth
	return []charge{{dim: "sns.publish.1m", qty: n / 1e6, basis: "alarm and OK notifications published", assumption: fmt.Sprintf("alarmNotificationsPerMonth=%g", n)}}, nil
}

func priceSubscription(c *pricing, r *harness.Resource) ([]charge, error) {
	n := c.usage.AlarmNotificationsPerMonth
	switch proto := str(r.Inputs, "protocol"); proto {
	case "email", "email-json":
		return []charge{{dim: "sns.email.100k", qty: n / 1e5, basis: "e-mail deliveries to this subscriber", assumption: fmt.Sprintf("alarmNotificationsPerMonth=%g", n)}}, nil
	case "sqs", "lambda", "firehose":
		return nil, nil // deliveries to AWS services are not charged by SNS
	default:
		return nil, fmt.Errorf("subscription protocol %q is not priced (email, sqs, lambda, firehose are)", proto)
	}
}

func priceBucket(c *pricing, r *harness.Resource) ([]charge, error) {
	u := c.usage
	return []charge{
		{dim: "s3.standard.gbMonth", qty: u.S3StorageGB, basis: "S3 Standard storage", assumption: fmt.Sprintf("s3StorageGB=%g", u.S3StorageGB)},
		{dim: "s3.put.1k", qty: u.S3PutsPerMonth / 1000, basis: "PUT requests", assumption: fmt.Sprintf("s3PutsPerMonth=%g", u.S3PutsPerMonth)},
	}, nil
}
