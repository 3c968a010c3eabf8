package rules

import (
	"fmt"
	"regexp"
	"strings"
)

// ECR and ECS rules.

func init() {
	register(
		Rule{
			Name:         "ecr-scan-on-push",
			Description:  "ECR repositories scan images on push.",
			Control:      "ECR.1",
			Controls:     []string{"ECR.1"},
			Severity:     High,
			Remediation:  "set imageScanningConfiguration.scanOnPush: true",
			DefaultLevel: Mandatory,
			Types:        []string{TypeECRRepository},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, false, "set imageScanningConfiguration: {scanOnPush: true}", "imageScanningConfiguration", "scanOnPush")
			},
		},
		Rule{
			Name:         "ecr-immutable-tags",
			Description:  "ECR repositories have immutable image tags.",
			Control:      "ECR.2",
			Controls:     []string{"ECR.2"},
			Severity:     Medium,
			Remediation:  "set imageTagMutability: \"IMMUTABLE\"",
			DefaultLevel: Mandatory,
			Types:        []string{TypeECRRepository},
			Check: func(r Resource) []Violation {
				return wantString(r, "MUTABLE", []string{"IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"},
					"set imageTagMutability: \"IMMUTABLE\" (tags are content hashes, so they never need to move)", "imageTagMutability")
			},
		},
		Rule{
			Name:         "ecr-kms-encryption",
			Description:  "ECR repositories are encrypted with KMS.",
			Control:      "Checkov CKV_AWS_136 (no direct FSBP control)",
			Controls:     []string{"ECR.5", "CKV_AWS_136"},
			Severity:     Medium,
			Remediation:  "set encryptionConfigurations[0] to {encryptionType: \"KMS\", kmsKey: <customer key ARN>}",
			DefaultLevel: Mandatory,
			Types:        []string{TypeECRRepository},
			Check: func(r Resource) []Violation {
				return wantString(r, "AES256", []string{"KMS", "KMS_DSSE"},
					"set encryptionConfigurations: [{encryptionType: \"KMS\", kmsKey: <customer key ARN>}]", "encryptionConfigurations", 0, "encryptionType")
			},
		},
		Rule{
			Name:         "ecs-cluster-container-insights",
			Description:  "ECS clusters have Container Insights enabled.",
			Control:      "ECS.12",
			Controls:     []string{"ECS.12"},
			Severity:     Medium,
			Remediation:  "set settings [{name: \"containerInsights\", value: \"enabled\"}]",
			DefaultLevel: Mandatory,
			Types:        []string{TypeECSCluster},
			Check:        checkContainerInsights,
		},
		Rule{
			Name:         "ecs-task-not-privileged",
			Description:  "ECS containers do not run privileged.",
			Control:      "ECS.4",
			Controls:     []string{"ECS.4", "ECS.1"},
			Severity:     High,
			Remediation:  "remove privileged: true from the container definition",
			DefaultLevel: Mandatory,
			Types:        []string{TypeECSTaskDefinition},
			Check: containerCheck(func(name string, c map[string]any) []Violation {
				if b, _ := jsonBool(c["privileged"]); b {
					return []Violation{fail("container %q has privileged: true; remove it (Fargate does not support it either)", name)}
				}
				return nil
			}),
		},
		Rule{
			Name:         "ecs-task-readonly-root",
			Description:  "ECS containers have a read-only root filesystem.",
			Control:      "ECS.5",
			Controls:     []string{"ECS.5"},
			Severity:     High,
			Remediation:  "set readonlyRootFilesystem: true in the container definition",
			DefaultLevel: Mandatory,
			Types:        []string{TypeECSTaskDefinition},
			Check: containerCheck(func(name string, c map[string]any) []Violation {
				if b, _ := jsonBool(c["readonlyRootFilesystem"]); !b {
					return []Violation{fail("container %q does not set readonlyRootFilesystem: true; set it and mount a writable volume only where the app needs one (e.g. /tmp)", name)}
				}
				return nil
			}),
		},
		Rule{
			Name:         "ecs-task-non-root-user",
			Description:  "ECS containers run as a non-root user.",
			Control:      "ECS.20",
			Controls:     []string{"ECS.20", "ECS.21", "ECS.1"},
			Severity:     Medium,
			Remediation:  "set user in the container definition to a non-root uid:gid",
			DefaultLevel: Mandatory,
			Types:        []string{TypeECSTaskDefinition},
			Check: containerCheck(func(name string, c map[string]any) []Violation {
				u, ok := c["user"]
				if !ok || u == nil {
					return []Violation{fail("container %q has no user, so it runs as the image's user (root by default); set user to a non-root uid:gid such as \"65532:65532\"", name)}
				}
				s := strings.TrimSpace(fmt.Sprint(u))
				if f, isNum := u.(float64); isNum {
					s = fmt.Sprintf("%g", f)
				}
				first := strings.SplitN(s, ":", 2)[0]
				if s == "" || strings.EqualFold(first, "root") || first == "0" {
					return []Violation{fail("container %q runs as user %q (root); set user to a non-root uid:gid such as \"65532:65532\"", name, s)}
				}
				return nil
			}),
		},
		Rule{
			Name:         "ecs-task-logging",
			Description:  "ECS containers have a log configuration.",
			Control:      "ECS.9",
			Controls:     []string{"ECS.9"},
			Severity:     High,
			Remediation:  "set logConfiguration.logDriver in the container definition",
			DefaultLevel: Mandatory,
			Types:        []string{TypeECSTaskDefinition},
			Check: containerCheck(func(name string, c map[string]any) []Violation {
				lc, _ := c["logConfiguration"].(map[string]any)
				if d, _ := lc["logDriver"].(string); strings.TrimSpace(d) == "" {
					return []Violation{fail("container %q has no logConfiguration; set logConfiguration: {logDriver: \"awslogs\", options: {awslogs-group, awslogs-region, awslogs-stream-prefix}}", name)}
				}
				return nil
			}),
		},
		Rule{
			Name:         "ecs-task-no-env-secrets",
			Description:  "ECS container environment holds no secret-looking names or values (use secrets: from Secrets Manager).",
			Control:      "ECS.8",
			Controls:     []string{"ECS.8"},
			Severity:     High,
			Remediation:  "remove the variable from environment and add it to secrets with valueFrom set to a Secrets Manager ARN",
			DefaultLevel: Mandatory,
			Types:        []string{TypeECSTaskDefinition},
			Check: containerCheck(func(name string, c map[string]any) []Violation {
				var out []Violation
				for _, e := range objList(c["environment"]) {
					en, _ := e["name"].(string)
					ev, _ := e["value"].(string)
					if SecretLookingName(en) {
						out = append(out, fail("container %q passes %q in plain environment; move it to secrets: [{name: %q, valueFrom: <Secrets Manager ARN>}]", name, en, en))
					} else if why := SecretLookingValue(ev); why != "" {
						out = append(out, fail("container %q environment %q holds %s; store the value in Secrets Manager and reference it with secrets: [{name: %q, valueFrom: <ARN>}]", name, en, why, en))
					}
				}
				return out
			}),
		},
		Rule{
			Name:         "ecs-service-no-public-ip",
			Description:  "ECS services do not assign public IPs.",
			Control:      "ECS.2",
			Controls:     []string{"ECS.2"},
			Severity:     High,
			Remediation:  "set networkConfiguration.assignPublicIp: false",
			DefaultLevel: Mandatory,
			Types:        []string{TypeECSService},
			Check: func(r Resource) []Violation {
				return wantBool(r, false, false, "set networkConfiguration.assignPublicIp: false and run tasks in private subnets (egress through NAT or VPC endpoints)", "networkConfiguration", "assignPublicIp")
			},
		},
	)
}

