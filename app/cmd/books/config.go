package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/jackc/pgx/v5/pgconn"
	goredis "github.com/redis/go-redis/v9"

	bookshttp "github.com/books-platform/books/app/http"
	"github.com/books-platform/books/app/metrics"
	"github.com/books-platform/books/app/redis"
)

// setting is one environment variable the process reads. allSettings is
// the single list: --help prints it, and a test checks that loadConfig
// reads nothing else and that app/README.md documents exactly these.
type setting struct{ name, def, help string }

// allSettings is settings plus the metrics settings of
// app/metrics/metrics.json.
func allSettings() []setting {
	all := slices.Clone(settings)
	c, err := metrics.LoadCatalog()
	if err != nil { // the embedded catalog is checked by its own tests
		return all
	}
	all = append(all, setting{c.Namespace.Env, c.Namespace.Default, "CloudWatch namespace of the EMF metrics"})
	for _, d := range c.Dimensions {
		all = append(all, setting{d.Env, d.Default, "value of the metrics' " + d.Name + " dimension"})
	}
	return append(all, setting{c.Interval.Env, c.Interval.Default, "how often the aggregated metrics are written"})
}

var settings = []setting{
	{"BASIC_AUTH_PASSWORD", "(required)", "password of HTTP Basic auth on the book routes"},
	{"BASIC_AUTH_USER", "books", "user name of HTTP Basic auth"},
	{"DATABASE_URL", "", "libpq URL or key=value string; PG* variables fill in what it omits"},
	{"PGHOST", "", "database host (required unless DATABASE_URL names one)"},
	{"PGPORT", "5432", "database port"},
	{"PGDATABASE", "", "database name (required unless DATABASE_URL names one)"},
	{"PGUSER", "", "database user (required unless DATABASE_URL names one or DB_SECRET_ARN is set)"},
	{"PGPASSWORD", "", "database password (never logged); other libpq PG* variables apply too"},
	{"PGSSLMODE", "prefer", "libpq sslmode (require in AWS: Aurora has rds.force_ssl=1)"},
	{"DB_SECRET_ARN", "", "Secrets Manager secret {username,password} read when a connection opens"},
	{"AWS_REGION", "", "region of DB_SECRET_ARN's Secrets Manager (required with it)"},
	{"DB_MAX_CONNS", "8 × CPUs", "connection pool size"},
	{"REDIS_URL", "", "redis:// or rediss:// URL of the cache; empty: no cache"},
	{"CACHE_DISABLED", "false", "true ignores REDIS_URL"},
	{"CACHE_TTL", redis.DefaultTTL.String(), "lifetime of a cached book"},
	{"CACHE_TIMEOUT", redis.DefaultTimeout.String(), "deadline of each cache call"},
	{"CACHE_NEAR_ENTRIES", strconv.Itoa(redis.DefaultNearEntries), "books kept in this process in front of Redis, as coherent as Redis (0: none; needs RESP3 client tracking: Redis OSS 6+, Valkey)"},
	{"PORT", "8080", "listening port (0: any free port)"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"SHUTDOWN_GRACE", DefaultShutdownGrace.String(), "after SIGTERM: /readyz 503 and connections closed after each response, still serving, so the load balancer stops routing here"},
	{"SHUTDOWN_TIMEOUT", DefaultShutdownTimeout.String(), "from SIGTERM to exit: the grace, then in-flight requests finish; below the ECS stopTimeout"},
	{"REQUEST_TIMEOUT", bookshttp.DefaultRequestTimeout.String(), "per-request bound on the book routes (then 503)"},
	{"MIGRATE_ON_START", "true", "apply pending migrations before listening"},
	{"MIGRATION_TIMEOUT", DefaultMigrationTimeout.String(), "how long start-up retries a database that is not reachable yet"},
}

