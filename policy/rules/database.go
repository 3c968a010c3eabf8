package rules

import "strings"

// Aurora / RDS rules.

var defaultMasterUsernames = []string{"postgres", "admin", "root", "administrator", "sa", "master", "rdsadmin"}

func init() {
	register(
		Rule{
			Name:         "rds-cluster-encrypted-cmk",
			Description:  "Aurora cluster storage is encrypted with a customer-managed KMS key.",
			Control:      "RDS.27",
			Controls:     []string{"RDS.27", "RDS.4"},
			Severity:     High,
			Remediation:  "set storageEncrypted: true and kmsKeyId to a customer-managed key",
			DefaultLevel: Mandatory,
			Types:        []string{TypeRDSCluster},
			Check: func(r Resource) []Violation {
				out := wantBool(r, true, false, "set storageEncrypted: true", "storageEncrypted")
				out = append(out, wantSet(r, "set kmsKeyId to the ARN of a customer-managed aws.kms.Key (with rotation) so the data key is under your control", "kmsKeyId")...)
				return out
			},
		},
		Rule{
			Name:         "rds-cluster-managed-master-password",
			Description:  "Aurora master password is managed by RDS in Secrets Manager, never a plaintext masterPassword.",
			Control:      "no direct FSBP control (Secrets Manager best practice)",
			Controls:     []string{"BOOKS.RDS-SECRET"},
			Severity:     High,
			Remediation:  "remove masterPassword and set manageMasterUserPassword: true",
			DefaultLevel: Mandatory,
			Types:        []string{TypeRDSCluster},
			Check: func(r Resource) []Violation {
				var out []Violation
				if v := Get(r.Props, "masterPassword"); !v.Missing {
					out = append(out, fail("masterPassword is set; remove it and set manageMasterUserPassword: true so RDS generates and rotates the password in Secrets Manager"))
				}
				if v := Get(r.Props, "replicationSourceIdentifier"); v.NonEmpty() {
					return out // replicas inherit credentials
				}
				if v := Get(r.Props, "snapshotIdentifier"); v.NonEmpty() {
					return out // restored clusters inherit credentials
				}
				out = append(out, wantBool(r, true, false, "set manageMasterUserPassword: true (optionally masterUserSecretKmsKeyId to your KMS key)", "manageMasterUserPassword")...)
				return out
			},
		},
		Rule{
			Name:         "rds-cluster-log-export",
			Description:  "Aurora PostgreSQL clusters export the postgresql log to CloudWatch Logs (Aurora MySQL: audit).",
			Control:      "RDS.37 (Aurora PostgreSQL; RDS.34 for Aurora MySQL audit logs)",
			Controls:     []string{"RDS.37", "RDS.34"},
			Severity:     Medium,
			Remediation:  "add \"postgresql\" (Aurora MySQL: \"audit\") to enabledCloudwatchLogsExports",
			DefaultLevel: Mandatory,
			Types:        []string{TypeRDSCluster},
			Check: func(r Resource) []Violation {
				ev := Get(r.Props, "engine")
				if ev.Unknown {
					return []Violation{cannotTell("engine")}
				}
				engine, _ := ev.Str()
				engine = strings.ToLower(engine)
				var want string
				switch {
				case strings.Contains(engine, "postgres"):
					want = "postgresql"
				case strings.Contains(engine, "mysql"):
					want = "audit"
				case engine == "" && ev.Missing:
					want = "audit" // provider default engine is aurora (MySQL-compatible)
				default:
					return nil
				}
				lv := Get(r.Props, "enabledCloudwatchLogsExports")
				if lv.Unknown {
					return []Violation{cannotTell("enabledCloudwatchLogsExports")}
				}
				items, _ := lv.List()
				for _, it := range items {
					if it.Unknown {
						return []Violation{cannotTell("enabledCloudwatchLogsExports")}
					}
					if s, ok := it.Str(); ok && strings.EqualFold(s, want) {
						return nil
					}
				}
				return []Violation{fail("enabledCloudwatchLogsExports is %s; add %q so the engine log reaches CloudWatch Logs", describe(lv), want)}
			},
		},
		Rule{
			Name:         "rds-cluster-custom-master-username",
			Description:  "Aurora master user name is not a well-known default (postgres, admin, root, …).",
			Control:      "RDS.24",
			Controls:     []string{"RDS.24"},
			Severity:     Medium,
			Remediation:  "set masterUsername to a non-default name",
			DefaultLevel: Mandatory,
			Types:        []string{TypeRDSCluster},
			Check: func(r Resource) []Violation {
				v := Get(r.Props, "masterUsername")
				if v.Unknown {
					return []Violation{cannotTell("masterUsername")}
				}
				if v.Missing {
					return nil // restored/replica clusters inherit it; nothing to check
				}
				s, ok := v.Str()
				if !ok {
					return []Violation{fail("masterUsername is not a string; set it to a non-default name such as \"books_admin\"")}
				}
				if containsFold(defaultMasterUsernames, strings.TrimSpace(s)) {
					return []Violation{fail("masterUsername is %q, a well-known default; choose a non-default name such as \"books_admin\" (changing it replaces the cluster)", s)}
				}
				return nil
			},
		},
		Rule{
			Name:         "rds-instance-not-public",
			Description:  "Aurora cluster instances are not publicly accessible.",
			Control:      "RDS.2",
			Controls:     []string{"RDS.2"},
			Severity:     Critical,
			Remediation:  "set publiclyAccessible: false",
			DefaultLevel: Mandatory,
			Types:        []string{TypeRDSClusterInstance},
			Check: func(r Resource) []Violation {
				return wantBool(r, false, false, "set publiclyAccessible: false (or omit it) and reach the database through the VPC", "publiclyAccessible")
			},
		},
		Rule{
			Name:         "rds-cluster-deletion-protection",
			Description:  "Prod Aurora clusters have deletion protection.",
			Control:      "RDS.7",
			Controls:     []string{"RDS.7"},
			Severity:     Medium,
			Remediation:  "set deletionProtection: true",
			DefaultLevel: Mandatory,
			ProdOnly:     true,
			Types:        []string{TypeRDSCluster},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, false, "set deletionProtection: true on prod clusters", "deletionProtection")
			},
		},
		Rule{
			Name:         "rds-cluster-backup-retention",
			Description:  "Prod Aurora clusters keep automated backups for at least 7 days.",
			Control:      "no direct FSBP control for clusters (RDS.11 is the DB-instance equivalent, 7 days)",
			Controls:     []string{"RDS.50", "CKV_AWS_133"},
			Severity:     Medium,
			Remediation:  "set backupRetentionPeriod to at least the minimum (prod: 7 days)",
			DefaultLevel: Mandatory,
			ProdOnly:     true,
			Types:        []string{TypeRDSCluster},
			Check: func(r Resource) []Violation {
				v := Get(r.Props, "backupRetentionPeriod")
				if v.Unknown {
					return []Violation{cannotTell("backupRetentionPeriod")}
				}
				n, ok := v.Num()
				if v.Missing {
					n, ok = 1, true // provider default
				}
				if ok && n >= 7 {
					return nil
				}
				shown := describe(v)
				if v.Missing {
					shown = "not set (provider default 1)"
				}
				return []Violation{fail("backupRetentionPeriod is %s; set it to at least 7 days on prod clusters", shown)}
			},
		},
		Rule{
			Name:         "rds-cluster-multi-instance",
			Description:  "Prod Aurora clusters have at least two instances (writer + reader in another AZ).",
			Control:      "RDS.15 (multi-AZ DB clusters)",
			Controls:     []string{"RDS.15"},
			Severity:     Medium,
			Remediation:  "add a reader aws.rds.ClusterInstance with clusterIdentifier set to the cluster",
			DefaultLevel: Mandatory,
			ProdOnly:     true,
			StackCheck:   checkClusterInstances,
		},
	)
}

