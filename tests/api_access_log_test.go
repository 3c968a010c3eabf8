package tests

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/books-platform/books/tests/harness"
)

// accessLogVariables reads AWS's documented REST API access-log variables
// (tests/testdata, with its source) as patterns: a {placeholder} segment
// matches any non-empty name.
func accessLogVariables(t *testing.T) []*regexp.Regexp {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, "tests", "testdata", "apigateway-rest-access-log-variables.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	placeholder := regexp.MustCompile(`\\\{[A-Za-z_]+\\\}`)
	var out []*regexp.Regexp
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		re := placeholder.ReplaceAllString(regexp.QuoteMeta(line), `[A-Za-z0-9_:-]+`)
		out = append(out, regexp.MustCompile("^"+re+"$"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("only %d documented variables read", len(out))
	}
	return out
}

// contextVariable finds $context references in an access-log format.
var contextVariable = regexp.MustCompile(`\$context(\.[A-Za-z0-9_:-]+)+`)

// undocumentedVariables returns the $context variables of format that AWS
// does not document for access logs (API Gateway logs them as "-" or
// rejects the stage update).
func undocumentedVariables(format string, documented []*regexp.Regexp) []string {
	var bad []string
	for _, v := range contextVariable.FindAllString(format, -1) {
		ok := false
		for _, re := range documented {
			if re.MatchString(v) {
				ok = true
				break
			}
		}
		if !ok {
			bad = append(bad, v)
		}
	}
	return bad
}

// TestAccessLogVariablesAreDocumented checks every stage of every stack.
func TestAccessLogVariablesAreDocumented(t *testing.T) {
	documented := accessLogVariables(t)
	// The check itself: the variable the review found, a near miss of a
	// real one, and real ones (placeholders included).
	if bad := undocumentedVariables(`{"a":"$context.integration.responseCacheStatus","b":"$context.integration.latencyMs","c":"$context.authorizer.claims.sub","d":"$context.waf.status"}`, documented); len(bad) != 2 {
		t.Fatalf("checker flagged %v, want the two undocumented variables", bad)
	}
	for _, stack := range stacks(t) {
		t.Run(stack, func(t *testing.T) {
			g := stackGraph(t, stack)
			stages := g.ByType(typStage)
			if len(stages) == 0 {
				t.Fatal("no stage")
			}
			for _, s := range stages {
				format := propString(s, "accessLogSettings", "format")
				if len(contextVariable.FindAllString(format, -1)) == 0 {
					t.Errorf("stage %s: access-log format has no $context variables: %q", s.Name, format)
				}
				for _, v := range undocumentedVariables(format, documented) {
					t.Errorf("stage %s: %s is not a documented REST API access-log variable", s.Name, v)
				}
			}
		})
	}
}
