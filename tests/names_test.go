package tests

import (
	"testing"

	"github.com/books-platform/books/tests/harness"
)

// TestStatefulResourceURNsArePinned: renaming or re-parenting a stateful
// resource makes Pulumi replace it (a new, empty database). These URNs must
// only change together with a pulumi.Aliases entry.
func TestStatefulResourceURNsArePinned(t *testing.T) {
	pinned := []string{
		"books:infra:Database$aws:rds/cluster:Cluster::database",
		"books:infra:Database$aws:rds/clusterInstance:ClusterInstance::database-1",
		"books:infra:Database$aws:kms/key:Key::database",
		"books:infra:Cache$aws:elasticache/replicationGroup:ReplicationGroup::cache",
		"books:infra:Cache$aws:kms/key:Key::cache",
		"books:infra:Cache$aws:secretsmanager/secret:Secret::cache-url",
		"books:infra:Network$awsx:ec2:Vpc::network",
		// Users, images and the keys that encrypt logs, images and alarms.
		"books:infra:Api$aws:cognito/userPool:UserPool::api-users",
		"books:infra:Service$aws:ecr/repository:Repository::service",
		"books:infra:Service$aws:kms/key:Key::service",
		"books:infra:Monitoring$aws:kms/key:Key::monitoring",
	}
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		for _, suffix := range pinned {
			urn := "urn:pulumi:" + stack + "::books::" + suffix
			if g.ByURN(urn) == nil {
				t.Errorf("stateful resource moved or renamed: %s no longer exists (add pulumi.Aliases)", urn)
			}
		}
	})
}
