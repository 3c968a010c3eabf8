package infra

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// ContainerDefinition is the subset of an ECS container definition the
// service sets. Fields are typed so the JSON is built, never written.
type ContainerDefinition struct {
	Name                   string              `json:"name"`
	Image                  string              `json:"image"`
	Essential              bool                `json:"essential"`
	User                   string              `json:"user"`
	ReadonlyRootFilesystem bool                `json:"readonlyRootFilesystem"`
	PortMappings           []PortMapping       `json:"portMappings"`
	Environment            []KeyValuePair      `json:"environment"`
	Secrets                []ContainerSecret   `json:"secrets"`
	LogConfiguration       LogConfiguration    `json:"logConfiguration"`
	HealthCheck            ContainerHealth     `json:"healthCheck"`
	StopTimeout            int                 `json:"stopTimeout"`
	LinuxParameters        ContainerLinuxParam `json:"linuxParameters"`
}

// PortMapping is a container port (awsvpc: host port = container port).
type PortMapping struct {
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
	Name          string `json:"name,omitempty"`
}

// KeyValuePair is a plain environment variable.
type KeyValuePair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ContainerSecret is an environment variable ECS fills from Secrets
// Manager (ValueFrom is a secret ARN, optionally ARN:json-key::).
type ContainerSecret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// LogConfiguration is the container's log driver.
type LogConfiguration struct {
	LogDriver string            `json:"logDriver"`
	Options   map[string]string `json:"options"`
}

// ContainerHealth is the container health check.
type ContainerHealth struct {
	Command     []string `json:"command"`
	Interval    int      `json:"interval"`
	Timeout     int      `json:"timeout"`
	Retries     int      `json:"retries"`
	StartPeriod int      `json:"startPeriod"`
}

// ContainerLinuxParam drops every Linux capability: the app needs none.
type ContainerLinuxParam struct {
	Capabilities struct {
		Drop []string `json:"drop"`
	} `json:"capabilities"`
}

// ContainerInputs are the resolved values the container definition needs.
type ContainerInputs struct {
	// Image is the image by digest (repository@sha256:…).
	Image, LogGroup, Region                     string
	DbHost, DbPort, DbName, DbUser, DbSecretArn string
	BasicAuthSecretArn, RedisUrlSecretArn       string
	Port                                        int
	LogLevel                                    string
	// Extra is further plain environment (the app's metric settings).
	Extra []KeyValuePair
}

// ContainerDefinitions renders the task's container definitions (the app's
// contract: app/README.md, "What the infrastructure must provide").
// Environment holds only non-secret values; DB_SECRET_ARN is a reference,
// the app reads the rotating password itself with the task role.
func ContainerDefinitions(in ContainerInputs) (string, error) {
	c := ContainerDefinition{
		Name:                   ContainerName,
		Image:                  in.Image,
		Essential:              true,
		User:                   ContainerUser,
		ReadonlyRootFilesystem: true,
		PortMappings:           []PortMapping{{ContainerPort: in.Port, Protocol: "tcp", Name: "http"}},
		Environment: []KeyValuePair{
			{"AWS_REGION", in.Region},
			{"PORT", strconv.Itoa(in.Port)},
			{"LOG_LEVEL", in.LogLevel},
			{"PGHOST", in.DbHost},
			{"PGPORT", in.DbPort},
			{"PGDATABASE", in.DbName},
			{"PGUSER", in.DbUser},
			// Aurora has rds.force_ssl=1.
			{"PGSSLMODE", "require"},
			{"DB_SECRET_ARN", in.DbSecretArn},
			{"SHUTDOWN_GRACE", strconv.Itoa(ShutdownGraceSeconds) + "s"},
			{"SHUTDOWN_TIMEOUT", strconv.Itoa(ShutdownTimeoutSeconds) + "s"},
		},
		Secrets: []ContainerSecret{
			{"BASIC_AUTH_PASSWORD", in.BasicAuthSecretArn},
			{"REDIS_URL", in.RedisUrlSecretArn},
		},
		LogConfiguration: LogConfiguration{
			LogDriver: "awslogs",
			Options: map[string]string{
				"awslogs-group":         in.LogGroup,
				"awslogs-region":        in.Region,
				"awslogs-stream-prefix": ContainerName,
				// A slow CloudWatch never blocks the app's stdout.
				"mode":            "non-blocking",
				"max-buffer-size": "25m",
			},
		},
		HealthCheck: ContainerHealth{
			Command:     []string{"CMD", "/books", "healthcheck"},
			Interval:    30,
			Timeout:     5,
			Retries:     3,
			StartPeriod: 60,
		},
		StopTimeout: StopTimeoutSeconds,
	}
	c.Environment = append(c.Environment, in.Extra...)
	c.LinuxParameters.Capabilities.Drop = []string{"ALL"}
	b, err := json.Marshal([]ContainerDefinition{c})
	if err != nil {
		return "", fmt.Errorf("marshal container definitions: %w", err)
	}
	return string(b), nil
}