// Shutdown and start-up defaults. The infrastructure (infra/service.go)
// passes the same values and checks them against the target group's
// deregistration delay and the task's stopTimeout.
const (
	// DefaultShutdownGrace covers the load balancer's reaction to a
	// deregistration that starts together with SIGTERM (Fargate Spot
	// interruption, a task stopped outside the service's draining).
	DefaultShutdownGrace = 10 * time.Second
	// DefaultShutdownTimeout stays below ECS's 30 s stopTimeout, so the
	// process exits by itself before SIGKILL: 10 s grace + 15 s for
	// in-flight requests (each bounded by the 10 s REQUEST_TIMEOUT).
	DefaultShutdownTimeout  = 25 * time.Second
	DefaultMigrationTimeout = 2 * time.Minute
)

// maxNearEntries bounds CACHE_NEAR_ENTRIES: 1,000,000 books of 250 bytes
// are about 250 MB, already half of the smallest task size.
const maxNearEntries = 1_000_000

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: books               serve the books API (settings below, from the environment)")
	fmt.Fprintln(w, "       books healthcheck   exit 0 when http://127.0.0.1:$PORT/healthz answers 200")
	fmt.Fprintln(w, "\nsettings (durations in Go syntax: 250ms, 25s, 5m):")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range allSettings() {
		def := s.def
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.name, def, s.help)
	}
	tw.Flush()
}

// config is the environment, parsed and checked.
type config struct {
	port             string
	logLevel         slog.Level
	authUser         string
	authPassword     string
	databaseURL      string
	dbSecretARN      string
	dbMaxConns       int32
	redisURL         string
	cacheTTL         time.Duration
	cacheTimeout     time.Duration
	cacheNear        int
	shutdownGrace    time.Duration
	shutdownTimeout  time.Duration
	requestTimeout   time.Duration
	migrate          bool
	migrationTimeout time.Duration
	metrics          metrics.Config
}

// loadConfig reads and checks every setting before anything connects, and
// reports all problems at once, each naming its variable (never a value
// that may hold a secret).
func loadConfig(getenv func(string) string) (*config, error) {
	c := &config{
		port:         envOr(getenv, "PORT", "8080"),
		authUser:     envOr(getenv, "BASIC_AUTH_USER", "books"),
		authPassword: getenv("BASIC_AUTH_PASSWORD"),
		databaseURL:  getenv("DATABASE_URL"),
		dbSecretARN:  getenv("DB_SECRET_ARN"),
		redisURL:     getenv("REDIS_URL"),
	}
	var errs []error
	if c.authPassword == "" {
		errs = append(errs, errors.New("BASIC_AUTH_PASSWORD is required"))
	}
	if n, err := strconv.Atoi(c.port); err != nil || n < 0 || n > 65535 {
		errs = append(errs, fmt.Errorf("PORT=%q is not a port number", c.port))
	}
	if err := c.logLevel.UnmarshalText([]byte(envOr(getenv, "LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL=%q is not one of debug, info, warn, error", getenv("LOG_LEVEL")))
	}
	if v := getenv("DB_MAX_CONNS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("DB_MAX_CONNS=%q is not a positive integer", v))
		}
		c.dbMaxConns = int32(n)
	}
	errs = append(errs, checkDatabase(getenv, c.databaseURL, c.dbSecretARN)...)
	if b := getenv("CACHE_DISABLED"); b != "" {
		off, err := strconv.ParseBool(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("CACHE_DISABLED=%q is not a boolean", b))
		}
		if off {
			c.redisURL = ""
		}
	}
	c.cacheNear = redis.DefaultNearEntries
	if v := getenv("CACHE_NEAR_ENTRIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxNearEntries {
			errs = append(errs, fmt.Errorf("CACHE_NEAR_ENTRIES=%q is not an integer from 0 to %d", v, maxNearEntries))
		}
		c.cacheNear = n
	}
	if c.redisURL != "" {
		if _, err := goredis.ParseURL(c.redisURL); err != nil {
			// The URL holds the AUTH token: never echo it.
			errs = append(errs, errors.New("REDIS_URL is not a valid redis://[:TOKEN@]host:port[/db] or rediss:// URL"))
		}
	}
	c.migrate = true
	if b := getenv("MIGRATE_ON_START"); b != "" {
		var err error
		if c.migrate, err = strconv.ParseBool(b); err != nil {
			errs = append(errs, fmt.Errorf("MIGRATE_ON_START=%q is not a boolean", b))
		}
	}
	durations := []struct {
		key  string
		dst  *time.Duration
		def  time.Duration
		zero bool // 0 allowed
	}{
		{"CACHE_TTL", &c.cacheTTL, redis.DefaultTTL, false},
		{"CACHE_TIMEOUT", &c.cacheTimeout, redis.DefaultTimeout, false},
		{"SHUTDOWN_GRACE", &c.shutdownGrace, DefaultShutdownGrace, true},
		{"SHUTDOWN_TIMEOUT", &c.shutdownTimeout, DefaultShutdownTimeout, false},
		{"REQUEST_TIMEOUT", &c.requestTimeout, bookshttp.DefaultRequestTimeout, false},
		{"MIGRATION_TIMEOUT", &c.migrationTimeout, DefaultMigrationTimeout, false},
	}
	for _, d := range durations {
		*d.dst = d.def
		if v := getenv(d.key); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t < 0 || t == 0 && !d.zero {
				errs = append(errs, fmt.Errorf("%s=%q is not a positive duration (e.g. 25s)", d.key, v))
			}
			*d.dst = t
		}
	}
	if c.shutdownGrace >= c.shutdownTimeout {
		errs = append(errs, fmt.Errorf("SHUTDOWN_GRACE=%s must be below SHUTDOWN_TIMEOUT=%s (the whole time from SIGTERM to exit, which also lets in-flight requests finish)", c.shutdownGrace, c.shutdownTimeout))
	}
	var merrs []error
	c.metrics, merrs = metricsConfig(getenv)
	errs = append(errs, merrs...)
	return c, errors.Join(errs...)
}

