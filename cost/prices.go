package cost

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The checked-in price table: one entry per billable dimension, a price per
// region, each with the page it was read from and the date it was read.
//
//go:embed prices.yaml
var pricesYAML []byte

// Quality says how a regional price was obtained.
const (
	// QualityAWS: the number was read on an AWS page (pricing page, docs,
	// AWS blog) for this region.
	QualityAWS = "aws-page"
	// QualityThirdParty: the number was read on a third-party page that
	// quotes AWS's price for this region.
	QualityThirdParty = "third-party"
	// QualityNotFound: no stored page gave this region's number; the entry's
	// note says which number stands in for it and why.
	QualityNotFound = "not-found"
)

// Price is one dimension's price in one region.
type Price struct {
	// USD per Dimension.Unit.
	USD float64 `yaml:"usd" json:"usd"`
	// Source is the page the number was read from.
	Source string `yaml:"source" json:"source"`
	// Read is the date (YYYY-MM-DD) the page was read.
	Read string `yaml:"read" json:"read"`
	// Quality is QualityAWS, QualityThirdParty or QualityNotFound.
	Quality string `yaml:"quality" json:"quality"`
	// Note states anything the number does not say: tiers above the first,
	// free tiers not applied, a stand-in value.
	Note string `yaml:"note,omitempty" json:"note,omitempty"`
}

// Dimension is one billable dimension (NAT gateway-hour, ACU-hour, …).
type Dimension struct {
	// What is billed, in a few words.
	What string `yaml:"what"`
	// Unit of the price ("hour", "GB", "1M requests", …).
	Unit string `yaml:"unit"`
	// Regions maps an AWS region to its price.
	Regions map[string]Price `yaml:"regions"`
}

// PriceTable maps a dimension key (e.g. "ec2.natGateway.hour") to its prices.
type PriceTable struct {
	// MaxAgeDays is how old (by Price.Read) an entry may get before the
	// tests fail and ask for the page to be read again.
	MaxAgeDays int                   `yaml:"maxAgeDays"`
	Dimensions map[string]*Dimension `yaml:"dimensions"`
}

// Prices is the checked-in table.
func Prices() (*PriceTable, error) { return ParsePrices(pricesYAML) }

// ParsePrices decodes a price table and checks every entry is complete.
func ParsePrices(b []byte) (*PriceTable, error) {
	var t PriceTable
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("cost/prices.yaml: %w", err)
	}
	var problems []string
	for _, key := range sortedKeys(t.Dimensions) {
		d := t.Dimensions[key]
		if d == nil || d.Unit == "" || d.What == "" {
			problems = append(problems, key+": needs what and unit")
			continue
		}
		for _, region := range sortedKeys(d.Regions) {
			p := d.Regions[region]
			where := key + " " + region
			if p.USD < 0 {
				problems = append(problems, where+": negative price")
			}
			if !strings.HasPrefix(p.Source, "https://") {
				problems = append(problems, where+": source must be an https:// page")
			}
			if _, err := time.Parse(time.DateOnly, p.Read); err != nil {
				problems = append(problems, where+": read must be a date YYYY-MM-DD, got "+fmt.Sprintf("%q", p.Read))
			}
			switch p.Quality {
			case QualityAWS, QualityThirdParty:
			case QualityNotFound:
				if p.Note == "" {
					problems = append(problems, where+": a not-found price needs a note saying what stands in for it")
				}
			default:
				problems = append(problems, fmt.Sprintf("%s: quality %q is not one of %s, %s, %s", where, p.Quality, QualityAWS, QualityThirdParty, QualityNotFound))
			}
		}
	}
	if t.MaxAgeDays <= 0 {
		problems = append(problems, "maxAgeDays must be positive")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("cost/prices.yaml:\n  - %s", strings.Join(problems, "\n  - "))
	}
	return &t, nil
}

// Lookup returns a dimension and its price in a region.
func (t *PriceTable) Lookup(key, region string) (*Dimension, Price, error) {
	d, ok := t.Dimensions[key]
	if !ok {
		return nil, Price{}, fmt.Errorf("no price dimension %q in cost/prices.yaml", key)
	}
	p, ok := d.Regions[region]
	if !ok {
		return nil, Price{}, fmt.Errorf("price dimension %q has no price for region %s in cost/prices.yaml (regions: %s)", key, region, strings.Join(sortedKeys(d.Regions), ", "))
	}
	return d, p, nil
}

// Stale lists the entries read more than MaxAgeDays before now.
func (t *PriceTable) Stale(now time.Time) []string {
	var out []string
	for _, key := range sortedKeys(t.Dimensions) {
		d := t.Dimensions[key]
		for _, region := range sortedKeys(d.Regions) {
			read, err := time.Parse(time.DateOnly, d.Regions[region].Read)
			if err != nil {
				continue // ParsePrices refuses it already
			}
			if age := now.Sub(read); age > time.Duration(t.MaxAgeDays)*24*time.Hour {
				out = append(out, fmt.Sprintf("%s %s read %s (%d days ago, max %d): read %s again", key, region, d.Regions[region].Read, int(age.Hours()/24), t.MaxAgeDays, d.Regions[region].Source))
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
