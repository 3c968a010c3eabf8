package container

import (
	"reflect"
	"strings"
	"testing"
)

// TestDevTaskIsRehearsable keeps the rehearsal in step with the program
// without a Docker engine: the dev task definition parses (no setting the
// rehearsal would drop), every secret has a value and every override
// matches, and the Docker create body carries the task's settings.
func TestDevTaskIsRehearsable(t *testing.T) {
	tu := devTask(t, "dev")
	c := tu.container
	overrides, additions := LocalOverrides(Local{Host: "host.docker.internal", PgPort: 15432, RedisPort: 16379, PgDatabase: "books_rehearsal", SecretsManagerURL: "http://host.docker.internal:1"})
	env, err := c.ResolveEnv(tu.secretOf, overrides, additions)
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.CreateConfig(RunSpec{Image: "img", Env: env, HostPorts: map[int]int{8080: 18080}, TaskCpu: tu.cpu, TaskMemory: tu.mem})
	host := cfg["HostConfig"].(map[string]any)
	for _, check := range []struct {
		what      string
		got, want any
	}{
		{"User", cfg["User"], c.User},
		{"ReadonlyRootfs", host["ReadonlyRootfs"], c.ReadonlyRootFilesystem},
		{"Privileged", host["Privileged"], false},
		{"StopTimeout", cfg["StopTimeout"], int(c.StopTimeoutOrDefault().Seconds())},
		{"Healthcheck.Test", cfg["Healthcheck"].(map[string]any)["Test"], c.HealthCheck.Command},
		{"NanoCpus", host["NanoCpus"], int64(tu.cpu) * 1e9 / 1024},
		{"Memory", host["Memory"], int64(tu.mem) << 20},
	} {
		if !reflect.DeepEqual(check.got, check.want) {
			t.Errorf("%s = %v, want %v", check.what, check.got, check.want)
		}
	}
	if c.User == "" || !c.ReadonlyRootFilesystem || c.LinuxParameters == nil || c.LinuxParameters.Capabilities == nil {
		t.Fatalf("the dev task runs as %q, read-only %v, linuxParameters %+v: the rehearsal needs a user, a read-only root and capabilities to apply", c.User, c.ReadonlyRootFilesystem, c.LinuxParameters)
	}
	if got := host["CapDrop"]; !reflect.DeepEqual(got, c.LinuxParameters.Capabilities.Drop) {
		t.Errorf("CapDrop = %v, want %v", got, c.LinuxParameters.Capabilities.Drop)
	}
	for _, e := range env {
		if e.Source == "environment" && e.Why == "" && strings.Contains(e.Value, "amazonaws.com") {
			t.Errorf("%s=%s names an AWS endpoint the container cannot reach here; add an override in LocalOverrides", e.Name, e.Value)
		}
	}
}

func TestParseTaskContainerRefusesUnmappedSettings(t *testing.T) {
	for name, def := range map[string]string{
		"TopLevel":        `[{"name":"a","ulimits":[{"name":"nofile","softLimit":1,"hardLimit":1}]}]`,
		"LinuxParameters": `[{"name":"a","linuxParameters":{"tmpfs":[{"containerPath":"/tmp","size":64}]}}]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseTaskContainer(def)
			if err == nil || !strings.Contains(err.Error(), "does not apply") {
				t.Fatalf("err = %v, want a refusal naming the setting", err)
			}
		})
	}
	if _, err := ParseTaskContainer(`[{"name":"a"},{"name":"b"}]`); err == nil {
		t.Error("two containers accepted")
	}
}

func TestResolveEnv(t *testing.T) {
	c, err := ParseTaskContainer(`[{"name":"a","environment":[{"name":"PGHOST","value":"db.amazonaws.com"},{"name":"KEEP","value":"k"}],"secrets":[{"name":"S","valueFrom":"arn:s"}]}]`)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(arn string) (string, bool) { return "v-" + arn, arn == "arn:s" }
	env, err := c.ResolveEnv(lookup, []Override{{"PGHOST", "local", "why"}}, []Override{{"ADDED", "x", "why"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"PGHOST": "local", "KEEP": "k", "S": "v-arn:s", "ADDED": "x"} {
		if got := Value(env, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for name, args := range map[string][2][]Override{
		"OverrideMatchesNothing": {{{"NOPE", "x", ""}}, nil},
		"AdditionAlreadySet":     {nil, {{"KEEP", "x", ""}}},
	} {
		if _, err := c.ResolveEnv(lookup, args[0], args[1]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := c.ResolveEnv(func(string) (string, bool) { return "", false }, nil, nil); err == nil || !strings.Contains(err.Error(), "secret S") {
		t.Errorf("a secret without a value: err = %v", err)
	}
}

func TestParseBasesOfTheRealDockerfile(t *testing.T) {
	b, err := ParseBases("../../app/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.Build, "golang:") || !b.BuildOnBuildPlatform || !strings.HasPrefix(b.Final, "gcr.io/distroless/static-") {
		t.Errorf("bases = %+v", b)
	}
	if _, err := DebianSuite(b.Final); err != nil {
		t.Error(err)
	}
}
