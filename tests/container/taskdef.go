package container

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TaskContainer is the part of an ECS container definition that the
// rehearsal turns into a Docker container, as the ECS agent does
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html).
type TaskContainer struct {
	Name                   string        `json:"name"`
	User                   string        `json:"user"`
	ReadonlyRootFilesystem bool          `json:"readonlyRootFilesystem"`
	Privileged             bool          `json:"privileged"`
	Environment            []NameValue   `json:"environment"`
	Secrets                []Secret      `json:"secrets"`
	PortMappings           []PortMapping `json:"portMappings"`
	HealthCheck            *HealthCheck  `json:"healthCheck"`
	StopTimeout            *int          `json:"stopTimeout"`
	EntryPoint             []string      `json:"entryPoint"`
	Command                []string      `json:"command"`
	WorkingDirectory       string        `json:"workingDirectory"`
	Cpu                    int           `json:"cpu"`
	Memory                 int           `json:"memory"`
	LinuxParameters        *LinuxParams  `json:"linuxParameters"`
}

// NameValue is an environment entry.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Secret is a `secrets:` entry: ECS reads ValueFrom (a Secrets Manager or
// SSM ARN) and sets environment variable Name to its value.
type Secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// PortMapping is a container port (awsvpc: host port = container port).
type PortMapping struct {
	ContainerPort int    `json:"containerPort"`
	HostPort      int    `json:"hostPort"`
	Protocol      string `json:"protocol"`
}

// HealthCheck is the container health check; Command is Docker's form
// (["CMD", exe, args…] or ["CMD-SHELL", "…"]).
type HealthCheck struct {
	Command     []string `json:"command"`
	Interval    int      `json:"interval"`
	Timeout     int      `json:"timeout"`
	Retries     int      `json:"retries"`
	StartPeriod int      `json:"startPeriod"`
}

// LinuxParams are the linuxParameters the rehearsal maps.
type LinuxParams struct {
	Capabilities *struct {
		Add  []string `json:"add"`
		Drop []string `json:"drop"`
	} `json:"capabilities"`
	InitProcessEnabled bool `json:"initProcessEnabled"`
}

// mapped are the container definition keys the rehearsal applies;
// notRehearsed are those it cannot, and why. Any other key fails
// ParseTaskContainer, so a new setting is never silently dropped.
var (
	mapped = map[string]bool{
		"name": true, "user": true, "readonlyRootFilesystem": true, "privileged": true,
		"environment": true, "secrets": true, "portMappings": true, "healthCheck": true,
		"stopTimeout": true, "entryPoint": true, "command": true, "workingDirectory": true,
		"cpu": true, "memory": true, "linuxParameters": true,
	}
	mappedLinux  = map[string]bool{"capabilities": true, "initProcessEnabled": true}
	notRehearsed = map[string]string{
		"image":            "replaced by the image built here from app/ (the task definition names ECR by digest)",
		"essential":        "the task's only container",
		"logConfiguration": "awslogs ships stdout to CloudWatch; here the engine keeps the logs",
	}
)

// ParseTaskContainer reads the one container of a task definition's
// containerDefinitions JSON. Defaults are ECS's: health-check interval 30 s,
// timeout 5 s, 3 retries; stopTimeout 30 s on Fargate.
func ParseTaskContainer(containerDefinitions string) (*TaskContainer, error) {
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(containerDefinitions), &raw); err != nil {
		return nil, fmt.Errorf("containerDefinitions is not a JSON array of objects: %w", err)
	}
	if len(raw) != 1 {
		return nil, fmt.Errorf("containerDefinitions has %d containers; the rehearsal runs a task of one", len(raw))
	}
	var unknown []string
	for k := range raw[0] {
		if !mapped[k] && notRehearsed[k] == "" {
			unknown = append(unknown, k)
		}
	}
	if lp, ok := raw[0]["linuxParameters"]; ok {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(lp, &m); err != nil {
			return nil, fmt.Errorf("linuxParameters: %w", err)
		}
		for k := range m {
			if !mappedLinux[k] {
				unknown = append(unknown, "linuxParameters."+k)
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("the container definition sets %s, which the rehearsal does not apply: map it in tests/container/taskdef.go (or list it as not rehearsable there, with the reason)", strings.Join(unknown, ", "))
	}
	var c TaskContainer
	data, _ := json.Marshal(raw[0])
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("container definition: %w", err)
	}
	if hc := c.HealthCheck; hc != nil {
		if len(hc.Command) < 2 || hc.Command[0] != "CMD" && hc.Command[0] != "CMD-SHELL" {
			return nil, fmt.Errorf("healthCheck.command %q must start with CMD or CMD-SHELL and name a command", hc.Command)
		}
		if hc.Interval == 0 {
			hc.Interval = 30
		}
		if hc.Timeout == 0 {
			hc.Timeout = 5
		}
		if hc.Retries == 0 {
			hc.Retries = 3
		}
	}
	return &c, nil
}

// StopTimeoutOrDefault is stopTimeout, or Fargate's 30 s default.
func (c *TaskContainer) StopTimeoutOrDefault() time.Duration {
	if c.StopTimeout != nil {
		return time.Duration(*c.StopTimeout) * time.Second
	}
	return 30 * time.Second
}

// Override replaces the value of a task-definition variable (environment
// or secret) that names an AWS resource with its local counterpart.
type Override struct {
	Name, Value, Why string
}

// EnvEntry is one variable of the container as the rehearsal sets it.
type EnvEntry struct {
	Name, Value string
	// Source is "environment", "secret <valueFrom>", or "rehearsal".
	Source string
	// Secret values are never printed.
	Secret bool
	// Why is set when the rehearsal replaced or added the value.
	Why string
}

