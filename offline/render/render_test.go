package render

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/books-platform/books/policy/rules"
)

// doc builds a preview document of stack with one step per resource.
func doc(t *testing.T, stack string, config map[string]string, resources ...map[string]any) *Preview {
	t.Helper()
	var steps []map[string]any
	for _, r := range resources {
		urn := "urn:pulumi:" + stack + "::books::" + r["type"].(string) + "::" + r["name"].(string)
		steps = append(steps, map[string]any{"op": "create", "urn": urn, "newState": map[string]any{
			"urn": urn, "type": r["type"], "custom": true, "inputs": r["inputs"],
		}})
	}
	raw, err := json.Marshal(map[string]any{"config": config, "steps": steps, "changeSummary": map[string]int{"create": len(steps)}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDiffLooksInsideJSONStringsAndIgnoresStackNames(t *testing.T) {
	td := func(level string) map[string]any {
		return map[string]any{"type": "aws:ecs/taskDefinition:TaskDefinition", "name": "service", "inputs": map[string]any{
			"cpu":                  "256",
			"executionRoleArn":     Unknown,
			"containerDefinitions": `[{"name":"app","environment":[{"name":"LOG_LEVEL","value":"` + level + `"}]}]`,
		}}
	}
	base := doc(t, "dev", map[string]string{"books:service": `{"logLevel":"debug","cpu":256}`, "books:x": Secret}, td("debug"))
	head := doc(t, "pr", map[string]string{"books:service": `{"logLevel":"info","cpu":256}`, "books:x": Secret}, td("info"),
		map[string]any{"type": "aws:sns/topic:Topic", "name": "alarms", "inputs": map[string]any{}})
	d := Diff(base, head)
	want := []string{
		"aws:ecs/taskDefinition:TaskDefinition::service:containerDefinitions[0].environment[0].value",
		"config:books:service.logLevel",
	}
	if got := d.Paths(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("paths = %q, want %q", got, want)
	}
	if len(d.Added) != 1 || d.Added[0] != "aws:sns/topic:Topic::alarms" || len(d.Removed) != 0 {
		t.Errorf("added %v removed %v", d.Added, d.Removed)
	}
	if !strings.Contains(d.String(), `~ books:service.logLevel: "debug" → "info"`) {
		t.Errorf("diff output:\n%s", d)
	}
	if !Diff(head, head).Empty() {
		t.Error("a document differs from itself")
	}
}

func TestCheckTreatsUnknownAsCannotTellAndFindsViolations(t *testing.T) {
	p := doc(t, "dev", nil,
		map[string]any{"type": "aws:kms/key:Key", "name": "ok", "inputs": map[string]any{"enableKeyRotation": true}},
		map[string]any{"type": "aws:kms/key:Key", "name": "bad", "inputs": map[string]any{"enableKeyRotation": false}},
		map[string]any{"type": "aws:kms/key:Key", "name": "unknown", "inputs": map[string]any{"enableKeyRotation": Unknown}},
		map[string]any{"type": "aws:elasticache/replicationGroup:ReplicationGroup", "name": "cache", "inputs": map[string]any{
			"authToken": Secret, "transitEncryptionEnabled": true, "atRestEncryptionEnabled": true, "subnetGroupName": Unknown,
			"kmsKeyId": Unknown, "snapshotRetentionLimit": 7,
		}},
	)
	var out strings.Builder
	mandatory, err := Check(&out, p, rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(mandatory) != 1 || mandatory[0].Rule != "kms-key-rotation" || !strings.HasSuffix(mandatory[0].URN, "::bad") {
		t.Errorf("mandatory = %v\n%s", mandatory, out.String())
	}
}

func TestReadmeDiagramRoundTrip(t *testing.T) {
	p := doc(t, "dev", nil,
		map[string]any{"type": "aws:lb/loadBalancer:LoadBalancer", "name": "nlb", "inputs": map[string]any{"loadBalancerType": "network"}},
		map[string]any{"type": "aws:lb/loadBalancer:LoadBalancer", "name": "alb", "inputs": map[string]any{}},
		map[string]any{"type": "aws:apigateway/restApi:RestApi", "name": "api", "inputs": map[string]any{}},
		map[string]any{"type": "aws:apigateway/vpcLink:VpcLink", "name": "link", "inputs": map[string]any{}},
	)
	m := Mermaid(p)
	for _, want := range []string{"nlb[\"Network Load Balancer\"]", "client -->|HTTPS| apigateway_restApi", "apigateway_vpcLink --> nlb", "nlb -->|TCP 80| alb"} {
		if !strings.Contains(m, want) {
			t.Errorf("diagram lacks %q:\n%s", want, m)
		}
	}
	if strings.Contains(m, "alb -->") {
		t.Errorf("an edge to a missing ECS service was drawn:\n%s", m)
	}
	readme := ReplaceReadmeDiagram([]byte("# R\n\ntext\n"), "dev", m)
	got, err := ReadmeDiagram(readme, "dev")
	if err != nil || got != DiagramBlock(m) {
		t.Errorf("round trip: %v\n%s", err, readme)
	}
	if again := ReplaceReadmeDiagram(readme, "dev", m); string(again) != string(readme) {
		t.Error("replacing the diagram with itself changed the README")
	}
}

func TestParseRejectsOtherJSON(t *testing.T) {
	if _, err := Parse([]byte(`{"foo":1}`)); err == nil {
		t.Error("accepted a document that is not a preview")
	}
}
