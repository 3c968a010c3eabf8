package container

import (
	"strconv"
	"testing"

	"github.com/books-platform/books/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// taskUnderTest is the dev stack's task definition as the program
// generates it (mocked run of infra.Deploy).
type taskUnderTest struct {
	graph      *harness.Graph
	container  *TaskContainer
	cpu, mem   int
	family     string
	secretOf   func(valueFrom string) (string, bool)
	definition string
}

func plain(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

func str(m resource.PropertyMap, key string) string {
	v := plain(m[resource.PropertyKey(key)])
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

// devTask runs the program for stack and reads its only task definition.
func devTask(t *testing.T, stack string) *taskUnderTest {
	t.Helper()
	g, err := harness.Run(stack)
	if err != nil {
		t.Fatalf("mocked run of %s: %v", stack, err)
	}
	tds := g.ByType("aws:ecs/taskDefinition:TaskDefinition")
	if len(tds) != 1 {
		t.Fatalf("%s has %d task definitions; the rehearsal runs exactly one", stack, len(tds))
	}
	td := tds[0]
	tu := &taskUnderTest{graph: g, family: str(td.Inputs, "family"), definition: str(td.Inputs, "containerDefinitions")}
	if tu.container, err = ParseTaskContainer(tu.definition); err != nil {
		t.Fatal(err)
	}
	if tu.cpu, err = strconv.Atoi(str(td.Inputs, "cpu")); err != nil {
		t.Fatalf("task cpu %q: %v", str(td.Inputs, "cpu"), err)
	}
	if tu.mem, err = strconv.Atoi(str(td.Inputs, "memory")); err != nil {
		t.Fatalf("task memory %q: %v", str(td.Inputs, "memory"), err)
	}
	tu.secretOf = func(valueFrom string) (string, bool) { return secretValue(g, valueFrom) }
	return tu
}

// secretValue is the value the program stores in the Secrets Manager
// secret with ARN arn: the secretString of the SecretVersion whose
// secretId is that secret.
func secretValue(g *harness.Graph, arn string) (string, bool) {
	for _, s := range g.ByType("aws:secretsmanager/secret:Secret") {
		if str(s.Outputs, "arn") != arn {
			continue
		}
		for _, v := range g.ByType("aws:secretsmanager/secretVersion:SecretVersion") {
			if id := str(v.Inputs, "secretId"); id == s.ID || id == arn {
				return str(v.Inputs, "secretString"), true
			}
		}
	}
	return "", false
}
