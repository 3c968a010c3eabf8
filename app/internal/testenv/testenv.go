// Package testenv gives the tests real services: a fresh PostgreSQL database
// per test package on the shared server, a private scram-sha-256 cluster
// (for password tests: the shared server trusts every password), and
// private redis-server processes (for outage tests: the shared Redis is
// never stopped).
//
// Connection info comes from the environment with the machine's defaults:
// BOOKS_TEST_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres, a
// superuser connection to a maintenance database) and BOOKS_TEST_REDIS_URL
// (redis://127.0.0.1:6379/0).
package testenv

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AdminURL is a superuser connection to the shared server's maintenance db.
func AdminURL() string {
	if v := os.Getenv("BOOKS_TEST_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL is the shared Redis.
func RedisURL() string {
	if v := os.Getenv("BOOKS_TEST_REDIS_URL"); v != "" {
		return v
	}
	return "redis://127.0.0.1:6379/0"
}

// CreateDatabase drops and re-creates database name on the shared server
// and returns a URL for it. Each test package uses its own name, so
// packages running in parallel do not meet.
func CreateDatabase(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", fmt.Errorf("testenv: connect to %s (set BOOKS_TEST_DATABASE_URL): %w", redact(AdminURL()), err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("testenv: drop database %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", fmt.Errorf("testenv: create database %s: %w", name, err)
	}
	return WithDatabase(AdminURL(), name), nil
}

// DropDatabase drops database name (used at the end of a test process).
func DropDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// WithDatabase returns u with its database replaced by name.
func WithDatabase(u, name string) string {
	pu, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	pu.Path = "/" + name
	return pu.String()
}

func redact(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return pu.Redacted()
}

// Truncate empties the books table.
func Truncate(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), "TRUNCATE books"); err != nil {
		t.Fatalf("truncate: %v", err)
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// missing ends the test when a required program is absent: a failure under
// CI (CI=true), where .ci/run installs it, and a loud skip elsewhere.
func missing(t testing.TB, what, install string) {
	t.Helper()
	msg := fmt.Sprintf("REQUIRED PROGRAM MISSING: %s not found; install it (%s). This test cannot run without it.", what, install)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// pgBinDir finds a directory holding initdb and pg_ctl: the newest
// /usr/lib/postgresql/*/bin, else PATH.
func pgBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	i, err1 := exec.LookPath("initdb")
	p, err2 := exec.LookPath("pg_ctl")
	if err1 == nil && err2 == nil && filepath.Dir(i) == filepath.Dir(p) {
		return filepath.Dir(i)
	}
	return ""
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Server is what Serve needs of an HTTP server (the app's http.Server).
type Server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// Serve serves srv on a fresh 127.0.0.1:0 listener until the test ends and
// returns its base URL.
func Serve(t testing.TB, srv Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown test server: %v", err)
		}
		if err := <-served; err != nil { // nil after Shutdown
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
