package cost

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// Formats of the renderers.
const (
	FormatTable    = "table"
	FormatMarkdown = "markdown"
	FormatJSON     = "json"
)

// Formats lists them, for flags and errors.
var Formats = []string{FormatTable, FormatMarkdown, FormatJSON}

// Banner says what an estimate is, on every output.
const Banner = "COST ESTIMATE from the mocked graph of the real program, a checked-in price table and the stack's usage file: not a bill"

// Render writes e in a format.
func Render(w io.Writer, e *Estimate, format string) error {
	switch format {
	case FormatTable:
		return renderTable(w, e)
	case FormatMarkdown:
		return renderMarkdown(w, e)
	case FormatJSON:
		return writeJSON(w, e)
	}
	return fmt.Errorf("format %q is not one of %s", format, strings.Join(Formats, ", "))
}

func usageSource(e *Estimate) string {
	if e.UsageFile == "" {
		return "defaults (no " + UsageFile(e.Stack) + ")"
	}
	return e.UsageFile + " over the defaults"
}

func money(v float64) string {
	if v != 0 && v < 0.01 && v > -0.01 {
		return fmt.Sprintf("$%.4f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}

func quantity(l Line) string {
	return fmt.Sprintf("%s %s", trimFloat(l.Quantity), l.Unit)
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.4f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

func unitPrice(l Line) string {
	return fmt.Sprintf("$%s/%s", trimFloat6(l.UnitUSD), l.Unit)
}

func trimFloat6(v float64) string {
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", v), "0"), ".")
	if s == "" {
		return "0"
	}
	return s
}

func renderTable(w io.Writer, e *Estimate) error {
	fmt.Fprintf(w, "%s\nstack %s, region %s, usage: %s\n\n", Banner, e.Stack, e.Region, usageSource(e))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tRESOURCE\tWHAT\tQUANTITY / MONTH\tUNIT PRICE\tMONTHLY\tBASIS / ASSUMPTION")
	for _, l := range e.Lines {
		how := l.Basis
		if l.Assumption != "" {
			how += "; usage: " + l.Assumption
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\t%s\t%s\n", l.Component, l.Resource, l.What, quantity(l), unitPrice(l), qualityMark(l), money(l.Monthly), how)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, c := range e.Components {
		fmt.Fprintf(tw, "%s\t%s/month\t\n", c.Component, money(c.Monthly))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "TOTAL %s: %s/month (%s/hour)\n", e.Stack, money(e.Monthly), money(e.Hourly))
	if n, usd := notFound(e); n > 0 {
		fmt.Fprintf(w, "\n* %d lines (%s/month) use a price no stored page gave for %s; cost/prices.yaml says what stands in for each\n", n, money(usd), e.Region)
	}
	fmt.Fprintln(w, "\nnot estimated:")
	for _, n := range e.NotEstimated {
		fmt.Fprintln(w, "  - "+n)
	}
	return nil
}

func renderMarkdown(w io.Writer, e *Estimate) error {
	fmt.Fprintf(w, "#### Cost estimate of `%s` (%s): **%s/month** (%s/hour)\n\n", e.Stack, e.Region, money(e.Monthly), money(e.Hourly))
	fmt.Fprintf(w, "_%s. Usage: %s._\n\n", Banner, usageSource(e))
	fmt.Fprintln(w, "| component | monthly |\n| --- | ---: |")
	for _, c := range e.Components {
		fmt.Fprintf(w, "| %s | %s |\n", c.Component, money(c.Monthly))
	}
	fmt.Fprintf(w, "| **total** | **%s** |\n\n", money(e.Monthly))
	fmt.Fprint(w, "<details><summary>Every line</summary>\n\n")
	fmt.Fprintln(w, "| component | resource | what | quantity / month | unit price | monthly | basis / assumption |\n| --- | --- | --- | ---: | ---: | ---: | --- |")
	for _, l := range e.Lines {
		how := l.Basis
		if l.Assumption != "" {
			how += "; usage: `" + l.Assumption + "`"
		}
		fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s%s | %s | %s |\n", l.Component, l.Resource, l.What, quantity(l), unitPrice(l), qualityMark(l), money(l.Monthly), mdEscape(how))
	}
	if n, usd := notFound(e); n > 0 {
		fmt.Fprintf(w, "\n\\* %d lines (%s/month) use a price no stored page gave for %s; `cost/prices.yaml` says what stands in for each.\n", n, money(usd), e.Region)
	}
	fmt.Fprintln(w, "\nNot estimated: "+strings.Join(e.NotEstimated, "; ")+".\n\n</details>")
	return nil
}

// qualityMark flags a line whose price was not found for its region.
func qualityMark(l Line) string {
	if l.PriceQuality == QualityNotFound {
		return "*"
	}
	return ""
}

func notFound(e *Estimate) (n int, usd float64) {
	for _, l := range e.Lines {
		if l.PriceQuality == QualityNotFound {
			n++
			usd += l.Monthly
		}
	}
	return n, usd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// ReadEstimate reads an estimate written with -format json.
func ReadEstimate(path string) (*Estimate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var e Estimate
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%s is not a cost estimate (write one with `go run ./cmd/cost -format json`): %w", path, err)
	}
	if e.Currency == "" || e.Stack == "" {
		return nil, fmt.Errorf("%s is not a cost estimate (no stack or currency; write one with `go run ./cmd/cost -format json`)", path)
	}
	return &e, nil
}
