// Command books serves the books REST API.
//
//	books              serve (configuration from the environment, see README.md)
//	books healthcheck  GET http://127.0.0.1:$PORT/healthz; exit 0 when it answers 200
//	                   (the container health check: the image has no shell or curl)
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
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
		case "-h", "-help", "--help", "help":
			printHelp(stdout)
			return nil
		default:
			return fmt.Errorf("unknown command %q (usage: books [healthcheck | --help])", args[0])
		}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	out := newLineBuffer(stdout, logFlushInterval)
	defer out.Close()
	stdout = out
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.logLevel}))
	slog.SetDefault(logger)
	return serve(ctx, cfg, logger, stdout)
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
	dt := db.Target()
	logger.Info("database", "host", dt.Host, "port", dt.Port, "database", dt.Database, "user", dt.User,
		"tls", dt.TLS, "credentials_from_secret", cfg.dbSecretARN != "")

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
		ro := client.Options()
		logger.Info("cache", "addr", ro.Addr, "db", ro.DB, "tls", ro.TLSConfig != nil, "auth", ro.Password != "")
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		if err := client.Ping(pctx).Err(); err != nil {
			logger.Warn("cache not reachable at start; serving from the database until it is", "err", err.Error())
		}
		cancel()
		cached := redis.NewCachedBookService(svc, client, redis.Options{
			TTL: cfg.cacheTTL, Timeout: cfg.cacheTimeout, NearEntries: cfg.cacheNear, Logger: logger, Observer: rec,
		})
		defer func() {
			if cfg.cacheNear > 0 {
				hits, entries := cached.NearStats()
				logger.Info("near cache", "hits", hits, "entries", entries, "barriers", cached.NearBarriers())
			}
			cached.Close()
		}()
		svc = cached
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

	// Not ready at once, still serving for the grace, then the drain: all
	// within SHUTDOWN_TIMEOUT of the signal.
	deadline := time.Now().Add(cfg.shutdownTimeout)
	srv.Drain()
	logger.Info("shutting down", "phase", "not ready, serving for the grace period", "grace_s", cfg.shutdownGrace.Seconds(), "deadline_s", cfg.shutdownTimeout.Seconds())
	select {
	case err := <-serveErr:
		return err
	case <-time.After(cfg.shutdownGrace):
	}
	logger.Info("grace period over; closing the listener and finishing in-flight requests")
	sctx, cancel := context.WithDeadline(context.Background(), deadline)
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

// migrateWithRetry retries while the database is not reachable yet (e.g.
// Aurora Serverless resuming from zero capacity) until ctx ends, and stops
// at once on an error that waiting cannot fix (postgres.IsTransient).
func migrateWithRetry(ctx context.Context, db *postgres.DB, logger *slog.Logger) error {
	delay := 500 * time.Millisecond
	for {
		err := postgres.Migrate(ctx, db, logger)
		if err == nil {
			return nil
		}
		if !postgres.IsTransient(err) {
			return fmt.Errorf("migrations failed; not retrying, this needs a fix: %s: %w", postgres.Advice(err), err)
		}
		logger.Warn("database not ready; retrying migrations", "err", err.Error(), "in_ms", delay.Milliseconds())
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up after MIGRATION_TIMEOUT: %w; %s)", err, ctx.Err(), postgres.Advice(err))
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
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
