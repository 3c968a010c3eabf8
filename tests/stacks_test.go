package tests

import (
	"sort"
	"sync"
	"testing"

	"github.com/books-platform/books/tests/harness"
)

// graphs caches one mocked run per stack file: runs are deterministic, and
// tests only read the graph.
var graphs sync.Map

// stackGraph runs (once) the real program for a stack file and returns its graph.
func stackGraph(t *testing.T, stack string) *harness.Graph {
	t.Helper()
	type result struct {
		g   *harness.Graph
		err error
	}
	v, _ := graphs.LoadOrStore(stack, sync.OnceValue(func() result {
		g, err := harness.Run(stack)
		return result{g, err}
	}))
	r := v.(func() result)()
	if r.err != nil {
		t.Fatalf("stack %s: %v", stack, r.err)
	}
	return r.g
}

// stacks lists the repository's stack files (dev, prod, …).
func stacks(t *testing.T) []string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	s, err := harness.Stacks(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) < 2 {
		t.Fatalf("expected at least the dev and prod stack files, found %v", s)
	}
	return s
}

// forEachStack runs f as a subtest per stack file.
func forEachStack(t *testing.T, f func(t *testing.T, stack string, g *harness.Graph)) {
	for _, stack := range stacks(t) {
		t.Run(stack, func(t *testing.T) { f(t, stack, stackGraph(t, stack)) })
	}
}

func TestEveryStackRuns(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		counts := g.CountByType()
		types := make([]string, 0, len(counts))
		for typ := range counts {
			types = append(types, typ)
		}
		sort.Strings(types)
		total := 0
		for _, typ := range types {
			t.Logf("%4d %s", counts[typ], typ)
			total += counts[typ]
		}
		t.Logf("%4d total", total)
		for _, c := range []string{"Network", "Database", "Cache", "Service", "Api", "Monitoring"} {
			if counts["books:infra:"+c] != 1 {
				t.Errorf("stack %s has %d books:infra:%s components, want 1", stack, counts["books:infra:"+c], c)
			}
		}
	})
}
