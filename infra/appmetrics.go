package infra

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// AppMetricsFile is the service's metric catalogue, relative to the app
// directory: the app embeds it and writes only what it lists (CloudWatch
// Embedded Metric Format lines on its log stream); the program reads it for
// the task environment, the dashboard row and the alarms, so the names and
// dimensions have one source.
const AppMetricsFile = "metrics/metrics.json"

// AppMetrics is app/metrics/metrics.json (the app's metrics.Catalog).
type AppMetrics struct {
	Comment       string                `json:"comment"`
	Namespace     AppMetricSetting      `json:"namespace"`
	Interval      AppMetricSetting      `json:"interval"`
	Dimensions    []AppMetricDimension  `json:"dimensions"`
	Metrics       []AppMetricDefinition `json:"metrics"`
	Routes        []string              `json:"routes"`
	ProbeRoutes   []string              `json:"probeRoutes"`
	StatusClasses []string              `json:"statusClasses"`
}

// AppMetricDimension is a configured dimension whose value the task
// environment sets.
type AppMetricDimension struct {
	Name    string `json:"name"`
	Env     string `json:"env"`
	Default string `json:"default"`
}

// AppMetricDefinition is one metric the app writes.
type AppMetricDefinition struct {
	Name        string     `json:"name"`
	Unit        string     `json:"unit"`
	Kind        string     `json:"kind"`
	Dimensions  [][]string `json:"dimensions"`
	Description string     `json:"description"`
}

// AppMetricSetting is a catalogue value the environment may override.
type AppMetricSetting struct {
	Env     string `json:"env"`
	Default string `json:"default"`
}

// Dimension names the program needs from the catalogue: the two configured
// ones and the two the app derives per request.
const (
	AppDimStack       = "Stack"
	AppDimService     = "Service"
	AppDimRoute       = "Route"
	AppDimStatusClass = "StatusClass"
)

// LoadAppMetrics reads and checks the catalogue in appDir.
func LoadAppMetrics(appDir string) (*AppMetrics, error) {
	path := filepath.Join(appDir, AppMetricsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("app metrics catalogue: %w", err)
	}
	var m AppMetrics
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("app metrics catalogue %s: %w", path, err)
	}
	if m.Namespace.Env == "" || m.Namespace.Default == "" {
		return nil, fmt.Errorf("app metrics catalogue %s: namespace needs env and default", path)
	}
	if !slices.Equal(m.DimensionNames(), []string{AppDimStack, AppDimService}) {
		return nil, fmt.Errorf("app metrics catalogue %s: dimensions %v, the program sets %s and %s", path, m.DimensionNames(), AppDimStack, AppDimService)
	}
	for _, name := range AppMetricNames {
		if !m.Has(name) {
			return nil, fmt.Errorf("app metrics catalogue %s: no metric %s (the dashboard and alarms use it)", path, name)
		}
	}
	return &m, nil
}

// AppMetricNames are the catalogue's metrics the dashboard row and the
// alarms use; LoadAppMetrics fails when one is missing, and a test keeps
// this list equal to the catalogue.
var AppMetricNames = []string{
	"BooksCreated", "BooksUpdated", "BooksDeleted", "WriteConflicts",
	"CacheHits", "CacheMisses", "CacheErrors",
	"DbPoolAcquires", "DbPoolWaits", "DbPoolWaitTime", "DbPoolAcquireTime", "DbPoolCanceledAcquires",
	"RequestLatency",
}

// Has reports whether the catalogue lists metric name.
func (m *AppMetrics) Has(name string) bool {
	return slices.ContainsFunc(m.Metrics, func(d AppMetricDefinition) bool { return d.Name == name })
}

// DimensionNames are the configured dimensions, in order.
func (m *AppMetrics) DimensionNames() []string {
	var out []string
	for _, d := range m.Dimensions {
		out = append(out, d.Name)
	}
	return out
}

// BookRoutes are the routes the dashboard graphs per route: every route
// but the health probes and the catch-all.
func (m *AppMetrics) BookRoutes() []string {
	var out []string
	for _, r := range m.Routes {
		if r != "other" && !slices.Contains(m.ProbeRoutes, r) {
			out = append(out, r)
		}
	}
	return out
}

// TaskEnvironment is the container environment that sets the namespace and
// the Stack and Service dimension values, sorted by name.
func (m *AppMetrics) TaskEnvironment(dims AppMetricDimensions) []KeyValuePair {
	out := []KeyValuePair{{m.Namespace.Env, m.Namespace.Default}}
	for _, d := range m.Dimensions {
		v := dims.Stack
		if d.Name == AppDimService {
			v = dims.Service
		}
		out = append(out, KeyValuePair{d.Env, v})
	}
	slices.SortFunc(out, func(a, b KeyValuePair) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// AppMetricDimensions are the values of the configured dimensions in one
// stack: the stack name and the service's name.
type AppMetricDimensions struct {
	Stack, Service string
}
