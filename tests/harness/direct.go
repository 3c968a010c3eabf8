package harness

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// RunProgram runs any program (for example one component with literal
// inputs) under the harness's mocks and returns the registered graph.
func RunProgram(project, stack string, program pulumi.RunFunc) (*Graph, error) {
	g := &Graph{Project: project, Stack: stack}
	m := &mocks{project: project, stack: stack, region: "eu-west-1", graph: g}
	err := pulumi.RunErr(program, pulumi.WithMocks(project, stack, m))
	return g, err
}
