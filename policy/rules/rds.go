package rules

import (
	"fmt"
	"strings"
)

// RDS rules beyond the Aurora cluster basics (database.go): DB instances,
// parameter groups (TLS), IAM auth, minor upgrades, event subscriptions,
// proxies, snapshots.

const (
	TypeRDSInstance            = "aws:rds/instance:Instance"
	TypeRDSParameterGroup      = "aws:rds/parameterGroup:ParameterGroup"
	TypeRDSClusterParamGroup   = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
	TypeRDSEventSubscription   = "aws:rds/eventSubscription:EventSubscription"
	TypeRDSProxy               = "aws:rds/proxy:Proxy"
	TypeRDSSnapshot            = "aws:rds/snapshot:Snapshot"
	defaultPostgresPort        = 5432
	defaultMySQLPort           = 3306
	rdsInstanceFixUsername     = "set username to a non-default name such as \"app_admin\""
	rdsInstanceFixManagedPwd   = "remove password and set manageMasterUserPassword: true"
	rdsInstanceBackupParamDesc = "minimum automated backup retention in days"
)

// eventCategories are the categories FSBP requires a subscription of each
// source type to include (RDS.19–RDS.22); an empty list means all.
var eventCategories = map[string][]string{
	"db-cluster":         {"failure", "maintenance"},
	"db-instance":        {"maintenance", "configuration change", "failure"},
	"db-parameter-group": {"maintenance", "configuration change", "failure"},
	"db-security-group":  {"configuration change", "failure"},
}

