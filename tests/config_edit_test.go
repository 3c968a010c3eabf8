package tests

import (
	"encoding/json"
	"testing"

	"github.com/books-platform/books/tests/harness"
)

// runWith runs stack with fields of one structured section (books:api, …)
// set over the stack file's values.
func runWith(t *testing.T, stack, section string, fields map[string]any) (*harness.Graph, error) {
	t.Helper()
	return harness.Run(stack, harness.WithConfig(func(c *harness.StackConfig) {
		key := "books:" + section
		obj := map[string]any{}
		if v := c.Values[key]; v != "" {
			if err := json.Unmarshal([]byte(v), &obj); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
		}
		for k, v := range fields {
			obj[k] = v
		}
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		c.Values[key] = string(b)
	}))
}

func mustRunWith(t *testing.T, stack, section string, fields map[string]any) *harness.Graph {
	t.Helper()
	g, err := runWith(t, stack, section, fields)
	if err != nil {
		t.Fatalf("stack %s with books:%s %v: %v", stack, section, fields, err)
	}
	return g
}
