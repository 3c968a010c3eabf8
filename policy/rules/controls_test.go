package rules

import (
	"strings"
	"testing"
)

func TestEveryApplicableControlHasARule(t *testing.T) {
	ids := map[string]bool{}
	for _, c := range Catalogue {
		if ids[c.ID] {
			t.Errorf("catalogue lists %s twice", c.ID)
		}
		ids[c.ID] = true
		impl := ImplementedBy(c.ID)
		switch {
		case c.NotApplicable == "" && len(impl) == 0:
			t.Errorf("control %s (%s) is applicable but no rule implements it: add a rule (Rule.Controls) or a one-line reason", c.ID, c.Title)
		case c.NotApplicable != "" && len(impl) > 0:
			t.Errorf("control %s is marked not applicable (%q) but %v implement it", c.ID, c.NotApplicable, impl)
		}
	}
	for _, r := range All() {
		if len(r.Controls) == 0 {
			t.Errorf("rule %s names no control", r.Name)
		}
		for _, c := range r.Controls {
			if !ids[c] {
				t.Errorf("rule %s names control %s, which is not in the catalogue", r.Name, c)
			}
		}
		if r.Severity == "" || r.Remediation == "" {
			t.Errorf("rule %s lacks severity or remediation", r.Name)
		}
		if !strings.ContainsAny(r.Remediation, ":.") && !strings.Contains(r.Remediation, "set ") && !strings.Contains(r.Remediation, "add ") && !strings.Contains(r.Remediation, "remove ") {
			t.Errorf("rule %s: remediation %q does not name a property to change", r.Name, r.Remediation)
		}
	}
}
