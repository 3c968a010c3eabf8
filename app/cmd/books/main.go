// Command books serves the books REST API.
//
//	books              serve (configuration from the environment, see README.md)
//	books healthcheck  GET http://127.0.0.1:$PORT/healthz; exit 0 when it answers 200
//	                   (the container health check: the image has no shell or curl)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/books-platform/books/app"
	"github.com/books-platform/books/app/awssecret"
	bookshttp "github.com/books-platform/books/app/http"
	"github.com/books-platform/books/app/metrics"
	"github.com/books-platform/books/app/postgres"
	"github.com/books-platform/books/app/redis"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "books:", err)
		os.Exit(1)
	}
}

// run is main without the process: tests call it with their own context,
// arguments, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "healthcheck":
			return healthcheck(ctx, getenv)
		default:
			return fmt.Errorf("unknown command %q (usage: books [healthcheck])", args[0])
		}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.logLevel}))
	slog.SetDefault(logger)
	return serve(ctx, cfg, logger, stdout)
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
	shutdownTimeout  time.Duration
	requestTimeout   time.Duration
	migrate          bool
	migrationTimeout time.Duration
	metrics          metrics.Config
}

// DefaultShutdownTimeout is how long a SIGTERM waits for in-flight requests.
// It stays below ECS's default 30 s stopTimeout (the infrastructure sets
// stopTimeout to 30 s), so the process exits by itself before SIGKILL.
const DefaultShutdownTimeout = 25 * time.Second

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
	if b := getenv("CACHE_DISABLED"); b != "" {
		off, err := strconv.ParseBool(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("CACHE_DISABLED=%q is not a boolean", b))
		}
		if off {
			c.redisURL = ""
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
		key string
		dst *time.Duration
		def time.Duration
	}{
		{"CACHE_TTL", &c.cacheTTL, redis.DefaultTTL},
		{"CACHE_TIMEOUT", &c.cacheTimeout, redis.DefaultTimeout},
		{"SHUTDOWN_TIMEOUT", &c.shutdownTimeout, DefaultShutdownTimeout},
		{"REQUEST_TIMEOUT", &c.requestTimeout, bookshttp.DefaultRequestTimeout},
		{"MIGRATION_TIMEOUT", &c.migrationTimeout, 2 * time.Minute},
	}
	for _, d := range durations {
		*d.dst = d.def
		if v := getenv(d.key); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q is not a positive duration (e.g. 25s)", d.key, v))
			}
			*d.dst = t
		}
	}
	var merrs []error
	c.metrics, merrs = metricsConfig(getenv)
	errs = append(errs, merrs...)
	return c, errors.Join(errs...)
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// serve wires the adapters, migrates, listens, and shuts down gracefully
// when ctx ends (SIGTERM).
func serve(ctx context.Context, cfg *config, logger *slog.Logger, stdout io.Writer) error {
	pgcfg := postgres.Config{URL: cfg.databaseURL, MaxConns: cfg.dbMaxConns}
	if cfg.dbSecretARN != "" {
		src, err := awssecret.New(ctx, cfg.dbSecretARN)
		if err != nil {
			return err
		}
		pgcfg.Credentials = &postgres.CachedCredentials{Source: src}
	}
	db, err := postgres.Open(ctx, pgcfg)
	if err != nil {
		return err
	}
	defer db.Close()

	if cfg.migrate {
		mctx, cancel := context.WithTimeout(ctx, cfg.migrationTimeout)
		err := migrateWithRetry(mctx, db, logger)
		cancel()
		if err != nil {
			return err
		}
	}

	rec, err := startMetrics(cfg.metrics, stdout, db, logger)
	if err != nil {
		return err
	}
	// Flushed after the HTTP server drained, so the last requests count.
	defer rec.Close()

	var svc books.BookService = postgres.NewBookService(db)
	if cfg.redisURL != "" {
		client, err := redis.NewClient(cfg.redisURL)
		if err != nil {
			return err
		}
		defer client.Close()
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		if err := client.Ping(pctx).Err(); err != nil {
			logger.Warn("cache not reachable at start; serving from the database until it is", "err", err.Error())
		}
		cancel()
		svc = redis.NewCachedBookService(svc, client, redis.Options{TTL: cfg.cacheTTL, Timeout: cfg.cacheTimeout, Logger: logger, Observer: rec})
	} else {
		logger.Info("cache disabled (no REDIS_URL, or CACHE_DISABLED=true)")
	}

	srv := bookshttp.NewServer(bookshttp.Config{
		Books:          metrics.CountWrites(svc, rec),
		Ping:           db.Ping,
		Username:       cfg.authUser,
		Password:       cfg.authPassword,
		Logger:         logger,
		RequestTimeout: cfg.requestTimeout,
		Metrics:        rec,
	})
	ln, err := net.Listen("tcp", ":"+cfg.port)
	if err != nil {
		return err
	}
	logger.Info("listening", "addr", ln.Addr().String(), "cache", cfg.redisURL != "", "shutdown_timeout_s", cfg.shutdownTimeout.Seconds())

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}

	logger.Info("shutting down", "deadline_s", cfg.shutdownTimeout.Seconds())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown deadline reached; closed remaining connections", "err", err.Error())
	}
	if err := <-serveErr; err != nil { // Serve returns nil after Shutdown
		return err
	}
	logger.Info("stopped")
	return nil
}

// migrateWithRetry retries while the database is unreachable (e.g. Aurora
// Serverless resuming from zero capacity) until ctx ends.
func migrateWithRetry(ctx context.Context, db *postgres.DB, logger *slog.Logger) error {
	delay := 500 * time.Millisecond
	for {
		err := postgres.Migrate(ctx, db, logger)
		if err == nil || !retryable(err) {
			return err
		}
		logger.Warn("database not ready; retrying migrations", "err", err.Error(), "in_ms", delay.Milliseconds())
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// retryable is true for errors that look like "the database is not up yet".
func retryable(err error) bool {
	if postgres.IsAuthFailure(err) {
		return false
	}
	s := err.Error()
	for _, frag := range []string{"connect", "connection refused", "the database system is starting up", "timeout", "no such host", "EOF"} {
		if strings.Contains(s, frag) {
			return true
		}
	}
	return false
}

// healthcheck is the container health check: the image has no shell, so
// ECS runs ["/books", "healthcheck"]. It probes liveness only.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	port := envOr(getenv, "PORT", "8080")
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	// Drain for connection reuse; the status below is the answer, and a
	// short read of the body changes nothing about it.
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %d", resp.StatusCode)
	}
	return nil
}
