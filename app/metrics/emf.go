package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// The encoder follows the published specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// a root object with "_aws" {Timestamp (ms since the epoch), CloudWatchMetrics:
// [MetricDirective{Namespace, Dimensions: [DimensionSet], Metrics:
// [MetricDefinition{Name, Unit}]}]}, every referenced dimension a root string
// member, every metric a root member holding its value. Limits from the
// specification: at most 100 metric definitions per directive, at most 9
// keys per dimension set, at most 100 values per metric.
//
// A distribution is written in the histogram form AWS's own EMF libraries
// emit ({"Values":[…],"Counts":[…],"Max","Min","Count","Sum"}: value i
// occurred Counts[i] times; awslabs/aws-embedded-metrics-java
// model/HistogramMetric.java, awslabs/metrique
// metrique-writer-format-emf/src/emf.rs), so CloudWatch computes
// percentiles over every request of the interval from one line.
const (
	maxMetricsPerDirective = 100
	maxDimensionsPerSet    = 9
	maxValuesPerMetric     = 100
	maxNameLen             = 255
	maxDimensionValueLen   = 1024
)

// Units are the CloudWatch units the specification's schema allows.
var Units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// Document is one EMF log event with one metric directive.
type Document struct {
	Timestamp     time.Time
	Namespace     string
	DimensionSets [][]string
	// Dimensions holds the value of every dimension a set names.
	Dimensions map[string]string
	Metrics    []Value
}

// Value is one metric of a document: a number, or a histogram.
type Value struct {
	Name, Unit string
	Number     float64
	Histogram  *HistogramValue
}

// HistogramValue is the Values/Counts form of a set of observations.
type HistogramValue struct {
	Values []float64 `json:"Values"`
	Counts []int64   `json:"Counts"`
	Max    float64   `json:"Max"`
	Min    float64   `json:"Min"`
	Count  int64     `json:"Count"`
	Sum    float64   `json:"Sum"`
}

type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string          `json:"Namespace"`
	Dimensions [][]string      `json:"Dimensions"`
	Metrics    []emfDefinition `json:"Metrics"`
}

type emfDefinition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Encode validates d against the specification and renders it as one JSON
// line (no trailing newline).
func Encode(d Document) ([]byte, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	root := map[string]any{}
	for k, v := range d.Dimensions {
		root[k] = v
	}
	dir := emfDirective{Namespace: d.Namespace, Dimensions: d.DimensionSets}
	for _, m := range d.Metrics {
		dir.Metrics = append(dir.Metrics, emfDefinition{Name: m.Name, Unit: m.Unit})
		if m.Histogram != nil {
			root[m.Name] = m.Histogram
		} else {
			root[m.Name] = m.Number
		}
	}
	root["_aws"] = emfMetadata{Timestamp: d.Timestamp.UnixMilli(), CloudWatchMetrics: []emfDirective{dir}}
	return json.Marshal(root)
}

func (d Document) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("emf: "+format, args...)) }
	if err := CheckNamespace(d.Namespace); err != nil {
		errs = append(errs, fmt.Errorf("emf: %w", err))
	}
	if len(d.DimensionSets) == 0 {
		bad("a directive needs at least one dimension set")
	}
	if len(d.Metrics) == 0 || len(d.Metrics) > maxMetricsPerDirective {
		bad("%d metrics (allowed: 1–%d per directive)", len(d.Metrics), maxMetricsPerDirective)
	}
	used := map[string]string{"_aws": "metadata"}
	for _, set := range d.DimensionSets {
		if len(set) > maxDimensionsPerSet {
			bad("dimension set %v has %d keys (at most %d)", set, len(set), maxDimensionsPerSet)
		}
		for _, k := range set {
			v, ok := d.Dimensions[k]
			switch {
			case !ok:
				bad("dimension %q has no value", k)
			default:
				if err := CheckDimensionValue(v); err != nil {
					bad("dimension %s: %v", k, err)
				}
			}
			used[k] = "dimension"
		}
	}
	for _, m := range d.Metrics {
		if m.Name == "" || len(m.Name) > maxNameLen {
			bad("metric name %q must be 1–%d characters", m.Name, maxNameLen)
		}
		if what, ok := used[m.Name]; ok {
			bad("metric %q collides with a %s of the same name", m.Name, what)
		}
		used[m.Name] = "metric"
		if !slices.Contains(Units, m.Unit) {
			bad("metric %s: unit %q is not a CloudWatch unit", m.Name, m.Unit)
		}
		if h := m.Histogram; h != nil {
			if len(h.Values) == 0 || len(h.Values) > maxValuesPerMetric || len(h.Counts) != len(h.Values) {
				bad("metric %s: %d values and %d counts (want 1–%d of each)", m.Name, len(h.Values), len(h.Counts), maxValuesPerMetric)
			}
			for _, f := range append(slices.Clone(h.Values), h.Max, h.Min, h.Sum) {
				if !finite(f) {
					bad("metric %s: non-finite value %v", m.Name, f)
				}
			}
		} else if !finite(m.Number) {
			bad("metric %s: non-finite value %v", m.Name, m.Number)
		}
	}
	return errors.Join(errs...)
}