func checkContainerInsights(r Resource) []Violation {
	sv := Get(r.Props, "settings")
	if sv.Unknown {
		return []Violation{cannotTell("settings")}
	}
	items, _ := sv.List()
	for i, it := range items {
		if it.Unknown {
			return []Violation{cannotTell(fmt.Sprintf("settings[%d]", i))}
		}
		m, ok := it.Map()
		if !ok {
			continue
		}
		n := Get(m, "name")
		if n.Unknown {
			return []Violation{cannotTell(fmt.Sprintf("settings[%d].name", i))}
		}
		if s, _ := n.Str(); s != "containerInsights" {
			continue
		}
		v := Get(m, "value")
		if v.Unknown {
			return []Violation{cannotTell("containerInsights setting")}
		}
		if s, _ := v.Str(); strings.EqualFold(s, "enabled") || strings.EqualFold(s, "enhanced") {
			return nil
		}
		return []Violation{fail("containerInsights is %s; set settings: [{name: \"containerInsights\", value: \"enabled\"}] (or \"enhanced\")", describe(v))}
	}
	return []Violation{fail("containerInsights is not set (the account default, usually disabled, applies); add settings: [{name: \"containerInsights\", value: \"enabled\"}]")}
}

// ContainerDefinitions parses a task definition's containerDefinitions JSON.
// unknown is true when the value is computed; err is set for malformed input.
func ContainerDefinitions(r Resource) (defs []map[string]any, unknown bool, err error) {
	doc, unknown, err := JSONDoc(Get(r.Props, "containerDefinitions"))
	if unknown || err != nil {
		return nil, unknown, err
	}
	if doc == nil {
		return nil, false, fmt.Errorf("containerDefinitions is not set")
	}
	list, ok := doc.([]any)
	if !ok {
		return nil, false, fmt.Errorf("containerDefinitions is not a JSON array")
	}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false, fmt.Errorf("containerDefinitions holds a non-object element")
		}
		defs = append(defs, m)
	}
	return defs, false, nil
}

