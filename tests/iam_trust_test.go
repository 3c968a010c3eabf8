package tests

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/books-platform/books/tests/harness"
)

// sourceAccountServices reads the service principals for which AWS
// documents the aws:SourceAccount key in the role's trust policy
// (tests/testdata, each with its page).
func sourceAccountServices(t *testing.T) map[string]string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, "tests", "testdata", "aws-source-account-trust.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		svc, src, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(strings.TrimSpace(src), "https://") {
			t.Fatalf("testdata line %q: want <service principal> <AWS page>", line)
		}
		out[svc] = strings.TrimSpace(src)
	}
	return out
}

type trustStatement struct {
	Principal struct {
		Service any `json:"Service"`
	} `json:"Principal"`
	Condition map[string]map[string]any `json:"Condition"`
}

func (s trustStatement) services() []string {
	switch v := s.Principal.Service.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if str, ok := e.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

func (s trustStatement) sourceAccount() bool {
	for _, kv := range s.Condition {
		for k := range kv {
			if strings.EqualFold(k, "aws:SourceAccount") {
				return true
			}
		}
	}
	return false
}

// TestTrustPoliciesUseSourceAccountOnlyWhereDocumented: a service that does
// not send aws:SourceAccount when it assumes the role (Lambda, API Gateway)
// fails every AssumeRole against a condition on it; a service that does
// send it gets the confused-deputy guard AWS recommends.
func TestTrustPoliciesUseSourceAccountOnlyWhereDocumented(t *testing.T) {
	documented := sourceAccountServices(t)
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		for _, role := range g.ByType("aws:iam/role:Role") {
			var doc struct{ Statement []trustStatement }
			if err := json.Unmarshal([]byte(propString(role, "assumeRolePolicy")), &doc); err != nil {
				t.Fatalf("role %s: %v", role.Name, err)
			}
			for _, st := range doc.Statement {
				for _, svc := range st.services() {
					_, ok := documented[svc]
					switch {
					case st.sourceAccount() && !ok:
						t.Errorf("role %s: %s is trusted with an aws:SourceAccount condition AWS does not document for it", role.Name, svc)
					case !st.sourceAccount() && ok:
						t.Errorf("role %s: %s sends aws:SourceAccount (%s) but the trust policy does not check it", role.Name, svc, documented[svc])
					}
				}
			}
		}
	})
}