func checkClusterInstances(stack []Resource) []Violation {
	clusters := ofTypes(stack, TypeRDSCluster)
	instances := ofTypes(stack, TypeRDSClusterInstance)
	matches := matchRefs(clusters, instances, "clusterIdentifier", "clusterIdentifier")
	var out []Violation
	for i, c := range clusters {
		sure, maybe := len(matches[i].sure), len(matches[i].maybe)
		switch {
		case sure >= 2:
		case sure+maybe >= 2:
			out = append(out, cannotTellAt(c.URN, "which aws.rds.ClusterInstance belongs to this cluster (clusterIdentifier)"))
		default:
			out = append(out, failAt(c.URN, "cluster has %d instance(s); add at least one reader aws.rds.ClusterInstance (clusterIdentifier: cluster.id) so a failover target exists in another AZ", sure))
		}
	}
	return out
}

// refMatches holds, for one target, the refs that surely and possibly refer to it.
type refMatches struct {
	sure, maybe []Resource
}

// matchRefs matches each ref's property prop against every target. A ref
// that surely matches one target is not a "maybe" for the others.
func matchRefs(targets, refs []Resource, prop string, identityProps ...string) []refMatches {
	out := make([]refMatches, len(targets))
	for _, ref := range refs {
		results := make([]Match, len(targets))
		anySure := false
		for i, t := range targets {
			results[i] = RefersTo(ref, prop, t, identityProps...)
			if results[i] == IsMatch {
				anySure = true
			}
		}
		for i := range targets {
			switch {
			case results[i] == IsMatch:
				out[i].sure = append(out[i].sure, ref)
			case results[i] == MaybeMatch && !anySure:
				out[i].maybe = append(out[i].maybe, ref)
			}
		}
	}
	return out
}
