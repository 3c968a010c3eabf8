package cost

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Change kinds of a diff.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// LineDiff is one line that differs between two estimates.
type LineDiff struct {
	Change    string  `json:"change"`
	Dimension string  `json:"dimension"`
	What      string  `json:"what"`
	Before    float64 `json:"beforeUSD"`
	After     float64 `json:"afterUSD"`
	Delta     float64 `json:"deltaUSD"`
	// BasisBefore and BasisAfter show why (quantities and assumptions).
	BasisBefore string `json:"basisBefore,omitempty"`
	BasisAfter  string `json:"basisAfter,omitempty"`
}

// ResourceDiff is one resource whose cost differs.
type ResourceDiff struct {
	Change    string     `json:"change"`
	Component string     `json:"component"`
	Resource  string     `json:"resource"`
	Type      string     `json:"type"`
	URN       string     `json:"urn"`
	Before    float64    `json:"beforeUSD"`
	After     float64    `json:"afterUSD"`
	Delta     float64    `json:"deltaUSD"`
	Lines     []LineDiff `json:"lines"`
}

// Diff is the change in monthly cost from a base estimate to a head one.
type Diff struct {
	Stack     string         `json:"stack"`
	Before    float64        `json:"beforeUSD"`
	After     float64        `json:"afterUSD"`
	Delta     float64        `json:"deltaUSD"`
	Resources []ResourceDiff `json:"resources"`
	// Notes: region or usage differences that explain changes.
	Notes []string `json:"notes,omitempty"`
}

// Compare diffs two estimates by resource and dimension. A line differs
// when its quantity, unit price or monthly cost does.
func Compare(base, head *Estimate) *Diff {
	d := &Diff{Stack: head.Stack, Before: base.Monthly, After: head.Monthly, Delta: round(head.Monthly-base.Monthly, 2)}
	if base.Stack != head.Stack {
		d.Notes = append(d.Notes, fmt.Sprintf("comparing stack %s with stack %s", base.Stack, head.Stack))
	}
	if base.Region != head.Region {
		d.Notes = append(d.Notes, fmt.Sprintf("region %s → %s: every price may differ", base.Region, head.Region))
	}
	if bu, hu := mustJSON(base.Usage), mustJSON(head.Usage); bu != hu {
		d.Notes = append(d.Notes, "the usage assumptions differ: "+strings.Join(usageChanges(base.Usage, head.Usage), ", "))
	}
	before, after := map[string]Line{}, map[string]Line{}
	for _, l := range base.Lines {
		before[l.Key()] = l
	}
	for _, l := range head.Lines {
		after[l.Key()] = l
	}
	byURN := map[string]*ResourceDiff{}
	resourceOf := func(l Line) *ResourceDiff {
		rd := byURN[l.URN]
		if rd == nil {
			rd = &ResourceDiff{Component: l.Component, Resource: l.Resource, Type: l.Type, URN: l.URN}
			byURN[l.URN] = rd
		}
		return rd
	}
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		b, inBase := before[k]
		a, inHead := after[k]
		var ld LineDiff
		switch {
		case inBase && !inHead:
			ld = LineDiff{Change: Removed, Dimension: b.Dimension, What: b.What, Before: b.Monthly, BasisBefore: explain(b)}
		case !inBase && inHead:
			ld = LineDiff{Change: Added, Dimension: a.Dimension, What: a.What, After: a.Monthly, BasisAfter: explain(a)}
		case a.Quantity != b.Quantity || a.UnitUSD != b.UnitUSD || a.Monthly != b.Monthly:
			ld = LineDiff{Change: Changed, Dimension: a.Dimension, What: a.What, Before: b.Monthly, After: a.Monthly, BasisBefore: explain(b), BasisAfter: explain(a)}
		default:
			continue
		}
		ld.Delta = round(ld.After-ld.Before, 4)
		line := a
		if !inHead {
			line = b
		}
		rd := resourceOf(line)
		rd.Lines = append(rd.Lines, ld)
	}
	// Resource totals come from every line of the resource, changed or not.
	for _, l := range base.Lines {
		if rd := byURN[l.URN]; rd != nil {
			rd.Before += l.Monthly
		}
	}
	for _, l := range head.Lines {
		if rd := byURN[l.URN]; rd != nil {
			rd.After += l.Monthly
		}
	}
	inBase, inHead := urns(base), urns(head)
	for urn, rd := range byURN {
		rd.Before, rd.After = round(rd.Before, 4), round(rd.After, 4)
		rd.Delta = round(rd.After-rd.Before, 4)
		switch {
		case !inBase[urn]:
			rd.Change = Added
		case !inHead[urn]:
			rd.Change = Removed
		default:
			rd.Change = Changed
		}
		d.Resources = append(d.Resources, *rd)
	}
	sort.Slice(d.Resources, func(i, j int) bool {
		a, b := d.Resources[i], d.Resources[j]
		if abs(a.Delta) != abs(b.Delta) {
			return abs(a.Delta) > abs(b.Delta)
		}
		return a.URN < b.URN
	})
	return d
}

