package tests

import (
	"net/url"
	"slices"
	"testing"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/tests/harness"
)

func TestCacheEncryptionAndAuth(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		rg := only(t, g, "aws:elasticache/replicationGroup:ReplicationGroup")
		key := g.Find("aws:kms/key:Key", "cache")
		if key == nil {
			t.Fatal("no cache KMS key")
		}
		if !propBool(rg, "atRestEncryptionEnabled") || propString(rg, "kmsKeyId") != key.Outputs["arn"].StringValue() {
			t.Errorf("cache not encrypted at rest with the customer key")
		}
		if !propBool(rg, "transitEncryptionEnabled") || propString(rg, "transitEncryptionMode") != "required" {
			t.Errorf("cache does not require TLS")
		}
		token := rg.Inputs["authToken"]
		if !token.IsSecret() || token.SecretValue().Element.StringValue() != harness.TestSecrets[infra.KeyCacheAuthToken] {
			t.Errorf("authToken is not the secret stack value (secret=%v)", token.IsSecret())
		}
		if propString(rg, "engine") != stackConfig(t, stack).Cache.Engine {
			t.Errorf("engine %q", propString(rg, "engine"))
		}
	})
}

func TestCacheUsesIsolatedSubnetsAndItsSecurityGroup(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		sng := only(t, g, "aws:elasticache/subnetGroup:SubnetGroup")
		if got, want := propStrings(sng, "subnetIds"), subnetIDs(t, g, "isolated"); !slices.Equal(got, want) {
			t.Errorf("cache subnets = %v, want the isolated ones %v", got, want)
		}
		rg := only(t, g, "aws:elasticache/replicationGroup:ReplicationGroup")
		if propString(rg, "subnetGroupName") != sng.Outputs["name"].StringValue() {
			t.Errorf("replication group does not use its subnet group")
		}
		if got := propStrings(rg, "securityGroupIds"); !slices.Equal(got, []string{sgByTier(t, g)["cache"]}) {
			t.Errorf("cache security groups = %v, want only the cache tier", got)
		}
	})
}

func TestCacheEnvironmentShape(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		cfg := stackConfig(t, stack).Cache
		rg := only(t, g, "aws:elasticache/replicationGroup:ReplicationGroup")
		n, _ := propNumber(rg, "numCacheClusters")
		failover, multiAZ := propBool(rg, "automaticFailoverEnabled"), propBool(rg, "multiAzEnabled")
		if int(n) != cfg.NodeCount || failover != cfg.Failover || multiAZ != cfg.Failover {
			t.Errorf("nodes=%v failover=%v multiAZ=%v; config nodeCount=%d failover=%v", n, failover, multiAZ, cfg.NodeCount, cfg.Failover)
		}
		switch stack {
		case "prod":
			if n < 2 || !failover || !multiAZ || !rg.Protect {
				t.Errorf("prod cache must have ≥ 2 nodes, failover, multi-AZ and protection")
			}
		case "dev":
			if n != 1 || failover || rg.Protect {
				t.Errorf("dev cache should be one unprotected node")
			}
		}
		pg := only(t, g, "aws:elasticache/parameterGroup:ParameterGroup")
		if propString(pg, "family") != cfg.ParameterGroupFamily() {
			t.Errorf("parameter group family %q, want %q", propString(pg, "family"), cfg.ParameterGroupFamily())
		}
		params := prop(pg, "parameters").ArrayValue()
		if len(params) != 1 || params[0].ObjectValue()["value"].StringValue() != "allkeys-lru" {
			t.Errorf("maxmemory-policy is not allkeys-lru: %v", params)
		}
		var logTypes []string
		for _, l := range prop(rg, "logDeliveryConfigurations").ArrayValue() {
			o := l.ObjectValue()
			logTypes = append(logTypes, o["logType"].StringValue())
			if o["destinationType"].StringValue() != "cloudwatch-logs" || o["logFormat"].StringValue() != "json" {
				t.Errorf("log delivery %v", o)
			}
		}
		slices.Sort(logTypes)
		if !slices.Equal(logTypes, []string{"engine-log", "slow-log"}) {
			t.Errorf("log types %v, want engine-log and slow-log", logTypes)
		}
	})
}

// TestCacheURLSecret: the service's REDIS_URL lives only in Secrets Manager,
// encrypted with the cache key, secret in state, and parses back to the
// primary endpoint with the token.
func TestCacheURLSecret(t *testing.T) {
	forEachStack(t, func(t *testing.T, stack string, g *harness.Graph) {
		secret := g.Find("aws:secretsmanager/secret:Secret", "cache-url")
		version := g.Find("aws:secretsmanager/secretVersion:SecretVersion", "cache-url")
		if secret == nil || version == nil {
			t.Fatal("no cache URL secret")
		}
		if propString(secret, "kmsKeyId") != g.Find("aws:kms/key:Key", "cache").Outputs["arn"].StringValue() {
			t.Errorf("URL secret not encrypted with the cache key")
		}
		v := version.Inputs["secretString"]
		if !v.IsSecret() {
			t.Fatalf("secretString is not marked secret in state")
		}
		u, err := url.Parse(v.SecretValue().Element.StringValue())
		if err != nil {
			t.Fatal(err)
		}
		rg := only(t, g, "aws:elasticache/replicationGroup:ReplicationGroup")
		pw, _ := u.User.Password()
		if u.Scheme != "rediss" || u.Hostname() != rg.Outputs["primaryEndpointAddress"].StringValue() || u.Port() != "6379" || pw != harness.TestSecrets[infra.KeyCacheAuthToken] {
			t.Errorf("REDIS_URL = %s", u.Redacted())
		}
	})
}

func TestRedisURLEscapesTheToken(t *testing.T) {
	got := infra.RedisURL("h.example", 6379, "a#b?c%d")
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if pw, _ := u.User.Password(); pw != "a#b?c%d" || u.Host != "h.example:6379" {
		t.Errorf("round trip of %s gave password %q host %q", got, pw, u.Host)
	}
}
