// Package metrics aggregates the service's business, cache, database-pool
// and latency metrics in process and writes them as CloudWatch Embedded
// Metric Format (EMF) documents on the log stream: one flush per interval
// (and one at shutdown), never a line per request, no CloudWatch API calls.
//
// The metric names, units, dimensions and environment variables are data
// (metrics.json, embedded here); the infrastructure reads the same file for
// the task environment, the dashboard and the alarms.
package metrics

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
)

//go:embed metrics.json
var catalogJSON []byte

// Metric names, as in metrics.json (a test keeps the two equal).
const (
	BooksCreated           = "BooksCreated"
	BooksUpdated           = "BooksUpdated"
	BooksDeleted           = "BooksDeleted"
	WriteConflicts         = "WriteConflicts"
	CacheHits              = "CacheHits"
	CacheMisses            = "CacheMisses"
	CacheErrors            = "CacheErrors"
	DbPoolAcquires         = "DbPoolAcquires"
	DbPoolWaits            = "DbPoolWaits"
	DbPoolWaitTime         = "DbPoolWaitTime"
	DbPoolAcquireTime      = "DbPoolAcquireTime"
	DbPoolCanceledAcquires = "DbPoolCanceledAcquires"
	RequestLatency         = "RequestLatency"
)

// Dimension names beyond the configured ones (Stack, Service).
const (
	DimRoute       = "Route"
	DimStatusClass = "StatusClass"
	// OtherRoute stands for every route pattern the catalogue does not list
	// (unknown paths, 405s), so a client cannot create metrics at will.
	OtherRoute = "other"
)

// Catalog is metrics.json.
type Catalog struct {
	Comment       string       `json:"comment"`
	Namespace     Setting      `json:"namespace"`
	Interval      Setting      `json:"interval"`
	Dimensions    []Dimension  `json:"dimensions"`
	Metrics       []Definition `json:"metrics"`
	Routes        []string     `json:"routes"`
	ProbeRoutes   []string     `json:"probeRoutes"`
	StatusClasses []string     `json:"statusClasses"`
}

// Setting is a value the environment may override.
type Setting struct {
	Env     string `json:"env"`
	Default string `json:"default"`
}

// Dimension is a configured dimension: its value comes from Env.
type Dimension struct {
	Name    string `json:"name"`
	Env     string `json:"env"`
	Default string `json:"default"`
}

// Definition is one metric.
type Definition struct {
	Name string `json:"name"`
	Unit string `json:"unit"`
	// Kind is "counter" (a sum per interval) or "distribution" (a
	// Values/Counts histogram per interval).
	Kind        string     `json:"kind"`
	Dimensions  [][]string `json:"dimensions"`
	Description string     `json:"description"`
}

// LoadCatalog decodes the embedded metrics.json (unknown fields are errors).
func LoadCatalog() (*Catalog, error) {
	var c Catalog
	dec := json.NewDecoder(bytes.NewReader(catalogJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("metrics.json: %w", err)
	}
	return &c, nil
}

// Metric returns the named definition.
func (c *Catalog) Metric(name string) (Definition, bool) {
	i := slices.IndexFunc(c.Metrics, func(d Definition) bool { return d.Name == name })
	if i < 0 {
		return Definition{}, false
	}
	return c.Metrics[i], true
}

// DimensionNames are the configured dimensions' names, in order.
func (c *Catalog) DimensionNames() []string {
	out := make([]string, len(c.Dimensions))
	for i, d := range c.Dimensions {
		out[i] = d.Name
	}
	return out
}

// catalog is decoded once; a broken embedded file is a build defect that
// every test of this package reports.
var catalog = func() *Catalog {
	c, err := LoadCatalog()
	if err != nil {
		panic(err)
	}
	return c
}()
