// Package postgres is the PostgreSQL adapter: the connection pool (with
// optional Secrets Manager credentials), the embedded schema migrations and
// the books.BookService implementation that is the source of truth.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/books-platform/books/app"
)

// DefaultMaxConns is the pool size when none is configured: 8 per CPU
// (16 on a 2-vCPU task). A request mostly waits on the database — a write
// on its commit — so more connections than CPUs keep the CPUs busy: POST
// /book on the 2-CPU development machine went from ~600 req/s with pgx's
// default max(4, CPUs) to ~850 with 8 and ~1,250 with 16 (wrk, 32
// connections, three alternating runs). Every task holds up to this many
// connections: tasks × DefaultMaxConns must stay below the cluster's
// max_connections (set DB_MAX_CONNS otherwise).
func DefaultMaxConns() int32 { return int32(max(4, 8*runtime.GOMAXPROCS(0))) }

// Config says how to reach the database.
type Config struct {
	// URL is a libpq connection string or URL (DATABASE_URL). Empty means
	// "use the libpq PG* environment variables" (PGHOST, PGPORT, PGUSER,
	// PGPASSWORD, PGDATABASE, PGSSLMODE, ...), which also fill in whatever
	// the URL leaves out.
	URL string
	// Credentials, when set, supplies the user name and password each time
	// the pool opens a connection (see CachedCredentials).
	Credentials *CachedCredentials
	// MaxConns caps the pool (0: DefaultMaxConns, unless the URL sets
	// pool_max_conns).
	MaxConns int32
	// ConnectTimeout bounds opening one connection (0: 5 s).
	ConnectTimeout time.Duration
}

// DB is an open connection pool.
type DB struct {
	Pool  *pgxpool.Pool
	creds *CachedCredentials
}

// Target is where the pool connects, without secrets (for the start-up log).
type Target struct {
	Host     string `json:"host"`
	Port     uint16 `json:"port"`
	Database string `json:"database"`
	// User is empty when it comes from the credentials source.
	User string `json:"user"`
	TLS  bool   `json:"tls"`
}

// Target returns the host, port, database and user the pool uses.
func (db *DB) Target() Target {
	cc := db.Pool.Config().ConnConfig
	return Target{Host: cc.Host, Port: cc.Port, Database: cc.Database, User: cc.User, TLS: cc.TLSConfig != nil}
}

// Open parses cfg and creates the pool. It does not wait for the database:
// connections are opened on demand (call Ping to check).
func Open(ctx context.Context, cfg Config) (*DB, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// The parse error can echo the connection string; keep it out.
		return nil, errors.New("postgres: invalid connection settings (DATABASE_URL / PG* variables)")
	}
	switch {
	case cfg.MaxConns > 0:
		pc.MaxConns = cfg.MaxConns
	case !strings.Contains(cfg.URL, "pool_max_conns"):
		pc.MaxConns = DefaultMaxConns()
	}
	pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if pc.ConnConfig.RuntimeParams == nil {
		pc.ConnConfig.RuntimeParams = map[string]string{}
	}
	if _, ok := pc.ConnConfig.RuntimeParams["application_name"]; !ok {
		pc.ConnConfig.RuntimeParams["application_name"] = "books"
	}
	db := &DB{creds: cfg.Credentials}
	if db.creds != nil {
		pc.BeforeConnect = db.beforeConnect
	}
	db.Pool, err = pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool: %w", err)
	}
	return db, nil
}

// beforeConnect puts the current credentials into a new connection's config.
func (db *DB) beforeConnect(ctx context.Context, cc *pgx.ConnConfig) error {
	c, err := db.creds.Get(ctx)
	if err != nil {
		return fmt.Errorf("postgres: read database credentials: %w", err)
	}
	if c.Username != "" {
		cc.User = c.Username
	}
	cc.Password = c.Password
	return nil
}

// Close closes every connection.
func (db *DB) Close() { db.Pool.Close() }

// Ping checks that a connection can be acquired and used.
func (db *DB) Ping(ctx context.Context) error {
	return db.retryAuth(ctx, func() error { return db.Pool.Ping(ctx) })
}

// retryAuth runs fn, and when it fails because the database rejected the
// password (the secret was rotated), drops the cached credentials and runs
// it once more so the next connection uses the re-read secret.
func (db *DB) retryAuth(ctx context.Context, fn func() error) error {
	err := fn()
	if err != nil && db.creds != nil && IsAuthFailure(err) && ctx.Err() == nil {
		db.creds.Invalidate()
		err = fn()
	}
	return err
}

// IsAuthFailure reports whether err is PostgreSQL rejecting the password
// (SQLSTATE 28P01) or the role (28000).
func IsAuthFailure(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000")
}

// domainError maps a pgx error to a *books.Error where the cause is known:
// bad data the validation missed becomes EINVALID, an unreachable or
// overloaded database EUNAVAILABLE. Anything else stays an internal error.
func domainError(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code[:2] == "22" || pe.Code[:2] == "23":
			return &books.Error{Code: books.EINVALID, Message: "the book was rejected by the database"}
		case pe.Code[:2] == "08", pe.Code[:2] == "53", pe.Code[:2] == "57", pe.Code[:2] == "28", pe.Code == "40001", pe.Code == "40P01":
			return fmt.Errorf("%w: %w", errUnavailable, err)
		}
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", errUnavailable, err)
	}
	return err
}

var errUnavailable = &books.Error{Code: books.EUNAVAILABLE, Message: "the database is unavailable; try again"}
