// Package cost estimates what a stack costs per month from the mocked graph
// of the real program (tests/harness: every value known), a checked-in price
// table (prices.yaml) and a per-stack usage file (usage/<stack>.yaml), and
// compares two estimates for pull requests.
package cost

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/books-platform/books/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Line is one billed dimension of one resource.
type Line struct {
	Component string `json:"component"`
	Resource  string `json:"resource"`
	Type      string `json:"type"`
	URN       string `json:"urn"`
	// Dimension is the price table key; What and Unit are its description.
	Dimension string  `json:"dimension"`
	What      string  `json:"what"`
	Unit      string  `json:"unit"`
	Quantity  float64 `json:"quantity"`
	UnitUSD   float64 `json:"unitUSD"`
	Monthly   float64 `json:"monthlyUSD"`
	Hourly    float64 `json:"hourlyUSD"`
	// Basis says how the quantity follows from the graph.
	Basis string `json:"basis"`
	// Assumption names the usage values the quantity depends on ("" when it
	// depends on the graph alone).
	Assumption string `json:"assumption,omitempty"`
	// PriceQuality is the price's Quality (aws-page, third-party, not-found).
	PriceQuality string `json:"priceQuality"`
}

// Key identifies a line across two estimates: the resource and the dimension.
func (l Line) Key() string { return l.URN + "#" + l.Dimension }

// ComponentTotal is the monthly cost of one component.
type ComponentTotal struct {
	Component string  `json:"component"`
	Monthly   float64 `json:"monthlyUSD"`
}

// Estimate is a stack's monthly cost.
type Estimate struct {
	Stack         string  `json:"stack"`
	Region        string  `json:"region"`
	Currency      string  `json:"currency"`
	HoursPerMonth float64 `json:"hoursPerMonth"`
	Monthly       float64 `json:"monthlyUSD"`
	Hourly        float64 `json:"hourlyUSD"`
	// UsageFile is the usage file read ("" when the defaults were used).
	UsageFile  string           `json:"usageFile"`
	Usage      Usage            `json:"usage"`
	Components []ComponentTotal `json:"components"`
	Lines      []Line           `json:"lines"`
	// NotEstimated lists charges the estimate leaves out, and why.
	NotEstimated []string `json:"notEstimated"`
}

// NotEstimated are charges no line covers.
var NotEstimated = []string{
	"cross-AZ data transfer between tiers ($0.01/GB each way): depends on placement, not on the graph",
	"account-wide free tiers (12-month and always-free allowances) are not subtracted, except Cognito's 10,000 MAU (always free)",
	"taxes, support plans, savings plans and reserved capacity",
}

// charge is what a pricer returns: a dimension and its monthly quantity.
type charge struct {
	dim        string
	qty        float64
	basis      string
	assumption string
}

// pricer turns one resource into charges. A pricer that returns no charges
// says the resource costs nothing in this configuration (for example a
// gateway endpoint).
type pricer func(c *pricing, r *harness.Resource) ([]charge, error)

// pricers maps a resource type token to its pricer (price_*.go fill it).
var pricers = map[string]pricer{}

// pricing is one estimate under way.
type pricing struct {
	g      *harness.Graph
	usage  Usage
	region string
}

// Compute prices every resource of g in region with usage and table.
// A resource type that is neither priced (pricers) nor known to be free
// (freeTypes) is an error, as is a dimension without a price in region.
func Compute(g *harness.Graph, region string, usage Usage, table *PriceTable) (*Estimate, error) {
	if err := usage.validate(); err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	c := &pricing{g: g, usage: usage, region: region}
	e := &Estimate{Stack: g.Stack, Region: region, Currency: "USD", HoursPerMonth: HoursPerMonth, Usage: usage, NotEstimated: NotEstimated}
	var problems []string
	if missing := Unclassified(g); len(missing) > 0 {
		for _, typ := range missing {
			problems = append(problems, fmt.Sprintf("resource type %s has no price: add a pricer in cost/ (and its dimensions to cost/prices.yaml), or list it in freeTypes (cost/free.go) with the reason it costs nothing", typ))
		}
	}
	for _, r := range g.Resources {
		p, ok := pricers[r.Type]
		if !ok {
			continue
		}
		charges, err := p(c, r)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %s: %v", r.Type, r.Name, err))
			continue
		}
		for _, ch := range charges {
			d, price, err := table.Lookup(ch.dim, region)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: %v", r.Type, r.Name, err))
				continue
			}
			monthly := ch.qty * price.USD
			e.Lines = append(e.Lines, Line{
				Component: componentOf(g, r), Resource: r.Name, Type: r.Type, URN: r.URN,
				Dimension: ch.dim, What: d.What, Unit: d.Unit,
				Quantity: round(ch.qty, 6), UnitUSD: price.USD,
				Monthly: round(monthly, 4), Hourly: round(monthly/HoursPerMonth, 6),
				Basis: ch.basis, Assumption: ch.assumption, PriceQuality: price.Quality,
			})
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("cannot price stack %s in %s:\n  - %s", g.Stack, region, strings.Join(problems, "\n  - "))
	}
	e.total()
	return e, nil
}

