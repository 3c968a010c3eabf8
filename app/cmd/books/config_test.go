package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/books-platform/books/app/internal/testenv"
)

// withDB is the smallest valid environment plus kv.
func withDB(kv map[string]string) map[string]string {
	m := map[string]string{"BASIC_AUTH_PASSWORD": "p", "DATABASE_URL": "postgres://books@db.internal:5432/books"}
	for k, v := range kv {
		m[k] = v
	}
	return m
}

func TestLoadConfig(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		c, err := loadConfig(env(withDB(nil)))
		if err != nil {
			t.Fatal(err)
		}
		if c.port != "8080" || c.authUser != "books" || c.shutdownTimeout != 25*time.Second || c.shutdownGrace != 10*time.Second || !c.migrate || c.redisURL != "" {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("RequiresPassword", func(t *testing.T) {
		_, err := loadConfig(env(nil))
		if err == nil || !strings.Contains(err.Error(), "BASIC_AUTH_PASSWORD") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("CacheDisabledWinsOverRedisURL", func(t *testing.T) {
		c, err := loadConfig(env(withDB(map[string]string{"REDIS_URL": "redis://x", "CACHE_DISABLED": "true"})))
		if err != nil || c.redisURL != "" {
			t.Fatalf("%v %+v", err, c)
		}
	})
	t.Run("Overrides", func(t *testing.T) {
		c, err := loadConfig(env(withDB(map[string]string{"BASIC_AUTH_USER": "gw", "PORT": "9000", "LOG_LEVEL": "debug", "SHUTDOWN_TIMEOUT": "10s", "SHUTDOWN_GRACE": "0s", "CACHE_TTL": "1m", "DB_MAX_CONNS": "7", "MIGRATE_ON_START": "false", "CACHE_NEAR_ENTRIES": "0"})))
		if err != nil || c.authUser != "gw" || c.port != "9000" || c.shutdownTimeout != 10*time.Second || c.shutdownGrace != 0 || c.cacheTTL != time.Minute || c.dbMaxConns != 7 || c.migrate || c.cacheNear != 0 {
			t.Fatalf("%v %+v", err, c)
		}
	})
	for k, v := range map[string]string{"PORT": "http", "LOG_LEVEL": "loud", "SHUTDOWN_TIMEOUT": "-1s", "SHUTDOWN_GRACE": "-1s", "CACHE_TIMEOUT": "soon", "CACHE_DISABLED": "maybe", "DB_MAX_CONNS": "0", "MIGRATE_ON_START": "perhaps", "CACHE_NEAR_ENTRIES": "-1"} {
		t.Run("Invalid_"+k, func(t *testing.T) {
			_, err := loadConfig(env(withDB(map[string]string{k: v})))
			if err == nil || !strings.Contains(err.Error(), k) {
				t.Fatalf("err = %v, want one naming %s", err, k)
			}
		})
	}
}

// TestConfigCheckedBeforeConnecting: every setting is checked by
// loadConfig, before anything connects; no database settings is an error,
// not libpq's defaults; errors name the variable and never echo a secret.
func TestConfigCheckedBeforeConnecting(t *testing.T) {
	noDB := map[string]string{"BASIC_AUTH_PASSWORD": "p"}
	cases := []struct {
		name string
		env  map[string]string
		want []string // each must appear in the error
	}{
		{"NoDatabaseSettings", noDB, []string{"PGHOST", "PGDATABASE", "PGUSER"}},
		{"URLWithoutHost", withDB(map[string]string{"DATABASE_URL": "postgres:///books?user=u"}), []string{"no database host"}},
		{"URLWithoutDatabase", withDB(map[string]string{"DATABASE_URL": "postgres://u@db:5432"}), []string{"no database name"}},
		{"KeywordFormWithoutHost", withDB(map[string]string{"DATABASE_URL": "dbname=books user=u"}), []string{"no database host"}},
		{"UnparseableURL", withDB(map[string]string{"DATABASE_URL": "postgres://u:hunter2-secret@db:notaport/books"}), []string{"DATABASE_URL"}},
		{"BadRedisURL", withDB(map[string]string{"REDIS_URL": "http://:hunter2-secret@cache:6379"}), []string{"REDIS_URL"}},
		{"RedisURLWithoutScheme", withDB(map[string]string{"REDIS_URL": "cache.internal:6379"}), []string{"REDIS_URL"}},
		{"BadSecretARN", withDB(map[string]string{"DB_SECRET_ARN": "books-db", "AWS_REGION": "eu-west-1"}), []string{"DB_SECRET_ARN"}},
		{"SecretARNOfAnotherService", withDB(map[string]string{"DB_SECRET_ARN": "arn:aws:s3:::bucket", "AWS_REGION": "eu-west-1"}), []string{"DB_SECRET_ARN"}},
		{"SecretARNWithoutRegion", withDB(map[string]string{"DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"}), []string{"AWS_REGION"}},
		{"GraceNotBelowTimeout", withDB(map[string]string{"SHUTDOWN_GRACE": "25s", "SHUTDOWN_TIMEOUT": "25s"}), []string{"SHUTDOWN_GRACE", "SHUTDOWN_TIMEOUT"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadConfig(env(c.env))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error echoes a secret: %v", err)
			}
		})
	}
	for name, kv := range map[string]map[string]string{
		"PGVariables":       {"BASIC_AUTH_PASSWORD": "p", "PGHOST": "db", "PGDATABASE": "books", "PGUSER": "books"},
		"URLAndPGVariables": {"BASIC_AUTH_PASSWORD": "p", "DATABASE_URL": "postgres://db:5432", "PGDATABASE": "books", "PGUSER": "u"},
		"KeywordForm":       {"BASIC_AUTH_PASSWORD": "p", "DATABASE_URL": "host = db dbname=books user='books'"},
		"QueryParameters":   {"BASIC_AUTH_PASSWORD": "p", "DATABASE_URL": "postgres:///?host=db&dbname=books&user=u"},
		"UserFromSecret": {"BASIC_AUTH_PASSWORD": "p", "PGHOST": "db", "PGDATABASE": "books",
			"DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf", "AWS_REGION": "eu-west-1"},
		"TLSRedis": withDB(map[string]string{"REDIS_URL": "rediss://:token@cache.internal:6379/0"}),
	} {
		t.Run("Valid_"+name, func(t *testing.T) {
			if _, err := loadConfig(env(kv)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestBadRedisURLStopsBeforeMigrations: the process fails on REDIS_URL
// before it touches the database (no migration table appears).
func TestBadRedisURLStopsBeforeMigrations(t *testing.T) {
	name := fmt.Sprintf("books_test_cmd_badredis_%d", os.Getpid())
	url, err := testenv.CreateDatabase(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testenv.DropDatabase(name) })
	out, code := runToExit(t, 30*time.Second, "DATABASE_URL="+url, "REDIS_URL=http://:hunter2@cache:6379", "CACHE_DISABLED=false")
	if code != 1 || !strings.Contains(out, "REDIS_URL") || strings.Contains(out, "hunter2") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var table *string
	if err := conn.QueryRow(ctx, `SELECT to_regclass('public.goose_db_version')::text`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	if table != nil {
		t.Fatal("migrations ran before REDIS_URL was checked")
	}
}

// TestStartupLogsTargetsWithoutSecrets: the process says which database
// and cache it uses, and no password reaches the log.
func TestStartupLogsTargetsWithoutSecrets(t *testing.T) {
	u := strings.Replace(dbURL, "postgres@", "postgres:pw-in-url-7f3a@", 1) // the shared server trusts any password
	if !strings.Contains(u, "pw-in-url-7f3a") {
		t.Skipf("test database URL %q has no user to add a password to", dbURL)
	}
	p := start(t, "DATABASE_URL="+u)
	logs := p.logs.String()
	for _, want := range []string{`"msg":"database","host":"127.0.0.1","port":5432,"database":"books_test_cmd"`, `"msg":"cache","addr":"127.0.0.1:6379"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "pw-in-url-7f3a") || strings.Contains(logs, "BASIC_AUTH_PASSWORD=pw") {
		t.Errorf("a secret reached the log:\n%s", logs)
	}
}

// TestHelpListsEverySetting: --help prints every variable loadConfig reads,
// and app/README.md's configuration table documents exactly those.
func TestHelpListsEverySetting(t *testing.T) {
	var read []string
	record := func(k string) string {
		if !slices.Contains(read, k) {
			read = append(read, k)
		}
		return withDB(map[string]string{"REDIS_URL": "redis://x:6379", "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:x", "AWS_REGION": "x", "CACHE_DISABLED": "false", "DB_MAX_CONNS": "2"})[k]
	}
	if _, err := loadConfig(record); err != nil {
		t.Fatal(err)
	}
	var help bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, env(nil), &help); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range allSettings() {
		names = append(names, s.name)
		if !strings.Contains(help.String(), s.name) {
			t.Errorf("--help lacks %s", s.name)
		}
	}
	for _, k := range read {
		if !slices.Contains(names, k) {
			t.Errorf("loadConfig reads %s, which --help does not list", k)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(readme)
	if i := strings.Index(sec, "## Configuration"); i >= 0 {
		sec = sec[i:]
		if j := strings.Index(sec[3:], "\n## "); j >= 0 {
			sec = sec[:j+3]
		}
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z_]+)`").FindAllStringSubmatch(sec, -1) {
		documented = append(documented, m[1])
	}
	slices.Sort(documented)
	slices.Sort(names)
	if !slices.Equal(documented, names) {
		t.Errorf("README configuration table %v\n--help settings          %v", documented, names)
	}
}