// namespacePattern is what CloudWatch accepts in a custom namespace
// (API_PutMetricData: ASCII alphanumerics and . - _ / # : and space).
var namespacePattern = regexp.MustCompile(`^[0-9A-Za-z.\-_/#: ]+$`)

// CheckNamespace reports why ns is not a usable custom namespace.
func CheckNamespace(ns string) error {
	switch {
	case ns == "" || len(ns) > maxNameLen:
		return fmt.Errorf("namespace %q must be 1–%d characters", ns, maxNameLen)
	case !namespacePattern.MatchString(ns):
		return fmt.Errorf("namespace %q may hold only letters, digits, space and . - _ / # :", ns)
	case strings.HasPrefix(ns, "AWS/"):
		return fmt.Errorf("namespace %q: AWS/ is reserved for AWS services", ns)
	}
	return nil
}

// CheckDimensionValue reports why v is not a usable dimension value
// (1–1024 characters, not only white space).
func CheckDimensionValue(v string) error {
	if strings.TrimSpace(v) == "" || len(v) > maxDimensionValueLen || !utf8.ValidString(v) {
		return fmt.Errorf("value %q must be 1–%d characters of UTF-8, not only white space", v, maxDimensionValueLen)
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// Histogram accumulates observations in logarithmic bins 10 % wide (the
// bins of AWS's EMF Java library; each is written as the mean of its
// values), so a percentile read from the Values and Counts is within 10 %
// of the true one; Min, Max, Sum and Count are exact. Not safe for
// concurrent use.
type Histogram struct {
	bins map[int]*bin
}

type bin struct {
	count         int64
	sum, min, max float64
}

// binWidth is ln(1.1): bin i holds values in [1.1^i, 1.1^(i+1)).
var binWidth = math.Log(1.1)

// minObservation clamps zero and negative durations (1 µs in milliseconds).
const minObservation = 0.001

// Observe adds one value.
func (h *Histogram) Observe(v float64) {
	if !finite(v) {
		return
	}
	v = max(v, minObservation)
	i := int(math.Floor(math.Log(v) / binWidth))
	if h.bins == nil {
		h.bins = map[int]*bin{}
	}
	b := h.bins[i]
	if b == nil {
		b = &bin{min: v, max: v}
		h.bins[i] = b
	}
	b.count++
	b.sum += v
	b.min, b.max = min(b.min, v), max(b.max, v)
}

// Count is the number of observations.
func (h *Histogram) Count() int64 {
	var n int64
	for _, b := range h.bins {
		n += b.count
	}
	return n
}

// Values renders the histogram as one or more HistogramValues of at most
// 100 bins each (ascending): CloudWatch combines every value published for a
// metric in a period, so splitting loses nothing.
func (h *Histogram) Values() []*HistogramValue {
	idx := make([]int, 0, len(h.bins))
	for i := range h.bins {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var out []*HistogramValue
	for start := 0; start < len(idx); start += maxValuesPerMetric {
		hv := &HistogramValue{Min: math.Inf(1), Max: math.Inf(-1)}
		for _, i := range idx[start:min(start+maxValuesPerMetric, len(idx))] {
			b := h.bins[i]
			hv.Values = append(hv.Values, binValue(b))
			hv.Counts = append(hv.Counts, b.count)
			hv.Count += b.count
			hv.Sum += b.sum
			hv.Min, hv.Max = min(hv.Min, b.min), max(hv.Max, b.max)
		}
		out = append(out, hv)
	}
	return out
}

// binValue is the mean of the bin's observations, to 6 significant digits
// and never outside them: exact for a bin of equal values, within the bin
// (10 % wide) otherwise, so Sum ≈ Σ Values×Counts and Min ≤ Values ≤ Max.
func binValue(b *bin) float64 {
	v := b.sum / float64(b.count)
	p := math.Pow(10, 5-math.Floor(math.Log10(v)))
	return min(max(math.Round(v*p)/p, b.min), b.max)
}