// ResolveEnv builds the container's environment from the task definition:
// environment entries as they are, secrets as their values (secretValue
// looks a valueFrom up in the program's graph), overrides applied by name
// and additions appended. An override that matches nothing, an addition
// that the task definition already sets, and a secret without a value are
// errors.
func (c *TaskContainer) ResolveEnv(secretValue func(valueFrom string) (string, bool), overrides []Override, additions []Override) ([]EnvEntry, error) {
	byName := map[string]Override{}
	for _, o := range overrides {
		byName[o.Name] = o
	}
	used := map[string]bool{}
	var out []EnvEntry
	for _, e := range c.Environment {
		entry := EnvEntry{Name: e.Name, Value: e.Value, Source: "environment"}
		if o, ok := byName[e.Name]; ok {
			entry.Value, entry.Why, used[e.Name] = o.Value, o.Why, true
		}
		out = append(out, entry)
	}
	var errs []string
	for _, s := range c.Secrets {
		entry := EnvEntry{Name: s.Name, Source: "secret " + s.ValueFrom, Secret: true}
		if o, ok := byName[s.Name]; ok {
			entry.Value, entry.Why, used[s.Name] = o.Value, o.Why, true
		} else if v, ok := secretValue(s.ValueFrom); ok {
			entry.Value = v
		} else {
			errs = append(errs, fmt.Sprintf("secret %s (valueFrom %s) has no value in the program's graph and no rehearsal override", s.Name, s.ValueFrom))
		}
		out = append(out, entry)
	}
	for _, o := range overrides {
		if !used[o.Name] {
			errs = append(errs, fmt.Sprintf("rehearsal override %s matches no environment variable or secret of the task definition", o.Name))
		}
	}
	for _, a := range additions {
		for _, e := range out {
			if e.Name == a.Name {
				errs = append(errs, fmt.Sprintf("rehearsal addition %s is already set by the task definition", a.Name))
			}
		}
		out = append(out, EnvEntry{Name: a.Name, Value: a.Value, Source: "rehearsal", Why: a.Why, Secret: strings.Contains(a.Name, "SECRET")})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("container environment: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// Value is the value an entry set resolves name to ("" when absent).
func Value(env []EnvEntry, name string) string {
	for _, e := range env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// RunSpec is what the rehearsal adds to the task definition to run it here.
type RunSpec struct {
	Image string
	Env   []EnvEntry
	// HostPorts maps each container port to a port on 127.0.0.1 (awsvpc
	// gives the task its own address; here the bridge network gives the
	// container its own network namespace and the host reaches it through
	// these ports).
	HostPorts map[int]int
	// ExtraHosts are /etc/hosts entries (host.docker.internal:host-gateway).
	ExtraHosts []string
	// TaskCpu and TaskMemory are the task's size (CPU units, MiB).
	TaskCpu, TaskMemory int
	Labels              map[string]string
}

// CreateConfig is the Docker Engine API's container create body for the
// container, the way the ECS agent maps a container definition: user,
// read-only root filesystem, capabilities, privileged, init, environment,
// exec-form health check (seconds → nanoseconds), stop timeout, ports, and
// the task's CPU units (1024 = one CPU) and memory as limits.
func (c *TaskContainer) CreateConfig(r RunSpec) map[string]any {
	env := make([]string, 0, len(r.Env))
	for _, e := range r.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	exposed := map[string]any{}
	bindings := map[string]any{}
	for _, p := range c.PortMappings {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		key := fmt.Sprintf("%d/%s", p.ContainerPort, proto)
		exposed[key] = map[string]any{}
		bindings[key] = []map[string]string{{"HostIp": "127.0.0.1", "HostPort": strconv.Itoa(r.HostPorts[p.ContainerPort])}}
	}
	host := map[string]any{
		"ReadonlyRootfs": c.ReadonlyRootFilesystem,
		"Privileged":     c.Privileged,
		"PortBindings":   bindings,
		"ExtraHosts":     r.ExtraHosts,
		"NetworkMode":    "bridge",
	}
	if lp := c.LinuxParameters; lp != nil {
		if lp.Capabilities != nil {
			host["CapAdd"], host["CapDrop"] = lp.Capabilities.Add, lp.Capabilities.Drop
		}
		host["Init"] = lp.InitProcessEnabled
	}
	cpu, mem := r.TaskCpu, r.TaskMemory
	if c.Cpu > 0 {
		cpu = c.Cpu
	}
	if c.Memory > 0 {
		mem = c.Memory
	}
	if cpu > 0 {
		host["NanoCpus"] = int64(cpu) * 1e9 / 1024
	}
	if mem > 0 {
		host["Memory"] = int64(mem) << 20
	}
	cfg := map[string]any{
		"Image":        r.Image,
		"User":         c.User,
		"Env":          env,
		"ExposedPorts": exposed,
		"StopTimeout":  int(c.StopTimeoutOrDefault().Seconds()),
		"Labels":       r.Labels,
		"HostConfig":   host,
	}
	if len(c.EntryPoint) > 0 {
		cfg["Entrypoint"] = c.EntryPoint
	}
	if len(c.Command) > 0 {
		cfg["Cmd"] = c.Command
	}
	if c.WorkingDirectory != "" {
		cfg["WorkingDir"] = c.WorkingDirectory
	}
	if hc := c.HealthCheck; hc != nil {
		sec := int64(time.Second)
		cfg["Healthcheck"] = map[string]any{
			"Test": hc.Command, "Interval": int64(hc.Interval) * sec, "Timeout": int64(hc.Timeout) * sec,
			"Retries": hc.Retries, "StartPeriod": int64(hc.StartPeriod) * sec,
		}
	}
	return cfg
}
