package rules

import "strings"

// ElastiCache rules.

func init() {
	register(
		Rule{
			Name:         "cache-at-rest-encryption",
			Description:  "ElastiCache replication groups are encrypted at rest.",
			Control:      "ElastiCache.4",
			Controls:     []string{"ElastiCache.4"},
			Severity:     Medium,
			Remediation:  "set atRestEncryptionEnabled: true",
			DefaultLevel: Mandatory,
			Types:        []string{TypeReplicationGroup},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, false, "set atRestEncryptionEnabled: true (and kmsKeyId to a customer-managed key)", "atRestEncryptionEnabled")
			},
		},
		Rule{
			Name:         "cache-in-transit-encryption",
			Description:  "ElastiCache replication groups use TLS in transit.",
			Control:      "ElastiCache.5",
			Controls:     []string{"ElastiCache.5"},
			Severity:     Medium,
			Remediation:  "set transitEncryptionEnabled: true (transitEncryptionMode \"required\")",
			DefaultLevel: Mandatory,
			Types:        []string{TypeReplicationGroup},
			Check: func(r Resource) []Violation {
				out := wantBool(r, true, false, "set transitEncryptionEnabled: true and connect with rediss://", "transitEncryptionEnabled")
				if v := Get(r.Props, "transitEncryptionMode"); v.Known() {
					if s, ok := v.Str(); ok && strings.EqualFold(s, "preferred") {
						out = append(out, fail("transitEncryptionMode is \"preferred\", which still accepts plaintext clients; set it to \"required\" (or omit it)"))
					}
				}
				return out
			},
		},
		Rule{
			Name:         "cache-auth",
			Description:  "ElastiCache replication groups require authentication (AUTH token or RBAC user groups).",
			Control:      "ElastiCache.6",
			Controls:     []string{"ElastiCache.6"},
			Severity:     High,
			Remediation:  "set authToken (from a stack secret) or userGroupIds",
			DefaultLevel: Mandatory,
			Types:        []string{TypeReplicationGroup},
			Check: func(r Resource) []Violation {
				tok := Get(r.Props, "authToken")
				if tok.Unknown || tok.NonEmpty() {
					return nil
				}
				ug := Get(r.Props, "userGroupIds")
				if ug.Unknown {
					return nil
				}
				if items, ok := ug.List(); ok {
					for _, it := range items {
						if it.Unknown || it.NonEmpty() {
							return nil
						}
					}
				}
				return []Violation{fail("neither authToken nor userGroupIds is set; set authToken from a stack secret (pulumi config set --secret) or attach an RBAC user group")}
			},
		},
		Rule{
			Name:         "cache-subnet-group",
			Description:  "ElastiCache replication groups use a dedicated (non-default) subnet group.",
			Control:      "ElastiCache.7",
			Controls:     []string{"ElastiCache.7"},
			Severity:     High,
			Remediation:  "set subnetGroupName to your own aws.elasticache.SubnetGroup",
			DefaultLevel: Mandatory,
			Types:        []string{TypeReplicationGroup},
			Check: func(r Resource) []Violation {
				v := Get(r.Props, "subnetGroupName")
				if v.Unknown {
					return nil
				}
				if s, ok := v.Str(); ok && strings.TrimSpace(s) != "" && !strings.EqualFold(s, "default") {
					return nil
				}
				return []Violation{fail("subnetGroupName is %s; create an aws.elasticache.SubnetGroup on the isolated subnets and set subnetGroupName to it", describe(v))}
			},
		},
		Rule{
			Name:         "cache-automatic-failover",
			Description:  "Prod ElastiCache replication groups have automatic failover.",
			Control:      "ElastiCache.3",
			Controls:     []string{"ElastiCache.3"},
			Severity:     Medium,
			Remediation:  "set automaticFailoverEnabled: true with numCacheClusters >= 2",
			DefaultLevel: Mandatory,
			ProdOnly:     true,
			Types:        []string{TypeReplicationGroup},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, false, "set automaticFailoverEnabled: true with numCacheClusters >= 2 on prod", "automaticFailoverEnabled")
			},
		},
		Rule{
			Name:         "cache-multi-az",
			Description:  "Prod ElastiCache replication groups are Multi-AZ.",
			Control:      "no direct FSBP control (ElastiCache.3 covers failover)",
			Controls:     []string{"BOOKS.CACHE-MULTI-AZ"},
			Severity:     Medium,
			Remediation:  "set multiAzEnabled: true with numCacheClusters >= 2",
			DefaultLevel: Mandatory,
			ProdOnly:     true,
			Types:        []string{TypeReplicationGroup},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, false, "set multiAzEnabled: true with numCacheClusters >= 2 on prod", "multiAzEnabled")
			},
		},
	)
}
