package rules

import (
	"fmt"
	"sort"
	"strings"
)

// Control is one row of the controls catalogue.
type Control struct {
	ID     string // "EC2.18", "CKV_AWS_382", "CIS 5.4", "BOOKS.LB-INTERNAL"
	Source string // FSBP, CIS, NIST, PCI/CIS, Checkov, AWS Config, Project
	Title  string
	// NotApplicable explains, in one line, why no rule implements the
	// control; empty means a rule must.
	NotApplicable string
}

// ImplementedBy returns the names of the rules that list the control.
func ImplementedBy(id string) []string {
	var out []string
	for _, r := range All() {
		for _, c := range r.Controls {
			if c == id {
				out = append(out, r.Name)
			}
		}
	}
	return out
}

// CatalogueCounts returns how many controls are applicable, implemented and
// not applicable.
func CatalogueCounts() (applicable, implemented, notApplicable int) {
	for _, c := range Catalogue {
		if c.NotApplicable != "" {
			notApplicable++
			continue
		}
		applicable++
		if len(ImplementedBy(c.ID)) > 0 {
			implemented++
		}
	}
	return
}

// CatalogueMarkdown renders policy/CONTROLS.md: the controls with the rules
// that implement them (or why none applies), then every rule with its
// severity, level, parameters and remediation.
func CatalogueMarkdown() string {
	var b strings.Builder
	app, impl, na := CatalogueCounts()
	fmt.Fprintf(&b, "# Controls catalogue\n\n")
	fmt.Fprintf(&b, "Generated from the rule metadata (`policy/rules`) by `go test ./policy -run TestControlsCatalogue -update`; a test fails when this file drifts or an applicable control has no rule.\n\n")
	fmt.Fprintf(&b, "%d controls: %d applicable (%d implemented), %d not applicable. %d rules.\n\n", app+na, app, impl, na, len(All()))
	fmt.Fprintf(&b, "Sources: FSBP = AWS Foundational Security Best Practices (Security Hub control reference); CIS = CIS AWS Foundations Benchmark controls in Security Hub (CIS Docker 5.3: CIS Docker Benchmark); NIST / PCI = controls Security Hub has in those standards only; Checkov = Checkov AWS checks; AWS Config = a managed Config rule without a Security Hub control; Project = this platform's design rules (DESIGN.md).\n\n")
	fmt.Fprintf(&b, "## Controls\n\n| Control | Source | Requires | Implemented by / why not applicable |\n| --- | --- | --- | --- |\n")
	for _, c := range Catalogue {
		how := c.NotApplicable
		if how == "" {
			var names []string
			for _, n := range ImplementedBy(c.ID) {
				names = append(names, "`"+n+"`")
			}
			how = strings.Join(names, ", ")
		} else {
			how = "not applicable: " + how
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.ID, c.Source, esc(c.Title), esc(how))
	}
	fmt.Fprintf(&b, "\n## Rules\n\n| Rule | Severity | Default level | Stacks | Applies to | Controls | Remediation |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range All() {
		stacks := "all"
		if r.ProdOnly {
			stacks = "prod"
		}
		applies := "stack rule"
		if len(r.Types) > 0 {
			ts := append([]string(nil), r.Types...)
			sort.Strings(ts)
			for i := range ts {
				ts[i] = "`" + ts[i] + "`"
			}
			applies = strings.Join(ts, ", ")
		}
		fix := r.Remediation
		for _, p := range r.Params {
			fix += fmt.Sprintf(" — parameter `%s` (%s; default %v, prod %v, prod-only override `%s`)", p.Name, p.Description, p.Default, p.Prod, p.ProdName())
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", r.Name, r.Severity, r.DefaultLevel, stacks, applies, strings.Join(r.Controls, ", "), esc(fix))
	}
	return b.String()
}

func esc(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