func urns(e *Estimate) map[string]bool {
	m := map[string]bool{}
	for _, l := range e.Lines {
		m[l.URN] = true
	}
	return m
}

func explain(l Line) string {
	s := fmt.Sprintf("%s × %s: %s", quantity(l), unitPrice(l), l.Basis)
	if l.Assumption != "" {
		s += "; usage: " + l.Assumption
	}
	return s
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// usageChanges names the usage fields that differ.
func usageChanges(a, b Usage) []string {
	var am, bm map[string]any
	_ = json.Unmarshal([]byte(mustJSON(a)), &am)
	_ = json.Unmarshal([]byte(mustJSON(b)), &bm)
	var out []string
	for _, k := range sortedKeys(am) {
		if mustJSON(am[k]) != mustJSON(bm[k]) {
			out = append(out, fmt.Sprintf("%s %s → %s", k, mustJSON(am[k]), mustJSON(bm[k])))
		}
	}
	return out
}

func signed(v float64) string {
	if v >= 0 {
		return "+" + money(v)
	}
	return "-" + money(-v)
}

func percent(before, delta float64) string {
	if before == 0 {
		return ""
	}
	return fmt.Sprintf(" (%+.1f%%)", 100*delta/before)
}

// RenderDiff writes a diff as a table, Markdown or JSON.
func RenderDiff(w io.Writer, d *Diff, format string) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, d)
	case FormatMarkdown:
		fmt.Fprintf(w, "#### Cost of `%s`: %s → %s per month, **%s**%s\n\n", d.Stack, money(d.Before), money(d.After), signed(d.Delta), percent(d.Before, d.Delta))
		for _, n := range d.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
		if len(d.Resources) == 0 {
			fmt.Fprintln(w, "No resource's cost changed.")
			return nil
		}
		fmt.Fprintln(w, "| change | component | resource | what | before | after | Δ / month |\n| --- | --- | --- | --- | ---: | ---: | ---: |")
		for _, rd := range d.Resources {
			for _, ld := range rd.Lines {
				fmt.Fprintf(w, "| %s | %s | `%s` | %s | %s | %s | %s |\n", ld.Change, rd.Component, rd.Resource, ld.What, money(ld.Before), money(ld.After), signed(ld.Delta))
			}
		}
		fmt.Fprint(w, "\n<details><summary>Why (quantities and assumptions)</summary>\n\n")
		for _, rd := range d.Resources {
			for _, ld := range rd.Lines {
				fmt.Fprintf(w, "- `%s` %s: %s → %s\n", rd.Resource, ld.What, orNone(ld.BasisBefore), orNone(ld.BasisAfter))
			}
		}
		fmt.Fprintln(w, "\n</details>")
		return nil
	case FormatTable:
		fmt.Fprintf(w, "cost of %s: %s → %s per month, %s%s\n", d.Stack, money(d.Before), money(d.After), signed(d.Delta), percent(d.Before, d.Delta))
		for _, n := range d.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
		if len(d.Resources) == 0 {
			fmt.Fprintln(w, "no resource's cost changed")
			return nil
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CHANGE\tCOMPONENT\tRESOURCE\tWHAT\tBEFORE\tAFTER\tΔ/MONTH\tBASIS AFTER")
		for _, rd := range d.Resources {
			for _, ld := range rd.Lines {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ld.Change, rd.Component, rd.Resource, ld.What, money(ld.Before), money(ld.After), signed(ld.Delta), orNone(ld.BasisAfter))
			}
		}
		return tw.Flush()
	}
	return fmt.Errorf("format %q is not one of %s", format, strings.Join(Formats, ", "))
}

func orNone(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
