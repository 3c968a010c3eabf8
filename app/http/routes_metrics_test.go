package http

import (
	"slices"
	"testing"

	"github.com/books-platform/books/app/metrics"
)

// TestEveryRouteHasItsLatencyMetric: metrics.json lists every pattern of
// the route table (a route it does not list would be graphed as "other").
func TestEveryRouteHasItsLatencyMetric(t *testing.T) {
	c, err := metrics.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, rt := range routes {
		patterns = append(patterns, rt.method+" "+rt.path)
	}
	for _, p := range patterns {
		if !slices.Contains(c.Routes, p) {
			t.Errorf("route %q is missing from app/metrics/metrics.json routes %v", p, c.Routes)
		}
	}
	for _, r := range c.Routes {
		if r != metrics.OtherRoute && !slices.Contains(patterns, r) {
			t.Errorf("metrics.json route %q is not in the route table", r)
		}
	}
}