func init() {
	register(
		Rule{
			Name: "rds-instance-encrypted", Description: "RDS DB instances encrypt storage (customer-managed key recommended).",
			Control: "RDS.3", Controls: []string{"RDS.3", "CIS 2.3.1"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set storageEncrypted: true (and kmsKeyId)",
			Types:       []string{TypeRDSInstance},
			Check: func(r Resource) []Violation {
				if Get(r.Props, "replicateSourceDb").NonEmpty() || Get(r.Props, "snapshotIdentifier").NonEmpty() {
					return nil // inherits the source's encryption
				}
				return wantBool(r, true, false, "set storageEncrypted: true", "storageEncrypted")
			},
		},
		Rule{
			Name: "rds-instance-hardening", Description: "RDS DB instances: IAM authentication, non-default master user name and port, managed master password, copy tags to snapshots, log exports.",
			Control:  "RDS.10 / RDS.25 / RDS.23 / RDS.17 / RDS.9 / RDS.36 / RDS.40 / RDS.42",
			Controls: []string{"RDS.10", "RDS.25", "RDS.23", "RDS.17", "RDS.9", "RDS.36", "RDS.40", "RDS.42"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set iamDatabaseAuthenticationEnabled: true, a non-default username and port, manageMasterUserPassword: true, copyTagsToSnapshot: true and enabledCloudwatchLogsExports",
			Types:       []string{TypeRDSInstance},
			Check:       checkRDSInstance,
		},
		Rule{
			Name: "rds-instance-not-public-instance", Description: "RDS DB instances are not publicly accessible.",
			Control: "RDS.2", Controls: []string{"RDS.2"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "set publiclyAccessible: false",
			Types:       []string{TypeRDSInstance},
			Check: func(r Resource) []Violation {
				return wantBool(r, false, false, "set publiclyAccessible: false", "publiclyAccessible")
			},
		},
		Rule{
			Name: "rds-instance-prod-resilience", Description: "Prod RDS DB instances are Multi-AZ, deletion protected and keep automated backups for at least the minimum.",
			Control: "RDS.5 / RDS.8 / RDS.11", Controls: []string{"RDS.5", "RDS.8", "RDS.11"}, Severity: Medium, DefaultLevel: Mandatory, ProdOnly: true,
			Remediation: "set multiAz: true, deletionProtection: true and backupRetentionPeriod >= 7",
			Params:      []Param{{Name: "minBackupDays", Description: rdsInstanceBackupParamDesc, Default: 7.0, Prod: 7.0}},
			Types:       []string{TypeRDSInstance},
			CheckEnv: func(r Resource, env Env) []Violation {
				out := wantBool(r, true, false, "set multiAz: true", "multiAz")
				out = append(out, wantBool(r, true, false, "set deletionProtection: true", "deletionProtection")...)
				return append(out, wantMin(r, env.Num("minBackupDays"), 0, "set backupRetentionPeriod to at least the minimum", "backupRetentionPeriod")...)
			},
		},
		Rule{
			Name: "rds-enhanced-monitoring", Description: "RDS DB instances and Aurora instances have enhanced monitoring.",
			Control: "RDS.6", Controls: []string{"RDS.6"}, Severity: Low, DefaultLevel: Advisory,
			Remediation: "set monitoringInterval (e.g. 60) and monitoringRoleArn",
			Types:       []string{TypeRDSInstance, TypeRDSClusterInstance},
			Check: func(r Resource) []Violation {
				return wantMin(r, 1, 0, "set monitoringInterval (1, 5, 10, 15, 30 or 60) and monitoringRoleArn", "monitoringInterval")
			},
		},
		Rule{
			Name: "rds-auto-minor-version-upgrade", Description: "RDS and Aurora instances upgrade minor engine versions automatically.",
			Control: "RDS.13 / RDS.35 (Aurora: set on the cluster's instances)", Controls: []string{"RDS.13", "RDS.35"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "set autoMinorVersionUpgrade: true (or omit it)",
			Types:       []string{TypeRDSInstance, TypeRDSClusterInstance},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, true, "set autoMinorVersionUpgrade: true; pin engineVersion with ignoreChanges instead of turning upgrades off", "autoMinorVersionUpgrade")
			},
		},
		Rule{
			Name: "rds-cluster-iam-auth", Description: "Aurora clusters have IAM database authentication and copy tags to snapshots.",
			Control: "RDS.12 / RDS.16", Controls: []string{"RDS.12", "RDS.16", "RDS.47", "RDS.48"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set iamDatabaseAuthenticationEnabled: true and copyTagsToSnapshot: true",
			Types:       []string{TypeRDSCluster},
			Check: func(r Resource) []Violation {
				out := wantBool(r, true, false, "set iamDatabaseAuthenticationEnabled: true", "iamDatabaseAuthenticationEnabled")
				return append(out, wantBool(r, true, false, "set copyTagsToSnapshot: true", "copyTagsToSnapshot")...)
			},
		},
		Rule{
			Name: "rds-aurora-mysql-backtracking", Description: "Aurora MySQL clusters have backtracking.",
			Control: "RDS.14", Controls: []string{"RDS.14"}, Severity: Medium, DefaultLevel: Advisory,
			Remediation: "set backtrackWindow (seconds, e.g. 86400)",
			Types:       []string{TypeRDSCluster},
			Check: func(r Resource) []Violation {
				e, _ := Get(r.Props, "engine").Str()
				if !strings.EqualFold(e, "aurora-mysql") && !strings.EqualFold(e, "aurora") {
					return nil
				}
				return wantMin(r, 1, 0, "set backtrackWindow (e.g. 86400)", "backtrackWindow")
			},
		},
		Rule{
			Name: "rds-force-tls", Description: "RDS/Aurora PostgreSQL and MySQL refuse unencrypted connections: their (cluster) parameter group sets rds.force_ssl=1 / require_secure_transport=ON.",
			Control: "RDS.38 / RDS.39 / RDS.41 / RDS.44, applied to Aurora clusters too", Controls: []string{"RDS.38", "RDS.39", "RDS.41", "RDS.44"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set dbClusterParameterGroupName (instances: parameterGroupName) to a parameter group with rds.force_ssl = 1 (MySQL: require_secure_transport = ON)",
			StackCheck:  checkForceTLS,
		},
		Rule{
			Name: "rds-event-subscription", Description: "RDS event subscriptions are enabled, notify an SNS topic and include the critical categories of their source type.",
			Control: "RDS.19 / RDS.20 / RDS.21 / RDS.22", Controls: []string{"RDS.19", "RDS.20", "RDS.21", "RDS.22"}, Severity: Low, DefaultLevel: Mandatory,
			Remediation: "set enabled: true, snsTopic, and eventCategories including failure and maintenance (or leave it empty for all)",
			Types:       []string{TypeRDSEventSubscription},
			Check:       checkEventSubscription,
		},
		Rule{
			Name: "rds-proxy-tls", Description: "RDS proxies require TLS.",
			Control: "RDS.43", Controls: []string{"RDS.43"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set requireTls: true",
			Types:       []string{TypeRDSProxy},
			Check: func(r Resource) []Violation {
				return wantBool(r, true, false, "set requireTls: true", "requireTls")
			},
		},
		Rule{
			Name: "rds-snapshot-not-public", Description: "RDS snapshots are not shared publicly.",
			Control: "RDS.1", Controls: []string{"RDS.1"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "remove \"all\" from sharedAccounts",
			Types:       []string{TypeRDSSnapshot},
			Check: func(r Resource) []Violation {
				have, unknown := strsKnown(Get(r.Props, "sharedAccounts"))
				if containsFold(have, "all") {
					return []Violation{fail("sharedAccounts contains \"all\", which makes the snapshot public; list account ids instead")}
				}
				if unknown {
					return []Violation{cannotTell("sharedAccounts")}
				}
				return nil
			},
		},
	)
}

func checkRDSInstance(r Resource) []Violation {
	out := wantBool(r, true, false, "set iamDatabaseAuthenticationEnabled: true", "iamDatabaseAuthenticationEnabled")
	out = append(out, wantBool(r, true, false, "set copyTagsToSnapshot: true", "copyTagsToSnapshot")...)
	if v := Get(r.Props, "username"); v.Known() {
		if s, _ := v.Str(); containsFold(defaultMasterUsernames, strings.TrimSpace(s)) {
			out = append(out, fail("username is %q, a well-known default; %s", s, rdsInstanceFixUsername))
		}
	}
	if Get(r.Props, "password").Known() {
		out = append(out, fail("password is set in the program; %s", rdsInstanceFixManagedPwd))
	}
	engine, _ := Get(r.Props, "engine").Str()
	engine = strings.ToLower(engine)
	port := Get(r.Props, "port")
	if n, ok := port.Num(); port.Missing || (ok && (n == defaultPostgresPort || n == defaultMySQLPort || n == 1433 || n == 1521)) {
		out = append(out, fail("port is %s, the engine's default; set port to a non-default value (RDS.23)", describe(port)))
	}
	want := map[string]string{"postgres": "postgresql", "mysql": "audit", "mariadb": "audit", "sqlserver": "error", "oracle": "alert"}
	for prefix, log := range want {
		if !strings.HasPrefix(engine, prefix) {
			continue
		}
		lv := Get(r.Props, "enabledCloudwatchLogsExports")
		have, unknown := strsKnown(lv)
		if unknown {
			return append(out, cannotTell("enabledCloudwatchLogsExports"))
		}
		if !containsFold(have, log) {
			out = append(out, fail("enabledCloudwatchLogsExports is %s; add %q", describe(lv), log))
		}
	}
	return out
}

// tlsParameter is the parameter that forces TLS for an engine family.
func tlsParameter(engine string) (name string, values []string) {
	e := strings.ToLower(engine)
	switch {
	case strings.Contains(e, "postgres"):
		return "rds.force_ssl", []string{"1"}
	case strings.Contains(e, "mysql"), strings.Contains(e, "mariadb"), e == "aurora":
		return "require_secure_transport", []string{"ON", "1"}
	case strings.HasPrefix(e, "sqlserver"):
		return "rds.force_ssl", []string{"1"}
	}
	return "", nil
}

func checkForceTLS(stack []Resource) []Violation {
	var out []Violation
	check := func(dbs []Resource, groupType, groupProp string) {
		groups := ofTypes(stack, groupType)
		for _, db := range dbs {
			ev := Get(db.Props, "engine")
			if ev.Unknown {
				out = append(out, cannotTellAt(db.URN, "engine"))
				continue
			}
			engine, _ := ev.Str()
			if db.Type == TypeRDSCluster && engine == "" {
				engine = "aurora"
			}
			param, want := tlsParameter(engine)
			if param == "" {
				continue
			}
			gv := Get(db.Props, groupProp)
			if gv.Unknown {
				out = append(out, cannotTellAt(db.URN, groupProp))
				continue
			}
			if gv.Missing {
				out = append(out, failAt(db.URN, "%s is not set, so the default parameter group applies and %s is off; create a parameter group with %s = %s and set %s", groupProp, param, param, want[0], groupProp))
				continue
			}
			var group *Resource
			maybe := false
			for i := range groups {
				switch RefersTo(db, groupProp, groups[i], "name") {
				case IsMatch:
					group = &groups[i]
				case MaybeMatch:
					maybe = true
				}
			}
			if group == nil {
				if maybe {
					out = append(out, cannotTellAt(db.URN, groupProp))
				}
				continue // a group managed elsewhere: nothing to read
			}
			ok, unknown := false, false
			for _, p := range eachParam(*group) {
				if p.unknown {
					unknown = true
				}
				if strings.EqualFold(p.name, param) && containsFold(want, p.value) {
					ok = true
				}
			}
			switch {
			case ok:
			case unknown:
				out = append(out, cannotTellAt(group.URN, "parameters"))
			default:
				out = append(out, failAt(group.URN, "parameter group of %s does not set %s = %s, so clients may connect without TLS; add parameters [{name: %q, value: %q}]", db.Name, param, want[0], param, want[0]))
			}
		}
	}
	check(ofTypes(stack, TypeRDSCluster), TypeRDSClusterParamGroup, "dbClusterParameterGroupName")
	check(ofTypes(stack, TypeRDSInstance), TypeRDSParameterGroup, "parameterGroupName")
	return out
}

type dbParam struct {
	name, value string
	unknown     bool
}

func eachParam(g Resource) []dbParam {
	v := Get(g.Props, "parameters")
	if v.Unknown {
		return []dbParam{{unknown: true}}
	}
	items, _ := v.List()
	var out []dbParam
	for _, it := range items {
		m, ok := it.Map()
		if !ok {
			out = append(out, dbParam{unknown: it.Unknown})
			continue
		}
		nv := Get(m, "name")
		n, _ := nv.Str()
		val := Get(m, "value")
		s, _ := val.Str()
		if f, isNum := val.Num(); isNum && s == "" {
			s = fmt.Sprintf("%g", f)
		}
		out = append(out, dbParam{name: n, value: s, unknown: val.Unknown || nv.Unknown})
	}
	return out
}

func checkEventSubscription(r Resource) []Violation {
	out := wantBool(r, true, true, "set enabled: true", "enabled")
	out = append(out, wantSet(r, "set snsTopic to the alarm topic's ARN", "snsTopic")...)
	st := Get(r.Props, "sourceType")
	if st.Unknown {
		return append(out, cannotTell("sourceType"))
	}
	src, _ := st.Str()
	want := eventCategories[strings.ToLower(src)]
	have, unknown := strsKnown(Get(r.Props, "eventCategories"))
	if unknown {
		return append(out, cannotTell("eventCategories"))
	}
	if len(have) == 0 {
		return out // all categories
	}
	var missing []string
	for _, c := range want {
		if !containsFold(have, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		out = append(out, fail("eventCategories of a %s subscription lacks %s; add them (or leave eventCategories empty for all)", src, quoteAll(missing)))
	}
	return out
}
