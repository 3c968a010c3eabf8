package rules

import (
	"fmt"
	"strings"
)

// ECS and ECR rules beyond containers.go: host namespaces, capabilities, EFS
// transit encryption, platform versions, task sets, capacity providers, ECR
// lifecycle and repository policies.

const (
	TypeECSTaskSet          = "aws:ecs/taskSet:TaskSet"
	TypeECSCapacityProvider = "aws:ecs/capacityProvider:CapacityProvider"
	TypeECRLifecyclePolicy  = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	TypeECRRepositoryPolicy = "aws:ecr/repositoryPolicy:RepositoryPolicy"
)

func init() {
	register(
		Rule{
			Name: "ecs-task-host-namespaces", Description: "ECS task definitions share neither the host's network, process nor IPC namespace.",
			Control: "ECS.17 / ECS.3 / ECS.1", Controls: []string{"ECS.17", "ECS.3", "ECS.1"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "set networkMode: \"awsvpc\" and remove pidMode/ipcMode \"host\"",
			Types:       []string{TypeECSTaskDefinition},
			Check: func(r Resource) []Violation {
				out := wantNotIn(r, "", []string{"host"}, "set networkMode: \"awsvpc\"", "networkMode")
				out = append(out, wantNotIn(r, "", []string{"host"}, "remove pidMode \"host\" (use \"task\" to share within the task)", "pidMode")...)
				return append(out, wantNotIn(r, "", []string{"host"}, "remove ipcMode \"host\"", "ipcMode")...)
			},
		},
		Rule{
			Name: "ecs-task-no-added-capabilities", Description: "ECS containers add no Linux capabilities beyond SYS_PTRACE.",
			Control: "no direct FSBP control (CIS Docker 5.3: restrict Linux kernel capabilities)", Controls: []string{"CIS Docker 5.3"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "remove linuxParameters.capabilities.add (keep drop: [\"ALL\"])",
			Types:       []string{TypeECSTaskDefinition},
			Check: containerCheck(func(name string, c map[string]any) []Violation {
				lp, _ := c["linuxParameters"].(map[string]any)
				caps, _ := lp["capabilities"].(map[string]any)
				var bad []string
				for _, a := range strList(caps["add"]) {
					if !strings.EqualFold(strings.TrimPrefix(strings.ToUpper(a), "CAP_"), "SYS_PTRACE") {
						bad = append(bad, a)
					}
				}
				if len(bad) > 0 {
					return []Violation{fail("container %q adds capabilities %s; remove them from linuxParameters.capabilities.add", name, quoteAll(bad))}
				}
				return nil
			}),
		},
		Rule{
			Name: "ecs-task-efs-transit-encryption", Description: "ECS task definitions mount EFS volumes with transit encryption.",
			Control: "ECS.18 / Checkov CKV_AWS_97", Controls: []string{"ECS.18", "CKV_AWS_97"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set volumes[].efsVolumeConfiguration.transitEncryption: \"ENABLED\"",
			Types:       []string{TypeECSTaskDefinition},
			Check: func(r Resource) []Violation {
				return eachItem(r, "volumes", func(i int, v Resource) []Violation {
					if Get(v.Props, "efsVolumeConfiguration").Missing {
						return nil
					}
					return wantString(v, "DISABLED", []string{"ENABLED"}, fmt.Sprintf("set volumes[%d].efsVolumeConfiguration.transitEncryption: \"ENABLED\"", i), "efsVolumeConfiguration", "transitEncryption")
				})
			},
		},
		Rule{
			Name: "ecs-fargate-latest-platform", Description: "Fargate services and task sets run the LATEST platform version.",
			Control: "ECS.10", Controls: []string{"ECS.10"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "remove platformVersion or set it to \"LATEST\"",
			Types:       []string{TypeECSService, TypeECSTaskSet},
			Check: func(r Resource) []Violation {
				v := Get(r.Props, "platformVersion")
				if v.Unknown {
					return []Violation{cannotTell("platformVersion")}
				}
				s, _ := v.Str()
				if v.Missing || strings.EqualFold(s, "LATEST") || s == "1.4.0" {
					return nil
				}
				return []Violation{fail("platformVersion is %q; remove it or set \"LATEST\" so tasks get the platform's security fixes", s)}
			},
		},
		Rule{
			Name: "ecs-taskset-no-public-ip", Description: "ECS task sets do not assign public IPs.",
			Control: "ECS.16", Controls: []string{"ECS.16"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "set networkConfiguration.assignPublicIp: false",
			Types:       []string{TypeECSTaskSet},
			Check: func(r Resource) []Violation {
				return wantBool(r, false, false, "set networkConfiguration.assignPublicIp: false", "networkConfiguration", "assignPublicIp")
			},
		},
		Rule{
			Name: "ecs-capacity-provider-termination-protection", Description: "EC2 capacity providers have managed termination protection.",
			Control: "ECS.19", Controls: []string{"ECS.19"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set autoScalingGroupProvider.managedTerminationProtection: \"ENABLED\"",
			Types:       []string{TypeECSCapacityProvider},
			Check: func(r Resource) []Violation {
				if Get(r.Props, "autoScalingGroupProvider").Missing {
					return nil
				}
				return wantString(r, "DISABLED", []string{"ENABLED"}, "set autoScalingGroupProvider.managedTerminationProtection: \"ENABLED\" (with instance scale-in protection on the group)", "autoScalingGroupProvider", "managedTerminationProtection")
			},
		},
		Rule{
			Name: "ecr-lifecycle-policy", Description: "Every ECR repository has a lifecycle policy.",
			Control: "ECR.3", Controls: []string{"ECR.3"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "add an aws.ecr.LifecyclePolicy with repository set to the repository's name",
			StackCheck: func(stack []Resource) []Violation {
				return requireCompanion(stack, []string{TypeECRRepository}, TypeECRLifecyclePolicy, "repository", []string{"name"},
					"repository has no lifecycle policy; add an aws.ecr.LifecyclePolicy with repository: <repo>.name that expires untagged and old images")
			},
		},
		Rule{
			Name: "ecr-repository-not-public", Description: "ECR repository policies do not allow any principal without a restricting condition.",
			Control: "Checkov CKV_AWS_32", Controls: []string{"CKV_AWS_32"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "set the repository policy's Principal to the accounts or roles that pull",
			Types:       []string{TypeECRRepositoryPolicy},
			Check:       publicPolicyCheck("name the pulling accounts or roles, or add an aws:PrincipalOrgID condition", "policy"),
		},
	)
}
