// Package emfspec checks a log line against the CloudWatch Embedded Metric
// Format specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
// independently of the encoder in app/metrics: tests decode what the
// service wrote with it.
package emfspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Event is a decoded, valid EMF document.
type Event struct {
	Timestamp  int64
	Directives []Directive
	// Root holds every root member except _aws.
	Root map[string]json.RawMessage
}

// Directive is a MetricDirective.
type Directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []Definition `json:"Metrics"`
}

// Definition is a MetricDefinition.
type Definition struct {
	Name              string `json:"Name"`
	Unit              string `json:"Unit"`
	StorageResolution int    `json:"StorageResolution"`
}

// Histogram is the Values/Counts form of a metric value.
type Histogram struct {
	Values []float64 `json:"Values"`
	Counts []float64 `json:"Counts"`
	Max    float64   `json:"Max"`
	Min    float64   `json:"Min"`
	Count  float64   `json:"Count"`
	Sum    float64   `json:"Sum"`
}

// units are the values the specification's schema allows for Unit.
var units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// IsEMF reports whether a log line carries EMF metadata at all.
func IsEMF(line []byte) bool {
	var probe struct {
		Aws json.RawMessage `json:"_aws"`
	}
	return json.Unmarshal(line, &probe) == nil && probe.Aws != nil
}

// Parse decodes line and checks every MUST of the specification (and the
// limits of its JSON schema). A metric value is a number, an array of at
// most 100 numbers, or a Values/Counts histogram of at most 100 bins.
func Parse(line []byte) (*Event, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if bytes.TrimSpace(line)[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	rawAws, ok := root["_aws"]
	if !ok {
		return nil, errors.New("no _aws member")
	}
	delete(root, "_aws")
	var meta struct {
		Timestamp         *int64      `json:"Timestamp"`
		CloudWatchMetrics []Directive `json:"CloudWatchMetrics"`
		LogGroupName      string      `json:"LogGroupName"`
	}
	dec := json.NewDecoder(bytes.NewReader(rawAws))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		return nil, fmt.Errorf("_aws: %w", err)
	}
	if meta.Timestamp == nil || *meta.Timestamp <= 0 {
		return nil, errors.New("_aws.Timestamp (ms since the epoch) is required")
	}
	if meta.CloudWatchMetrics == nil {
		return nil, errors.New("_aws.CloudWatchMetrics is required")
	}
	var errs []error
	for i, d := range meta.CloudWatchMetrics {
		if d.Namespace == "" || len(d.Namespace) > 255 {
			errs = append(errs, fmt.Errorf("directive %d: Namespace must be 1–255 characters", i))
		}
		if len(d.Dimensions) == 0 {
			errs = append(errs, fmt.Errorf("directive %d: Dimensions needs at least one dimension set", i))
		}
		for _, set := range d.Dimensions {
			if len(set) > 9 {
				errs = append(errs, fmt.Errorf("directive %d: dimension set %v has more than 9 keys", i, set))
			}
			for _, k := range set {
				var s string
				raw, ok := root[k]
				if !ok || json.Unmarshal(raw, &s) != nil || s == "" {
					errs = append(errs, fmt.Errorf("directive %d: dimension %q is not a non-empty string member of the root", i, k))
				}
			}
		}
		if len(d.Metrics) == 0 || len(d.Metrics) > 100 {
			errs = append(errs, fmt.Errorf("directive %d: %d metric definitions (allowed 1–100)", i, len(d.Metrics)))
		}
		for _, m := range d.Metrics {
			if m.Name == "" || len(m.Name) > 255 {
				errs = append(errs, fmt.Errorf("directive %d: metric name %q", i, m.Name))
			}
			if m.Unit != "" && !slices.Contains(units, m.Unit) {
				errs = append(errs, fmt.Errorf("metric %s: unit %q is not a CloudWatch unit", m.Name, m.Unit))
			}
			if m.StorageResolution != 0 && m.StorageResolution != 1 && m.StorageResolution != 60 {
				errs = append(errs, fmt.Errorf("metric %s: StorageResolution %d (allowed 1, 60)", m.Name, m.StorageResolution))
			}
			raw, ok := root[m.Name]
			if !ok {
				errs = append(errs, fmt.Errorf("metric %s has no root member", m.Name))
				continue
			}
			if err := checkValue(raw); err != nil {
				errs = append(errs, fmt.Errorf("metric %s: %w", m.Name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Event{Timestamp: *meta.Timestamp, Directives: meta.CloudWatchMetrics, Root: root}, nil
}

func checkValue(raw json.RawMessage) error {
	var n float64
	if json.Unmarshal(raw, &n) == nil {
		return nil
	}
	var arr []float64
	if json.Unmarshal(raw, &arr) == nil {
		if len(arr) > 100 {
			return fmt.Errorf("%d values (at most 100)", len(arr))
		}
		return nil
	}
	h, err := decodeHistogram(raw)
	if err != nil {
		return fmt.Errorf("neither a number, an array of numbers nor a Values/Counts histogram: %w", err)
	}
	if len(h.Values) == 0 || len(h.Values) > 100 || len(h.Counts) != len(h.Values) {
		return fmt.Errorf("histogram with %d values and %d counts (want 1–100 of each)", len(h.Values), len(h.Counts))
	}
	var count float64
	for i, c := range h.Counts {
		if c <= 0 {
			return fmt.Errorf("count %v at %d", c, i)
		}
		count += c
	}
	if count != h.Count || h.Min > h.Max || h.Sum < h.Min*h.Count-1e-9 || h.Sum > h.Max*h.Count+1e-9 {
		return fmt.Errorf("inconsistent statistics: Count %v (counts add up to %v), Min %v, Max %v, Sum %v", h.Count, count, h.Min, h.Max, h.Sum)
	}
	return nil
}

func decodeHistogram(raw json.RawMessage) (*Histogram, error) {
	var h Histogram
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, err
	}
	return &h, nil
}

// Number returns a numeric metric member.
func (e *Event) Number(name string) (float64, bool) {
	var n float64
	raw, ok := e.Root[name]
	return n, ok && json.Unmarshal(raw, &n) == nil
}

// Histogram returns a histogram metric member.
func (e *Event) Histogram(name string) (*Histogram, bool) {
	raw, ok := e.Root[name]
	if !ok {
		return nil, false
	}
	h, err := decodeHistogram(raw)
	return h, err == nil
}

// String returns a string root member (a dimension value).
func (e *Event) String(name string) string {
	var s string
	_ = json.Unmarshal(e.Root[name], &s)
	return s
}