// total fills the component totals and the stack total, and orders the
// lines by component, then by cost.
func (e *Estimate) total() {
	byComponent := map[string]float64{}
	e.Monthly = 0
	for _, l := range e.Lines {
		byComponent[l.Component] += l.Monthly
		e.Monthly += l.Monthly
	}
	e.Monthly = round(e.Monthly, 2)
	e.Hourly = round(e.Monthly/HoursPerMonth, 4)
	e.Components = nil
	for _, comp := range sortedKeys(byComponent) {
		e.Components = append(e.Components, ComponentTotal{Component: comp, Monthly: round(byComponent[comp], 2)})
	}
	sort.SliceStable(e.Components, func(i, j int) bool { return e.Components[i].Monthly > e.Components[j].Monthly })
	rank := map[string]int{}
	for i, ct := range e.Components {
		rank[ct.Component] = i
	}
	sort.SliceStable(e.Lines, func(i, j int) bool {
		a, b := e.Lines[i], e.Lines[j]
		if rank[a.Component] != rank[b.Component] {
			return rank[a.Component] < rank[b.Component]
		}
		if a.Monthly != b.Monthly {
			return a.Monthly > b.Monthly
		}
		return a.Key() < b.Key()
	})
}

// Top returns the n most expensive lines.
func (e *Estimate) Top(n int) []Line {
	lines := append([]Line(nil), e.Lines...)
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Monthly > lines[j].Monthly })
	if len(lines) > n {
		lines = lines[:n]
	}
	return lines
}

// Unclassified lists the custom resource types of g that are neither priced
// nor known to be free.
func Unclassified(g *harness.Graph) []string {
	var out []string
	for typ := range g.CountByType() {
		if _, ok := pricers[typ]; ok {
			continue
		}
		if _, ok := freeTypes[typ]; ok {
			continue
		}
		if isComponentType(g, typ) {
			continue
		}
		out = append(out, typ)
	}
	sort.Strings(out)
	return out
}

// isComponentType: component resources (books:infra:X, pulumi:pulumi:Stack)
// are groupings, billed through their children. awsx's Vpc is registered as
// a component too, but under mocks its children are invisible, so it is
// priced itself.
func isComponentType(g *harness.Graph, typ string) bool {
	for _, r := range g.Resources {
		if r.Type == typ {
			return !r.Custom && typ != awsxVpc
		}
	}
	return false
}

// componentOf is the name of the nearest books:infra:* ancestor's type
// ("Network", "Database", …), or "stack".
func componentOf(g *harness.Graph, r *harness.Resource) string {
	for p := g.ByURN(r.Parent); p != nil; p = g.ByURN(p.Parent) {
		if name, ok := strings.CutPrefix(p.Type, "books:infra:"); ok {
			return name
		}
	}
	return "stack"
}

func round(v float64, digits int) float64 {
	f := math.Pow(10, float64(digits))
	return math.Round(v*f) / f
}

// --- reading resource properties --------------------------------------------

// prop follows a dotted path ("serverlessv2ScalingConfiguration.minCapacity")
// through objects, unwrapping secrets and outputs; a missing step gives a
// null value.
func prop(m resource.PropertyMap, path string) resource.PropertyValue {
	v := resource.NewObjectProperty(m)
	for _, step := range strings.Split(path, ".") {
		v = unwrap(v)
		if !v.IsObject() {
			return resource.NewNullProperty()
		}
		v = v.ObjectValue()[resource.PropertyKey(step)]
	}
	return unwrap(v)
}

func unwrap(v resource.PropertyValue) resource.PropertyValue {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsOutput():
			v = v.OutputValue().Element
		default:
			return v
		}
	}
}

func str(m resource.PropertyMap, path string) string {
	if v := prop(m, path); v.IsString() {
		return v.StringValue()
	}
	return ""
}

// num reads a number (or a numeric string); ok is false when absent.
func num(m resource.PropertyMap, path string) (float64, bool) {
	v := prop(m, path)
	switch {
	case v.IsNumber():
		return v.NumberValue(), true
	case v.IsString():
		var f float64
		if _, err := fmt.Sscan(v.StringValue(), &f); err == nil {
			return f, true
		}
	}
	return 0, false
}

// numOr is num with a default for an absent value.
func numOr(m resource.PropertyMap, path string, def float64) float64 {
	if v, ok := num(m, path); ok {
		return v
	}
	return def
}

func boolean(m resource.PropertyMap, path string) bool {
	v := prop(m, path)
	return v.IsBool() && v.BoolValue()
}

func array(m resource.PropertyMap, path string) []resource.PropertyValue {
	if v := prop(m, path); v.IsArray() {
		return v.ArrayValue()
	}
	return nil
}

// findBy returns the first resource of typ whose output key equals value
// (the id when key is "id").
func (c *pricing) findBy(typ, key, value string) *harness.Resource {
	if value == "" {
		return nil
	}
	for _, r := range c.g.Resources {
		if r.Type != typ {
			continue
		}
		if key == "id" && r.ID == value || key != "id" && str(r.Outputs, key) == value {
			return r
		}
	}
	return nil
}

// hours is a whole month of something that runs all the time.
func hours(n float64, what string) charge {
	return charge{qty: n * HoursPerMonth, basis: fmt.Sprintf("%s × %g h", what, HoursPerMonth)}
}

func (ch charge) as(dim string) charge { ch.dim = dim; return ch }

func plural(n float64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%g %s", n, many)
}
