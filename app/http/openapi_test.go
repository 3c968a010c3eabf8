package http

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type openAPIDoc struct {
	Paths map[string]map[string]yaml.Node `yaml:"paths"`
}

type openAPIOp struct {
	Security  *[]map[string][]string `yaml:"security"`
	Responses map[string]yaml.Node   `yaml:"responses"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIMatchesRouter fails when openapi.yaml and the routing table
// disagree: the same method+path pairs, every status a route can answer
// documented for it (and nothing else), and security on exactly the routes
// that need Basic auth.
func TestOpenAPIMatchesRouter(t *testing.T) {
	data, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	ops := map[string]openAPIOp{}
	for path, item := range doc.Paths {
		for key, node := range item {
			if !slices.Contains(httpMethods, key) {
				continue // parameters, summary, …
			}
			var op openAPIOp
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			ops[strings.ToUpper(key)+" "+path] = op
		}
	}
	var spec, router []string
	for k := range ops {
		spec = append(spec, k)
	}
	for _, rt := range routes {
		router = append(router, rt.method+" "+rt.path)
	}
	slices.Sort(spec)
	slices.Sort(router)
	if !slices.Equal(spec, router) {
		t.Fatalf("openapi.yaml operations %v\nrouter routes          %v", spec, router)
	}
	for _, rt := range routes {
		key := rt.method + " " + rt.path
		t.Run(key, func(t *testing.T) {
			op := ops[key]
			var documented []int
			for code := range op.Responses {
				n, err := strconv.Atoi(code)
				if err != nil {
					t.Fatalf("response key %q is not a status code", code)
				}
				documented = append(documented, n)
			}
			slices.Sort(documented)
			want := slices.Sorted(slices.Values(rt.statuses))
			if !slices.Equal(documented, want) {
				t.Errorf("documented statuses %v, route answers %v", documented, want)
			}
			public := op.Security != nil && len(*op.Security) == 0
			if rt.auth == public {
				t.Errorf("auth=%v but openapi security override = %v", rt.auth, fmt.Sprint(op.Security))
			}
		})
	}
}