// checkDatabase refuses settings that would leave the database to libpq's
// defaults (a local socket, the OS user's name as user and database): the
// host and database must be named, and a user unless DB_SECRET_ARN gives it.
func checkDatabase(getenv func(string) string, dsn, secretARN string) []error {
	var errs []error
	named := map[string]bool{}
	if dsn != "" {
		if _, err := pgconn.ParseConfig(dsn); err != nil {
			// The parse error can echo the connection string; keep it out.
			errs = append(errs, errors.New("DATABASE_URL is not a valid libpq URL (postgres://user@host:5432/db) or key=value string"))
		} else {
			named = dsnKeys(dsn)
		}
	}
	if !named["host"] && getenv("PGHOST") == "" {
		errs = append(errs, errors.New("no database host: set PGHOST or a host in DATABASE_URL"))
	}
	if !named["dbname"] && getenv("PGDATABASE") == "" {
		errs = append(errs, errors.New("no database name: set PGDATABASE or a database in DATABASE_URL"))
	}
	if !named["user"] && getenv("PGUSER") == "" && secretARN == "" {
		errs = append(errs, errors.New("no database user: set PGUSER, a user in DATABASE_URL, or DB_SECRET_ARN"))
	}
	if secretARN != "" {
		if a, err := arn.Parse(secretARN); err != nil || a.Service != "secretsmanager" {
			errs = append(errs, fmt.Errorf("DB_SECRET_ARN=%q is not a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)", secretARN))
		}
		if getenv("AWS_REGION") == "" {
			errs = append(errs, errors.New("AWS_REGION is required with DB_SECRET_ARN"))
		}
	}
	return errs
}

// dsnKeys reports which of host, dbname and user a connection string names
// itself (libpq's URL form or its key=value form).
func dsnKeys(dsn string) map[string]bool {
	named := map[string]bool{}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return named
		}
		q := u.Query()
		host, _, err := net.SplitHostPort(u.Host)
		if err != nil {
			host = u.Host
		}
		named["host"] = host != "" || q.Get("host") != ""
		named["dbname"] = strings.TrimPrefix(u.Path, "/") != "" || q.Get("dbname") != ""
		named["user"] = u.User.Username() != "" || q.Get("user") != ""
		return named
	}
	// libpq allows spaces around '=' ("dbname = books").
	for _, field := range strings.Fields(spacedEquals.ReplaceAllString(dsn, "=")) {
		if k, v, ok := strings.Cut(field, "="); ok && v != "" {
			named[strings.TrimSpace(k)] = true
		}
	}
	return named
}

var spacedEquals = regexp.MustCompile(`\s*=\s*`)

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
