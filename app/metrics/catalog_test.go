package metrics

import (
	"slices"
	"testing"
)

// TestCatalogIsConsistent: metrics.json names exactly the metrics this
// package emits, with CloudWatch units, and only dimensions it sets.
func TestCatalogIsConsistent(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	emitted := append(counterNames[:], poolNames...)
	emitted = append(emitted, RequestLatency)
	var names []string
	for _, m := range c.Metrics {
		names = append(names, m.Name)
		if !slices.Contains(Units, m.Unit) {
			t.Errorf("%s: unit %q is not a CloudWatch unit", m.Name, m.Unit)
		}
		if m.Description == "" {
			t.Errorf("%s has no description", m.Name)
		}
		wantKind := "counter"
		if m.Name == RequestLatency {
			wantKind = "distribution"
		}
		if m.Kind != wantKind {
			t.Errorf("%s: kind %q, want %q", m.Name, m.Kind, wantKind)
		}
		allowed := append(c.DimensionNames(), DimRoute, DimStatusClass)
		for _, set := range m.Dimensions {
			for _, d := range set {
				if !slices.Contains(allowed, d) {
					t.Errorf("%s: dimension %q is never set (allowed: %v)", m.Name, d, allowed)
				}
			}
			if !slices.Equal(set[:len(c.Dimensions)], c.DimensionNames()) {
				t.Errorf("%s: dimension set %v does not start with the configured dimensions %v", m.Name, set, c.DimensionNames())
			}
		}
		if m.Kind == "counter" && !slices.EqualFunc(m.Dimensions, c.Metrics[0].Dimensions, slices.Equal) {
			t.Errorf("%s: counters share one document, so they need the same dimension sets (%v)", m.Name, c.Metrics[0].Dimensions)
		}
	}
	slices.Sort(names)
	slices.Sort(emitted)
	if !slices.Equal(names, emitted) {
		t.Errorf("metrics.json names %v\nthe recorder emits  %v", names, emitted)
	}
	if !slices.Contains(c.Routes, OtherRoute) {
		t.Errorf("routes lack %q", OtherRoute)
	}
	for _, p := range c.ProbeRoutes {
		if !slices.Contains(c.Routes, p) {
			t.Errorf("probe route %q is not a route", p)
		}
	}
	if !slices.Equal(c.StatusClasses, []string{"2xx", "3xx", "4xx", "5xx"}) {
		t.Errorf("status classes %v", c.StatusClasses)
	}
	envs := map[string]bool{c.Namespace.Env: true, c.Interval.Env: true}
	for _, d := range c.Dimensions {
		if envs[d.Env] || d.Env == "" || d.Default == "" {
			t.Errorf("dimension %s: env %q must be set, unique and have a default", d.Name, d.Env)
		}
		envs[d.Env] = true
	}
}