func containerCheck(f func(name string, c map[string]any) []Violation) func(Resource) []Violation {
	return func(r Resource) []Violation {
		defs, unknown, err := ContainerDefinitions(r)
		if unknown {
			return []Violation{cannotTell("containerDefinitions")}
		}
		if err != nil {
			return []Violation{{Note: true, Message: "cannot check: " + err.Error() + "; the provider will reject it too"}}
		}
		var out []Violation
		for i, c := range defs {
			name, _ := c["name"].(string)
			if name == "" {
				name = fmt.Sprintf("#%d", i)
			}
			out = append(out, f(name, c)...)
		}
		return out
	}
}

func jsonBool(x any) (bool, bool) {
	switch t := x.(type) {
	case bool:
		return t, true
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

var (
	secretNameWords = map[string]bool{
		"PASSWORD": true, "PASSWD": true, "PWD": true, "PASS": true, "PASSPHRASE": true,
		"SECRET": true, "SECRETS": true, "TOKEN": true, "TOKENS": true,
		"APIKEY": true, "PRIVATEKEY": true, "ACCESSKEY": true, "SECRETKEY": true,
		"CREDENTIAL": true, "CREDENTIALS": true, "CREDS": true,
	}
	secretNameSubstrings = []string{"PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "PRIVATEKEY", "CREDENTIAL"}
	// Names ending in these words reference a secret rather than hold one.
	referenceSuffixes = map[string]bool{
		"ARN": true, "ID": true, "NAME": true, "FILE": true, "PATH": true, "REF": true,
		"URL": false, "REGION": true, "TTL": true, "HEADER": true, "ENABLED": true,
		"LENGTH": true, "VERSION": true, "ROTATION": true, "EXPIRY": true, "TIMEOUT": true,
	}
	nameSplit = regexp.MustCompile(`[^A-Z0-9]+`)

	urlWithPassword = regexp.MustCompile(`(?i)[a-z][a-z0-9+.\-]*://[^/\s:@]*:[^/\s@]+@`)
	privateKeyPEM   = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)
	awsAccessKeyID  = regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)
)

// SecretLookingName reports whether an environment variable name suggests a
// secret (PASSWORD, SECRET, TOKEN, …KEY, CREDENTIALS, …). Names that only
// reference a secret (…_ARN, …_ID, …_NAME, …_FILE) are allowed.
func SecretLookingName(name string) bool {
	up := strings.ToUpper(name)
	words := nameSplit.Split(strings.Trim(up, "_-. "), -1)
	if len(words) == 0 || (len(words) == 1 && words[0] == "") {
		return false
	}
	last := words[len(words)-1]
	if referenceSuffixes[last] {
		return false
	}
	for _, w := range words {
		if secretNameWords[w] {
			return true
		}
	}
	if last == "KEY" || last == "AUTH" {
		return true
	}
	for _, s := range secretNameSubstrings {
		if strings.Contains(up, s) {
			return true
		}
	}
	return false
}

// SecretLookingValue returns a description of why a value looks like a secret
// ("" when it does not): URLs with a password, PEM private keys, AWS access
// key ids.
func SecretLookingValue(v string) string {
	switch {
	case urlWithPassword.MatchString(v):
		return "a URL with embedded credentials"
	case privateKeyPEM.MatchString(v):
		return "a private key"
	case awsAccessKeyID.MatchString(v):
		return "an AWS access key id"
	}
	return ""
}
