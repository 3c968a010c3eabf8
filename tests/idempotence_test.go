package tests

import (
	"slices"
	"testing"

	"github.com/books-platform/books/tests/harness"
)

// TestIdempotence: two runs of the program with the same config register
// exactly the same resources with the same inputs and dependencies, so a
// second `pulumi up` plans no change (no timestamps, map order or hashes of
// unstable data in any input).
func TestIdempotence(t *testing.T) {
	for _, stack := range stacks(t) {
		t.Run(stack, func(t *testing.T) {
			a, err := harness.Run(stack)
			if err != nil {
				t.Fatal(err)
			}
			b, err := harness.Run(stack)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range harness.Diff(a, b) {
				t.Error(d)
			}
			if len(a.Resources) < 50 {
				t.Fatalf("only %d resources registered", len(a.Resources))
			}
		})
	}
}

func TestIdempotenceCheckFindsChanges(t *testing.T) {
	a, err := harness.Run("dev")
	if err != nil {
		t.Fatal(err)
	}
	b, err := harness.Run("dev", harness.WithConfig(func(c *harness.StackConfig) { c.Values["books:api"] = `{"stageName":"v2"}` }))
	if err != nil {
		t.Fatal(err)
	}
	diffs := harness.Diff(a, b)
	if !slices.ContainsFunc(diffs, func(d string) bool { return len(d) > 0 }) {
		t.Fatal("a changed stage name registered identical inputs")
	}
}