// ExecutionRolePolicy is what ECS itself needs to start the task: pull the
// image from repoArn, write to logGroupArn, and read secretArns (the
// container's `secrets:`) decrypting with keyArns.
func ExecutionRolePolicy(repoArn, logGroupArn string, secretArns, keyArns []string) PolicyDocument {
	return NewPolicyDocument(
		// GetAuthorizationToken has no resource-level permissions.
		Allow("EcrToken", []string{"ecr:GetAuthorizationToken"}, "*"),
		Allow("EcrPull", []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"}, repoArn),
		Allow("Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logGroupArn+":log-stream:*"),
		Allow("Secrets", []string{"secretsmanager:GetSecretValue"}, secretArns...),
		Allow("Decrypt", []string{"kms:Decrypt"}, keyArns...),
	)
}

// TaskRolePolicy is what the app calls at run time: the RDS-managed master
// secret (DB_SECRET_ARN) and its key.
func TaskRolePolicy(dbSecretArn, dbKeyArn string) PolicyDocument {
	return NewPolicyDocument(
		Allow("DbSecret", []string{"secretsmanager:GetSecretValue"}, dbSecretArn),
		Allow("DbSecretKey", []string{"kms:Decrypt"}, dbKeyArn),
	)
}

// serviceKeyPolicy is the service key's policy: the account administers it
// through IAM (AWS's default statement), and CloudWatch Logs in this region
// may use it for this account's log groups only.
func serviceKeyPolicy(env Environment) (string, error) {
	root := PolicyStatement{
		Sid:       "AccountAdministersThroughIam",
		Effect:    "Allow",
		Principal: map[string]any{"AWS": fmt.Sprintf("arn:%s:iam::%s:root", env.Partition, env.Account)},
		Action:    []string{"kms:*"},
		Resource:  []string{"*"},
	}
	logs := PolicyStatement{
		Sid:       "CloudWatchLogsEncryptsLogGroups",
		Effect:    "Allow",
		Principal: map[string]any{"Service": fmt.Sprintf("logs.%s.amazonaws.com", env.Region)},
		Action: []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
			"kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"},
		Resource: []string{"*"},
		Condition: map[string]map[string]any{"ArnLike": {
			"kms:EncryptionContext:aws:logs:arn": env.Arn("logs", env.Region, env.Account, "log-group:*"),
		}},
	}
	return NewPolicyDocument(root, logs).JSON()
}

// LifecyclePolicy is an ECR lifecycle policy document.
type LifecyclePolicy struct {
	Rules []LifecycleRule `json:"rules"`
}

// LifecycleRule is one rule of a LifecyclePolicy.
type LifecycleRule struct {
	RulePriority int                `json:"rulePriority"`
	Description  string             `json:"description"`
	Selection    LifecycleSelection `json:"selection"`
	Action       struct {
		Type string `json:"type"`
	} `json:"action"`
}

// LifecycleSelection picks the images a LifecycleRule expires.
type LifecycleSelection struct {
	TagStatus     string   `json:"tagStatus"`
	TagPrefixList []string `json:"tagPrefixList,omitempty"`
	CountType     string   `json:"countType"`
	CountUnit     string   `json:"countUnit,omitempty"`
	CountNumber   int      `json:"countNumber"`
}

// ImageLifecyclePolicy expires untagged images after a day and keeps the
// newest keep images built by the program (tags "src-…").
func ImageLifecyclePolicy(keep int) LifecyclePolicy {
	untagged := LifecycleRule{RulePriority: 1, Description: "expire untagged images after 1 day",
		Selection: LifecycleSelection{TagStatus: "untagged", CountType: "sinceImagePushed", CountUnit: "days", CountNumber: 1}}
	untagged.Action.Type = "expire"
	old := LifecycleRule{RulePriority: 2, Description: fmt.Sprintf("keep the newest %d images", keep),
		Selection: LifecycleSelection{TagStatus: "tagged", TagPrefixList: []string{"src-"}, CountType: "imageCountMoreThan", CountNumber: keep}}
	old.Action.Type = "expire"
	return LifecyclePolicy{Rules: []LifecycleRule{untagged, old}}
}
