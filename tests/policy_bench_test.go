package tests

import (
	"testing"

	"github.com/books-platform/books/policy/rules"
	"github.com/books-platform/books/tests/harness"
)

// BenchmarkPolicyEvaluateStack evaluates every rule over a whole stack's
// graph (the work of one `pulumi preview --policy-pack policy`, minus the
// gRPC transport). Target: well under 100 ms per stack.
//
//	go test ./tests/ -run '^$' -bench PolicyEvaluateStack
func BenchmarkPolicyEvaluateStack(b *testing.B) {
	for _, stack := range []string{"dev", "prod"} {
		b.Run(stack, func(b *testing.B) {
			g, err := harness.Run(stack)
			if err != nil {
				b.Fatal(err)
			}
			rs := g.PolicyResources()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rules.Evaluate(stack, rs, rules.Config{})
			}
		})
	}
}
