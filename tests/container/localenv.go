package container

import "fmt"

// Local is where the machine's counterparts of the task's AWS
// dependencies are, as the container sees them.
type Local struct {
	// Host is the name the container resolves to the machine
	// (host.docker.internal → the bridge gateway).
	Host string
	// PgPort and RedisPort are the relays' ports on Host.
	PgPort, RedisPort int
	// PgDatabase is the rehearsal's private database.
	PgDatabase string
	// SecretsManagerURL is the Secrets Manager stand-in ("" = none).
	SecretsManagerURL string
}

// AWS credentials of the rehearsal: the stand-in accepts any signature.
const (
	rehearsalAccessKey = "AKIAREHEARSAL0000000"
	rehearsalSecretKey = "rehearsal-not-a-real-secret-key"
)

// LocalOverrides are the task-definition values that name AWS resources,
// replaced by their local counterparts, and the variables the rehearsal
// adds because Fargate provides them otherwise. Everything else in the
// task definition reaches the container unchanged.
func LocalOverrides(l Local) (overrides, additions []Override) {
	overrides = []Override{
		{"PGHOST", l.Host, "Aurora writer endpoint → the machine's PostgreSQL through a relay on the bridge gateway"},
		{"PGPORT", fmt.Sprint(l.PgPort), "the relay's port"},
		{"PGDATABASE", l.PgDatabase, "a private database of this run"},
		{"REDIS_URL", fmt.Sprintf("redis://%s:%d/0", l.Host, l.RedisPort), "ElastiCache rediss:// URL with AUTH → the machine's Redis (no TLS, no AUTH) through a relay"},
	}
	if l.SecretsManagerURL != "" {
		additions = []Override{
			{"AWS_ENDPOINT_URL", l.SecretsManagerURL, "DB_SECRET_ARN is read from a Secrets Manager stand-in"},
			{"AWS_ACCESS_KEY_ID", rehearsalAccessKey, "Fargate gives the task role's credentials; here static test ones"},
			{"AWS_SECRET_ACCESS_KEY", rehearsalSecretKey, "(same)"},
		}
	}
	return overrides, additions
}
